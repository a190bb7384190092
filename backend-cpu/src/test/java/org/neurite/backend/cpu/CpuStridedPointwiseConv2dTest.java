package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.neurite.backend.Conv2dGeometry;

/**
 * {@link CpuStridedPointwiseConv2d} gives the GEMM path's bits ({@link CpuConv2d} with the
 * strided passes, Winograd and the channel-vector forward off), with and without a bias and a
 * relu, on the small ResNet's 1x1 stride-2 shortcuts (batch 1 and 3) and odd ones: output rows
 * that are not whole pixel blocks (the last block read through the per-worker copy, also at the
 * very end of x), odd sizes, stride 3 vertically, stride 2 only horizontally, 1 to 4 lane groups
 * of output channels (each kernel shape), Cin 1, 5 and 33. It is checked against the definition
 * summed in double too (within 2^-21 of the sum of |terms|). Then: the same bits on 1, 2 and 3
 * threads and on the plain and vector paths (also pinned to 256 and 512 bits by surefire), which
 * geometries {@link CpuConv2d} gives it, and a steady call allocating nothing.
 */
class CpuStridedPointwiseConv2dTest {
    private static final int L = CpuKernels.LANES;
    private static final double BOUND = 0x1p-21;

    static Stream<Conv2dGeometry> convolutions() {
        return Stream.of(
                conv(3, 16, 14, 14, 32, 2, 2), // the small ResNet's shortcuts
                conv(1, 16, 14, 14, 32, 2, 2),
                conv(3, 32, 7, 7, 64, 2, 2),
                conv(1, 32, 7, 7, 64, 2, 2),
                conv(2, 16, 9, 9, L, 2, 2), // 5x5 outputs: partial blocks, one lane group
                conv(2, 5, 13, 7, 3 * L, 2, 2), // 7x4 outputs, three lane groups, Cin 5
                conv(3, 33, 10, 11, 4 * L, 2, 2), // 5x6 outputs, four lane groups, Cin 33
                conv(2, 1, 8, 8, 2 * L, 2, 2), // one input channel
                conv(2, 16, 9, 8, 2 * L, 3, 1), // stride 3 vertically, 1 horizontally
                conv(1, 8, 6, 9, 4 * L, 1, 2)); // stride 2 horizontally only
    }

    private static Conv2dGeometry conv(int batch, int cin, int h, int w, int cout, int strideH, int strideW) {
        return new Conv2dGeometry(batch, cin, h, w, cout, 1, 1, strideH, strideW, 0, 0, 1, 1, 1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void givesTheGemmPathsBitsWithAndWithoutBiasAndRelu(Conv2dGeometry g) {
        assertTrue(CpuStridedPointwiseConv2d.supports(g));
        ConvTestData d = new ConvTestData(g);
        for (boolean withBias : new boolean[] {false, true}) {
            for (boolean relu : new boolean[] {false, true}) {
                float[] bias = withBias ? d.bias : null;
                float[] expected = gemmForward(g, d, bias, relu, CpuKernels.Path.select());
                float[] actual = pointwise(g, d, bias, relu, 2, CpuKernels.Path.select());
                assertArrayEquals(expected, actual, "bias " + withBias + ", relu " + relu);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void isTheConvolutionWithinTheBound(Conv2dGeometry g) {
        ConvTestData d = new ConvTestData(g);
        float[] y = pointwise(g, d, d.bias, false, 2, CpuKernels.Path.select());
        int ho = g.outHeight(), wo = g.outWidth(), cin = g.inChannels(), h = g.height(), w = g.width();
        double worst = 0;
        for (int n = 0; n < g.batch(); n++) {
            for (int co = 0; co < g.outChannels(); co++) {
                for (int oh = 0; oh < ho; oh++) {
                    for (int ow = 0; ow < wo; ow++) {
                        double sum = d.bias[co], magnitude = Math.abs(d.bias[co]);
                        for (int c = 0; c < cin; c++) {
                            double term = (double) d.w[co * cin + c] * d.x[((n * cin + c) * h + oh * g.strideH()) * w + ow * g.strideW()];
                            sum += term;
                            magnitude += Math.abs(term);
                        }
                        worst = Math.max(worst, Math.abs(y[((n * g.outChannels() + co) * ho + oh) * wo + ow] - sum) / magnitude);
                    }
                }
            }
        }
        assertTrue(worst <= BOUND, "max |error| / sum |terms| = " + worst);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void sameBitsForAnyThreadCount(Conv2dGeometry g) {
        ConvTestData d = new ConvTestData(g);
        float[] one = pointwise(g, d, d.bias, true, 1, CpuKernels.Path.select());
        for (int threads : new int[] {2, 3}) assertArrayEquals(one, pointwise(g, d, d.bias, true, threads, CpuKernels.Path.select()), threads + " threads");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void plainAndVectorPathsGiveTheSameBits(Conv2dGeometry g) {
        assumeTrue(CpuKernels.VECTOR_API_PRESENT, "needs the Vector API in this JVM");
        ConvTestData d = new ConvTestData(g);
        assertArrayEquals(pointwise(g, d, d.bias, true, 2, CpuKernels.Path.PLAIN_JAVA), pointwise(g, d, d.bias, true, 2, CpuKernels.Path.VECTOR_API));
    }

    @Test
    void theConvolutionTakesItWhereTheRuleSays() {
        Conv2dGeometry wide = conv(64, 32, 7, 7, 64, 2, 2), narrow = conv(64, 16, 14, 14, 32, 2, 2);
        assertEquals(L == 16, CpuStridedPointwiseConv2d.takes(wide), "32 -> 64 shortcut: at 512 bits");
        assertFalse(CpuStridedPointwiseConv2d.takes(narrow), "16 -> 32 shortcut");
        assertFalse(CpuStridedPointwiseConv2d.takes(conv(64, 64, 4, 4, 128, 2, 2)), "64 -> 128: not measured");
        assertFalse(CpuStridedPointwiseConv2d.supports(conv(64, 16, 14, 14, 32, 1, 1)), "stride 1: a plain GEMM");
        assertFalse(CpuStridedPointwiseConv2d.supports(conv(64, 16, 14, 14, 32, 3, 3)), "horizontal stride 3");
        assertFalse(CpuStridedPointwiseConv2d.supports(conv(64, 16, 14, 14, L + 1, 2, 2)), "Cout not whole lane groups");
        assertFalse(CpuStridedPointwiseConv2d.supports(new Conv2dGeometry(4, 16, 14, 14, 32, 1, 1, 2, 2, 1, 1, 1, 1, 1)), "padding");
        assertFalse(CpuStridedPointwiseConv2d.supports(new Conv2dGeometry(4, 16, 14, 14, 32, 1, 1, 2, 2, 0, 0, 1, 1, 2)), "two groups");
        assertFalse(CpuStridedPointwiseConv2d.supports(new Conv2dGeometry(4, 16, 14, 14, 32, 3, 3, 2, 2, 0, 0, 1, 1, 1)), "3x3");
        // through CpuConv2d (Winograd and the channel-vector forward on), with the relu applied by it
        ConvTestData d = new ConvTestData(wide);
        try (CpuThreads threads = new CpuThreads(2)) {
            CpuKernels.Path path = CpuKernels.Path.select();
            CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path, true, true, true);
            float[] y = output(wide);
            assertTrue(conv.forward(wide, d.x, d.w, d.bias, true, y));
            assertArrayEquals(pointwise(wide, d, d.bias, true, 2, path), y); // the same bits whichever path CpuConv2d took
        }
    }

    /** A steady forward of the 32 -> 64 shortcut with bias and relu on two threads allocates nothing (child JVM, see {@link SteadyAllocationProbe}). */
    @Test
    void aSteadyCallAllocatesNothing() throws Exception {
        SteadyAllocationProbe.assertCleanInChildJvm(AllocationProbe.class);
    }

    /** The child JVM of {@link #aSteadyCallAllocatesNothing}. */
    static final class AllocationProbe {
        public static void main(String[] args) {
            Conv2dGeometry g = conv(4, 32, 7, 7, 64, 2, 2), odd = conv(3, 16, 9, 9, 2 * L, 2, 2);
            ConvTestData d = new ConvTestData(g), e = new ConvTestData(odd);
            float[] y = output(g), z = output(odd);
            try (CpuThreads threads = new CpuThreads(2)) {
                CpuKernels.Path path = CpuKernels.Path.select();
                CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path, true, true, true);
                CpuStridedPointwiseConv2d direct = new CpuStridedPointwiseConv2d(threads, path);
                Runnable call = () -> {
                    conv.forward(g, d.x, d.w, d.bias, true, y);
                    direct.forward(odd, e.x, e.w, e.bias, false, z);
                };
                // Under load C2 took longer than the probe's windows to compile these kernels (a
                // run read 23 MB a window throughout): a second of calls first.
                for (long start = System.nanoTime(); System.nanoTime() - start < 1_000_000_000L; ) call.run();
                SteadyAllocationProbe.measure(call);
            }
        }
    }

    private static float[] output(Conv2dGeometry g) {
        float[] y = new float[g.batch() * g.outChannels() * g.outHeight() * g.outWidth()];
        Arrays.fill(y, Float.NaN); // every output must be written
        return y;
    }

    private static float[] pointwise(Conv2dGeometry g, ConvTestData d, float[] bias, boolean relu, int threadCount, CpuKernels.Path path) {
        try (CpuThreads threads = new CpuThreads(threadCount)) {
            float[] y = output(g);
            new CpuStridedPointwiseConv2d(threads, path).forward(g, d.x, d.w, bias, relu, y);
            return y;
        }
    }

    /** The GEMM path: CpuConv2d with every direct kernel off (the relu applied after, as the relu op). */
    private static float[] gemmForward(Conv2dGeometry g, ConvTestData d, float[] bias, boolean relu, CpuKernels.Path path) {
        try (CpuThreads threads = new CpuThreads(2)) {
            CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path, false, false, false);
            float[] y = output(g);
            conv.forward(g, d.x, d.w, bias, y);
            if (relu) for (int i = 0; i < y.length; i++) y[i] = Math.max(y[i], 0f);
            return y;
        }
    }
}
