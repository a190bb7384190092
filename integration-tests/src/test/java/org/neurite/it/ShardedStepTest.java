package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.data.Dataset;
import org.neurite.dsl.Script;
import org.neurite.engine.Optimizer;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.TrainStep;
import org.neurite.graph.ParamInfo;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.train.TrainSpec;

/**
 * A training step run as two shards of its batch ({@code BatchShards}, the CPU backend) against the
 * same step unsharded ({@code -Dneurite.shards=false}): the small ResNet's batch norms see the
 * whole batch's statistics, so the loss, the correct count, every parameter gradient and the
 * running statistics agree to float rounding; sharded, the bits are the same for 1, 2 and 3
 * threads; a graph with dropout (random masks by element) is never sharded.
 */
class ShardedStepTest {
    private static final int BATCH = 64;

    @Test
    void theShardsGiveTheWholeBatchsGradientsAndStatistics() throws Exception {
        Script script = Fixtures.example("resnet_small.nn");
        TypedGraph graph = script.mainModel();
        TrainSpec spec = script.training("ResNetSmall").orElseThrow();
        Dataset data = Fixtures.bundledSubset().train().head(BATCH + 7);
        for (int count : new int[] {BATCH, 7}) {   // at 7 the ResNet's activations (~50 thousand floats a sample) still outweigh its 78 thousand weights 4:1
            Step whole = Fixtures.withProperty("neurite.shards", "false", () -> step(graph, spec, data, count, 2));
            Step sharded = step(graph, spec, data, count, 2);
            assertEquals(whole.correct, sharded.correct, "correct rows, batch " + count);
            assertEquals(whole.loss, sharded.loss, 1e-5 * Math.abs(whole.loss), "loss sum, batch " + count);
            // The two ran different paths: the sharded sums round differently somewhere.
            assertTrue(whole.tensors.keySet().stream().anyMatch(n -> !Arrays.equals(whole.tensors.get(n), sharded.tensors.get(n))),
                    "the step ran in shards, batch " + count);
            for (String name : whole.tensors.keySet()) {
                float[] a = whole.tensors.get(name), b = sharded.tensors.get(name);
                double scale = IntStream.range(0, a.length).mapToDouble(i -> Math.abs(a[i])).max().orElse(0);
                for (int i = 0; i < a.length; i++) {
                    assertEquals(a[i], b[i], 1e-4 * scale + 1e-7, name + "[" + i + "], batch " + count);
                }
            }
        }
    }

    @Test
    void shardedBitsDoNotDependOnTheThreadCount() throws Exception {
        Script script = Fixtures.example("resnet_small.nn");
        TypedGraph graph = script.mainModel();
        TrainSpec spec = script.training("ResNetSmall").orElseThrow();
        Dataset data = Fixtures.bundledSubset().train().head(BATCH);
        Step two = step(graph, spec, data, 33, 2);
        for (int threads : new int[] {1, 3}) {
            Step other = step(graph, spec, data, 33, threads);
            assertEquals(two.loss, other.loss, 0.0, threads + " threads");
            for (String name : two.tensors.keySet()) {
                assertArrayEquals(two.tensors.get(name), other.tensors.get(name), 0f, name + ", " + threads + " threads against 2");
            }
        }
    }

    @Test
    void aGraphWithDropoutIsNotSharded() throws Exception {
        TypedGraph graph = Fixtures.model("""
                model M {
                    input x: [1, 28, 28]
                    c = conv(4, kernel=3) -> batchnorm -> relu
                    f = flatten -> dropout(p=0.5)
                    output y = dense(10)
                }
                """);
        TrainSpec spec = TrainSpec.defaults("M").with(BATCH, 1, 1);
        Dataset data = Fixtures.bundledSubset().train().head(BATCH);
        Step whole = Fixtures.withProperty("neurite.shards", "false", () -> step(graph, spec, data, BATCH, 2));
        Step sharded = step(graph, spec, data, BATCH, 2);
        assertEquals(whole.loss, sharded.loss, 0.0);
        for (String name : whole.tensors.keySet()) assertArrayEquals(whole.tensors.get(name), sharded.tensors.get(name), 0f, name);
        assertTrue(whole.tensors.size() > 4);
    }

    /** What one step's gradients half leaves: loss sum, correct rows, every gradient and every non-trainable parameter (running statistics). */
    private record Step(double loss, long correct, Map<String, float[]> tensors) {}

    private static Step step(TypedGraph graph, TrainSpec spec, Dataset data, int count, int threads) {
        int[] order = IntStream.range(0, data.size()).toArray();
        try (Backend backend = Fixtures.RUNTIME.createBackend("cpu", new BackendOptions(threads, null), List.of(), w -> {});
             ParameterStore store = new ParameterStore(graph, backend, spec.seed());
             TrainStep step = new TrainStep(graph, store, spec, Optimizer.create(spec.optimizer(), store), BATCH + 7)) {
            TrainStep.Result r = step.gradients(data, order, 0, count, count, 1, 1);
            Map<String, float[]> tensors = new LinkedHashMap<>();
            for (ParamInfo p : store.params()) {
                if (p.decl().trainable()) tensors.put(p.fullName() + ".grad", backend.download(store.grad(p.fullName())));
                else tensors.put(p.fullName(), backend.download(store.value(p.fullName())));
            }
            return new Step(r.lossSum(), r.correct(), tensors);
        }
    }
}
