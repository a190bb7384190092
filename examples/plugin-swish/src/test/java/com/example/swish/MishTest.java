package com.example.swish;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerType;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.tensor.Shape;
import org.neurite.testkit.LayerHarness;
import org.neurite.testkit.PluginTestKit;

/**
 * {@code mish}: the generic kernel and the CPU kernel through the plugin test kit (which also
 * proves the runtime picks {@link CpuMish} on {@code cpu}), then both against values worked out in
 * double: mish(0)' = tanh(ln 2) = 0.6 exactly, mish(30) = 30, and the far negative tail where
 * x·e^x is about -2.8e-12.
 */
class MishTest {
    private static final float[] X = {0f, 1f, -1f, 2f, 0.5f, 30f, -30f, -1.19f};
    private static final float[] Y = {0f, 0.8650984f, -0.30340147f, 1.943959f, 0.37524521f, 30f, -2.807287e-12f, -0.30884263f};
    private static final float[] DYDX = {0.6f, 1.0490363f, 0.059216756f, 1.0693179f, 0.88642436f, 1f, -2.7137108e-12f, 6.502184e-4f};

    private static NeuriteRuntime runtime;
    private static Backend cpu;

    @BeforeAll static void start() {
        runtime = NeuriteRuntime.discover();
        cpu = runtime.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> {});
    }

    @AfterAll static void stop() { cpu.close(); }

    @Test void passesThePluginTestKitWithItsCpuAndOpenClKernels() {
        PluginTestKit.Report report = PluginTestKit.forLayer(new SwishPlugin(), "mish").inputs(Shape.of(4, 8)).run();
        String within = "within 1e-04 relative + 1e-05 absolute on [output [2048, 4, 8], gradient of input 0]";
        assertEquals(OpenClLines.expected(
                List.of("schema: mish() on [[4, 8]]",
                        "gradients of the generic kernel on cpu: input 0 [2, 4, 8] x64",
                        "gradients of kernel com.example.swish.CpuMish on cpu, 2 threads: input 0 [2, 4, 8] x64"),
                List.of("gradients of kernel com.example.swish.ClMish on opencl: input 0 [2, 4, 8] x64"),
                List.of("parity of the generic kernel on cpu, 2 threads with cpu, 1 thread: bit-identical on "
                                + "[output [2048, 4, 8], gradient of input 0]",
                        "parity of kernel com.example.swish.CpuMish on cpu, 2 threads with the generic kernel on cpu, 1 thread: " + within),
                List.of("parity of the generic kernel on opencl with cpu, 1 thread: " + within,
                        "parity of kernel com.example.swish.ClMish on opencl with the generic kernel on cpu, 1 thread: " + within),
                "checkpoint: mish has no parameters",
                List.of("com.example.swish.ClMish")),
                report.checks());
    }

    @Test void theGenericKernelMatchesHandValues() {
        check(runtime.referenceLayer("mish").orElseThrow(), Mish.class);
    }

    @Test void theCpuKernelMatchesHandValues() {
        check(runtime.layers().find("mish").orElseThrow(), CpuMish.class);
    }

    /** Runs {@code type} on cpu, checks that it compiled to the kernel nested in {@code kernelOf}, and compares with the table. */
    private static void check(LayerType type, Class<?> kernelOf) {
        try (LayerHarness h = LayerHarness.compile(type, LayerArgs.empty(), 1, cpu, Shape.of(X.length))) {
            assertEquals(kernelOf, h.kernel().getClass().getEnclosingClass(), "the kernel that was compiled");
            h.setInput(0, X);
            float[] y = h.forward();
            float[] ones = new float[X.length];
            Arrays.fill(ones, 1f);
            h.backward(ones);
            float[] dx = h.gradInput(0);
            for (int i = 0; i < X.length; i++) {
                assertEquals(Y[i], y[i], 2 * Math.ulp(Y[i]) + 1e-45f, "mish(" + X[i] + ")");
                // 1 - t² loses bits in float when t is close to 1; a few ulps of 1 absolute.
                assertEquals(DYDX[i], dx[i], 4 * Math.ulp(DYDX[i]) + 2e-7f, "mish'(" + X[i] + ")");
            }
        }
    }
}
