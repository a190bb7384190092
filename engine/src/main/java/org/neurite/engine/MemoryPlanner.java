package org.neurite.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.function.IntPredicate;
import org.neurite.graph.TypedGraph;
import org.neurite.tensor.Tensor;
import org.neurite.train.TrainSpec;

/**
 * Counts, before anything is allocated, the memory a model needs to train or run
 * ({@link MemoryPlan}), and finds the largest batch that fits a budget. It does not estimate: it
 * builds the {@link ParameterStore}, the {@link Trainer} and the {@link CompiledModel}s on a
 * {@link PlanningBackend}, whose tensors have shapes and no storage, and adds up what they
 * allocate, so the plan follows every rule of the real allocation (which values get gradients, a
 * buffer per reading edge for a value read twice, what each layer keeps) by running it.
 *
 * <pre>{@code
 * MemoryPlanner planner = MemoryPlanner.training(graph, spec, train.size(), test.size());
 * MemoryPlan plan = planner.plan(spec.batch());
 * if (!plan.fitsIn(budget)) ... planner.largestBatch(budget, spec.batch() - 1) ...
 * }</pre>
 */
public final class MemoryPlanner {
    private final TypedGraph graph;
    private final CompiledModel.Purpose purpose;
    private final String optimizer;
    private final int[] datasetSizes;
    /** Sizes of datasets run forward only while the training models are still allocated; none by default. */
    private int[] forwardSizes = new int[0];
    /** The batch sizes whose training steps run as two shards ({@link TrainStep}'s class comment); none by default. */
    private java.util.function.IntPredicate shardedAt = b -> false;
    /** Whether the forward-only passes run through a {@link Predictor} in shards ({@link Predictor#runsInShards}); not by default. */
    private boolean predictorShards;
    private final ParameterStore planned;
    private final long parameters;
    private final long parameterGradients;
    private final long optimizerState;
    /** A parameter with more than 2^31-1 elements, or null. */
    private final String parameterTooLarge;

    private MemoryPlanner(TypedGraph graph, CompiledModel.Purpose purpose, TrainSpec spec, Trainers trainers, int[] datasetSizes) {
        this.graph = graph;
        this.purpose = purpose;
        this.optimizer = spec == null ? "" : spec.optimizer().name();
        this.datasetSizes = datasetSizes.clone();
        PlanningBackend planning = new PlanningBackend();
        this.planned = ParameterStore.planned(graph, planning.backend);
        long values = 0;
        long grads = 0;
        String oversize = null;
        for (var p : planned.params()) {
            if (oversize == null && p.decl().shape().elementCount() > Integer.MAX_VALUE) oversize = p.fullName() + " " + p.decl().shape();
            values += bytes(planned.value(p.fullName()));
            if (planned.grad(p.fullName()) != null) grads += bytes(planned.grad(p.fullName()));
        }
        this.parameterTooLarge = oversize;
        this.parameters = values;
        this.parameterGradients = grads;
        // A trainer allocates what it keeps when it is created: its optimiser's slots (Optimizer's contract) and its step status.
        long before = planning.bytesAllocated();
        if (spec != null) trainers.create(graph, planned, spec).close();
        this.optimizerState = planning.bytesAllocated() - before;
    }

    /**
     * A planner for training {@code graph} as {@code spec} says (its optimiser) over datasets of
     * these sizes (the training and test splits: their last, partial batches are compiled too);
     * none for a single batch size. A null {@code spec} counts the compiled models alone, without a
     * trainer's optimiser state.
     */
    public static MemoryPlanner training(TypedGraph graph, TrainSpec spec, int... datasetSizes) {
        return training(graph, spec, Trainers.core(), datasetSizes);
    }

    /** As {@link #training(TypedGraph, TrainSpec, int...)}, with the loss and optimizer found by {@code trainers} (a plugin's). */
    public static MemoryPlanner training(TypedGraph graph, TrainSpec spec, Trainers trainers, int... datasetSizes) {
        return new MemoryPlanner(graph, CompiledModel.Purpose.TRAINING, spec, trainers, datasetSizes);
    }

    /**
     * This planner, also counting a forward-only pass over datasets of these sizes at the same
     * batch size while the training models are still allocated (what {@code nn train} runs for
     * its confusion matrix): its compiles come on top.
     */
    public MemoryPlanner thenForward(int... sizes) {
        this.forwardSizes = sizes.clone();
        return this;
    }

    /**
     * This planner, counting training steps of the batch sizes {@code shardedAt} accepts as two
     * shards ({@link TrainStep#runsInShards}): such a batch {@code b} compiles at {@code ceil(b/2)}
     * and, in the second shard's models, {@code floor(b/2)}; when the run's batch is one of them,
     * evaluation during training runs batches of {@code ceil(batch/2)} through the first shard's
     * models, and the trainer holds the second shard's parameter gradients.
     */
    public MemoryPlanner inShards(java.util.function.IntPredicate shardedAt) {
        if (purpose == CompiledModel.Purpose.TRAINING) this.shardedAt = shardedAt;
        return this;
    }

    /**
     * This planner, counting the forward-only passes as a {@link Predictor} compiles them on a
     * backend where it {@linkplain Predictor#runsInShards runs calls in shards}: the inference
     * plan's (prediction: shard 0's models, and the whole-batch models of single samples, in
     * {@code compiledBatches}, shard 1's in {@code secondShardBatches}) and {@link #thenForward}'s
     * (all three sets in {@code forwardBatches}). Evaluation ({@link Evaluator}) runs whole batches:
     * its plan leaves this off.
     */
    public MemoryPlanner forwardInShards(boolean inShards) {
        this.predictorShards = inShards;
        return this;
    }

    /** A planner for running {@code graph} forward (evaluation, prediction) over datasets of these sizes. */
    public static MemoryPlanner inference(TypedGraph graph, int... datasetSizes) {
        return new MemoryPlanner(graph, CompiledModel.Purpose.INFERENCE, null, null, datasetSizes);
    }

    /** What training or running at {@code batch} samples allocates. */
    public MemoryPlan plan(int batch) {
        if (batch < 1) throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        boolean shards = shardedAt.test(batch);
        List<Integer> batches = shards ? shardBatches(batch, shardedAt, datasetSizes) : compiledBatches(batch, datasetSizes);
        List<Integer> second = shards ? secondShardBatches(batch, shardedAt, datasetSizes) : List.of();
        List<Integer> forward = forwardSizes.length == 0 ? List.of() : compiledBatches(batch, forwardSizes);
        if (predictorShards && purpose == CompiledModel.Purpose.INFERENCE) {
            // A predictor's calls are of the batch and each dataset's remainder, as compiledBatches lists them.
            List<List<Integer>> sizes = Predictor.compiledSizes(batch, batches);
            batches = concatenated(sizes.get(0), sizes.get(1));
            second = sizes.get(2);
        }
        if (predictorShards && !forward.isEmpty()) {
            List<List<Integer>> sizes = Predictor.compiledSizes(batch, forward);
            forward = concatenated(concatenated(sizes.get(0), sizes.get(1)), sizes.get(2));
        }
        List<CompiledModel> compiles = new ArrayList<>();
        for (int b : batches) compiles.add(CompiledModel.measure(graph, b, planned, purpose));
        for (int b : second) compiles.add(CompiledModel.measure(graph, b, planned, purpose));
        for (int b : forward) compiles.add(CompiledModel.measure(graph, b, planned, CompiledModel.Purpose.INFERENCE));
        long activations = 0;
        long activationGradients = 0;
        long layerState = 0;
        String tooLarge = parameterTooLarge;
        for (CompiledModel m : compiles) {
            activations += m.bytesHeld(CompiledModel.Held.ACTIVATIONS);
            activationGradients += m.bytesHeld(CompiledModel.Held.ACTIVATION_GRADIENTS);
            layerState += m.bytesHeld(CompiledModel.Held.LAYER_STATE);
            if (tooLarge == null) tooLarge = m.tooLarge();
        }
        // With shards the trainer also holds the second shard's gradients and its two floats of step status.
        return new MemoryPlan(graph.graph().name(), batch, batches, second, forward, purpose != CompiledModel.Purpose.INFERENCE, parameters,
                shards ? 2 * parameterGradients : parameterGradients, optimizer,
                shards ? optimizerState + 4L * TrainStep.SECOND_SHARD_STATUS : optimizerState, activations, activationGradients, layerState,
                tooLarge);
    }

    /** The largest batch below or at {@code atMost} whose plan fits in {@code bytes}; 0 when not even 1 does. */
    public int largestBatch(long bytes, int atMost) {
        return largestBatch(b -> plan(b).fitsIn(bytes), atMost);
    }

    /**
     * The largest batch in [1, {@code atMost}] that {@code fits}, by bisection (memory grows with
     * the batch); 0 when none does.
     */
    static int largestBatch(IntPredicate fits, int atMost) {
        int lo = 0;
        int hi = atMost;
        while (lo < hi) {
            int mid = lo + (hi - lo + 1) / 2;
            if (fits.test(mid)) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    }

    /**
     * The batch sizes a pass over datasets of these sizes compiles at {@code batch}: the batch
     * itself when a dataset holds that many, and each dataset's last partial batch; just the
     * batch when no sizes are given.
     */
    static List<Integer> compiledBatches(int batch, int... datasetSizes) {
        if (datasetSizes.length == 0) return List.of(batch);
        TreeSet<Integer> sizes = new TreeSet<>();
        for (int n : datasetSizes) {
            if (n >= batch) sizes.add(batch);
            if (n % batch != 0) sizes.add(n % batch);
        }
        return new ArrayList<>(sizes.descendingSet());
    }

    /**
     * The batch sizes of the first shard's models when steps of {@code batch} run in two shards:
     * the halves {@code ceil(b/2)} of the training split's batches that run in shards, the others
     * whole, and the evaluation splits' batches of {@code ceil(batch/2)}.
     */
    static List<Integer> shardBatches(int batch, java.util.function.IntPredicate shardedAt, int... datasetSizes) {
        int[] evaluated = datasetSizes.length <= 1 ? new int[0] : java.util.Arrays.copyOfRange(datasetSizes, 1, datasetSizes.length);
        TreeSet<Integer> first = new TreeSet<>();
        for (int b : compiledBatches(batch, trainingSplit(datasetSizes))) first.add(shardedAt.test(b) ? b - b / 2 : b);
        if (evaluated.length > 0) first.addAll(compiledBatches(batch - batch / 2, evaluated));
        return new ArrayList<>(first.descendingSet());
    }

    /** The batch sizes of the second shard's models: {@code floor(b/2)} of the training split's batches that run in shards. */
    static List<Integer> secondShardBatches(int batch, java.util.function.IntPredicate shardedAt, int... datasetSizes) {
        TreeSet<Integer> second = new TreeSet<>();
        for (int b : compiledBatches(batch, trainingSplit(datasetSizes))) if (shardedAt.test(b)) second.add(b / 2);
        return new ArrayList<>(second.descendingSet());
    }

    /** The training split's size, the first of the dataset sizes (none: none). */
    private static int[] trainingSplit(int... datasetSizes) {
        return datasetSizes.length == 0 ? new int[0] : new int[] {datasetSizes[0]};
    }

    private static List<Integer> concatenated(List<Integer> a, List<Integer> b) {
        List<Integer> both = new ArrayList<>(a);
        both.addAll(b);
        return both;
    }

    private static long bytes(Tensor t) {
        return 4L * t.shape().elementCount();
    }
}
