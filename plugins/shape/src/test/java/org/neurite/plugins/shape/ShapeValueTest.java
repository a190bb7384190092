package org.neurite.plugins.shape;

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

/** Hand-worked merge values on the CPU backend: where every element goes, forward and backward. */
class ShapeValueTest {
    private static final Concat CONCAT = new Concat();
    private static final Split SPLIT = new Split();
    private static Backend cpu;

    @BeforeAll static void startBackend() { cpu = new CpuBackendProvider().create(BackendOptions.defaults()); }

    @AfterAll static void closeBackend() { cpu.close(); }

    private static LayerArgs split(int axis, int parts, int index) {
        return SPLIT.schema().bind(List.of(), Map.of("axis", axis, "parts", parts, "index", index));
    }

    @Test void addSumsEveryInputAndCopiesTheGradientToEach() {
        try (LayerHarness h = LayerHarness.compile(new Add(), LayerArgs.empty(), 2, cpu, Shape.of(2), Shape.of(2), Shape.of(2))) {
            h.setInput(0, new float[] {1, 2, 3, 4});
            h.setInput(1, new float[] {10, 20, 30, 40});
            h.setInput(2, new float[] {100, 200, 300, 400});
            assertArrayEquals(new float[] {111, 222, 333, 444}, h.forward());
            h.backward(new float[] {1, -2, 3, -4});
            for (int i = 0; i < 3; i++) assertArrayEquals(new float[] {1, -2, 3, -4}, h.gradInput(i));
        }
    }

    @Test void concatOfChannelsKeepsEachSamplesBlocksTogether() {
        // Two samples; a has 1 channel of 2x1, b has 2 channels of 2x1. Per sample the output is a's plane, then b's two.
        try (LayerHarness h = LayerHarness.compile(CONCAT, CONCAT.schema().bind(List.of(), Map.of()), 2, cpu,
                Shape.of(1, 2, 1), Shape.of(2, 2, 1))) {
            h.setInput(0, new float[] {1, 2, /* sample 2 */ 3, 4});
            h.setInput(1, new float[] {10, 11, 12, 13, /* sample 2 */ 14, 15, 16, 17});
            assertArrayEquals(new float[] {1, 2, 10, 11, 12, 13, /* sample 2 */ 3, 4, 14, 15, 16, 17}, h.forward());
            h.backward(new float[] {-1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12});
            assertArrayEquals(new float[] {-1, -2, -7, -8}, h.gradInput(0));
            assertArrayEquals(new float[] {-3, -4, -5, -6, -9, -10, -11, -12}, h.gradInput(1));
        }
    }

    @Test void concatOfTheLastAxisInterleavesRows() {
        // [2, 2] and [2, 1] per sample, axis -1: each row of the output is a's row then b's.
        try (LayerHarness h = LayerHarness.compile(CONCAT, CONCAT.schema().bind(List.of(), Map.of("axis", -1)), 1, cpu,
                Shape.of(2, 2), Shape.of(2, 1))) {
            h.setInput(0, new float[] {1, 2, 3, 4});
            h.setInput(1, new float[] {9, 8});
            assertArrayEquals(new float[] {1, 2, 9, 3, 4, 8}, h.forward());
        }
    }

    @Test void splitThenConcatGivesBackTheInput() {
        float[] x = new float[2 * 4 * 3];
        for (int i = 0; i < x.length; i++) x[i] = i * 0.5f - 3;
        float[] first;
        float[] second;
        try (LayerHarness h = LayerHarness.compile(SPLIT, split(0, 2, 0), 2, cpu, Shape.of(4, 3))) {
            h.setInput(0, x);
            first = h.forward();
        }
        try (LayerHarness h = LayerHarness.compile(SPLIT, split(0, 2, 1), 2, cpu, Shape.of(4, 3))) {
            h.setInput(0, x);
            second = h.forward();
        }
        // Sample 0's first half is its channels 0 and 1: x[0..6).
        assertArrayEquals(new float[] {-3, -2.5f, -2, -1.5f, -1, -0.5f, /* sample 1 */ 3, 3.5f, 4, 4.5f, 5, 5.5f}, first);
        try (LayerHarness h = LayerHarness.compile(CONCAT, CONCAT.schema().bind(List.of(), Map.of()), 2, cpu,
                Shape.of(2, 3), Shape.of(2, 3))) {
            h.setInput(0, first);
            h.setInput(1, second);
            assertArrayEquals(x, h.forward());
        }
    }

    @Test void concatThenSplitGivesBackEachPartAndRoutesTheGradientToItOnly() {
        float[] a = {1, 2, 3, 4, 5, 6};
        float[] b = {-1, -2, -3, -4, -5, -6};
        float[] joined;
        // [3] and [3] features, batch 2, joined to [6].
        try (LayerHarness h = LayerHarness.compile(CONCAT, CONCAT.schema().bind(List.of(), Map.of()), 2, cpu,
                Shape.of(3), Shape.of(3))) {
            h.setInput(0, a);
            h.setInput(1, b);
            joined = h.forward();
        }
        try (LayerHarness h = LayerHarness.compile(SPLIT, split(-1, 2, 1), 2, cpu, Shape.of(6))) {
            h.setInput(0, joined);
            assertArrayEquals(b, h.forward());
            h.backward(new float[] {7, 8, 9, 10, 11, 12});
            assertArrayEquals(new float[] {0, 0, 0, 7, 8, 9, /* sample 1 */ 0, 0, 0, 10, 11, 12}, h.gradInput(0));
        }
    }

    @Test void zeropadPlacesThePlaneAtTopLeftAndCropsTheGradientBack() {
        ZeroPad2d pad = new ZeroPad2d();
        // [top, bottom, left, right] = [1, 0, 0, 2] around a 2x2 plane: 3x4.
        try (LayerHarness h = LayerHarness.compile(pad, pad.schema().bind(List.of(List.of(1, 0, 0, 2)), Map.of()), 1, cpu,
                Shape.of(1, 2, 2))) {
            h.setInput(0, new float[] {1, 2, 3, 4});
            assertArrayEquals(new float[] {
                    0, 0, 0, 0,
                    1, 2, 0, 0,
                    3, 4, 0, 0}, h.forward());
            h.backward(new float[] {
                    9, 9, 9, 9,
                    5, 6, 9, 9,
                    7, 8, 9, 9});
            assertArrayEquals(new float[] {5, 6, 7, 8}, h.gradInput(0));
        }
    }
}
