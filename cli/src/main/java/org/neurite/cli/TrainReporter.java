package org.neurite.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.neurite.data.Dataset;
import org.neurite.engine.EpochStats;
import org.neurite.engine.TrainingListener;
import org.neurite.train.TrainSpec;

/**
 * What {@code nn train} tells the person (or program) watching, in one of the {@link OutputMode}s.
 * The text modes print the header (ending with the run folder), one line per epoch
 * ({@link TrainCommand#epochLine}) and the result; {@link OutputMode#BAR} adds a live bar while an epoch runs; {@link OutputMode#QUIET}
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

    /**
     * The header: what is trained on what, how, and where the results go.
     *
     * @param wanted the folder asked for; when it differs from {@code dir} (it held another run)
     *     the header says so
     */
    void started(String model, TrainSpec train, Dataset trainSet, Dataset testSet, String backend, Path dir, Path wanted) {
        if (mode == OutputMode.JSON) {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("dataset", trainSet.name());
            fields.put("train_samples", trainSet.size());
            fields.put("test_samples", testSet.size());
            fields.put("optimizer", train.optimizer().name());
            if (!train.schedule().isConstant()) fields.put("schedule", train.schedule().toString());
            fields.put("batch", train.batch());
            fields.put("epochs", train.epochs());
            fields.put("backend", backend);
            fields.put("run", dir.toString());
            if (!dir.equals(wanted)) fields.put("skipped", wanted.toString());
            event("start", model, fields);
        } else if (mode != OutputMode.QUIET) {
            out.println(String.format(Locale.ROOT, "Training %s on %s (%,d train / %,d test samples) with %s, batch %d, %d epochs, %s; results in %s%s",
                    model, trainSet.name(), trainSet.size(), testSet.size(), optimizerText(train), train.batch(), train.epochs(), backend,
                    dir, dir.equals(wanted) ? "" : " (" + wanted + " holds another run)"));
        }
        out.flush();
    }

    /** "sgd", or with a schedule that changes the rate "sgd, lr schedule cosine(min_lr=0)". */
    static String optimizerText(TrainSpec train) {
        return train.optimizer().name() + (train.schedule().isConstant() ? "" : ", lr schedule " + train.schedule());
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
            out.println(epochLine(train.epoch(), epochs, train, test, lr));
            gradients.forEach((node, norms) -> out.println("    " + node + ": " + describeNorms(norms)));
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

    /** The result of a run: test accuracy for a classifier, test loss otherwise, with the training figure. */
    static String result(EpochStats train, EpochStats test) {
        return Double.isNaN(test.accuracy())
                ? String.format(Locale.ROOT, "test loss %.4f (train %.4f)", test.loss(), train.loss())
                : String.format(Locale.ROOT, "test accuracy %.2f%% (train %.2f%%)", 100 * test.accuracy(), 100 * train.accuracy());
    }

    /** ‖dL/dh_t‖ at the first, middle and last step, and how far the first is below the last. */
    static String describeNorms(double[] norms) {
        int n = norms.length;
        double ratio = norms[0] / norms[n - 1];
        return String.format(Locale.ROOT, "||dL/dh_t|| t=0: %.3e  t=%d: %.3e  t=%d: %.3e  (first/last %.1e)",
                norms[0], n / 2, norms[n / 2], n - 1, norms[n - 1], ratio);
    }

    /** Per recurrent node, how far ‖dL/dh_0‖ is below ‖dL/dh_T-1‖: the comparison table's column of {@code --grad-norms}. */
    static String gradientSummary(Map<String, double[]> gradients) {
        StringBuilder sb = new StringBuilder();
        gradients.forEach((node, norms) -> sb.append(String.format(Locale.ROOT, "  %s ||dL/dh_0||/||dL/dh_T-1|| = %.1e",
                node, norms[0] / norms[norms.length - 1])));
        return sb.toString();
    }

    /**
     * One line per epoch; accuracy only for classifiers; the epoch's learning rate at the end
     * unless {@code lr} is NaN (a constant schedule: the line is as it always was).
     */
    static String epochLine(int epoch, int epochs, EpochStats train, EpochStats test, float lr) {
        String line = epochLine(epoch, epochs, train, test);
        return Float.isNaN(lr) ? line : line + "  |  lr " + TrainCommand.learningRate(lr);
    }

    /** One line per epoch; accuracy only for classifiers. */
    static String epochLine(int epoch, int epochs, EpochStats train, EpochStats test) {
        if (Double.isNaN(train.accuracy())) {
            return String.format(Locale.ROOT, "epoch %2d/%d  loss %.5f  |  test loss %.5f  |  %,.0f samples/s  %.1fs",
                    epoch, epochs, train.loss(), test.loss(), train.samplesPerSecond(), train.seconds());
        }
        return String.format(Locale.ROOT, "epoch %2d/%d  loss %.4f  acc %6.2f%%  |  test loss %.4f  test acc %6.2f%%  |  %,.0f samples/s  %.1fs",
                epoch, epochs, train.loss(), 100 * train.accuracy(), test.loss(), 100 * test.accuracy(),
                train.samplesPerSecond(), train.seconds());
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
