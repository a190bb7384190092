package org.neurite.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.neurite.dsl.ast.Declaration;
import org.neurite.dsl.parser.ScriptParser;
import org.neurite.dsl.GraphDot;
import org.neurite.engine.Trainers;
import org.neurite.graph.TypedGraph;
import org.neurite.io.AtomicFiles;
import org.neurite.train.TrainSpec;

/**
 * What {@code nn train} writes into a run folder before the run starts, so that {@code nn report}
 * can describe it and a person can repeat it: the script ({@code model.nn}), its summary with the
 * memory estimate at the run's batch size ({@code summary.txt}), the graph as DOT
 * ({@code graph.dot}), the command line ({@code command.txt}) and the resolved deployment
 * ({@code deployment.yaml}).
 *
 * <p>The files the script {@code use}s are copied too, so that the folder is whole: {@code nn eval
 * RUN/model.nn} loads without the original's folder. A used file inside the script's folder keeps
 * its path relative to the script ({@code blocks/resnet.nn}); one outside it (a path with
 * {@code ..}) goes under {@code used/}, with each {@code ..} as {@code up}
 * ({@code used/up/shared/blocks.nn}), and the {@code use} lines that name it are rewritten to that
 * copy. The copies are listed in {@value #USED_SCRIPTS}, so that {@code --overwrite} removes them with the run.
 */
final class RunRecord {
    /** The scripts copied beside {@code model.nn}, one path relative to the run folder a line. */
    static final String USED_SCRIPTS = "used.txt";

    private RunRecord() {}

    /**
     * Writes the record of a run into {@code dir}; {@code copies} are the script's, from {@link #copies};
     * {@code seed} is the seed the command line (or a resumed run) gives in place of the deployment's, or null.
     */
    static void write(Path dir, Session session, Copies copies, ModelOptions options, Path data, Long seed, TypedGraph graph,
                      TrainSpec train, List<String> args) throws IOException {
        String model = graph.graph().name();
        for (var c : copies.files().entrySet()) {
            Path copy = dir.resolve(c.getKey());
            Files.createDirectories(copy.getParent());
            AtomicFiles.writeString(copy, c.getValue());
        }
        if (!copies.files().isEmpty()) AtomicFiles.writeString(dir.resolve(USED_SCRIPTS), String.join("\n", copies.files().keySet()) + "\n");
        AtomicFiles.writeString(dir.resolve("model.nn"), copies.modelNn());
        AtomicFiles.writeString(dir.resolve("summary.txt"), SummaryCommand.render(graph, session.script().file()) + "\n"
                + MemoryEstimate.of(graph, train.batch(), train, Trainers.of(session.runtime())).render());
        AtomicFiles.writeString(dir.resolve("graph.dot"), GraphDot.render(graph, session.script().blockCalls(model)));
        AtomicFiles.writeString(dir.resolve("command.txt"), RunProvenance.command(args));
        AtomicFiles.writeString(dir.resolve("deployment.yaml"), RunProvenance.deployment(session.deployment(), options, data, seed,
                session.backend().name(), session.backend().description()));
    }

    /**
     * What a run folder holds of a script: the text of {@code model.nn} (the script's own, unless
     * one of its {@code use}s had to be rewritten) and the copies of the files it uses, by their
     * paths relative to the folder.
     */
    record Copies(String modelNn, Map<String, String> files) {}

    /** The copies of every file {@code script} uses (and those use, ...). */
    static Copies copies(Path script, String source) throws IOException {
        Path dir = Path.of("/run");   // where the copies go, as a placeholder: only their relative places matter
        Path scriptDir = script.toAbsolutePath().normalize().getParent();
        Map<Path, String> copies = new LinkedHashMap<>();          // a used file -> its copy, relative to dir
        Map<Path, String> texts = new LinkedHashMap<>();
        Deque<Path> pending = new ArrayDeque<>();
        Path main = script.toAbsolutePath().normalize();
        texts.put(main, source);
        copies.put(main, "model.nn");
        pending.add(main);
        Map<Path, List<Declaration.Use>> uses = new LinkedHashMap<>();
        while (!pending.isEmpty()) {
            Path file = pending.removeFirst();
            List<Declaration.Use> own = ScriptParser.parse(file.toString(), texts.get(file)).declarations().stream()
                    .filter(d -> d instanceof Declaration.Use).map(d -> (Declaration.Use) d).toList();
            uses.put(file, own);
            for (Declaration.Use use : own) {
                Path target = file.getParent().resolve(use.path()).normalize();
                if (copies.containsKey(target)) continue;
                copies.put(target, copyName(scriptDir.relativize(target)));
                texts.put(target, Files.readString(target, StandardCharsets.UTF_8));
                pending.add(target);
            }
        }
        String modelNn = source;
        Map<String, String> written = new LinkedHashMap<>();
        for (var e : copies.entrySet()) {
            Path file = e.getKey();
            Path copy = dir.resolve(e.getValue());
            String text = texts.get(file);
            for (Declaration.Use use : uses.get(file)) {
                Path target = file.getParent().resolve(use.path()).normalize();
                Path wanted = dir.resolve(copies.get(target)).normalize();
                if (copy.getParent().resolve(use.path()).normalize().equals(wanted)) continue;
                String path = copy.getParent().relativize(wanted).toString().replace('\\', '/');
                text = rewriteUse(text, use, path);
            }
            if (file.equals(main)) {
                modelNn = text;
                continue;
            }
            written.put(e.getValue(), text);
        }
        return new Copies(modelNn, written);
    }

    /** Where the copy of a used file goes, relative to the run folder: its own path, with {@code ..} as {@code used/up}. */
    private static String copyName(Path relative) {
        if (!relative.startsWith("..")) return relative.toString().replace('\\', '/');
        List<String> parts = new ArrayList<>(List.of("used"));
        for (Path p : relative) parts.add(p.toString().equals("..") ? "up" : p.toString());
        return String.join("/", parts);
    }

    /** {@code text} with the path of {@code use} (on its line) replaced by {@code path}. */
    private static String rewriteUse(String text, Declaration.Use use, String path) {
        String[] lines = text.split("\n", -1);
        int line = use.pathSpan().line() - 1;
        String quoted = "\"" + use.path() + "\"";
        if (line < 0 || line >= lines.length || !lines[line].contains(quoted)) return text;
        lines[line] = lines[line].replaceFirst(java.util.regex.Pattern.quote(quoted),
                java.util.regex.Matcher.quoteReplacement("\"" + path + "\""));
        return String.join("\n", lines);
    }

    /** The copies of used scripts a run folder lists, relative to it (empty when it lists none). */
    static List<String> usedScripts(Path dir) throws IOException {
        Path list = dir.resolve(USED_SCRIPTS);
        if (!Files.isRegularFile(list)) return List.of();
        return Files.readAllLines(list, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
    }

    /** Deletes the copy {@code relative} in {@code dir} (never a file outside it) and the folders it leaves empty. */
    static void deleteCopy(Path dir, String relative) throws IOException {
        Path root = dir.toAbsolutePath().normalize();
        Path copy = root.resolve(relative).normalize();
        if (!copy.startsWith(root) || copy.equals(root)) return;
        Files.deleteIfExists(copy);
        for (Path p = copy.getParent(); p != null && !p.equals(root) && p.startsWith(root); p = p.getParent()) {
            try (var left = Files.list(p)) {
                if (left.findAny().isPresent()) return;
            }
            Files.delete(p);
        }
    }
}
