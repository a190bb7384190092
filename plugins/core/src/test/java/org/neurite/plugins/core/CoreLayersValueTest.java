package org.neurite.plugins.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.CounterRandom;
import org.neurite.backend.cpu.CpuBackendProvider;
import org.neurite.layer.LayerArgs;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.testkit.LayerHarness;

/** Hand-worked forward and backward values for core layers on the CPU backend. */
class CoreLayersValueTest {
    private static Backend cpu;

    @BeforeAll static void startBackend() { cpu = new CpuBackendProvider().create(BackendOptions.defaults()); }

    @AfterAll static void closeBackend() { cpu.close(); }

    @Test void denseComputesXTimesWTransposedPlusBias() {
        Dense dense = new Dense();
        try (LayerHarness h = LayerHarness.compile(dense, dense.schema().bind(List.of(2), Map.of()), 2, cpu, Shape.of(3))) {
            h.setInput(0, new float[] {1, 2, 3, /* sample 2 */ 0, 1, 0});
            h.setParam("weight", new float[] {1, 0, -1, /* unit 2 */ 2, 1, 0});
            h.setParam("bias", new float[] {0.5f, -1});
            // y0 = [1 - 3 + 0.5, 2 + 2 - 1], y1 = [0 + 0.5, 1 - 1]
            assertArrayEquals(new float[] {-1.5f, 3, 0.5f, 0}, h.forward());
            h.backward(new float[] {1, 0, /* sample 2 */ 0, 2});
            assertArrayEquals(new float[] {1, 0, -1, /* dy1 . W */ 4, 2, 0}, h.gradInput(0));   // dy W
            assertArrayEquals(new float[] {1, 2, 3, /* unit 2 */ 0, 2, 0}, h.gradParam("weight"));  // dy^T x
            assertArrayEquals(new float[] {1, 2}, h.gradParam("bias"));    // column sums of dy
        }
    }

    @Test void softmaxRowsSumToOne() {
        try (LayerHarness h = LayerHarness.compile(new Softmax(), LayerArgs.empty(), 1, cpu, Shape.of(2, 3))) {
            h.setInput(0, new float[] {0, 0, 0, /* row 2 */ 0, (float) Math.log(2), (float) Math.log(5)});
            assertArrayEquals(new float[] {1 / 3f, 1 / 3f, 1 / 3f, 1 / 8f, 2 / 8f, 5 / 8f}, h.forward(), 1e-6f);
        }
    }

    @Test void dropoutDrawsTheBackendContractMaskFromTheStepSeed() {
        Dropout dropout = new Dropout();
        float p = 0.25f;
        int n = 4000;
        long seed = 7;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = i % 10 + 1;
        try (LayerHarness h = LayerHarness.compile(dropout, dropout.schema().bind(List.of(0.25), Map.of()), 2, cpu, Shape.of(n / 2))) {
            h.setInput(0, x);
            float[] y = h.training(true).stepSeed(seed).forward();
            float[] dy = new float[n];
            java.util.Arrays.fill(dy, 3f);
            h.backward(dy);
            float[] dx = h.gradInput(0);
            int dropped = 0;
            for (int i = 0; i < n; i++) {
                boolean keep = CounterRandom.uniform(seed, i) >= p;
                if (!keep) dropped++;
                assertEquals(keep ? x[i] / (1 - p) : 0f, y[i], 1e-5f, "y at " + i);
                assertEquals(keep ? 3f / (1 - p) : 0f, dx[i], 1e-5f, "dx at " + i);
            }
            assertTrue(dropped > 0.2 * n && dropped < 0.3 * n, dropped + " of " + n + " dropped at p = 0.25");

            float[] other = h.stepSeed(seed + 1).forward();
            assertTrue(!java.util.Arrays.equals(y, other), "a new step seed draws a new mask");
            assertArrayEquals(x, h.training(false).forward(), "inference is the identity");
        }
    }
}
