package org.neurite.engine;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.IntConsumer;
import org.neurite.backend.Backend;
import org.neurite.backend.BatchShards;
import org.neurite.backend.Slice;
import org.neurite.graph.TypedGraph;
import org.neurite.tensor.Tensor;

/**
 * Runs a trained graph forward in evaluation mode over host arrays: usable from plain Java
 * without datasets. Input rows are laid out as the graph's first input, output rows as its first
 * output.
 *
 * <p><b>Two shards in pieces.</b> On a backend that offers {@link BatchShards} (the CPU backend),
 * over a graph whose layers are all shardable ({@link #runsInShards}), a call of two samples or
 * more runs as two shards: the first {@code ceil(count/2)} samples on one share of the backend's
 * threads, the rest on the other, each shard through models of its own in pieces of at most
 * {@link #PIECE} samples (and of the predictor's batch). Evaluation has no batch statistics, so
 * the shards never wait for each other and no op is split across threads and joined; and a
 * piece's activations (the small ResNet's widest, 16 x 14 x 14 floats a sample: 400 KB for 32)
 * stay in the core's cache from one layer to the next, where a batch of 256 went through memory
 * between layers. Its inference at batch 256 went from 17.1-17.6 to 20.8-21.2 thousand samples
 * a second on one thread, and from 30.8-38.1 to 36.2-41.5 thousand on two (pieces of 16: 17.3-20.9
 * and 34.4-37.8; of 64: 15.0-21.6 and 34.2-40.6; BENCHMARKS.md, "CPU backend kernels",
 * 2026-12-07). The split depends on the count alone, and a sample's outputs do not depend on
 * the piece it runs in, so the outputs are the bits of whole batches, for any thread count
 * ({@code ShardedPredictionTest}). The models of the pieces are compiled on the calling thread
 * before the shards run; {@link MemoryPlanner#forwardInShards} counts them. A model that runs
 * again in the same call (the full piece's, and the whole batch's) keeps the batch norms its
 * first run folded into the convolutions ({@link CompiledModel#forwardOnSameParameters}): the
 * parameters cannot change within a call, and each call folds them anew.
 * {@code -D}{@value #SHARDS_PROPERTY}{@code =false} runs whole batches.
 */
public final class Predictor implements AutoCloseable {
    /** Most samples one model runs at a time in shards: activations of a piece fit a core's cache (see the class comment). */
    static final int PIECE = 32;
    /** The system property that turns the shards and pieces off ({@code false}); on by default. */
    public static final String SHARDS_PROPERTY = "neurite.predictor.shards";

    private final TypedGraph graph;
    private final ParameterStore store;
    private final int batch;
    /** Floats of one input sample and of one output row (the graph's first input, its output). */
    private final int inputSize, outputSize;
    private final Map<Integer, CompiledModel> models = new HashMap<>();
    /** The backend's shards when calls may run in them, else null. */
    private final BatchShards shards;
    /** Per shard: its models by piece size. */
    @SuppressWarnings("unchecked")
    private final Map<Integer, CompiledModel>[] shardModels = new Map[] {new HashMap<>(), new HashMap<>()};
    private final ShardedCall sharded = new ShardedCall();

    public Predictor(TypedGraph graph, ParameterStore store, int batch) {
        this.graph = graph;
        this.store = store;
        this.batch = batch;
        this.inputSize = graph.shape(graph.graph().inputs().get(0).name()).size();
        this.outputSize = graph.outputShape().size();
        this.shards = runsInShards(graph, store.backend()) ? store.backend().extension(BatchShards.class).orElse(null) : null;
    }

    /**
     * Whether a predictor of {@code graph} on {@code backend} runs calls of two samples or more in
     * shards (the class comment): the backend offers {@link BatchShards}, every layer is
     * {@linkplain org.neurite.layer.LayerType#shardable shardable} (treats each sample on its own,
     * shares nothing between compiled copies: a plugin's layer or a recurrent one keeps whole
     * batches), and {@value #SHARDS_PROPERTY} is not false.
     */
    public static boolean runsInShards(TypedGraph graph, Backend backend) {
        return !"false".equalsIgnoreCase(System.getProperty(SHARDS_PROPERTY)) && TrainStep.layersShardable(graph)
                && backend.extension(BatchShards.class).isPresent();
    }

    /**
     * The batch sizes a predictor of {@code batch} that runs in shards compiles for calls of these
     * sample counts, what {@link MemoryPlanner} counts: three lists, largest first, of the
     * whole-batch models (calls of one sample), shard 0's and shard 1's (pieces of
     * {@code min(PIECE, batch)} and each half's remainder), by the rules {@link #predict} follows.
     */
    static List<List<Integer>> compiledSizes(int batch, Iterable<Integer> counts) {
        List<TreeSet<Integer>> sizes = List.of(new TreeSet<>(), new TreeSet<>(), new TreeSet<>());
        int piece = pieceSize(batch);
        for (int count : counts) {
            if (count < 1) continue;
            if (count < BatchShards.SHARDS) {
                forEachPieceSize(count, wholeBatch(batch), sizes.get(0)::add);
            } else {
                forEachPieceSize(firstShardCount(count), piece, sizes.get(1)::add);
                forEachPieceSize(count - firstShardCount(count), piece, sizes.get(2)::add);
            }
        }
        List<List<Integer>> lists = new ArrayList<>();
        for (TreeSet<Integer> s : sizes) lists.add(new ArrayList<>(s.descendingSet()));
        return lists;
    }

    /** The model sizes {@code count} samples run through in pieces of {@code piece}: the piece when one is full, and the remainder. */
    private static void forEachPieceSize(int count, int piece, IntConsumer size) {
        if (count >= piece) size.accept(piece);
        if (count % piece != 0) size.accept(count % piece);
    }

    /** Samples of shard 0 in a call of {@code total}: the first {@code ceil(total/2)}. */
    private static int firstShardCount(int total) {
        return total - total / 2;
    }

    /** The step of the whole-batch loop: the batch, or one sample for a predictor made for 0 (an empty input). */
    private static int wholeBatch(int batch) {
        return Math.max(1, batch);
    }

    private static int pieceSize(int batch) {
        return Math.max(1, Math.min(PIECE, batch));
    }

    /** Size of one input sample (floats). */
    public int inputSize() { return inputSize; }

    /** Size of one output row (floats). */
    public int outputSize() { return outputSize; }

    /** Outputs for {@code count} samples packed in {@code inputs}; returns count * outputSize() floats. */
    public float[] predict(float[] inputs, int count) {
        int in = inputSize();
        int out = outputSize();
        if (inputs.length < (long) count * in)
            throw new IllegalArgumentException("expected " + count + " samples of " + in + " floats, got " + inputs.length + " floats");
        float[] result = new float[count * out];
        if (shards != null && count >= BatchShards.SHARDS) {
            sharded.run(inputs, count, result);
            return result;
        }
        int whole = wholeBatch(batch);
        for (int from = 0; from < count; from += whole) {
            int n = Math.min(whole, count - from);
            runPiece(model(models, n), inputs, from, n, result, from > 0 && n == whole);   // the remainder's model runs once
        }
        return result;
    }

    private CompiledModel model(Map<Integer, CompiledModel> byBatch, int n) {
        return byBatch.computeIfAbsent(n, b -> CompiledModel.compileForInference(graph, store.backend(), b, store));
    }

    /**
     * Samples [from, from + n) of inputs through m into result; {@code again} when m already ran
     * in this call (the parameters have not changed since: {@link CompiledModel#forwardOnSameParameters}).
     */
    private void runPiece(CompiledModel m, float[] inputs, int from, int n, float[] result, boolean again) {
        Backend backend = store.backend();
        backend.upload(inputs, from * inputSize, Slice.of(m.input(0), 0, n * inputSize));
        if (again) m.forwardOnSameParameters();
        else m.forward(false, 0);
        Tensor y = m.output();
        backend.download(Slice.of(y, 0, n * outputSize), result, from * outputSize);
    }

    /** One call in two shards: shard s's step i is its piece i (none past its last). */
    private final class ShardedCall implements BatchShards.Steps {
        private float[] inputs, result;
        private final int[] first = new int[BatchShards.SHARDS], count = new int[BatchShards.SHARDS];
        private int piece;

        void run(float[] inputs, int total, float[] result) {
            first[0] = 0;
            count[0] = firstShardCount(total);
            first[1] = count[0];
            count[1] = total - count[0];
            piece = pieceSize(batch);
            // The models are compiled here, on the calling thread, before the shards run.
            for (int s = 0; s < BatchShards.SHARDS; s++) {
                Map<Integer, CompiledModel> byPiece = shardModels[s];
                forEachPieceSize(count[s], piece, size -> model(byPiece, size));
            }
            int steps = (count[0] + piece - 1) / piece;   // shard 0 holds as many samples as shard 1, or one more
            this.inputs = inputs;
            this.result = result;
            try {
                shards.run(steps, this);
            } finally {
                this.inputs = this.result = null;
            }
        }

        @Override public void run(int shard, int step) {
            int from = step * piece;
            if (from >= count[shard]) return;
            int n = Math.min(piece, count[shard] - from);
            // Only the full piece's model runs more than once a call (first at step 0).
            runPiece(shardModels[shard].get(n), inputs, first[shard] + from, n, result, step > 0 && n == piece);
        }
    }

    /** Index of the largest value in each output row. */
    public static int[] argmax(float[] outputs, int rowSize) {
        int[] best = new int[outputs.length / rowSize];
        for (int r = 0; r < best.length; r++) {
            int b = 0;
            for (int c = 1; c < rowSize; c++) if (outputs[r * rowSize + c] > outputs[r * rowSize + b]) b = c;
            best[r] = b;
        }
        return best;
    }

    @Override public void close() {
        models.values().forEach(CompiledModel::close);
        for (Map<Integer, CompiledModel> byPiece : shardModels) byPiece.values().forEach(CompiledModel::close);
    }
}
