package org.neurite.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.neurite.engine.Evaluation;
import org.neurite.io.AtomicFiles;
import org.neurite.io.FileErrors;
import org.neurite.io.FileFormatException;

/**
 * A classifier's evaluation as people and programs read it: loss, accuracy, top-5 accuracy and
 * per-class precision, recall, F1 and support, as a JSON document (what {@code nn eval --json}
 * prints and {@code nn train} writes to {@code evaluation.json} for the kept weights, which
 * {@code nn report} shows) and as a text table ({@code nn eval}).
 */
final class EvaluationReport {
    /** The file in a run folder: the test split's evaluation of the weights the run kept. */
    static final String FILE = "evaluation.json";
    /** Above this many classes the text table is left out (the JSON has every class). */
    static final int MAX_TABLE_CLASSES = 100;

    private EvaluationReport() {}

    /**
     * {@code {"split", "epoch", "samples", "loss", "accuracy", "top5", "macro_f1", "classes": [{"index",
     * "name", "precision", "recall", "f1", "support"}]}}; {@code top5} only with more than five
     * classes, {@code name} only when the classes have names, {@code epoch} only inside a run; then
     * every other metric measured ({@link Evaluation#metrics}, a plugin's) by its name, when defined.
     */
    static ObjectNode json(String split, Evaluation e, List<String> classNames) {
        ObjectNode doc = JsonOutput.object();
        doc.put("split", split);
        if (e.epoch() > 0) doc.put("epoch", e.epoch());
        doc.put("samples", e.samples());
        doc.put("loss", e.loss());
        if (e.classes() == 0) return putMetrics(doc, e);
        doc.put("accuracy", e.accuracy());
        if (!Double.isNaN(e.top5())) doc.put("top5", e.top5());
        doc.put("macro_f1", e.macroF1());
        putMetrics(doc, e);
        ArrayNode classes = doc.putArray("classes");
        for (int c = 0; c < e.classes(); c++) {
            ObjectNode row = classes.addObject().put("index", c);
            if (c < classNames.size()) row.put("name", classNames.get(c));
            row.put("precision", e.precision(c)).put("recall", e.recall(c)).put("f1", e.f1(c)).put("support", e.support(c));
        }
        return doc;
    }

    /** The metrics {@code doc} does not have yet (the core's {@code accuracy} it has), each when defined. */
    private static ObjectNode putMetrics(ObjectNode doc, Evaluation e) {
        e.metrics().forEach((name, value) -> {
            if (!Double.isNaN(value) && !doc.has(name)) doc.put(name, value);
        });
        return doc;
    }

    /** Writes {@link #json} to {@code file}, atomically. */
    static void write(Path file, String split, Evaluation e, List<String> classNames) throws IOException {
        AtomicFiles.writeString(file, JsonOutput.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(json(split, e, classNames)) + "\n");
    }

    /**
     * Reads a document {@link #write} wrote; null when the file does not exist. One that is not
     * a JSON object (cut short, edited by hand) is a {@link FileFormatException} naming it.
     */
    static JsonNode read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) return null;
        JsonNode doc;
        try {
            doc = JsonOutput.MAPPER.readTree(FileErrors.readUtf8(file));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new FileFormatException(file + ": not a JSON object (" + e.getOriginalMessage() + ")");
        }
        if (doc == null || !doc.isObject()) throw new FileFormatException(file + ": not a JSON object");
        return doc;
    }

    /** The per-class table, a line per class and the macro average; empty for regression or too many classes. */
    static String table(Evaluation e, List<String> classNames) {
        if (e.classes() == 0 || e.classes() > MAX_TABLE_CLASSES) return "";
        int width = "macro average".length();
        for (int c = 0; c < e.classes(); c++) width = Math.max(width, name(c, classNames).length());
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-" + width + "s  %9s  %6s  %6s  %7s%n", "class", "precision",
                "recall", "f1", "support"));
        double precision = 0, recall = 0;
        for (int c = 0; c < e.classes(); c++) {
            sb.append(String.format(Locale.ROOT, "%-" + width + "s  %9.4f  %6.4f  %6.4f  %7d%n", name(c, classNames), e.precision(c),
                    e.recall(c), e.f1(c), e.support(c)));
            precision += e.precision(c);
            recall += e.recall(c);
        }
        long rows = 0;
        for (int c = 0; c < e.classes(); c++) rows += e.support(c);
        sb.append(String.format(Locale.ROOT, "%-" + width + "s  %9.4f  %6.4f  %6.4f  %7d%n", "macro average", precision / e.classes(),
                recall / e.classes(), e.macroF1(), rows));
        return sb.toString();
    }

    private static String name(int c, List<String> classNames) {
        return c < classNames.size() ? classNames.get(c) : Integer.toString(c);
    }
}
