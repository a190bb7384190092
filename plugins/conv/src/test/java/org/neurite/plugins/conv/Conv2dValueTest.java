package org.neurite.plugins.conv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.cpu.CpuBackendProvider;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.testkit.LayerHarness;

/** A hand-worked convolution, forward and backward, on the CPU backend. */
class Conv2dValueTest {
    private static Backend cpu;

    @BeforeAll static void startBackend() { cpu = new CpuBackendProvider().create(BackendOptions.defaults()); }

    @AfterAll static void closeBackend() { cpu.close(); }

    @Test void twoByTwoKernelOverAThreeByThreeImage() {
        Conv2d conv = new Conv2d();
        try (LayerHarness h = LayerHarness.compile(conv, conv.schema().bind(List.of(1), Map.of("kernel", 2)), 1, cpu,
                Shape.of(1, 3, 3))) {
            h.setInput(0, new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
            h.setParam("weight", new float[] {1, 2, 3, 4});
            h.setParam("bias", new float[] {0.5f});
            // Cross-correlation (no kernel flip): y[0,0] = 1*1 + 2*2 + 3*4 + 4*5 + 0.5
            assertArrayEquals(new float[] {37.5f, 47.5f, 67.5f, 77.5f}, h.forward());
            h.backward(new float[] {1, 1, 1, 1});
            // Each input element collects the kernel taps of every window that reads it.
            assertArrayEquals(new float[] {1, 3, 2, 4, 10, 6, 3, 7, 4}, h.gradInput(0));
            // Each tap sums the input it saw over the four windows.
            assertArrayEquals(new float[] {12, 16, 24, 28}, h.gradParam("weight"));
            assertArrayEquals(new float[] {4}, h.gradParam("bias"));
        }
    }
}
