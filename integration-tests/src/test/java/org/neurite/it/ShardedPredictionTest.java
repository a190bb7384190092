package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.data.Dataset;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Predictor;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;

/**
 * {@link Predictor} on the CPU backend runs a call of two samples or more as two shards in pieces
 * of at most 32 samples: against whole batches ({@code -Dneurite.predictor.shards=false}) the
 * outputs are the same bits, for the CNNs (batch norms folded, residual sums folded), at counts
 * that leave partial pieces, a single sample and two; and the same bits for 1, 2 and 3 threads.
 * A graph with a layer that is not shardable (the LSTM's) runs whole batches.
 */
class ShardedPredictionTest {
    private static final int[] COUNTS = {1, 2, 3, 75, 200};

    @Test
    void shardsInPiecesGiveTheWholeBatchsOutputs() throws Exception {
        for (String example : List.of("resnet_small.nn", "lenet5.nn", "rowlstm.nn", "inception_small.nn")) {
            TypedGraph graph = Fixtures.example(example).mainModel();
            try (Backend cpu = Fixtures.cpu()) {
                assertEquals(!example.equals("rowlstm.nn"), Predictor.runsInShards(graph, cpu), example);
            }
            float[] inputs = inputs(graph, 200);
            for (int batch : new int[] {64, 16}) {
                float[][] whole = Fixtures.withProperty(Predictor.SHARDS_PROPERTY, "false", () -> predict(graph, inputs, batch, 2));
                float[][] sharded = predict(graph, inputs, batch, 2);
                for (int i = 0; i < COUNTS.length; i++) {
                    assertEquals(COUNTS[i] * graph.outputShape().size(), sharded[i].length, example);
                    assertArrayEquals(whole[i], sharded[i], 0f, example + ", batch " + batch + ", " + COUNTS[i] + " samples");
                }
            }
        }
    }

    @Test
    void shardedBitsDoNotDependOnTheThreadCount() throws Exception {
        TypedGraph graph = Fixtures.example("resnet_small.nn").mainModel();
        float[] inputs = inputs(graph, 200);
        float[][] two = predict(graph, inputs, 256, 2);
        for (int threads : new int[] {1, 3}) {
            float[][] other = predict(graph, inputs, 256, threads);
            for (int i = 0; i < COUNTS.length; i++) {
                assertArrayEquals(two[i], other[i], 0f, threads + " threads against 2, " + COUNTS[i] + " samples");
            }
        }
        float[] last = two[COUNTS.length - 1];
        assertTrue(java.util.stream.IntStream.range(0, last.length).anyMatch(i -> last[i] != 0f), "the outputs are not all zero");
    }

    /**
     * Pieces after the first of a call keep the batch norms the first folded
     * ({@code CompiledModel.forwardOnSameParameters}); a new call folds again: after every parameter
     * (weights and running statistics) changes between two calls, the second call's outputs are
     * those of a new predictor, for pieces in shards and for whole batches of 16.
     */
    @Test
    void aPredictorFollowsTheParametersFromCallToCall() throws Exception {
        TypedGraph graph = Fixtures.example("resnet_small.nn").mainModel();
        float[] inputs = inputs(graph, 200);
        for (String shards : new String[] {"true", "false"}) {
            Fixtures.withProperty(Predictor.SHARDS_PROPERTY, shards, () -> {
                try (Backend backend = Fixtures.cpu(); ParameterStore store = new ParameterStore(graph, backend, 3);
                     Predictor predictor = new Predictor(graph, store, 16)) {
                    float[] before = predictor.predict(inputs, 200);
                    for (var p : store.params()) {
                        float[] v = backend.download(store.value(p.fullName()));
                        for (int i = 0; i < v.length; i++) v[i] = v[i] * 1.25f + 0.01f;
                        backend.upload(v, store.value(p.fullName()));
                    }
                    float[] after = predictor.predict(inputs, 200);
                    try (Predictor fresh = new Predictor(graph, store, 16)) {
                        assertArrayEquals(fresh.predict(inputs, 200), after, 0f, "shards " + shards);
                    }
                    assertTrue(!Arrays.equals(before, after), "the outputs changed with the parameters, shards " + shards);
                }
                return null;
            });
        }
    }

    /** A predictor made for a batch of 0 (nn predict on an empty input) runs what it is given, one sample at a time, rather than loop forever. */
    @Test
    void aPredictorMadeForNoSamplesStillRunsWhatItIsGiven() throws Exception {
        TypedGraph graph = Fixtures.example("lenet5.nn").mainModel();
        float[] inputs = inputs(graph, 3);
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (Backend backend = Fixtures.cpu(); ParameterStore store = new ParameterStore(graph, backend, 3);
                 Predictor empty = new Predictor(graph, store, 0); Predictor usual = new Predictor(graph, store, 16)) {
                for (int count : new int[] {1, 3}) assertArrayEquals(usual.predict(inputs, count), empty.predict(inputs, count), 0f, count + " samples");
                assertEquals(0, empty.predict(inputs, 0).length);
            }
        });
    }

    /** The first {@code count} test samples of the bundled subset, or random values where the graph's input is not an image. */
    private static float[] inputs(TypedGraph graph, int count) throws java.io.IOException {
        int size = (int) graph.graph().inputs().get(0).shape().elementCount();
        Dataset data = Fixtures.bundledSubset().test().head(count);
        if (data.sampleSize() == size) return Arrays.copyOf(data.features(), count * size);
        java.util.Random random = new java.util.Random(5);
        float[] x = new float[count * size];
        for (int i = 0; i < x.length; i++) x[i] = random.nextFloat();
        return x;
    }

    /** The outputs of each of {@link #COUNTS}' first samples, one predictor (its models kept from call to call). */
    private static float[][] predict(TypedGraph graph, float[] inputs, int batch, int threads) {
        try (Backend backend = Fixtures.RUNTIME.createBackend("cpu", new BackendOptions(threads, null), List.of(), w -> {});
             ParameterStore store = new ParameterStore(graph, backend, 3);
             Predictor predictor = new Predictor(graph, store, batch)) {
            float[][] out = new float[COUNTS.length][];
            for (int i = 0; i < COUNTS.length; i++) out[i] = predictor.predict(inputs, COUNTS[i]);
            return out;
        }
    }
}
