package org.neurite.engine;

import org.neurite.backend.CounterRandom;
import org.neurite.data.Dataset;
import org.neurite.data.EpochOrder;
import org.neurite.graph.TypedGraph;
import org.neurite.train.TrainSpec;

/**
 * Trains a classifier graph on a {@link Dataset}, one epoch at a time. Each step reads a batch
 * in a seeded per-epoch order, runs forward, the loss, backward and the optimiser, all on the
 * store's backend; only the loss and the logits needed for accuracy come back to the host.
 *
 * <p>Reproducible: weights, shuffling and dropout all derive from {@code spec.seed()}.
 */
public final class Trainer implements AutoCloseable {
    private final TypedGraph graph;
    private final ParameterStore store;
    private final TrainSpec spec;
    private final Loss loss;
    private final Optimizer optimizer;
    private final ClassifierRun run;
    private int step;
    private EpochOrder epochOrder;
    private int[] order;

    public Trainer(TypedGraph graph, ParameterStore store, TrainSpec spec) {
        this.graph = graph;
        this.store = store;
        this.spec = spec;
        this.loss = Loss.byName(spec.loss());
        this.optimizer = Optimizer.create(spec.optimizer(), store);
        this.run = new ClassifierRun(graph, store, spec.batch(), false);
    }

    public Optimizer optimizer() { return optimizer; }

    /** Optimiser steps taken so far. */
    public int step() { return step; }

    /** Continues counting from {@code step} (when resuming a checkpoint). */
    public void setStep(int step) { this.step = step; }

    /**
     * Checks that {@code data} fits the graph: its samples have the input's shape and its labels
     * index the output.
     *
     * @throws IllegalArgumentException saying what disagrees
     */
    public static void checkCompatible(TypedGraph graph, Dataset data) {
        var input = graph.graph().inputs().get(0);
        if (data.sampleShape().size() != input.shape().size()) {
            throw new IllegalArgumentException("model input '" + input.name() + "' is " + input.shape()
                    + " but the samples of " + data.name() + " are " + data.sampleShape());
        }
        int outputs = graph.outputShape().size();
        if (data.classes() > outputs) {
            throw new IllegalArgumentException("model output '" + graph.graph().outputs().get(0) + "' has " + outputs
                    + " values but " + data.name() + " has " + data.classes() + " classes");
        }
    }

    /** One pass over {@code data} in the seeded order of {@code epoch} (counted from 1). */
    public EpochStats trainEpoch(Dataset data, int epoch, TrainingListener listener) {
        checkCompatible(graph, data);
        int n = data.size();
        if (epochOrder == null || epochOrder.size() != n) {
            epochOrder = new EpochOrder(spec.seed(), n);
            order = new int[n];
        }
        epochOrder.fill(epoch, order);
        long start = System.nanoTime();
        double lossSum = 0;
        long correct = 0;
        int batch = spec.batch();
        for (int from = 0; from < n; from += batch) {
            int count = Math.min(batch, n - from);
            CompiledModel m = run.model(count);
            data.copyBatch(order, from, count, run.x, run.y);
            run.upload(m, count);
            step++;
            m.forward(true, CounterRandom.mix(spec.seed() + step));
            lossSum += loss.compute(m.output(), run.targets(count), m.gradOutput(), count);
            correct += run.correct(m, count);
            m.backward();
            optimizer.step(step);
            int done = from + count;
            listener.batchDone(epoch, done, n, lossSum / done, (double) correct / done);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new EpochStats(epoch, lossSum / n, (double) correct / n, n, seconds);
    }

    /** Mean loss and accuracy over {@code data} in evaluation mode (no dropout, no updates). */
    public EpochStats evaluate(Dataset data, int epoch) {
        return Evaluator.evaluate(run, loss, data, epoch, spec.batch());
    }

    @Override public void close() { run.close(); }
}
