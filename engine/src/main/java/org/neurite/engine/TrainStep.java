package org.neurite.engine;

import java.util.LinkedHashMap;
import java.util.Map;
import org.neurite.backend.CounterRandom;
import org.neurite.data.Dataset;
import org.neurite.graph.ParamInfo;
import org.neurite.graph.TypedGraph;
import org.neurite.tensor.Tensor;
import org.neurite.train.TrainSpec;

/**
 * One optimisation step, the only implementation of it: every way Neurite trains runs its steps
 * through here. A step has two halves, which data-parallel training runs on different machines:
 * <ol>
 *   <li>{@link #gradients}: forward, the loss and backward over a batch (or one worker's slice of
 *       a global batch), leaving the batch's mean-loss gradient in the store's gradient buffers;
 *       a non-finite loss stops the step, naming the first non-finite activation;</li>
 *   <li>{@link #update}: the global L2 norm of all gradients, a non-finite norm refused (naming
 *       the gradient that holds it, the weights untouched), global-norm clipping and the
 *       optimiser's update.</li>
 * </ol>
 * {@link #step} is both, as {@link Trainer} takes it. Spark's synchronous mode runs the first
 * half on its workers and the second on the driver; its averaging mode runs {@link #step} on
 * every worker.
 *
 * <p>Dropout masks are drawn from {@code (seed, step)}; the same step on the same weights and
 * rows gives the same gradients, so a retried worker task reproduces a lost one.
 */
public final class TrainStep implements AutoCloseable {
    private final TypedGraph graph;
    private final ParameterStore store;
    private final TrainSpec spec;
    private final Loss loss;
    private final Optimizer optimizer;
    private final int maxBatch;
    private CompiledModelsByBatch run;
    /** The model the last {@link #gradients} call ran, to name a non-finite gradient; null before any. */
    private CompiledModel lastModel;
    private double lastGradientNorm;
    /** Per recurrent node: sums of ‖dL/dh_t‖ over the steps since the last take; null when not recording. */
    private Map<String, double[]> stepGradientSums;
    private int stepGradientCount;

    /** What a batch (or a slice of one) contributed: its summed loss, its correctly classified rows and its rows. */
    public record Result(double lossSum, long correct, int rows) {}

    /**
     * @param optimizer the optimiser {@link #update} steps, over the trainable parameters of {@code store}
     * @param maxBatch the most samples one {@link #gradients} call is given (buffers are sized for it)
     */
    public TrainStep(TypedGraph graph, ParameterStore store, TrainSpec spec, Optimizer optimizer, int maxBatch) {
        if (maxBatch < 1) throw new IllegalArgumentException("a batch holds at least one sample, got " + maxBatch);
        this.graph = graph;
        this.store = store;
        this.spec = spec;
        this.loss = Loss.byName(spec.loss());
        this.optimizer = optimizer;
        this.maxBatch = maxBatch;
    }

    public Loss loss() { return loss; }

    public Optimizer optimizer() { return optimizer; }

    /** Global L2 norm of the gradients at the last {@link #update}, before clipping. */
    public double lastGradientNorm() { return lastGradientNorm; }

    /** The compiled models for datasets with {@code targetSize} targets per sample (recompiled when that changes). */
    CompiledModelsByBatch models(int targetSize) {
        if (run == null || run.targetSize != targetSize) {
            if (run != null) run.close();
            lastModel = null;
            run = new CompiledModelsByBatch(graph, store, maxBatch, targetSize, false);
        }
        return run;
    }

    /** A whole step over samples {@code order[from .. from+count)} of {@code data}: {@link #gradients}, then {@link #update}. */
    public Result step(Dataset data, int[] order, int from, int count, int step, int epoch) {
        Result r = gradients(data, order, from, count, count, step, epoch);
        update(step, epoch);
        return r;
    }

    /**
     * Forward, loss and backward over samples {@code order[from .. from+count)} of {@code data}
     * as part of a global batch of {@code globalCount} samples: each row's loss gradient is
     * scaled by {@code 1 / global rows}, so the slices of one batch add up to the gradient of the
     * whole batch. The gradients are left in the store; nothing is updated.
     *
     * @param step the optimiser step this belongs to (counted from 1; seeds dropout)
     * @param epoch the epoch in progress (counted from 1; for messages)
     * @throws NumericalFaultException when the loss is not finite, naming the first non-finite activation
     */
    public Result gradients(Dataset data, int[] order, int from, int count, int globalCount, int step, int epoch) {
        if (count < 1 || count > globalCount || count > maxBatch) {
            throw new IllegalArgumentException("a slice of " + count + " samples in a batch of " + globalCount
                    + " (buffers hold " + maxBatch + ")");
        }
        CompiledModelsByBatch r = models(data.targetSize());
        int rows = count * r.targetSize;
        CompiledModel m = r.load(data, order, from, count);
        lastModel = m;
        if (stepGradientSums != null) m.stepGradientProbes().values().forEach(p -> p.recordStepGradients(true));   // no-op once on
        m.forward(true, CounterRandom.mix(spec.seed() + step));
        double lossSum = loss.compute(m.output(), r.targets(count), m.gradOutput(), rows, globalCount * r.targetSize);
        if (!Double.isFinite(lossSum)) {
            String where = m.firstNonFiniteActivation();
            throw new NumericalFaultException("the loss became " + lossSum + " at step " + step + " (epoch " + epoch + "): "
                    + (where != null ? where : "every activation is finite; the loss itself overflowed"));
        }
        long correct = loss.classification() ? r.correct(m, count) : 0;
        m.backward();
        if (stepGradientSums != null) accumulateStepGradients(m);
        return new Result(lossSum, correct, rows);
    }

    /**
     * The second half of a step, on whatever gradients the store holds (from {@link #gradients},
     * or the sum of workers' slices written there): their global norm, a refusal when it is not
     * finite, clipping to {@code spec.clipNorm()} and the optimiser's update at {@code step}.
     *
     * @return the global norm before clipping
     * @throws NumericalFaultException when a gradient holds NaN or an infinity, naming it; the
     *     weights and the optimiser state are not touched
     */
    public double update(int step, int epoch) {
        double norm = Math.sqrt(store.gradientSquaredNorm());
        lastGradientNorm = norm;
        if (!Double.isFinite(norm)) {
            String where = lastModel != null ? lastModel.firstNonFiniteGradient() : null;
            if (where == null) where = firstNonFiniteGradient();
            throw new NumericalFaultException("a gradient became non-finite at step " + step + " (epoch " + epoch + "): "
                    + (where != null ? where : "the gradient norm overflowed") + "; the weights were not updated");
        }
        store.clipGradients(spec.clipNorm(), norm);
        optimizer.step(step);
        return norm;
    }

    /** The first trainable parameter whose gradient buffer holds NaN or an infinity, in declaration order. */
    private String firstNonFiniteGradient() {
        for (ParamInfo p : store.trainable()) {
            Tensor g = store.grad(p.fullName());
            float[] v = store.backend().download(g);
            for (int i = 0; i < v.length; i++) {
                if (!Float.isFinite(v[i])) {
                    return "the gradient of " + p.fullName() + " holds " + (Float.isNaN(v[i]) ? "NaN" : "Inf") + " (first at element " + i + ")";
                }
            }
        }
        return null;
    }

    /**
     * Records ‖dL/dh_t‖ of every recurrent layer at every step from now on (a diagnostic that
     * copies gradients to the host); read the means with {@link #takeStepGradientNorms()}.
     */
    public void recordStepGradients() {
        stepGradientSums = new LinkedHashMap<>();
    }

    /**
     * Mean ‖dL/dh_t‖ per recurrent node and time step over the steps since the last call, then
     * starts a new average. Empty when nothing was recorded.
     */
    public Map<String, double[]> takeStepGradientNorms() {
        Map<String, double[]> means = new LinkedHashMap<>();
        if (stepGradientSums == null || stepGradientCount == 0) return means;
        stepGradientSums.forEach((node, sums) -> {
            double[] mean = new double[sums.length];
            for (int t = 0; t < sums.length; t++) mean[t] = sums[t] / stepGradientCount;
            means.put(node, mean);
        });
        stepGradientSums.clear();
        stepGradientCount = 0;
        return means;
    }

    private void accumulateStepGradients(CompiledModel m) {
        m.stepGradientProbes().forEach((node, probe) -> {
            double[] norms = probe.stepGradientNorms();
            double[] sums = stepGradientSums.computeIfAbsent(node, k -> new double[norms.length]);
            for (int t = 0; t < norms.length; t++) sums[t] += norms[t];
        });
        stepGradientCount++;
    }

    @Override public void close() {
        if (run != null) run.close();
    }
}
