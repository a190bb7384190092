package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.backend.Backend;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.CompiledModel;
import org.neurite.engine.MemoryPlan;
import org.neurite.engine.ParameterStore;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;

/** The memory table of {@code nn summary}: counted by hand, and against what the engine allocates. */
class MemoryEstimateTest {
    @TempDir Path dir;

    private static final String MLP = """
            model Mlp {
                input x: [1, 4, 4]
                h = flatten -> dense(32) -> relu
                output y = dense(10)
            }
            train Mlp {
                data = fashion_mnist
                loss = softmax_cross_entropy
                optimizer = adam(lr=0.001)
                batch = 8
                epochs = 1
            }
            """;

    private MemoryEstimate estimate(String source, int batch) throws Exception {
        Path script = dir.resolve("m.nn");
        Files.writeString(script, source);
        var loaded = new ScriptLoader(NeuriteRuntime.discover().layers()).load(script);
        TypedGraph graph = loaded.mainModel();
        return MemoryEstimate.of(graph, batch, loaded.training(graph.graph().name()).orElseThrow());
    }

    @Test void aSmallMlpCountedByHand() throws Exception {
        MemoryEstimate m = estimate(MLP, 8);
        MemoryPlan t = m.training();
        // Parameters: 16*32 + 32 + 32*10 + 10 = 874 floats.
        assertEquals(4 * 874, t.parameters());
        assertEquals(4 * 874, t.parameterGradients());
        assertEquals(2, t.optimizerSlots(), "Adam keeps two moments per parameter");
        long status = t.optimizerState() - 2 * 4 * 874;   // the trainer's step status: a few floats
        assertTrue(status > 0 && status < 256, "step status " + status);
        // Activations per sample: x 16, flatten 16, relu 32, dense 10 = 74; the first dense layer writes
        // the relu's buffer (the relu is fused into its epilogue), so its own 32 are not stored.
        assertEquals(4 * 8 * 74, t.activations());
        // Gradients flow from the first dense on (the flatten has nothing to train before it): 32 + 10; the second dense
        // layer's backward applies the relu's derivative (the relu's backward is folded into it), so the relu's
        // output has no gradient of its own.
        assertEquals(4 * 8 * 42, t.activationGradients());
        assertEquals(0, t.layerState());
        assertEquals(4 * 874 * 4 + status + 4 * 8 * (74 + 42), t.total());
        // Inference: the same parameters and gradient buffers (the store allocates them), no optimiser state, the
        // activations and the output's gradient.
        MemoryPlan i = m.inference();
        assertEquals(4 * 874 * 2 + 4 * 8 * (74 + 10), i.total());
    }

    @Test void activationsTheirGradientsAndLayerStateAreWhatTheEngineAllocates() throws Exception {
        // A value read twice (h) gets a gradient buffer per reading edge besides its own; max-pooling keeps its indices.
        String skip = """
                model Skip {
                    input x: [1, 4, 4]
                    p = maxpool(2) -> flatten
                    h = p -> dense(8)
                    a = h -> relu
                    b = h -> dense(8)
                    output y = a + b
                }
                train Skip { data = fashion_mnist; loss = softmax_cross_entropy; optimizer = sgd(lr=0.1) }
                """;
        NeuriteRuntime runtime = NeuriteRuntime.discover();
        for (String source : List.of(MLP, skip)) {
            MemoryPlan m = estimate(source, 8).training();
            TypedGraph graph = new ScriptLoader(runtime.layers()).load(dir.resolve("m.nn")).mainModel();
            try (Backend cpu = runtime.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> { });
                 ParameterStore store = new ParameterStore(graph, cpu, 1);
                 CompiledModel compiled = CompiledModel.compile(graph, cpu, 8, store)) {
                assertEquals(m.activations() + m.activationGradients() + m.layerState(), compiled.bytesAllocated(), graph.graph().name());
            }
        }
    }

    @Test void summaryPrintsTheEstimateAtTheAskedBatchSize() {
        CliRunner.Result r = CliRunner.run("summary", "../examples/lenet5.nn", "--batch", "1");
        assertEquals(0, r.exit(), r.err());
        // LeNet-5: 61,706 parameters = 246,824 bytes; SGD keeps one velocity each.
        assertTrue(r.out().contains("Memory at batch 1 (float32, counted as the engine allocates):"), r.out());
        assertTrue(r.out().matches("(?s).*\\n  parameters +241 KiB +241 KiB\\n.*"), r.out());
        assertTrue(r.out().matches("(?s).*\\n  sgd state \\(1 per parameter\\) +241 KiB +-\\n.*"), r.out());
        // Max-pooling keeps an index per output: 6x14x14 + 16x5x5 = 1,576 floats.
        assertTrue(r.out().matches("(?s).*\\n  layer state +6.16 KiB +6.16 KiB\\n.*"), r.out());
        assertTrue(r.out().contains("Not counted: the backend's scratch"), r.out());
        CliRunner.Result bad = CliRunner.run("summary", "../examples/lenet5.nn", "--batch", "0");
        assertEquals(2, bad.exit());
        assertEquals("nn: --batch must be at least 1, got 0\n", bad.err());
    }
}
