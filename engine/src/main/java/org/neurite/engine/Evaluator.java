package org.neurite.engine;

import org.neurite.data.Dataset;
import org.neurite.graph.TypedGraph;

/** Loss (and accuracy, for classifiers) of a model over a whole dataset, in evaluation mode. */
public final class Evaluator implements AutoCloseable {
    private final TypedGraph graph;
    private final ParameterStore store;
    private final Loss loss;
    private final int batch;
    private CompiledModelsByBatch run;

    public Evaluator(TypedGraph graph, ParameterStore store, String lossName, int batch) {
        this.graph = graph;
        this.store = store;
        this.loss = Loss.byName(lossName);
        this.batch = batch;
    }

    public EpochStats evaluate(Dataset data) {
        Trainer.checkCompatible(graph, data, loss);
        if (run == null || run.targetSize != data.targetSize()) {
            if (run != null) run.close();
            run = CompiledModelsByBatch.forInference(graph, store, batch, data.targetSize());
        }
        return evaluate(run, loss, data, 0, batch);
    }

    static EpochStats evaluate(CompiledModelsByBatch run, Loss loss, Dataset data, int epoch, int batch) {
        int n = data.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        long start = System.nanoTime();
        double lossSum = 0;
        long correct = 0;
        for (int from = 0; from < n; from += batch) {
            int count = Math.min(batch, n - from);
            CompiledModel m = run.load(data, order, from, count);
            m.forward(false, 0);
            lossSum += loss.compute(m.output(), run.targets(count), m.gradOutput(), count * run.targetSize);
            if (loss.classification()) correct += run.correct(m, count);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long rows = (long) n * run.targetSize;
        return new EpochStats(epoch, lossSum / rows, loss.classification() ? (double) correct / rows : Double.NaN, n, seconds);
    }

    @Override public void close() {
        if (run != null) run.close();
    }
}
