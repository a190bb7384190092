package org.neurite.plugins.norm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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

/**
 * Hand-worked batchnorm and lrn values on the CPU backend: training and inference statistics,
 * PyTorch's running-statistics update, inference backward, and lrn's window at the channel edges.
 * The harness starts parameters at zero, so each test sets the ones it relies on.
 */
class NormValueTest {
    private static final float TOLERANCE = 1e-5f;
    private static final float INFERENCE_TOLERANCE = 1e-3f;
    private static final double EPS = 1e-5;
    private static final BatchNorm BN = new BatchNorm();
    private static final LocalResponseNorm LRN = new LocalResponseNorm();
    private static Backend cpu;

    @BeforeAll static void startBackend() { cpu = new CpuBackendProvider().create(BackendOptions.defaults()); }

    @AfterAll static void closeBackend() { cpu.close(); }

    private static LayerArgs bn(Map<String, Object> named) { return BN.schema().bind(List.of(), named); }

    private static float normalised(double x, double mean, double var) { return (float) ((x - mean) / Math.sqrt(var + EPS)); }

    @Test void trainingNormalisesWithBatchStatisticsAndUpdatesTheRunningOnesLikePyTorch() {
        // Four samples of [2] features. Channel 0 holds 1, 2, 3, 6: mean 3, squared deviations sum
        // to 14, so biased variance 3.5 and unbiased 14/3. Channel 1 holds 0, 0, 4, 4: mean 2,
        // biased variance 4, unbiased 16/3.
        try (LayerHarness h = LayerHarness.compile(BN, bn(Map.of()), 4, cpu, Shape.of(2))) {
            h.setParam("weight", new float[] {1, 1});
            h.setParam("running_var", new float[] {1, 1});
            h.setInput(0, new float[] {1, 0, 2, 0, 3, 4, 6, 4});
            float[] y = h.forward();
            // Training output uses the biased variance.
            assertArrayEquals(new float[] {
                    normalised(1, 3, 3.5), normalised(0, 2, 4),
                    normalised(2, 3, 3.5), normalised(0, 2, 4),
                    normalised(3, 3, 3.5), normalised(4, 2, 4),
                    normalised(6, 3, 3.5), normalised(4, 2, 4)}, y, TOLERANCE);

            // PyTorch: running = 0.9 * running + 0.1 * batch, with the unbiased variance.
            double[] runningMean = {0.1 * 3, 0.1 * 2};
            double[] runningVar = {0.9 + 0.1 * 14 / 3, 0.9 + 0.1 * 16 / 3};
            // Read them back through inference: probes of 0 and 1 give -mean/std and (1-mean)/std.
            h.training(false);
            h.setInput(0, new float[] {0, 0, 1, 1, 0, 0, 0, 0});
            float[] probe = h.forward();
            assertArrayEquals(new float[] {
                    normalised(0, runningMean[0], runningVar[0]), normalised(0, runningMean[1], runningVar[1]),
                    normalised(1, runningMean[0], runningVar[0]), normalised(1, runningMean[1], runningVar[1])},
                    new float[] {probe[0], probe[1], probe[2], probe[3]}, TOLERANCE);
        }
    }

    @Test void inferenceUsesTheRunningStatisticsAndLeavesThemAlone() {
        // running mean [1, -2], var [4, 0.25] (std 2 and 0.5), weight [3, 0.5], bias [0.5, -1]:
        // channel 0 is y = (x - 1) / 2 * 3 + 0.5 = 1.5x - 1, channel 1 is y = (x + 2) / 0.5 * 0.5 - 1 = x + 1
        // (eps = 1e-5 in the variance moves the fifth significant digit, hence the tolerance).
        try (LayerHarness h = LayerHarness.compile(BN, bn(Map.of()), 2, cpu, Shape.of(2))) {
            h.setParam("weight", new float[] {3, 0.5f});
            h.setParam("bias", new float[] {0.5f, -1});
            h.setParam("running_mean", new float[] {1, -2});
            h.setParam("running_var", new float[] {4, 0.25f});
            h.training(false);
            h.setInput(0, new float[] {3, -1, -1, 0});
            float[] expected = {3.5f, 0, -2.5f, 1};
            assertArrayEquals(expected, h.forward(), INFERENCE_TOLERANCE);
            // A second pass gives the same values: inference did not move the running statistics.
            assertArrayEquals(expected, h.forward(), INFERENCE_TOLERANCE);

            // Backward through the fixed per-channel map: dx = dy * weight / std, dweight = sum(dy * (x - mean) / std),
            // dbias = sum(dy). Normalised inputs: channel 0 gives 1 and -1, channel 1 gives 2 and 4.
            h.backward(new float[] {1, 2, 3, 4});
            assertArrayEquals(new float[] {1.5f, 2, 4.5f, 4}, h.gradInput(0), INFERENCE_TOLERANCE);
            assertArrayEquals(new float[] {1 * 1 + 3 * -1, 2 * 2 + 4 * 4}, h.gradParam("weight"), INFERENCE_TOLERANCE);
            assertArrayEquals(new float[] {1 + 3, 2 + 4}, h.gradParam("bias"), INFERENCE_TOLERANCE);
        }
    }

    @Test void trainingOnOneValuePerChannelIsRefusedLikePyTorch() {
        try (LayerHarness h = LayerHarness.compile(BN, bn(Map.of()), 1, cpu, Shape.of(3))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, h::forward);
            assertEquals("batchnorm: expected more than 1 value per channel when training, got input [1, 3]", e.getMessage());
            // Inference on a single sample is fine: the running statistics need no batch.
            h.setParam("running_var", new float[] {1, 1, 1});
            h.setParam("weight", new float[] {1, 1, 1});
            h.setInput(0, new float[] {2, 0, -1});
            assertArrayEquals(new float[] {normalised(2, 0, 1), 0, normalised(-1, 0, 1)}, h.training(false).forward(), TOLERANCE);
        }
    }

    @Test void lrnDividesByTheWindowSizeEvenWhereTheWindowIsClipped() {
        // size 3, alpha 3 (alpha/size = 1), beta 0.5, k 1 over channels 1, 2, 3 of one pixel:
        // channel 0 sums 1 + 4 (channel -1 does not exist), channel 1 sums 1 + 4 + 9, channel 2 sums 4 + 9.
        LayerArgs a = LRN.schema().bind(List.of(3), Map.of("alpha", 3.0, "beta", 0.5, "k", 1.0));
        try (LayerHarness h = LayerHarness.compile(LRN, a, 1, cpu, Shape.of(3, 1, 1))) {
            h.setInput(0, new float[] {1, 2, 3});
            assertArrayEquals(new float[] {(float) (1 / Math.sqrt(6)), (float) (2 / Math.sqrt(15)), (float) (3 / Math.sqrt(14))},
                    h.forward(), TOLERANCE);
        }
        // size 2: the window of channel c is c-1..c, as PyTorch pads one channel before and none after.
        LayerArgs even = LRN.schema().bind(List.of(2), Map.of("alpha", 2.0, "beta", 1.0, "k", 1.0));
        try (LayerHarness h = LayerHarness.compile(LRN, even, 1, cpu, Shape.of(3, 1))) {
            h.setInput(0, new float[] {1, 2, 3});
            assertArrayEquals(new float[] {1f / 2, 2f / 6, 3f / 14}, h.forward(), TOLERANCE);
        }
    }

    @Test void lrnWithAlexNetsArgumentsOnTwoPixels() {
        // lrn(5, alpha=1e-4, beta=0.75, k=2) over 5 channels; pixel 0 holds 10, 20, 30, 40, 50, pixel 1 all ones.
        LayerArgs a = LRN.schema().bind(List.of(5), Map.of("k", 2.0));
        try (LayerHarness h = LayerHarness.compile(LRN, a, 1, cpu, Shape.of(5, 1, 2))) {
            h.setInput(0, new float[] {10, 1, 20, 1, 30, 1, 40, 1, 50, 1});
            float[] y = h.forward();
            // Channel 2's window is every channel: 100 + 400 + 900 + 1600 + 2500 = 5500.
            assertEquals((float) (30 / Math.pow(2 + 1e-4 / 5 * 5500, 0.75)), y[4], TOLERANCE);
            // Channel 0's window is channels 0..2: 100 + 400 + 900 = 1400.
            assertEquals((float) (10 / Math.pow(2 + 1e-4 / 5 * 1400, 0.75)), y[0], TOLERANCE);
            // Pixel 1, channel 4: three ones in its window.
            assertEquals((float) (1 / Math.pow(2 + 1e-4 / 5 * 3, 0.75)), y[9], TOLERANCE);
        }
    }

    @Test void lrnBackwardOfASingleChannelWindow() {
        // size 1, alpha 1, beta 0.5, k 1: y = x / sqrt(1 + x^2), so dy/dx = (1 + x^2)^(-3/2): 1 at 0, 2^-1.5 at 1.
        LayerArgs a = LRN.schema().bind(List.of(1), Map.of("alpha", 1.0, "beta", 0.5, "k", 1.0));
        try (LayerHarness h = LayerHarness.compile(LRN, a, 1, cpu, Shape.of(2, 1))) {
            h.setInput(0, new float[] {0, 1});
            assertArrayEquals(new float[] {0, (float) (1 / Math.sqrt(2))}, h.forward(), TOLERANCE);
            h.backward(new float[] {3, 4});
            assertArrayEquals(new float[] {3, (float) (4 * Math.pow(2, -1.5))}, h.gradInput(0), TOLERANCE);
        }
    }
}
