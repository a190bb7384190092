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
import org.neurite.engine.ParameterStore;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;

/** The memory estimate of {@code nn summary}: counted by hand, and against what the engine allocates. */
class MemoryEstimateTest {
    @TempDir Path dir;

    private TypedGraph load(String source) throws Exception {
        Path script = dir.resolve("m.nn");
        Files.writeString(script, source);
        return new ScriptLoader(NeuriteRuntime.discover().layers()).load(script).mainModel();
    }

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

    @Test void aSmallMlpCountedByHand() throws Exception {
        MemoryEstimate m = MemoryEstimate.of(load(MLP), 8, "adam");
        // Parameters: 16*32 + 32 + 32*10 + 10 = 874 floats.
        assertEquals(4 * 874, m.parameters());
        assertEquals(4 * 874, m.gradients());
        assertEquals(2 * 4 * 874, m.optimizerSlots(), "Adam keeps two moments per parameter");
        // Activations per sample: x 16, flatten 16, dense 32, relu 32, dense 10 = 106.
        assertEquals(4 * 8 * 106, m.activations());
        // Gradients flow from the first dense on (the flatten has nothing to train before it): 32 + 32 + 10.
        assertEquals(4 * 8 * 74, m.activationGradients());
        assertEquals(4 * 874 * 4 + 4 * 8 * (106 + 74), m.training());
        assertEquals(4 * 874 + 4 * 8 * 106, m.inference());
    }

    @Test void activationsAndTheirGradientsMatchWhatTheEngineAllocates() throws Exception {
        // A value read twice (h) gets a gradient buffer per reading edge besides its own.
        String skip = """
                model Skip {
                    input x: [12]
                    h = dense(8)
                    a = h -> relu
                    b = h -> dense(8)
                    output y = a + b
                }
                """;
        NeuriteRuntime runtime = NeuriteRuntime.discover();
        for (String source : List.of(MLP, skip)) {
            TypedGraph graph = load(source);
            MemoryEstimate m = MemoryEstimate.of(graph, 8, "sgd");
            try (Backend cpu = runtime.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> { });
                 ParameterStore store = new ParameterStore(graph, cpu, 1);
                 CompiledModel compiled = CompiledModel.compile(graph, cpu, 8, store)) {
                assertEquals(m.activations() + m.activationGradients(), compiled.bytesAllocated(), graph.graph().name());
            }
        }
    }

    @Test void summaryPrintsTheEstimateAtTheAskedBatchSize() {
        CliRunner.Result r = CliRunner.run("summary", "../examples/lenet5.nn", "--batch", "1");
        assertEquals(0, r.exit(), r.err());
        // LeNet-5: 61,706 parameters = 246,824 bytes; SGD keeps one velocity each.
        assertTrue(r.out().contains("Memory at batch 1 (float32, from the shapes):"), r.out());
        assertTrue(r.out().matches("(?s).*\\n  parameters +241 KiB +241 KiB\\n.*"), r.out());
        assertTrue(r.out().matches("(?s).*\\n  sgd state \\(1 per parameter\\) +241 KiB +-\\n.*"), r.out());
        assertTrue(r.out().contains("Not counted: layer workspaces"), r.out());
        CliRunner.Result bad = CliRunner.run("summary", "../examples/lenet5.nn", "--batch", "0");
        assertEquals(2, bad.exit());
        assertEquals("nn: --batch must be at least 1, got 0\n", bad.err());
    }
}
