package com.example.swish;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.layer.LayerArgs;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.tensor.Shape;
import org.neurite.testkit.LayerHarness;
import org.neurite.testkit.PluginTestKit;

/**
 * {@code swish} through the plugin test kit (schema, gradients of x and β, parity, checkpoint),
 * then values worked out by hand: σ(1) = 0.7310586, so swish(1) = 0.7310586 and
 * dy/dβ at x = 1 is x²·σ(1)(1 - σ(1)) = 0.19661193.
 */
class SwishTest {
    private static Backend cpu;

    @BeforeAll static void start() {
        cpu = NeuriteRuntime.discover().createBackend("cpu", new BackendOptions(1, null), List.of(), w -> {});
    }

    @AfterAll static void stop() { cpu.close(); }

    @Test void passesThePluginTestKitWithALearnedBetaAndItsOpenClKernel() {
        PluginTestKit.Report report = PluginTestKit.forLayer(new SwishPlugin(), "swish").inputs(Shape.of(3, 5)).run();
        String tensors = "[output [4096, 3, 5], gradient of input 0, gradient of beta, beta after the passes]";
        assertEquals(OpenClLines.expected(
                List.of("schema: swish(beta=1, learn_beta=true) on [[3, 5]]",
                        "gradients of the generic kernel on cpu: input 0 [2, 3, 5] x30, beta [1] x1"),
                List.of("gradients of kernel com.example.swish.ClSwish on opencl: input 0 [2, 3, 5] x30, beta [1] x1"),
                List.of("parity of the generic kernel on cpu, 2 threads with cpu, 1 thread: bit-identical on " + tensors),
                List.of("parity of the generic kernel on opencl with cpu, 1 thread: within 1e-04 relative + 1e-05 absolute on " + tensors,
                        "parity of kernel com.example.swish.ClSwish on opencl with the generic kernel on cpu, 1 thread: "
                                + "within 1e-04 relative + 1e-05 absolute on " + tensors),
                "checkpoint: swish.beta [1] saved as safetensors and reloaded bit for bit; same output after reloading",
                List.of("com.example.swish.ClSwish")),
                report.checks());
    }

    @Test void passesThePluginTestKitWithAFixedBeta() {
        PluginTestKit.Report report = PluginTestKit.forLayer(new Swish()).args(Map.of("beta", 1.5, "learn_beta", false))
                .inputs(Shape.of(7)).batch(3).run();
        // β is not trainable: no gradient for it, but it is still saved and compared after the passes.
        String tensors = "[output [4096, 7], gradient of input 0, beta after the passes]";
        assertEquals(OpenClLines.expected(
                List.of("schema: swish(beta=1.5, learn_beta=false) on [[7]]",
                        "gradients of the generic kernel on cpu: input 0 [3, 7] x21"),
                List.of(),
                List.of("parity of the generic kernel on cpu, 2 threads with cpu, 1 thread: bit-identical on " + tensors),
                List.of("parity of the generic kernel on opencl with cpu, 1 thread: within 1e-04 relative + 1e-05 absolute on " + tensors),
                "checkpoint: swish.beta [1] saved as safetensors and reloaded bit for bit; same output after reloading",
                List.of()),
                report.checks());
    }

    @Test void valuesAndGradientsByHand() {
        Swish swish = new Swish();
        LayerArgs args = swish.schema().bind(List.of(), Map.of());
        try (LayerHarness h = LayerHarness.compile(swish, args, 1, cpu, Shape.of(4))) {
            h.setParam("beta", new float[] {1f});
            h.setInput(0, new float[] {0f, 1f, -1f, 2f});
            assertArrayEquals(new float[] {0f, 0.7310586f, -0.26894143f, 1.7615942f}, h.forward(), 2e-7f);
            h.backward(new float[] {1f, 1f, 1f, 1f});
            // dy/dx = s + βx·s(1-s): 0.5 at 0, 0.92767054 at 1.
            assertArrayEquals(new float[] {0.5f, 0.92767054f, 0.07232949f, 1.0907842f}, h.gradInput(0), 2e-7f);
            // dy/dβ = Σ x²·s(1-s) = 0 + 0.19661193 + 0.19661193 + 0.41997433
            assertArrayEquals(new float[] {0.8131982f}, h.gradParam("beta"), 4e-7f);
        }
        try (LayerHarness h = LayerHarness.compile(swish, args, 1, cpu, Shape.of(1))) {
            h.setParam("beta", new float[] {2f});
            h.setInput(0, new float[] {1f});
            assertArrayEquals(new float[] {0.8807971f}, h.forward(), 1e-7f);
        }
    }

    @Test void schemaAndShapes() {
        Swish swish = new Swish();
        LayerArgs args = swish.schema().bind(List.of(), Map.of("beta", 0.5));
        assertEquals(Shape.of(6, 4, 4), swish.outputShape(args, List.of(Shape.of(6, 4, 4))));
        assertEquals(6L * 96, swish.flops(args, List.of(Shape.of(6, 4, 4)), Shape.of(6, 4, 4)));
        float[] beta = new float[1];
        swish.parameters(args, List.of(Shape.of(6, 4, 4))).get(0).initializer().initialize(beta, Shape.of(1), null);
        assertArrayEquals(new float[] {0.5f}, beta);
    }
}
