package org.neurite.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.neurite.cli.plot.ConfusionChart;
import org.neurite.cli.plot.EpochCurves;
import org.neurite.cli.plot.GradientNormChart;
import org.neurite.cli.viz.PngFiles;
import org.neurite.data.Dataset;
import org.neurite.engine.EpochStats;
import org.neurite.engine.Evaluation;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingCallback;
import org.neurite.engine.TrainingRun;
import org.neurite.graph.TypedGraph;
import org.neurite.io.AtomicFiles;
import org.neurite.train.TrainSpec;

/**
 * What {@code nn train} shows and draws while the engine's {@link TrainingRun} trains one model:
 * the line saying where a resumed run continues, the live bar of each epoch, the epoch line or
 * JSON event, the loss and accuracy plots (redrawn after every epoch), with {@code --grad-norms}
 * the mean ‖dL/dh_t‖ per recurrent layer and time step ({@code grad_norms.csv},
 * {@code grad_norms.png}), and at the end, for the kept weights, the confusion matrix and the
 * per-class metrics of a classifier ({@code evaluation.json}, {@link EvaluationReport}) and the
 * result line. The run itself writes the weights, checkpoint and metrics.
 */
final class RunOutput implements TrainingCallback {
    /** The outcome of training one model: the kept epoch's figures. */
    record Outcome(String model, EpochStats train, Evaluation test, double seconds, Map<String, double[]> stepGradients) {}

    private final TrainReporter reporter;
    private final TypedGraph graph;
    private final String model;
    private final TrainSpec spec;
    private final Path dir;
    private final ParameterStore store;
    private final Trainer trainer;
    private final boolean gradNorms;
    private final long start = System.nanoTime();
    private final List<EpochCurves.Point> history = new ArrayList<>();
    private final StringBuilder gradientCsv = new StringBuilder("epoch,node,t,grad_norm\n");
    private final SortedMap<Integer, Map<String, double[]>> gradientsByEpoch = new TreeMap<>();
    private Map<String, double[]> lastGradients = Map.of();
    private List<Path> plots = new ArrayList<>();
    private TrainReporter.EpochBar bar;
    private Dataset test;
    private Outcome outcome;

    RunOutput(TrainReporter reporter, TypedGraph graph, TrainSpec spec, Path dir, ParameterStore store, Trainer trainer, boolean gradNorms) {
        this.reporter = reporter;
        this.graph = graph;
        this.model = graph.graph().name();
        this.spec = spec;
        this.dir = dir;
        this.store = store;
        this.trainer = trainer;
        this.gradNorms = gradNorms;
    }

    /** The plot points of the epochs a resumed run already trained. */
    @Override public void runResumed(List<Map<String, Object>> earlierEpochs) {
        for (Map<String, Object> r : earlierEpochs) {
            history.add(new EpochCurves.Point(((Number) r.get("epoch")).intValue(), number(r, "train_loss"), number(r, "test_loss"),
                    number(r, "train_accuracy"), number(r, "test_accuracy")));
        }
    }

    @Override public void runStart(TrainingRun run, int firstEpoch, int epochs) {
        test = run.test();
        if (firstEpoch > 1) {
            reporter.resumed(model, String.format(Locale.ROOT, "Resuming %s at epoch %d (step %d) from %s", model, firstEpoch,
                    trainer.step(), dir), firstEpoch, trainer.step());
        }
    }

    @Override public void epochStart(int epoch, int epochs, long samples) {
        bar = reporter.epochBar(epoch, epochs, samples);
    }

    @Override public void batchEnd(int epoch, long done, long total, double meanLoss, double accuracy) {
        bar.batchDone(epoch, done, total, meanLoss, accuracy);
    }

    @Override public void epochTrained(int epoch, EpochStats train) {
        bar.close();
    }

    @Override public void epochEnd(TrainingRun.EpochEnd e) throws IOException {
        if (gradNorms) {
            lastGradients = trainer.takeStepGradientNorms();
            if (!lastGradients.isEmpty()) gradientsByEpoch.put(e.epoch(), lastGradients);
            for (var g : lastGradients.entrySet()) {
                double[] norms = g.getValue();
                for (int t = 0; t < norms.length; t++) {
                    gradientCsv.append(e.epoch()).append(',').append(g.getKey()).append(',').append(t).append(',')
                            .append(String.format(Locale.ROOT, "%.6e", norms[t])).append('\n');
                }
            }
            AtomicFiles.writeString(dir.resolve("grad_norms.csv"), gradientCsv.toString());
        }
        reporter.epoch(model, e, gradNorms ? lastGradients : Map.of(), spec.validation().keepBest() != null, stepCounts());
        history.add(new EpochCurves.Point(e.epoch(), e.train().loss(), e.test().loss(), e.train().accuracy(), e.test().accuracy()));
        plots = EpochCurves.write(dir, model, spec.loss(), history, e.epochs());
    }

    /**
     * The epoch's host synchronisations and launches per training step, as the backend counted
     * them ({@code syncs_per_step}, {@code launches_per_step}); empty when it counts nothing or a
     * cluster took the steps.
     */
    private Map<String, Object> stepCounts() {
        int steps = trainer.lastEpochSteps();
        Map<String, Object> counts = new LinkedHashMap<>();
        trainer.lastEpochCounters().filter(c -> steps > 0).ifPresent(c -> {
            counts.put("syncs_per_step", Math.round(c.syncsPer(steps) * 1000) / 1000.0);
            counts.put("launches_per_step", Math.round(c.launchesPer(steps) * 10) / 10.0);
        });
        return counts;
    }

    /**
     * After the last epoch (or early stopping): the kept weights' confusion matrix and per-class
     * metrics, the gradient-norm chart and the result; nothing when a stop request ended the run.
     */
    @Override public void runEnd(TrainingRun.Result result) throws IOException {
        if (result.interrupted()) return;
        List<Path> pictures = new ArrayList<>(plots);
        if (test.isClassification()) confusion(pictures);
        if (!gradientsByEpoch.isEmpty()) {
            Path picture = dir.resolve("grad_norms.png");
            PngFiles.write(GradientNormChart.render(model, gradientsByEpoch), picture);
            pictures.add(picture);
        }
        Evaluation tested = result.test();
        if (test.isClassification()) {
            // A kept epoch from before a resume has only the log's figures: count the classes again (the store holds its weights).
            if (tested.classes() == 0) tested = trainer.evaluation(test, result.kept().epoch());
            EvaluationReport.write(dir.resolve(EvaluationReport.FILE), "test", tested, test.classNames());
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        EpochStats train = result.train();
        Map<String, Object> done = new LinkedHashMap<>();
        done.put("seconds", seconds);
        done.put("epoch", result.kept().epoch());
        if (result.stoppedEarly()) done.put("stopped_early", result.stopReason());
        done.put("train_loss", train.loss());
        if (!Double.isNaN(train.accuracy())) done.put("train_accuracy", train.accuracy());
        result.kept().record().forEach((k, v) -> { if (k.startsWith("val_") || k.startsWith("test_")) done.put(k, v); });
        if (tested.classes() > 0) done.put("test_macro_f1", tested.macroF1());
        done.put("run", dir.toString());
        done.put("weights", dir.resolve("model.safetensors").toString());
        done.put("metrics", dir.resolve("metrics.jsonl").toString());
        done.put("plots", pictures.stream().map(Path::toString).toList());
        if (gradNorms) done.put("grad_norms", dir.resolve("grad_norms.csv").toString());
        if (result.stoppedEarly()) reporter.note(model, "Stopped early after epoch " + result.last().epoch() + ": " + result.stopReason());
        String kept = spec.validation().keepBest() == null ? "" : String.format(Locale.ROOT, "kept epoch %d (best %s), ",
                result.kept().epoch(), spec.validation().keepBest());
        reporter.done(model, String.format(Locale.ROOT, "Done in %.1fs: %s%s. Weights: %s  Metrics: %s", seconds, kept,
                TrainReporter.result(train, tested), dir.resolve("model.safetensors"), dir.resolve("metrics.jsonl")), done);
        if (gradNorms) reporter.note(model, "Gradient norms per time step: " + dir.resolve("grad_norms.csv"));
        reporter.note(model, "Plots: " + String.join(", ", pictures.stream().map(p -> p.getFileName().toString()).toList())
                + " in " + dir + "; a page with everything: nn report " + RunProvenance.quote(dir.toString()));
        outcome = new Outcome(model, train, tested, seconds, lastGradients);
    }

    /** The confusion matrix of the test split as {@code confusion.png}, unless it has too many classes to read. */
    private void confusion(List<Path> pictures) throws IOException {
        int classes = ConfusionCounts.classes(graph, test);
        if (classes > ConfusionChart.MAX_CLASSES) {
            reporter.note(model, "No confusion matrix: " + classes + " classes are more than " + ConfusionChart.MAX_CLASSES
                    + " a picture can show legibly.");
            return;
        }
        int[][] counts;
        try (LiveBar bar = LiveBar.open(reporter.out(), reporter.mode() == OutputMode.BAR, "confusion", test.size(), "samples")) {
            counts = ConfusionCounts.count(graph, store, test, spec.batch(), bar);
        }
        Path confusion = dir.resolve("confusion.png");
        PngFiles.write(ConfusionChart.render(model, counts, test.classNames()), confusion);
        pictures.add(confusion);
    }

    private static double number(Map<String, Object> record, String key) {
        return record.get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    /** What the finished run reported; null until {@link #runEnd} of a run that was not interrupted. */
    Outcome outcome() { return outcome; }
}
