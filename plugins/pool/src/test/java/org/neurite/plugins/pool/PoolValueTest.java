package org.neurite.plugins.pool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.cpu.CpuBackendProvider;
import org.neurite.layer.LayerArgs;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.testkit.LayerHarness;

/** Hand-worked pooling values, forward and backward, on the CPU backend. */
class PoolValueTest {
    private static Backend cpu;

    @BeforeAll static void startBackend() { cpu = new CpuBackendProvider().create(BackendOptions.defaults()); }

    @AfterAll static void closeBackend() { cpu.close(); }

    @Test void maxPoolRoutesEachGradientToItsWinner() {
        MaxPool2d max = new MaxPool2d();
        try (LayerHarness h = LayerHarness.compile(max, max.schema().bind(List.of(2), Map.of()), 1, cpu, Shape.of(1, 4, 4))) {
            h.setInput(0, new float[] {
                    1, 5, 2, 0,
                    3, 4, 8, 6,
                    7, 0, 1, 2,
                    9, 3, 4, 5});
            assertArrayEquals(new float[] {5, 8, 9, 5}, h.forward());
            h.backward(new float[] {1, 2, 3, 4});
            assertArrayEquals(new float[] {
                    0, 1, 0, 0,
                    0, 0, 2, 0,
                    0, 0, 0, 0,
                    3, 0, 0, 4}, h.gradInput(0));
        }
    }

    @Test void overlappingWindowsThatShareAWinnerSumTheirGradients() {
        MaxPool2d max = new MaxPool2d();
        try (LayerHarness h = LayerHarness.compile(max, max.schema().bind(List.of(2), Map.of("stride", 1)), 1, cpu,
                Shape.of(1, 3, 3))) {
            h.setInput(0, new float[] {1, 2, 3, 4, 9, 5, 6, 7, 8});
            assertArrayEquals(new float[] {9, 9, 9, 9}, h.forward());
            h.backward(new float[] {1, 2, 3, 4});
            assertArrayEquals(new float[] {0, 0, 0, 0, 10, 0, 0, 0, 0}, h.gradInput(0));
        }
    }

    @Test void averagePoolDivisorWithAndWithoutPadding() {
        AvgPool2d avg = new AvgPool2d();
        // kernel 2, stride 2, pad 1 on a 2x2 plane: each window holds one real element and three pads.
        try (LayerHarness counted = LayerHarness.compile(avg, avg.schema().bind(List.of(2), Map.of("pad", 1)), 1, cpu,
                Shape.of(1, 2, 2))) {
            counted.setInput(0, new float[] {1, 2, 3, 4});
            assertArrayEquals(new float[] {0.25f, 0.5f, 0.75f, 1}, counted.forward());
            counted.backward(new float[] {1, 1, 1, 1});
            assertArrayEquals(new float[] {0.25f, 0.25f, 0.25f, 0.25f}, counted.gradInput(0));
        }
        try (LayerHarness realOnly = LayerHarness.compile(avg, avg.schema().bind(List.of(2),
                Map.of("pad", 1, "count_include_pad", false)), 1, cpu, Shape.of(1, 2, 2))) {
            realOnly.setInput(0, new float[] {1, 2, 3, 4});
            assertArrayEquals(new float[] {1, 2, 3, 4}, realOnly.forward());
            realOnly.backward(new float[] {1, 1, 1, 1});
            assertArrayEquals(new float[] {1, 1, 1, 1}, realOnly.gradInput(0));
        }
    }

    @Test void globalAverageIsTheMeanOfEachPlane() {
        try (LayerHarness h = LayerHarness.compile(new GlobalAvgPool2d(), LayerArgs.empty(), 2, cpu, Shape.of(2, 2, 2))) {
            h.setInput(0, new float[] {1, 2, 3, 4, 10, 20, 30, 40, /* sample 2 */ -1, -1, -1, -1, 0, 0, 0, 8});
            assertArrayEquals(new float[] {2.5f, 25, -1, 2}, h.forward());
            h.backward(new float[] {4, 8, 0, -4});
            assertArrayEquals(new float[] {1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0, 0, -1, -1, -1, -1}, h.gradInput(0));
        }
    }
}
