package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.neurite.backend.Conv2dGeometry;

/**
 * {@link CpuChannelWinograd} (F(4x4, 3x3) over channels-last tiles) against the definition summed
 * in double, within {@link CpuWinogradConv2dTest#BOUND_4X4} of {@code |bias| + sum|w||x|} (the
 * tile-wise F(4x4, 3x3)'s bound: the same transforms), on the small ResNet's 16 -> 16, 32 -> 32 and
 * 64 -> 64 layers and odd ones: maps whose last tiles reach past the output (7x7, 5x9 unpadded,
 * 6x6 with padding 2), one tile a sample (several samples to a task, a last task short of them),
 * a one-tile 3x3 output, and channel counts that differ or take one and two vectors. With a residual and a relu,
 * the bits of the convolution followed by the add and relu ops. Through {@link CpuConv2d}: the
 * forward and the stride-1 backward-data take it exactly where {@link CpuChannelWinograd#applies}.
 * Then the invariants: the same bits for 1, 2 and 3 threads, on the plain and the Vector API path,
 * and for remembered filters as for fresh ones. Run at 256 and 512 bits ({@code vector-256},
 * {@code vector-512} in the pom).
 */
class CpuChannelWinogradTest {
    static Stream<Conv2dGeometry> convolutions() {
        return Stream.of(
                conv(3, 16, 14, 14, 16, 1), // the small ResNet's 16 -> 16 (batch 3), which the rule leaves to the direct kernel
                conv(2, 16, 7, 7, 16, 1), // 2x2 tiles, the last row and column of each past the output
                conv(3, 16, 5, 9, 16, 0), // unpadded: 3x7 outputs
                conv(2, 16, 6, 6, 16, 2), // padding 2: 8x8 outputs
                conv(9, 16, 4, 4, 16, 1), // one tile a sample: 8 samples a task, then one
                conv(3, 16, 3, 3, 16, 1), // a 3x3 output in one tile
                conv(2, 32, 7, 7, 32, 1), // the small ResNet's 32 -> 32 and 64 -> 64
                conv(3, 64, 4, 4, 64, 1),
                conv(3, 16, 8, 8, 32, 1), // channel counts that differ; 48: one vector and a pair at 512 bits
                conv(2, 32, 6, 6, 48, 1),
                conv(9, 48, 4, 4, 32, 1)); // one tile a sample, 8 to a task, wider than a vector
    }

    private static Conv2dGeometry conv(int batch, int cin, int h, int w, int cout, int pad) {
        return new Conv2dGeometry(batch, cin, h, w, cout, 3, 3, 1, 1, pad, pad, 1, 1, 1);
    }

    private static int outputs(Conv2dGeometry g) {
        return g.batch() * g.outChannels() * g.outHeight() * g.outWidth();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void forwardIsTheConvolutionWithinTheBound(Conv2dGeometry g) {
        assertTrue(CpuChannelWinograd.supports(g));
        ConvTestData d = new ConvTestData(g);
        double[][] exact = CpuWinogradConv2dTest.definition(g, d.x, d.w, d.bias);
        double error = CpuWinogradConv2dTest.maxRelative(forward(g, d, null, false, 2, CpuKernels.Path.select()), exact);
        System.out.printf("channels-last winograd forward %s: max |error| / sum|w||x| %.3g%n", g, error);
        assertTrue(error <= CpuWinogradConv2dTest.BOUND_4X4, "error " + error);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void transposedForwardIsTheBackwardDataWithinTheBound(Conv2dGeometry layer) {
        // the layer's backward-data as a forward convolution of dy (CpuConv2d's transposed geometry)
        Conv2dGeometry t = new Conv2dGeometry(layer.batch(), layer.outChannels(), layer.outHeight(), layer.outWidth(), layer.inChannels(),
                3, 3, 1, 1, 2 - layer.padH(), 2 - layer.padW(), 1, 1, 1);
        assumeTrue(t.outHeight() == layer.height() && t.outWidth() == layer.width());
        ConvTestData d = new ConvTestData(layer);
        double[][] exact = CpuWinogradConv2dTest.backwardDataDefinition(layer, d.dy, d.w);
        try (CpuThreads threads = new CpuThreads(2)) {
            CpuChannelWinograd conv = new CpuChannelWinograd(threads, CpuKernels.Path.select());
            float[] dx = new float[d.x.length];
            Arrays.fill(dx, Float.NaN);
            conv.forwardTransposed(t, d.dy, d.w, dx);
            double error = CpuWinogradConv2dTest.maxRelative(dx, exact);
            System.out.printf("channels-last winograd backward-data %s: max |error| / sum|w||dy| %.3g%n", layer, error);
            assertTrue(error <= CpuWinogradConv2dTest.BOUND_4X4, "error " + error);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void residualAndReluAreTheOpsAfterTheConvolution(Conv2dGeometry g) {
        ConvTestData d = new ConvTestData(g);
        float[] residual = new ConvTestData(conv(g.batch(), g.outChannels(), g.outHeight() + 2, g.outWidth() + 2, g.outChannels(), 0)).x;
        residual = Arrays.copyOf(residual, outputs(g));
        float[] plain = forward(g, d, null, false, 2, CpuKernels.Path.select());
        float[] relu = new float[plain.length], added = new float[plain.length];
        for (int i = 0; i < plain.length; i++) {
            relu[i] = Math.max(plain[i], 0f);
            added[i] = Math.max(plain[i] + residual[i], 0f);
        }
        assertArrayEquals(relu, forward(g, d, null, true, 2, CpuKernels.Path.select()), "relu");
        assertArrayEquals(added, forward(g, d, residual, true, 2, CpuKernels.Path.select()), "residual, then relu");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void sameBitsForAnyThreadCountAndOnBothPaths(Conv2dGeometry g) {
        ConvTestData d = new ConvTestData(g);
        float[] one = forward(g, d, null, false, 1, CpuKernels.Path.select());
        for (int threads : new int[] {2, 3}) assertArrayEquals(one, forward(g, d, null, false, threads, CpuKernels.Path.select()), threads + " threads");
        if (CpuKernels.VECTOR_API_PRESENT) {
            assertArrayEquals(forward(g, d, null, true, 2, CpuKernels.Path.PLAIN_JAVA), forward(g, d, null, true, 2, CpuKernels.Path.VECTOR_API),
                    "plain and vector paths");
            assertArrayEquals(transposed(g, d, CpuKernels.Path.PLAIN_JAVA), transposed(g, d, CpuKernels.Path.VECTOR_API),
                    "plain and vector paths, transposed filters");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void theConvolutionTakesItWhereTheRuleSays(Conv2dGeometry g) {
        ConvTestData d = new ConvTestData(g);
        try (CpuThreads threads = new CpuThreads(2)) {
            CpuKernels.Path path = CpuKernels.Path.select();
            CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path);
            float[] y = new float[outputs(g)], dx = new float[d.x.length];
            conv.forward(g, d.x, d.w, d.bias, y);
            float[] kernel = forward(g, d, null, false, 2, path);
            assertTrue(CpuChannelWinograd.applies(g) == Arrays.equals(kernel, y), "forward took it: " + CpuChannelWinograd.applies(g));
            conv.backwardData(g, d.dy, d.w, dx);
            Conv2dGeometry t = new Conv2dGeometry(g.batch(), g.outChannels(), g.outHeight(), g.outWidth(), g.inChannels(),
                    3, 3, 1, 1, 2 - g.padH(), 2 - g.padW(), 1, 1, 1);
            if (t.outHeight() == g.height() && CpuChannelWinograd.applies(t)) {
                float[] expected = new float[dx.length];
                new CpuChannelWinograd(threads, path).forwardTransposed(t, d.dy, d.w, expected);
                assertArrayEquals(expected, dx, "backward-data");
            }
        }
    }

    @Test
    void theRuleTakesLayersOf32To64Channels() {
        assertTrue(CpuChannelWinograd.applies(conv(4, 32, 7, 7, 32, 1)), "the small ResNet's 32 -> 32");
        assertTrue(CpuChannelWinograd.applies(conv(4, 64, 4, 4, 64, 1)), "the small ResNet's 64 -> 64");
        assertTrue(CpuChannelWinograd.applies(conv(4, 32, 8, 8, 64, 1)), "32 -> 64");
        assertFalse(CpuChannelWinograd.applies(conv(4, 16, 14, 14, 16, 1)), "16 -> 16: left to the channel-vector kernel");
        assertFalse(CpuChannelWinograd.applies(conv(4, 128, 4, 4, 128, 1)), "128 channels: left to the tile-wise F(4x4, 3x3)");
        assertFalse(CpuChannelWinograd.applies(new Conv2dGeometry(4, 32, 7, 7, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1)), "stride 2");
        assertFalse(CpuChannelWinograd.applies(new Conv2dGeometry(4, 32, 7, 7, 32, 3, 3, 1, 1, 2, 2, 2, 2, 1)), "dilation 2");
        assertFalse(CpuChannelWinograd.applies(new Conv2dGeometry(4, 32, 7, 7, 32, 5, 5, 1, 1, 2, 2, 1, 1, 1)), "5x5");
        assertFalse(CpuChannelWinograd.applies(new Conv2dGeometry(4, 32, 7, 7, 32, 3, 3, 1, 1, 1, 1, 1, 1, 2)), "two groups");
        assertFalse(CpuChannelWinograd.supports(conv(4, 12, 14, 14, 16, 1)), "12 input channels: not whole lane groups");
    }

    /**
     * Remembered filters: a call on weights transformed before gives a fresh instance's bits; a
     * weight changed in place is seen; the forward and the transposed forward of one array are
     * kept apart.
     */
    @Test
    void rememberedFiltersFollowTheWeights() {
        Conv2dGeometry g = conv(2, 32, 7, 7, 32, 1);
        ConvTestData d = new ConvTestData(g);
        CpuKernels.Path path = CpuKernels.Path.select();
        try (CpuThreads threads = new CpuThreads(2)) {
            CpuChannelWinograd conv = new CpuChannelWinograd(threads, path);
            float[] first = run(conv, g, d.x, d.w), transposed = new float[first.length];
            conv.forwardTransposed(g, d.x, d.w, transposed);
            assertFalse(Arrays.equals(first, transposed), "the two filters differ");
            assertArrayEquals(first, run(conv, g, d.x, d.w), "remembered");
            d.w[d.w.length / 2] += 0.25f;
            float[] changed = run(conv, g, d.x, d.w);
            assertArrayEquals(run(new CpuChannelWinograd(threads, path), g, d.x, d.w), changed, "after a weight changed in place");
            assertFalse(Arrays.equals(first, changed), "the change must show");
        }
    }

    /**
     * At a training scale (x ~ N(0, 1), He weights, batch 8) on the small ResNet's 32 -> 32: max
     * |error| relative to the RMS of the exact outputs within {@link CpuWinogradConv2dTest#RMS_BOUND_4X4}.
     */
    @Test
    void atATrainingScale() {
        Conv2dGeometry g = conv(8, 32, 7, 7, 32, 1);
        SplittableRandom rnd = new SplittableRandom(7);
        float[] x = new float[g.batch() * 32 * 7 * 7], w = new float[32 * 32 * 9], bias = new float[32];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        double he = Math.sqrt(2.0 / (9 * 32));
        for (int i = 0; i < w.length; i++) w[i] = (float) (he * rnd.nextGaussian());
        double[][] exact = CpuWinogradConv2dTest.definition(g, x, w, bias);
        float[] y;
        try (CpuThreads threads = new CpuThreads(2)) {
            y = new float[outputs(g)];
            new CpuChannelWinograd(threads, CpuKernels.Path.select()).forward(g, x, w, bias, null, false, y);
        }
        double rms = 0, max = 0, mean = 0;
        for (double v : exact[0]) rms += v * v;
        rms = Math.sqrt(rms / exact[0].length);
        for (int i = 0; i < y.length; i++) {
            double e = Math.abs(y[i] - exact[0][i]);
            max = Math.max(max, e);
            mean += e / y.length;
        }
        System.out.printf("channels-last winograd, N(0,1) x, He w, %s: |error| / rms(y) max %.3g mean %.3g%n", g, max / rms, mean / rms);
        assertTrue(max / rms <= CpuWinogradConv2dTest.RMS_BOUND_4X4, "error / rms " + max / rms);
    }

    /**
     * A steady forward (with a residual and a relu) and backward-data through {@link CpuConv2d} on
     * two threads allocate nothing on the calling thread: its scratch is grow-only and its vectors
     * stay in registers. Measured as {@code CpuWinogradConv2dTest#aSteadyCallAllocatesNothing}
     * does, in a child JVM.
     */
    @Test
    void aSteadyCallAllocatesNothing() throws Exception {
        SteadyAllocationProbe.assertCleanInChildJvm(AllocationProbe.class);
    }

    /** The child JVM of {@link #aSteadyCallAllocatesNothing}: prints the bytes of each window, then "clean" or "allocates". */
    static final class AllocationProbe {
        public static void main(String[] args) {
            Conv2dGeometry g = conv(4, 32, 7, 7, 32, 1), g64 = conv(8, 64, 4, 4, 64, 1);
            ConvTestData d = new ConvTestData(g), d64 = new ConvTestData(g64);
            float[] y = new float[outputs(g)], dx = new float[d.x.length], y64 = new float[outputs(g64)], dx64 = new float[d64.x.length];
            try (CpuThreads threads = new CpuThreads(2)) {
                CpuKernels.Path path = CpuKernels.Path.select();
                CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path);
                Runnable call = () -> {
                    conv.forward(g, d.x, d.w, d.bias, d.x, true, y);
                    conv.backwardData(g, d.dy, d.w, dx);
                    conv.forward(g64, d64.x, d64.w, d64.bias, y64);
                    conv.backwardData(g64, d64.dy, d64.w, dx64);
                };
                SteadyAllocationProbe.measure(call);
            }
        }
    }

    /** The transposed forward of x with g's weights read as the transposed layer's (shapes permitting: Cin == Cout). */
    private static float[] transposed(Conv2dGeometry g, ConvTestData d, CpuKernels.Path path) {
        Conv2dGeometry square = new Conv2dGeometry(g.batch(), g.inChannels(), g.height(), g.width(), g.inChannels(), 3, 3, 1, 1,
                g.padH(), g.padW(), 1, 1, 1);
        float[] w = java.util.Arrays.copyOf(d.w, g.inChannels() * g.inChannels() * 9);
        try (CpuThreads threads = new CpuThreads(2)) {
            float[] y = new float[outputs(square)];
            new CpuChannelWinograd(threads, path).forwardTransposed(square, d.x, w, y);
            return y;
        }
    }

    private static float[] run(CpuChannelWinograd conv, Conv2dGeometry g, float[] x, float[] w) {
        float[] y = new float[outputs(g)];
        conv.forward(g, x, w, null, null, false, y);
        return y;
    }

    private static float[] forward(Conv2dGeometry g, ConvTestData d, float[] residual, boolean relu, int threadCount, CpuKernels.Path path) {
        try (CpuThreads threads = new CpuThreads(threadCount)) {
            float[] y = new float[outputs(g)];
            Arrays.fill(y, Float.NaN); // every output must be written
            new CpuChannelWinograd(threads, path).forward(g, d.x, d.w, d.bias, residual, relu, y);
            return y;
        }
    }
}
