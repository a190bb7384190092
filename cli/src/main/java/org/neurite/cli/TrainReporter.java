package org.neurite.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.List;
import org.neurite.data.Dataset;
import org.neurite.engine.EpochStats;
import org.neurite.engine.Evaluation;
import org.neurite.engine.TrainingListener;
import org.neurite.engine.TrainingRun;
import org.neurite.train.TrainSpec;
import org.neurite.train.ValidationSpec;

/**
 * What {@code nn train} tells the person (or program) watching, in one of the {@link OutputMode}s.
 * The text modes print the header (ending with the run folder), one line per epoch
 * ({@link #epochLine}) and the result; {@link OutputMode#BAR} adds a live bar while an epoch runs; {@link OutputMode#QUIET}
 * prints only the result line; {@link OutputMode#JSON} prints events, one JSON object per line:
 * {@code start}, {@code resume}, {@code epoch} (the metrics.jsonl record, the backend's
 * {@code syncs_per_step} and {@code launches_per_step}, and gradient norms when recorded),
 * {@code note} and {@code done}.
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
    void started(String model, TrainSpec train, TrainingRun run, String backend, Path dir, Path wanted) {
        Dataset trainSet = run.train();
        Dataset testSet = run.test();
        Dataset validation = run.validation();
        if (mode == OutputMode.JSON) {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("dataset", trainSet.name());
            fields.put("train_samples", trainSet.size());
            if (validation != null) fields.put("validation_samples", validation.size());
            fields.put("test_samples", testSet.size());
            fields.put("optimizer", train.optimizer().name());
            if (!train.schedule().isConstant()) fields.put("schedule", train.schedule().toString());
            if (train.validation().earlyStopping() != null) fields.put("early_stopping", train.validation().earlyStopping().metric());
            if (train.validation().keepBest() != null) fields.put("keep_best", train.validation().keepBest());
            fields.put("batch", train.batch());
            fields.put("epochs", train.epochs());
            fields.put("backend", backend);
            fields.put("run", dir.toString());
            if (!dir.equals(wanted)) fields.put("skipped", wanted.toString());
            event("start", model, fields);
        } else if (mode != OutputMode.QUIET) {
            out.println(String.format(Locale.ROOT, "Training %s on %s (%,d train / %s%,d test samples) with %s, batch %d, %d epoch%s, %s%s; "
                            + "results in %s%s", model, trainSet.name(), trainSet.size(),
                    validation == null ? "" : String.format(Locale.ROOT, "%,d validation / ", validation.size()), testSet.size(),
                    optimizerText(train), train.batch(), train.epochs(), train.epochs() == 1 ? "" : "s", backend, choiceText(train.validation()), dir,
                    dir.equals(wanted) ? "" : " (" + wanted + " holds another run)"));
        }
        out.flush();
    }

    /** "sgd", or with a schedule that changes the rate "sgd, lr schedule cosine(min_lr=0)". */
    static String optimizerText(TrainSpec train) {
        return train.optimizer().name() + (train.schedule().isConstant() ? "" : ", lr schedule " + train.schedule());
    }

    /** ", early stopping on val_loss (patience 3), keeping the best val_accuracy", or "" when nothing is chosen. */
    static String choiceText(ValidationSpec choice) {
        StringBuilder sb = new StringBuilder();
        if (choice.earlyStopping() != null) {
            sb.append(", early stopping on ").append(choice.earlyStopping().metric()).append(" (patience ")
                    .append(choice.earlyStopping().patience()).append(')');
        }
        if (choice.keepBest() != null) sb.append(", keeping the best ").append(choice.keepBest());
        return sb.toString();
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
     * @param markKept whether to say when the epoch's weights are kept (under {@code keep = best})
     * @param stepCounts what the backend counted per training step, for the JSON event (empty: nothing counted)
     */
    void epoch(String model, TrainingRun.EpochEnd e, Map<String, double[]> gradients, boolean markKept, Map<String, Object> stepCounts) {
        if (mode == OutputMode.JSON) {
            Map<String, Object> fields = new LinkedHashMap<>(e.record());
            fields.put("epochs", e.epochs());
            fields.putAll(stepCounts);
            if (!gradients.isEmpty()) fields.put("grad_norms", gradients);
            event("epoch", model, fields);
        } else if (mode != OutputMode.QUIET) {
            out.println(epochLine(e.epoch(), e.epochs(), e.train(), e.validation(), e.test(), e.lr()) + (markKept && e.kept() ? "  (kept)" : ""));
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
    void comparison(List<RunOutput.Outcome> outcomes) {
        if (mode == OutputMode.JSON) return;
        out.print(String.format("%nComparison:%n"));
        for (RunOutput.Outcome o : outcomes) {
            out.print(String.format(Locale.ROOT, "  %-16s %s%s%n", o.model(), result(o.train(), o.test()), gradientSummary(o.stepGradients())));
        }
        out.flush();
    }

    /** The result of a run: test accuracy for a classifier, test loss otherwise, with the training figure. */
    static String result(EpochStats train, Evaluation test) {
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
     * One line per epoch; accuracy only for classifiers; the validation split's figures when there
     * is one; the epoch's learning rate at the end unless {@code lr} is NaN (a constant schedule).
     */
    static String epochLine(int epoch, int epochs, EpochStats train, Evaluation validation, Evaluation test, float lr) {
        boolean classifier = !Double.isNaN(train.accuracy());
        StringBuilder line = new StringBuilder(classifier
                ? String.format(Locale.ROOT, "epoch %2d/%d  loss %.4f  acc %6.2f%%", epoch, epochs, train.loss(), 100 * train.accuracy())
                : String.format(Locale.ROOT, "epoch %2d/%d  loss %.5f", epoch, epochs, train.loss()));
        if (validation != null) line.append("  |  ").append(figures("val", validation, classifier));
        if (test != null) line.append("  |  ").append(figures("test", test, classifier));
        line.append(String.format(Locale.ROOT, "  |  %,.0f samples/s  %.1fs", train.samplesPerSecond(), train.seconds()));
        return Float.isNaN(lr) ? line.toString() : line + "  |  lr " + learningRate(lr);
    }

    /**
     * "test loss 0.4321  test acc  85.10%", or for regression "test loss 0.43210"; then every other
     * metric the evaluation measured (those of metric plugins), "test f1 0.8421".
     */
    static String figures(String split, Evaluation e, boolean classifier) {
        StringBuilder figures = new StringBuilder(classifier
                ? String.format(Locale.ROOT, "%s loss %.4f  %s acc %6.2f%%", split, e.loss(), split, 100 * e.accuracy())
                : String.format(Locale.ROOT, "%s loss %.5f", split, e.loss()));
        e.metrics().forEach((name, value) -> {
            if (!name.equals(CORE_ACCURACY)) figures.append(String.format(Locale.ROOT, "  %s %s %.4f", split, name, value));
        });
        return figures.toString();
    }

    /** The core's accuracy metric, which the line already shows as "acc". */
    private static final String CORE_ACCURACY = "accuracy";

    /** A learning rate to four significant digits: {@code 0.01}, {@code 0.009045}, {@code 2.447e-05}. */
    static String learningRate(float lr) {
        if (lr != 0 && Math.abs(lr) < 1e-4) return String.format(Locale.ROOT, "%.3e", lr);
        return new BigDecimal(Float.toString(lr)).round(new MathContext(4)).stripTrailingZeros().toPlainString();
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
