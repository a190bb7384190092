package org.neurite.engine;

import org.neurite.backend.CounterRandom;
import org.neurite.data.Dataset;
import org.neurite.graph.TypedGraph;
import org.neurite.train.TrainSpec;

/**
 * One worker's share of a data-parallel training step: forward, loss and backward over a
 * contiguous slice of a global batch, leaving in the store's gradient buffers that slice's part
 * of the whole batch's mean-loss gradient, and taking no optimiser step. The slices of one
 * global batch add up to the gradient {@link Trainer} computes for that batch in one piece
 * (each row's loss gradient is scaled by {@code 1 / global rows}, the same float the whole-batch
 * step uses; only the order in which rows are summed differs).
 *
 * <p>A pure function of (weights in the store, dataset, order, slice, step): computing the same
 * slice twice gives the same gradients, so a retried task reproduces a lost one. Dropout masks
 * are drawn from (seed, step) as in {@link Trainer} but indexed by the row within the slice, so
 * a model with dropout does not see the masks of a whole-batch step; batch normalisation's
 * statistics are the slice's.
 */
public final class SliceGradients implements AutoCloseable {
    private final TypedGraph graph;
    private final TrainSpec spec;
    private final Loss loss;
    private final CompiledModelsByBatch run;

    /** What a slice contributed: its summed loss, its correctly classified rows and its rows. */
    public record Slice(double lossSum, long correct, int rows) {}

    /**
     * @param maxSlice the largest slice that will be asked for (buffers are sized for it)
     * @param targetSize targets per sample of the dataset that will be used
     */
    public SliceGradients(TypedGraph graph, ParameterStore store, TrainSpec spec, int maxSlice, int targetSize) {
        if (maxSlice < 1) throw new IllegalArgumentException("a slice holds at least one sample, got " + maxSlice);
        this.graph = graph;
        this.spec = spec;
        this.loss = Loss.byName(spec.loss());
        this.run = new CompiledModelsByBatch(graph, store, maxSlice, targetSize, false);
    }

    /**
     * Samples {@code order[from .. from+count)} of {@code data} as part of a global batch of
     * {@code globalCount} samples at optimiser step {@code step} (counted from 1, as
     * {@link Trainer#step()} after the step). The gradients are left in the store.
     *
     * @throws NumericalFaultException when the loss is not finite, naming the first non-finite activation
     */
    public Slice compute(Dataset data, int[] order, int from, int count, int globalCount, int step) {
        if (count < 1 || count > globalCount) {
            throw new IllegalArgumentException("a slice of " + count + " samples in a batch of " + globalCount);
        }
        if (data.targetSize() != run.targetSize) {
            throw new IllegalArgumentException(data.name() + " has " + data.targetSize() + " targets per sample, these buffers "
                    + run.targetSize);
        }
        int rows = count * run.targetSize;
        CompiledModel m = run.load(data, order, from, count);
        m.forward(true, CounterRandom.mix(spec.seed() + step));
        double lossSum = loss.compute(m.output(), run.targets(count), m.gradOutput(), rows, globalCount * run.targetSize);
        if (!Double.isFinite(lossSum)) {
            String where = m.firstNonFiniteActivation();
            throw new NumericalFaultException("the loss became " + lossSum + " at step " + step + ": "
                    + (where != null ? where : "every activation is finite; the loss itself overflowed"));
        }
        long correct = loss.classification() ? run.correct(m, count) : 0;
        m.backward();
        return new Slice(lossSum, correct, rows);
    }

    /** The graph whose gradients this computes. */
    public TypedGraph graph() { return graph; }

    @Override public void close() { run.close(); }
}
