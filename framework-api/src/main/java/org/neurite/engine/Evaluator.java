package org.neurite.engine;

import org.neurite.data.Dataset;
import org.neurite.graph.TypedGraph;

/** Loss and accuracy of a classifier over a whole dataset, in evaluation mode. */
public final class Evaluator implements AutoCloseable {
    private final ClassifierRun run;
    private final Loss loss;
    private final int batch;

    public Evaluator(TypedGraph graph, ParameterStore store, String lossName, int batch) {
        this.run = new ClassifierRun(graph, store, batch, false);
        this.loss = Loss.byName(lossName);
        this.batch = batch;
    }

    public EpochStats evaluate(Dataset data) {
        return evaluate(run, loss, data, 0, batch);
    }

    static EpochStats evaluate(ClassifierRun run, Loss loss, Dataset data, int epoch, int batch) {
        Trainer.checkCompatible(run.graph, data);
        int n = data.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        long start = System.nanoTime();
        double lossSum = 0;
        long correct = 0;
        for (int from = 0; from < n; from += batch) {
            int count = Math.min(batch, n - from);
            CompiledModel m = run.model(count);
            data.copyBatch(order, from, count, run.x, run.y);
            run.upload(m, count);
            m.forward(false, 0);
            lossSum += loss.compute(m.output(), run.targets(count), m.gradOutput(), count);
            correct += run.correct(m, count);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new EpochStats(epoch, lossSum / n, (double) correct / n, n, seconds);
    }

    @Override public void close() { run.close(); }
}
