package org.neurite.engine;

import org.neurite.backend.Slice;
import org.neurite.data.Dataset;
import org.neurite.graph.TypedGraph;

/**
 * Measures a model over a whole dataset in evaluation mode (no dropout, no updates): the loss
 * and, for a classifier, accuracy, top-5 accuracy and per-class counts ({@link Evaluation}).
 * The outputs of each batch come to the host once, and every classification metric is counted
 * from that one copy.
 */
public final class Evaluator implements AutoCloseable {
    /** How many of the largest outputs count for top-k accuracy. */
    static final int TOP_K = 5;
    private final TypedGraph graph;
    private final ParameterStore store;
    private final Loss loss;
    private final int batch;
    private CompiledModelsByBatch run;

    /** An evaluator with the core's loss {@code lossName}; {@link Trainers#loss} also finds plugins'. */
    public Evaluator(TypedGraph graph, ParameterStore store, String lossName, int batch) {
        this(graph, store, Loss.byName(lossName), batch);
    }

    public Evaluator(TypedGraph graph, ParameterStore store, Loss loss, int batch) {
        this.graph = graph;
        this.store = store;
        this.loss = loss;
        this.batch = batch;
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
        return evaluate(run, loss, data, 0, batch, progress);
    }

    static Evaluation evaluate(CompiledModelsByBatch run, Loss loss, Dataset data, int epoch, int batch) {
        return evaluate(run, loss, data, epoch, batch, TrainingListener.NONE);
    }

    private static Evaluation evaluate(CompiledModelsByBatch run, Loss loss, Dataset data, int epoch, int batch, TrainingListener progress) {
        int n = data.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        int classes = loss.classification() ? run.outputSize / run.targetSize : 0;
        long[] truePositives = new long[classes], predicted = new long[classes], actual = new long[classes];
        long inTop = 0;
        long start = System.nanoTime();
        double lossSum = 0;
        for (int from = 0; from < n; from += batch) {
            int count = Math.min(batch, n - from);
            CompiledModel m = run.load(data, order, from, count);
            m.forward(false, 0);
            lossSum += loss.compute(m.output(), run.targets(count), m.gradOutput(), count * run.targetSize);
            if (classes > 0) inTop += count(run, m, count, classes, truePositives, predicted, actual);
            long rowsSoFar = (long) (from + count) * run.targetSize;
            progress.batchDone(epoch, from + count, n, lossSum / rowsSoFar, classes > 0 ? (double) sum(truePositives) / rowsSoFar : Double.NaN);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long rows = (long) n * run.targetSize;
        long correct = sum(truePositives);
        return new Evaluation(epoch, lossSum / rows, classes > 0 ? (double) correct / rows : Double.NaN,
                classes > TOP_K ? (double) inTop / rows : Double.NaN, truePositives, predicted, actual, n, seconds);
    }

    /**
     * Counts one loaded batch's rows into the per-class tallies; returns how many rows have their
     * label among the {@link #TOP_K} largest outputs. A class ranks above the label when its output
     * is larger, or equal with a lower index (so rank 0 is exactly the arg-max).
     */
    private static long count(CompiledModelsByBatch run, CompiledModel m, int count, int classes, long[] truePositives,
                              long[] predicted, long[] actual) {
        float[] out = run.outputs;
        float[] labels = run.y;   // the batch's targets, as load() copied them
        m.backend().download(Slice.of(m.output(), 0, count * run.outputSize), out, 0);
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
