package org.neurite.engine;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.neurite.backend.Backend;
import org.neurite.backend.CounterRandom;
import org.neurite.backend.Slice;
import org.neurite.backend.StepControl;
import org.neurite.tensor.Shape;
import org.neurite.data.Dataset;
import org.neurite.data.augment.AugmentationPipeline;
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
 * {@link #step} is both. Spark's synchronous mode runs the first half on its workers and the
 * second on the driver; its averaging mode runs both halves on every worker. Each half reads its
 * result back at once (one host synchronisation each).
 *
 * <p><b>On the device.</b> {@link Trainer} takes its steps with {@link #submit} instead, which
 * reads nothing back: the step's summed loss, correct count and squared gradient norm land in a
 * row of a small status tensor on the backend, the clip factor and the decision to skip a
 * non-finite step are taken there ({@link StepControl}, which the optimiser's update reads), and
 * {@link #collect} reads the rows of every step submitted since the last read in one download. A
 * step whose loss or norm is NaN or infinite sets the control's skip flag, so it and every later
 * submitted step leave weights and optimiser state untouched (PyTorch's GradScaler skips a step on
 * its {@code found_inf} flag the same way). {@link #collect} then finds the first such step in the
 * rows, clears the flag, runs that step's forward (and backward) again on the weights it saw,
 * which are the current ones, to name the node and tensor, and throws the same message a step
 * that read its results at once would have thrown.
 *
 * <p>How often {@link Trainer} collects, {@link #readEvery()}: after every step on a backend whose
 * ops finish before they return (the CPU: a read costs nothing), and every
 * {@value #DEVICE_READ_INTERVAL} steps on an {@linkplain Backend#asynchronous asynchronous} one. A
 * read there drains the device's queue and leaves it idle until the host queues the next step's
 * first kernels: about 35 µs on PoCL ({@code benchmarks}' {@code SyncCost}), and at most about
 * 100 µs on a discrete GPU (a read's round trip plus the next launches). The shortest step the
 * examples take is LeNet-5's at batch 64: 1.9 ms even at PyTorch's speed on an H200 (33.7k
 * samples/s), so reading after every step would cost up to 5% of it. Spread over
 * {@value #DEVICE_READ_INTERVAL} steps a read costs at most 100 µs / 32 = 3 µs per step, under 1%
 * of any step longer than 0.3 ms, while the progress bar still moves every 2,048 samples at
 * batch 64 ({@code BENCHMARKS.md} has the measurements).
 *
 * <p>Dropout masks are drawn from {@code (seed, step)}, and the augmentation of each gathered
 * sample ({@code augment = [...]}) from {@code (seed, epoch, sample index)}; the same step on the
 * same weights and rows gives the same gradients, so a retried worker task reproduces a lost one,
 * a resumed run repeats the uninterrupted one, and a faulty step runs again as it first ran.
 */
public final class TrainStep implements AutoCloseable {
    /** Steps between reads of the results on an asynchronous backend (the class comment says why this many). */
    public static final int DEVICE_READ_INTERVAL = 32;

    // The status tensor: the step control, then one row per step submitted since the last read.
    private static final int ROWS_AT = StepControl.SIZE;
    private static final int LOSS = 0;
    private static final int CORRECT = 1;
    private static final int SQUARED_NORM = 2;
    private static final int ROW = 3;

    private final TypedGraph graph;
    private final ParameterStore store;
    private final Backend backend;
    private final TrainSpec spec;
    private final Loss loss;
    private final Optimizer optimizer;
    private final int maxBatch;
    /** What {@code spec.augment()} does to each training sample; null when it lists nothing. */
    private final AugmentationPipeline augmentation;
    private CompiledModelsByBatch run;
    /** The model the last {@link #gradients} call ran, to name a non-finite gradient; null before any. */
    private CompiledModel lastModel;
    private double lastGradientNorm;
    /** Per recurrent node: sums of ‖dL/dh_t‖ over the steps since the last take; null when not recording. */
    private Map<String, double[]> stepGradientSums;
    private int stepGradientCount;
    private int readEvery;
    /** [factor, skip flag, then (loss sum, correct rows, squared gradient norm) per row], on the backend. */
    private Tensor status;
    /** The steps submitted since the last {@link #collect}, in order: row i of {@link #status} is theirs. */
    private final List<Submitted> submitted = new ArrayList<>();

    /** What a batch (or a slice of one) contributed: its summed loss, its correctly classified rows and its rows. */
    public record Result(double lossSum, long correct, int rows) {}

    /** A step whose results are still on the device, and what it takes to run it again. */
    private record Submitted(Dataset data, int[] order, int from, int count, int step, int epoch, int rows) {}

    /**
     * @param optimizer the optimiser {@link #update} steps, over the trainable parameters of {@code store}
     * @param maxBatch the most samples one {@link #gradients} call is given (buffers are sized for it)
     */
    public TrainStep(TypedGraph graph, ParameterStore store, TrainSpec spec, Optimizer optimizer, int maxBatch) {
        this(graph, store, spec, Loss.byName(spec.loss()), optimizer, maxBatch);
    }

    /**
     * As {@link #TrainStep(TypedGraph, ParameterStore, TrainSpec, Optimizer, int)} with the loss
     * given rather than looked up among the core's (a plugin's, from the runtime's registry).
     */
    public TrainStep(TypedGraph graph, ParameterStore store, TrainSpec spec, Loss loss, Optimizer optimizer, int maxBatch) {
        if (maxBatch < 1) throw new IllegalArgumentException("a batch holds at least one sample, got " + maxBatch);
        this.graph = graph;
        this.store = store;
        this.backend = store.backend();
        this.spec = spec;
        this.loss = loss;
        this.optimizer = optimizer;
        this.maxBatch = maxBatch;
        this.augmentation = spec.augment().isEmpty() ? null
                : AugmentationPipeline.of(spec.augment(), graph.shape(graph.graph().inputs().get(0).name()), spec.seed());
        readEvery(backend.asynchronous() ? DEVICE_READ_INTERVAL : 1);
    }

    public Loss loss() { return loss; }

    public Optimizer optimizer() { return optimizer; }

    /** Global L2 norm of the gradients, before clipping, of the last step whose results were read. */
    public double lastGradientNorm() { return lastGradientNorm; }

    /** Steps {@link Trainer} submits between two {@link #collect}s. */
    public int readEvery() { return readEvery; }

    /**
     * Sets how many steps may be submitted between two {@link #collect}s (1 reads after every
     * step); only while none is waiting to be collected.
     */
    public void readEvery(int steps) {
        if (steps < 1) throw new IllegalArgumentException("results are read every 1 or more steps, got " + steps);
        if (!submitted.isEmpty()) throw new IllegalStateException("collect the " + submitted.size() + " submitted steps first");
        if (status != null && steps == readEvery) return;
        Tensor fresh = backend.allocate(Shape.of(ROWS_AT + steps * ROW));   // zero: factor 0 is rewritten every step, no skip
        if (status != null) status.close();
        status = fresh;
        readEvery = steps;
    }

    /** Steps submitted and not yet collected. */
    public int pending() { return submitted.size(); }

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
     * A whole step like {@link #step}, its results left on the device for {@link #collect}: no
     * host synchronisation. At most {@link #readEvery()} steps may wait to be collected.
     *
     * @param step the optimiser step (counted from 1; seeds dropout)
     * @param epoch the epoch in progress (counted from 1; seeds augmentation, names the epoch in messages)
     */
    public void submit(Dataset data, int[] order, int from, int count, int step, int epoch) {
        checkSlice(count, count);
        if (submitted.size() == readEvery) throw new IllegalStateException("collect the " + readEvery + " submitted steps first");
        int row = ROWS_AT + submitted.size() * ROW;
        CompiledModel m = forward(data, order, from, count, count, step, epoch, row);
        m.backward();
        if (stepGradientSums != null) accumulateStepGradients(m);
        decideAndUpdate(step, row, true);
        submitted.add(new Submitted(data, order, from, count, step, epoch, count * models(data.targetSize()).targetSize));
    }

    /**
     * The results of every step submitted since the last call, in order, read in one download.
     *
     * @throws NumericalFaultException when a submitted step's loss or gradient norm was NaN or
     *     infinite, naming the first such step, its node and tensor; the weights and the optimiser
     *     state are those from before it (it and every later step were skipped on the device)
     */
    public List<Result> collect() {
        int n = submitted.size();
        if (n == 0) return List.of();
        List<Submitted> steps = List.copyOf(submitted);
        submitted.clear();   // whatever the read throws (a refused label, say), these steps are over
        float[] v = new float[ROWS_AT + n * ROW];
        backend.download(Slice.of(status, 0, v.length), v, 0);
        if (v[StepControl.SKIP] != 0) {
            backend.fill(Slice.of(status, StepControl.SKIP, 1), 0f);
            throw firstFault(steps, v);
        }
        List<Result> results = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int row = ROWS_AT + i * ROW;
            results.add(new Result(v[row + LOSS], correct(v, row), steps.get(i).rows()));
        }
        lastGradientNorm = Math.sqrt(v[ROWS_AT + (n - 1) * ROW + SQUARED_NORM]);
        return results;
    }

    /**
     * Forward, loss and backward over samples {@code order[from .. from+count)} of {@code data}
     * as part of a global batch of {@code globalCount} samples: each row's loss gradient is
     * scaled by {@code 1 / global rows}, so the slices of one batch add up to the gradient of the
     * whole batch. The gradients are left in the store; nothing is updated. The loss and the
     * correct count are read back before backward (one host synchronisation).
     *
     * @param step the optimiser step this belongs to (counted from 1; seeds dropout)
     * @param epoch the epoch in progress (counted from 1; seeds augmentation, names the epoch in messages)
     * @throws NumericalFaultException when the loss is not finite, naming the first non-finite activation
     */
    public Result gradients(Dataset data, int[] order, int from, int count, int globalCount, int step, int epoch) {
        checkSlice(count, globalCount);
        requireNothingSubmitted();
        CompiledModel m = forward(data, order, from, count, globalCount, step, epoch, ROWS_AT);
        float[] v = new float[ROW];
        backend.download(Slice.of(status, ROWS_AT, ROW), v, 0);
        if (!Float.isFinite(v[LOSS])) throw lossFault(m, v[LOSS], step, epoch);
        m.backward();
        if (stepGradientSums != null) accumulateStepGradients(m);
        return new Result(v[LOSS], correct(v, 0), count * models(data.targetSize()).targetSize);
    }

    /**
     * The second half of a step, on whatever gradients the store holds (from {@link #gradients},
     * or the sum of workers' slices written there): their global norm, a refusal when it is not
     * finite, clipping to {@code spec.clipNorm()} and the optimiser's update at {@code step},
     * decided on the device as {@link #submit} does, then read back (one host synchronisation).
     *
     * @return the global norm before clipping
     * @throws NumericalFaultException when a gradient holds NaN or an infinity, naming it; the
     *     weights and the optimiser state are not touched
     */
    public double update(int step, int epoch) {
        requireNothingSubmitted();
        decideAndUpdate(step, ROWS_AT, false);
        float[] v = new float[ROWS_AT + ROW];
        backend.download(Slice.of(status, 0, v.length), v, 0);
        double norm = Math.sqrt(v[ROWS_AT + SQUARED_NORM]);
        lastGradientNorm = norm;
        if (v[StepControl.SKIP] != 0) {
            backend.fill(Slice.of(status, StepControl.SKIP, 1), 0f);
            throw gradientFault(lastModel, step, epoch);
        }
        return norm;
    }

    /**
     * Loads the rows, runs forward in training mode and the loss into {@code row} of the status
     * (with the correct count for a classifier); returns the model, now {@link #lastModel}.
     */
    private CompiledModel forward(Dataset data, int[] order, int from, int count, int globalCount, int step, int epoch, int row) {
        CompiledModelsByBatch r = models(data.targetSize());
        int rows = count * r.targetSize;
        CompiledModel m = r.load(data, order, from, count, augmentation, epoch);
        lastModel = m;
        if (stepGradientSums != null) m.stepGradientProbes().values().forEach(p -> p.recordStepGradients(true));   // no-op once on
        m.forward(true, CounterRandom.mix(spec.seed() + step));
        loss.compute(m.output(), r.targets(count), m.gradOutput(), rows, globalCount * r.targetSize, Slice.of(status, row + LOSS, 1));
        if (loss.classification()) {
            backend.countCorrect(m.output(), r.targets(count), rows, r.outputSize / r.targetSize, Slice.of(status, row + CORRECT, 1));
        }
        return m;
    }

    /**
     * The squared gradient norm into {@code row}, the control from it (and from the row's loss
     * when {@code withLoss}), and the optimiser's update under that control, all on the device.
     */
    private void decideAndUpdate(int step, int row, boolean withLoss) {
        Slice squaredNorm = Slice.of(status, row + SQUARED_NORM, 1), control = Slice.of(status, 0, StepControl.SIZE);
        store.gradientSquaredNorm(squaredNorm);
        backend.stepControl(squaredNorm, withLoss ? Slice.of(status, row + LOSS, 1) : null, (float) spec.clipNorm(), control);
        optimizer.step(step, control);
    }

    /**
     * The fault of the first step whose loss or norm is not finite. Every update from that step
     * on was skipped, so the weights are the ones it ran on: its forward runs again to name the
     * first non-finite activation (a bad loss), or its forward and backward to name the gradient.
     */
    private NumericalFaultException firstFault(List<Submitted> steps, float[] v) {
        for (int i = 0; i < steps.size(); i++) {
            int row = ROWS_AT + i * ROW;
            float lossSum = v[row + LOSS];
            if (Float.isFinite(lossSum) && Float.isFinite(v[row + SQUARED_NORM])) continue;
            Submitted s = steps.get(i);
            CompiledModel m = forward(s.data(), s.order(), s.from(), s.count(), s.count(), s.step(), s.epoch(), ROWS_AT);
            if (!Float.isFinite(lossSum)) return lossFault(m, lossSum, s.step(), s.epoch());
            m.backward();
            return gradientFault(m, s.step(), s.epoch());
        }
        // Only a step can set the flag; a flag without a faulty row was set before these steps.
        return new NumericalFaultException("a step before step " + steps.get(0).step() + " was not finite; the weights were not updated",
                steps.get(0).step());
    }

    private static NumericalFaultException lossFault(CompiledModel m, double lossSum, int step, int epoch) {
        String where = m.firstNonFiniteActivation();
        return new NumericalFaultException("the loss became " + lossSum + " at step " + step + " (epoch " + epoch + "): "
                + (where != null ? where : "every activation is finite; the loss itself overflowed"), step);
    }

    private NumericalFaultException gradientFault(CompiledModel m, int step, int epoch) {
        String where = m != null ? m.firstNonFiniteGradient() : null;
        if (where == null) where = firstNonFiniteGradient();
        return new NumericalFaultException("a gradient became non-finite at step " + step + " (epoch " + epoch + "): "
                + (where != null ? where : "the gradient norm overflowed") + "; the weights were not updated", step);
    }

    /** The correct count of the row at {@code row} of {@code v} (0 for a loss that does not classify: the slot is not written). */
    private long correct(float[] v, int row) {
        return loss.classification() ? (long) v[row + CORRECT] : 0;
    }

    private void checkSlice(int count, int globalCount) {
        if (count < 1 || count > globalCount || count > maxBatch) {
            throw new IllegalArgumentException("a slice of " + count + " samples in a batch of " + globalCount
                    + " (buffers hold " + maxBatch + ")");
        }
    }

    private void requireNothingSubmitted() {
        if (!submitted.isEmpty()) throw new IllegalStateException("collect the " + submitted.size() + " submitted steps first");
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
        status.close();
    }
}
