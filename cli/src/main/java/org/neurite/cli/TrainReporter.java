package org.neurite.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.neurite.engine.EpochStats;
import org.neurite.engine.TrainingListener;

/**
 * What {@code nn train} tells the person (or program) watching, in one of the {@link OutputMode}s.
 * The text modes print the header, one line per epoch ({@link TrainCommand#epochLine}) and the
 * result; {@link OutputMode#BAR} adds a live bar while an epoch runs; {@link OutputMode#QUIET}
 * prints only the result line; {@link OutputMode#JSON} prints events, one JSON object per line:
 * {@code start}, {@code resume}, {@code epoch} (the metrics.jsonl record plus gradient norms when
 * recorded), {@code note} and {@code done}.
 */
final class TrainReporter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final PrintWriter out;
    private final OutputMode mode;

    TrainReporter(PrintWriter out, OutputMode mode) {
        this.out = out;
        this.mode = mode;
    }

    OutputMode mode() { return mode; }

    PrintWriter out() { return out; }

    /** The header: what is trained on what, how. */
    void started(String model, String text, Map<String, Object> fields) {
        if (mode == OutputMode.JSON) event("start", model, fields);
        else if (mode != OutputMode.QUIET) out.println(text);
        out.flush();
    }

    void resumed(String model, String text, int epoch, int step) {
        if (mode == OutputMode.JSON) event("resume", model, Map.of("epoch", epoch, "step", step));
        else if (mode != OutputMode.QUIET) out.println(text);
        out.flush();
    }

    /** A line of extra information (where the plots went, why something was skipped). */
    void note(String model, String text) {
        if (mode == OutputMode.JSON) event("note", model, Map.of("message", text));
        else if (mode != OutputMode.QUIET) out.println(text);
        out.flush();
    }

    /**
     * A listener for one epoch's batches: drives the live bar in {@link OutputMode#BAR}, nothing
     * otherwise. Close the returned bar when the epoch ends.
     */
    EpochBar epochBar(int epoch, int epochs, long samples) {
        LiveBar bar = LiveBar.open(out, mode == OutputMode.BAR, String.format(Locale.ROOT, "epoch %d/%d", epoch, epochs), samples, "samples");
        return new EpochBar(bar);
    }

    /** The live bar of one epoch and the listener that feeds it. */
    static final class EpochBar implements TrainingListener, AutoCloseable {
        private final LiveBar bar;

        EpochBar(LiveBar bar) { this.bar = bar; }

        @Override public void batchDone(int epoch, long done, long total, double meanLoss, double accuracy) {
            bar.update(done, Double.isNaN(accuracy) ? String.format(Locale.ROOT, "loss %.4f", meanLoss)
                    : String.format(Locale.ROOT, "loss %.4f acc %.1f%%", meanLoss, 100 * accuracy));
        }

        @Override public void close() { bar.close(); }
    }

    /**
     * One finished epoch: the epoch line (and gradient norms), or the JSON record.
     *
     * @param lr the rate the epoch ran at, shown on the line; NaN when the schedule is constant
     */
    void epoch(String model, int epochs, EpochStats train, EpochStats test, float lr, Map<String, Object> record,
               Map<String, double[]> gradients) {
        if (mode == OutputMode.JSON) {
            Map<String, Object> fields = new LinkedHashMap<>(record);
            fields.put("epochs", epochs);
            if (!gradients.isEmpty()) fields.put("grad_norms", gradients);
            event("epoch", model, fields);
        } else if (mode != OutputMode.QUIET) {
            out.println(TrainCommand.epochLine(train.epoch(), epochs, train, test, lr));
            gradients.forEach((node, norms) -> out.println("    " + node + ": " + TrainCommand.describeNorms(norms)));
        }
        out.flush();
    }

    /** The result: printed in every text mode (it is all {@link OutputMode#QUIET} prints), a {@code done} event in JSON. */
    void done(String model, String text, Map<String, Object> fields) {
        if (mode == OutputMode.JSON) event("done", model, fields);
        else out.println(text);
        out.flush();
    }

    /** The comparison table of {@code --all} (text modes only; JSON readers have every {@code done} event). */
    void comparison(String text) {
        if (mode != OutputMode.JSON) out.print(text);
        out.flush();
    }

    private void event(String kind, String model, Map<String, ?> fields) {
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("event", kind);
        event.put("model", model);
        event.putAll(fields);
        try {
            out.println(JSON.writeValueAsString(event));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a JSON event: " + e.getMessage(), e);
        }
    }
}
