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
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingCallback;
import org.neurite.engine.TrainingRun;
import org.neurite.graph.TypedGraph;
import org.neurite.io.AtomicFiles;

/**
 * What {@code nn train} shows and draws while the engine's {@link TrainingRun} trains one model:
 * the live bar of each epoch, the epoch line or JSON event, the loss and accuracy plots (redrawn
 * after every epoch), with {@code --grad-norms} the mean ‖dL/dh_t‖ per recurrent layer and time
 * step ({@code grad_norms.csv}, {@code grad_norms.png}), and at the end the confusion matrix of a
 * classifier and the result line. The run itself writes the weights, checkpoint and metrics.
 */
final class RunOutput implements TrainingCallback {
    private final TrainReporter reporter;
    private final TypedGraph graph;
    private final String model;
    private final String loss;
    private final int batch;
    private final Path dir;
    private final ParameterStore store;
    private final Trainer trainer;
    private final Dataset test;
    private final boolean gradNorms;
    private final long start = System.nanoTime();
    private final List<EpochCurves.Point> history = new ArrayList<>();
    private final StringBuilder gradientCsv = new StringBuilder("epoch,node,t,grad_norm\n");
    private final SortedMap<Integer, Map<String, double[]>> gradientsByEpoch = new TreeMap<>();
    private Map<String, double[]> lastGradients = Map.of();
    private List<Path> plots = new ArrayList<>();
    private TrainReporter.EpochBar bar;
    private TrainCommand.Outcome outcome;

    RunOutput(TrainReporter reporter, TypedGraph graph, String loss, int batch, Path dir, ParameterStore store, Trainer trainer,
              Dataset test, boolean gradNorms) {
        this.reporter = reporter;
        this.graph = graph;
        this.model = graph.graph().name();
        this.loss = loss;
        this.batch = batch;
        this.dir = dir;
        this.store = store;
        this.trainer = trainer;
        this.test = test;
        this.gradNorms = gradNorms;
    }

    /** The plot points of the epochs a resumed run already trained. */
    void continueFrom(List<EpochCurves.Point> earlier) { history.addAll(earlier); }

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
        reporter.epoch(model, e.epochs(), e.train(), e.test(), e.lr(), e.record(), gradNorms ? lastGradients : Map.of());
        history.add(new EpochCurves.Point(e.epoch(), e.train().loss(), e.test().loss(), e.train().accuracy(), e.test().accuracy()));
        plots = EpochCurves.write(dir, model, loss, history, e.epochs());
    }

    /** After the last epoch: the confusion matrix, the gradient-norm chart and the result (nothing when the run was stopped). */
    @Override public void runEnd(TrainingRun.Result result) throws IOException {
        if (result.stopped()) return;
        List<Path> pictures = new ArrayList<>(plots);
        if (test.isClassification()) confusion(pictures);
        if (!gradientsByEpoch.isEmpty()) {
            Path picture = dir.resolve("grad_norms.png");
            PngFiles.write(GradientNormChart.render(model, gradientsByEpoch), picture);
            pictures.add(picture);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        EpochStats last = result.train();
        EpochStats lastTest = result.test();
        Map<String, Object> done = new LinkedHashMap<>();
        done.put("seconds", seconds);
        done.put("train_loss", last.loss());
        if (!Double.isNaN(last.accuracy())) done.put("train_accuracy", last.accuracy());
        done.put("test_loss", lastTest.loss());
        if (!Double.isNaN(lastTest.accuracy())) done.put("test_accuracy", lastTest.accuracy());
        done.put("run", dir.toString());
        done.put("weights", dir.resolve("model.safetensors").toString());
        done.put("metrics", dir.resolve("metrics.jsonl").toString());
        done.put("plots", pictures.stream().map(Path::toString).toList());
        if (gradNorms) done.put("grad_norms", dir.resolve("grad_norms.csv").toString());
        reporter.done(model, String.format(Locale.ROOT, "Done in %.1fs: %s. Weights: %s  Metrics: %s",
                seconds, TrainReporter.result(last, lastTest), dir.resolve("model.safetensors"), dir.resolve("metrics.jsonl")), done);
        if (gradNorms) reporter.note(model, "Gradient norms per time step: " + dir.resolve("grad_norms.csv"));
        reporter.note(model, "Plots: " + String.join(", ", pictures.stream().map(p -> p.getFileName().toString()).toList())
                + " in " + dir + "; a page with everything: nn report " + RunProvenance.quote(dir.toString()));
        outcome = new TrainCommand.Outcome(model, last, lastTest, seconds, lastGradients);
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
            counts = ConfusionCounts.count(graph, store, test, batch, bar);
        }
        Path confusion = dir.resolve("confusion.png");
        PngFiles.write(ConfusionChart.render(model, counts, test.classNames()), confusion);
        pictures.add(confusion);
    }

    /** What the finished run reported; null until {@link #runEnd} of a run that was not stopped. */
    TrainCommand.Outcome outcome() { return outcome; }
}
