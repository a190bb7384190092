package org.neurite.engine;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.neurite.backend.Backend;
import org.neurite.backend.BatchShards;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.CounterRandom;
import org.neurite.backend.Slice;
import org.neurite.backend.StepControl;
import org.neurite.tensor.Shape;
import org.neurite.data.Dataset;
import org.neurite.data.augment.AugmentationPipeline;
import org.neurite.graph.ParamInfo;
import org.neurite.graph.Node;
import org.neurite.graph.TypedGraph;
import org.neurite.layer.LayerType;
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
 *
 * <p><b>Two shards.</b> On a backend that offers {@link BatchShards} (the CPU backend), a step of
 * two samples or more over a graph whose layers are all {@linkplain LayerType#shardable
 * shardable}, and whose parameters are few against its activations ({@link #sharded}), runs its
 * forward and backward as two shards of the batch at once: the first
 * {@code ceil(n/2)} samples through the compiled models of {@link #models}, the rest through a
 * second set compiled over {@link ParameterStore#shardView} (the same weights, gradients of its
 * own), node by node, each shard on its share of the backend's threads (with one thread the
 * backend interleaves the two shards' nodes). The losses are computed after both
 * forwards, shard by shard, and added (shard 0's + shard 1's); after both backwards shard 1's
 * gradients are added to shard 0's, in the store, and the update runs as on one batch. The split
 * depends on the batch alone, so the bits do not depend on the thread count; they differ from an
 * unsharded step's by rounding (the batch-norm sums and the weight gradients are added in another
 * order). {@code -Dneurite.shards=false} runs every step unsharded.
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
    /** The model the last {@link #gradients} call ran (its first shard's, sharded), to name a non-finite gradient; null before any. */
    private CompiledModel lastModel;
    /** The system property that runs every step unsharded ({@code false}). */
    static final String SHARDS_PROPERTY = "neurite.shards";
    /** The backend's shards when steps may run sharded (see the class comment), else null. */
    private final BatchShards shards;
    /** The most parameter floats per activation float of a step for it to run in shards (see {@link #sharded}). */
    static final double SHARD_PARAMETER_SHARE = 0.25;
    /** Floats of the trainable parameters, and of every node's output for one sample (the input included). */
    private final long trainableFloats, activationFloatsPerSample;
    /**
     * While a faulty step runs again to name its first non-finite activation or gradient: then it
     * runs unsharded, so that the message names the batch's tensors and elements, not a shard's.
     */
    private boolean diagnosing;
    /** Shard 1's parameters (the store's values, its own gradients) and compiled models; null when no step shards. */
    private ParameterStore secondShardStore;
    private CompiledModelsByBatch secondShardRun;
    /** Shard 1's model in the last step, when it was sharded; null otherwise. */
    private CompiledModel lastSecondShard;
    /** Floats of {@link #secondShardStatus}: a loss sum and a correct count. */
    static final int SECOND_SHARD_STATUS = 2;
    /** Shard 1's loss sum and correct count, added into the status row after the forwards. */
    private Tensor secondShardStatus;
    private Slice secondShardLoss, secondShardCorrect;
    /** Per trainable parameter: the store's gradient, and shard 1's, added into it after a sharded backward. */
    private Slice[] firstShardGradients, secondShardGradients;
    private final ShardPass shardPass = new ShardPass();
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
        this.shards = shardable(graph) ? backend.extension(BatchShards.class).orElse(null) : null;
        this.trainableFloats = graph.trainableParameterCount();
        this.activationFloatsPerSample = activationFloatsPerSample(graph);
        // With the trainer, as the optimiser's state (MemoryPlanner counts it so); a smaller batch never shards if this one does not.
        if (shardsAt(maxBatch)) allocateSecondShard();
        readEvery(backend.asynchronous() ? DEVICE_READ_INTERVAL : 1);
    }

    /**
     * Whether training {@code graph} on {@code backend} at {@code batch} runs its steps as two
     * shards of the batch (the class comment, {@link #sharded}): what {@link MemoryPlanner#inShards}
     * counts.
     */
    public static boolean runsInShards(TypedGraph graph, Backend backend, int batch) {
        return shardable(graph) && fewParameters(graph.trainableParameterCount(), activationFloatsPerSample(graph), batch)
                && backend.extension(BatchShards.class).isPresent();
    }

    /**
     * Whether a batch of {@code count} is large enough to shard (two samples or more) and its
     * parameters few enough against its activations ({@link #SHARD_PARAMETER_SHARE}, see
     * {@link #sharded}).
     */
    private static boolean fewParameters(long trainableFloats, long activationFloatsPerSample, int count) {
        return count >= BatchShards.SHARDS && trainableFloats <= SHARD_PARAMETER_SHARE * activationFloatsPerSample * count;
    }

    /** Floats of every node's output for one sample, and of the inputs. */
    private static long activationFloatsPerSample(TypedGraph graph) {
        long floats = 0;
        for (var in : graph.graph().inputs()) floats += graph.shape(in.name()).elementCount();
        for (Node node : graph.graph().nodes()) floats += graph.shape(node.name()).elementCount();
        return floats;
    }

    /**
     * The batch evaluation during training runs at, through {@link #models}: {@code batch}, or
     * when steps of {@code batch} run in shards {@code ceil(batch/2)}, the first shard's (the
     * models already compiled; a sample's outputs do not depend on the batch it is evaluated in).
     */
    public int evaluationBatch(int batch) {
        return shardsAt(batch) ? batch - batch / 2 : batch;
    }

    /** Whether steps over {@code graph} may run as two shards: every layer shardable, and the property not false. */
    private static boolean shardable(TypedGraph graph) {
        return !"false".equals(System.getProperty(SHARDS_PROPERTY)) && layersShardable(graph);
    }

    /** Whether every layer of {@code graph} is {@linkplain LayerType#shardable shardable} (a {@link Predictor}'s rule too). */
    static boolean layersShardable(TypedGraph graph) {
        for (Node node : graph.graph().nodes()) {
            LayerType type = graph.type(node.name());
            if (type == null || !type.shardable()) return false;
        }
        return true;
    }

    /**
     * Whether a step of {@code count} samples runs as two shards (a function of the graph, the
     * backend and the count): two samples or more, and the parameter gradients, which each shard
     * writes and which are then added, at most {@link #SHARD_PARAMETER_SHARE} of the step's
     * activations (every node's output and the input). fashion_cnn (3.27 million weights against
     * 5.8 million activation floats at batch 64, 0.56) trained at 0.92x sharded; LeNet-5 (62
     * thousand against 1.0 million, 0.06) and the small ResNet (78 thousand against 3.6 million,
     * 0.02) at about 1.1x (BENCHMARKS.md, "CPU backend kernels", 2026-12-07).
     */
    private boolean sharded(int count) {
        return shardsAt(count) && stepGradientSums == null && !diagnosing;
    }

    /** {@link #sharded} but for the recording and diagnosing modes: what a batch of {@code count} runs in. */
    private boolean shardsAt(int count) {
        return shards != null && fewParameters(trainableFloats, activationFloatsPerSample, count);
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
            if (secondShardRun != null) secondShardRun.close();
            secondShardRun = null;
            lastModel = null;
            lastSecondShard = null;
            run = new CompiledModelsByBatch(graph, store, maxBatch, targetSize, false);
        }
        return run;
    }

    /** Shard 1's compiled models for {@code targetSize} targets per sample, made with its store on first use. */
    private CompiledModelsByBatch secondShardModels(int targetSize) {
        if (secondShardRun == null || secondShardRun.targetSize != targetSize) {
            if (secondShardRun != null) secondShardRun.close();
            secondShardRun = new CompiledModelsByBatch(graph, secondShardStore, maxBatch, targetSize, false);
        }
        return secondShardRun;
    }

    /** Shard 1's parameter gradients (in a view of the store) and its loss and correct-count slots. */
    private void allocateSecondShard() {
        secondShardStore = ParameterStore.shardView(store);
        secondShardStatus = backend.allocate(Shape.of(SECOND_SHARD_STATUS));
        secondShardLoss = Slice.of(secondShardStatus, LOSS, 1);
        secondShardCorrect = Slice.of(secondShardStatus, CORRECT, 1);
        List<ParamInfo> trainable = store.trainable();
        firstShardGradients = new Slice[trainable.size()];
        secondShardGradients = new Slice[trainable.size()];
        for (int i = 0; i < trainable.size(); i++) {
            firstShardGradients[i] = Slice.of(store.grad(trainable.get(i).fullName()));
            secondShardGradients[i] = Slice.of(secondShardStore.grad(trainable.get(i).fullName()));
        }
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
        backward(m);
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
        if (!Float.isFinite(v[LOSS])) {
            if (lastSecondShard != null) rerunUnsharded(data, order, from, count, globalCount, step, epoch, false);
            throw lossFault(v[LOSS], step, epoch);
        }
        backward(m);
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
            throw gradientFault(step, epoch);
        }
        return norm;
    }

    /**
     * Loads the rows, runs forward in training mode and the loss into {@code row} of the status
     * (with the correct count for a classifier); returns the model, now {@link #lastModel}.
     */
    private CompiledModel forward(Dataset data, int[] order, int from, int count, int globalCount, int step, int epoch, int row) {
        CompiledModelsByBatch r = models(data.targetSize());
        if (sharded(count)) return forwardSharded(r, data, order, from, count, globalCount, step, epoch, row);
        int rows = count * r.targetSize;
        CompiledModel m = r.load(data, order, from, count, augmentation, epoch);
        lastModel = m;
        lastSecondShard = null;
        if (stepGradientSums != null) m.stepGradientProbes().values().forEach(p -> p.recordStepGradients(true));   // no-op once on
        m.forward(true, CounterRandom.mix(spec.seed() + step));
        loss.compute(m.output(), r.targets(count), m.gradOutput(), rows, globalCount * r.targetSize, Slice.of(status, row + LOSS, 1));
        if (loss.classification()) {
            backend.countCorrect(m.output(), r.targets(count), rows, r.outputSize / r.targetSize, Slice.of(status, row + CORRECT, 1));
        }
        return m;
    }

    /**
     * {@link #forward} as two shards (the class comment): both loaded, both forwards at once, then
     * the losses (and correct counts) one shard after the other, shard 1's added into the row.
     * Returns shard 0's model; shard 1's is {@link #lastSecondShard}.
     */
    private CompiledModel forwardSharded(CompiledModelsByBatch r, Dataset data, int[] order, int from, int count, int globalCount,
                                         int step, int epoch, int row) {
        CompiledModelsByBatch second = secondShardModels(r.targetSize);
        int first = count - count / 2, rest = count / 2;
        CompiledModel m0 = r.load(data, order, from, first, augmentation, epoch);
        CompiledModel m1 = second.load(data, order, from + first, rest, augmentation, epoch);
        lastModel = m0;
        lastSecondShard = m1;
        shardPass.forward(m0, m1, CounterRandom.mix(spec.seed() + step));
        int denominator = globalCount * r.targetSize, classes = r.outputSize / r.targetSize;
        Slice lossSum = Slice.of(status, row + LOSS, 1), correct = Slice.of(status, row + CORRECT, 1);
        loss.compute(m0.output(), r.targets(first), m0.gradOutput(), first * r.targetSize, denominator, lossSum);
        loss.compute(m1.output(), second.targets(rest), m1.gradOutput(), rest * r.targetSize, denominator, secondShardLoss);
        backend.binary(BinaryOp.ADD, lossSum, secondShardLoss, lossSum);
        if (loss.classification()) {
            backend.countCorrect(m0.output(), r.targets(first), first * r.targetSize, classes, correct);
            backend.countCorrect(m1.output(), second.targets(rest), rest * r.targetSize, classes, secondShardCorrect);
            backend.binary(BinaryOp.ADD, correct, secondShardCorrect, correct);
        }
        return m0;
    }

    /**
     * Backward of the step {@link #forward} ran: {@code m}'s alone, or both shards' at once and
     * then shard 1's parameter gradients added into the store's (shard 0's + shard 1's).
     */
    private void backward(CompiledModel m) {
        if (lastSecondShard == null) {
            m.backward();
            return;
        }
        shardPass.backward(m, lastSecondShard);
        for (int i = 0; i < firstShardGradients.length; i++) {
            backend.binary(BinaryOp.ADD, firstShardGradients[i], secondShardGradients[i], firstShardGradients[i]);
        }
    }

    /** The two shards' forward or backward, node by node; one object for every step (no lambda made per step). */
    private final class ShardPass implements BatchShards.Steps {
        private CompiledModel first, second;
        private boolean backward;
        private long seed;

        void forward(CompiledModel first, CompiledModel second, long seed) {
            run(first, second, false, seed);
        }

        void backward(CompiledModel first, CompiledModel second) {
            run(first, second, true, 0);
        }

        private void run(CompiledModel first, CompiledModel second, boolean backward, long seed) {
            this.first = first;
            this.second = second;
            this.backward = backward;
            this.seed = seed;
            try {
                shards.run(backward ? first.backwardSteps() : first.forwardSteps(), this);
            } finally {
                this.first = this.second = null;
            }
        }

        @Override public void run(int shard, int step) {
            CompiledModel m = shard == 0 ? first : second;
            if (backward) m.backwardStep(step);
            else m.forwardStep(step, true, seed);
        }
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
            rerunUnsharded(s.data(), s.order(), s.from(), s.count(), s.count(), s.step(), s.epoch(), Float.isFinite(lossSum));
            if (!Float.isFinite(lossSum)) return lossFault(lossSum, s.step(), s.epoch());
            return gradientFault(s.step(), s.epoch());
        }
        // Only a step can set the flag; a flag without a faulty row was set before these steps.
        return new NumericalFaultException("a step before step " + steps.get(0).step() + " was not finite; the weights were not updated",
                steps.get(0).step());
    }

    /**
     * Runs a step's forward again (and its backward when {@code withBackward}) unsharded, on the
     * weights it saw, for {@link #lossFault} and {@link #gradientFault} to name what went wrong.
     */
    private void rerunUnsharded(Dataset data, int[] order, int from, int count, int globalCount, int step, int epoch, boolean withBackward) {
        diagnosing = true;
        try {
            CompiledModel m = forward(data, order, from, count, globalCount, step, epoch, ROWS_AT);
            if (withBackward) m.backward();
        } finally {
            diagnosing = false;
        }
    }

    /** The loss fault of the step {@link #forward} last ran, naming the first non-finite activation of its model (or shards', in order). */
    private NumericalFaultException lossFault(double lossSum, int step, int epoch) {
        String where = lastModel.firstNonFiniteActivation();
        if (where == null && lastSecondShard != null) where = lastSecondShard.firstNonFiniteActivation();
        return new NumericalFaultException("the loss became " + lossSum + " at step " + step + " (epoch " + epoch + "): "
                + (where != null ? where : "every activation is finite; the loss itself overflowed"), step);
    }

    private NumericalFaultException gradientFault(int step, int epoch) {
        String where = lastModel != null ? lastModel.firstNonFiniteGradient() : null;
        if (where == null && lastSecondShard != null) where = lastSecondShard.firstNonFiniteGradient();
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
        if (secondShardRun != null) secondShardRun.close();
        if (secondShardStore != null) secondShardStore.close();
        if (secondShardStatus != null) secondShardStatus.close();
        status.close();
    }
}
