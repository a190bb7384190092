package org.neurite.engine;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.neurite.backend.Slice;
import org.neurite.data.Dataset;
import org.neurite.graph.TypedGraph;
import org.neurite.train.Metric;
import org.neurite.train.Metrics;

/**
 * Measures a model over a whole dataset in evaluation mode (no dropout, no updates): the loss
 * and, for a classifier, accuracy, top-5 accuracy and per-class counts ({@link Evaluation}), and
 * every registered {@link Metric} of the loss's kind ({@link Trainers#metrics}; the core's alone
 * unless given). The outputs of each batch come to the host once, and every classification figure
 * and every metric is counted from that one copy.
 */
public final class Evaluator implements AutoCloseable {
    /** How many of the largest outputs count for top-k accuracy. */
    static final int TOP_K = 5;
    private final TypedGraph graph;
    private final ParameterStore store;
    private final Loss loss;
    private final int batch;
    private final List<Metric> metrics;
    private CompiledModelsByBatch run;

    /** An evaluator with the core's loss {@code lossName} and metrics; {@link Trainers#loss} also finds plugins'. */
    public Evaluator(TypedGraph graph, ParameterStore store, String lossName, int batch) {
        this(graph, store, Loss.byName(lossName), batch);
    }

    /** An evaluator with the core's metrics. */
    public Evaluator(TypedGraph graph, ParameterStore store, Loss loss, int batch) {
        this(graph, store, loss, batch, Metrics.CORE);
    }

    /** @param metrics the metrics to measure; those not of the loss's kind are left out */
    public Evaluator(TypedGraph graph, ParameterStore store, Loss loss, int batch, List<Metric> metrics) {
        this.graph = graph;
        this.store = store;
        this.loss = loss;
        this.batch = batch;
        this.metrics = List.copyOf(metrics);
    }

    public Evaluation evaluate(Dataset data) {
        return evaluate(data, TrainingListener.NONE);
    }

    /** As {@link #evaluate(Dataset)}, telling {@code progress} after every batch (samples done, running mean loss and accuracy). */
    public Evaluation evaluate(Dataset data, TrainingListener progress) {
        Trainer.checkCompatible(graph, data, loss);
        if (run == null || run.targetSize != data.targetSize()) {
            if (run != null) run.close();
            run = CompiledModelsByBatch.forInference(graph, store, batch, data.targetSize());
        }
        return evaluate(run, loss, metrics, data, 0, batch, progress);
    }

    static Evaluation evaluate(CompiledModelsByBatch run, Loss loss, List<Metric> metrics, Dataset data, int epoch, int batch) {
        return evaluate(run, loss, metrics, data, epoch, batch, TrainingListener.NONE);
    }

    private static Evaluation evaluate(CompiledModelsByBatch run, Loss loss, List<Metric> metrics, Dataset data, int epoch, int batch,
                                       TrainingListener progress) {
        int n = data.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        int width = run.outputSize / run.targetSize;
        int classes = loss.classification() ? width : 0;
        Map<String, Metric.Tally> tallies = new LinkedHashMap<>();
        for (Metric metric : metrics) if (metric.classification() == loss.classification()) tallies.put(metric.name(), metric.start());
        long[] truePositives = new long[classes], predicted = new long[classes], actual = new long[classes];
        long inTop = 0;
        long start = System.nanoTime();
        double lossSum = 0;
        for (int from = 0, count; from < n; from += count) {
            count = Math.min(batch, n - from);
            CompiledModel m = run.load(data, order, from, count);
            m.forward(false, 0);
            lossSum += loss.compute(m.output(), run.targets(count), m.gradOutput(), count * run.targetSize);
            if (classes > 0 || !tallies.isEmpty()) {
                m.backend().download(Slice.of(m.output(), 0, count * run.outputSize), run.outputs, 0);
                for (Metric.Tally t : tallies.values()) t.add(run.outputs, run.y, count * run.targetSize, width);
            }
            if (classes > 0) inTop += count(run, count, classes, truePositives, predicted, actual);
            long rowsSoFar = (long) (from + count) * run.targetSize;
            progress.batchDone(epoch, from + count, n, lossSum / rowsSoFar, classes > 0 ? (double) sum(truePositives) / rowsSoFar : Double.NaN);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long rows = (long) n * run.targetSize;
        long correct = sum(truePositives);
        Map<String, Double> measured = new LinkedHashMap<>();
        tallies.forEach((name, t) -> measured.put(name, t.value()));
        return new Evaluation(epoch, lossSum / rows, classes > 0 ? (double) correct / rows : Double.NaN,
                classes > TOP_K ? (double) inTop / rows : Double.NaN, truePositives, predicted, actual, n, seconds, measured);
    }

    /**
     * Counts one batch's rows, its outputs already downloaded, into the per-class tallies; returns
     * how many rows have their label among the {@link #TOP_K} largest outputs. A class ranks above the label when its output
     * is larger, or equal with a lower index (so rank 0 is exactly the arg-max).
     */
    private static long count(CompiledModelsByBatch run, int count, int classes, long[] truePositives,
                              long[] predicted, long[] actual) {
        float[] out = run.outputs;
        float[] labels = run.y;   // the batch's targets, as load() copied them
        long inTop = 0;
        for (int r = 0, rows = count * run.targetSize; r < rows; r++) {
            int base = r * classes;
            int label = (int) labels[r];
            int best = 0;
            for (int c = 1; c < classes; c++) if (out[base + c] > out[base + best]) best = c;
            float mine = out[base + label];
            int above = 0;
            for (int c = 0; c < classes && above < TOP_K; c++) {
                float v = out[base + c];
                if (v > mine || (v == mine && c < label)) above++;
            }
            if (above < TOP_K) inTop++;
            actual[label]++;
            predicted[best]++;
            if (best == label) truePositives[label]++;
        }
        return inTop;
    }

    private static long sum(long[] counts) {
        long sum = 0;
        for (long c : counts) sum += c;
        return sum;
    }

    @Override public void close() {
        if (run != null) run.close();
    }
}
