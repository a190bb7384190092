package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
 * {@link CpuStridedBackwardData} (the phase decomposition) against backward-data's definition
 * summed in double and against the GEMM path ({@link CpuConv2d} with the strided passes off),
 * each within 1e-5 of the sum of |terms| of every dx element (the two round differently: one fma
 * chain over (co, ki, kj) here, per-tap chains added by col2im there), on the small ResNet's
 * strided layers (3x3 stride 2 and the 1x1 stride-2 shortcuts, batch 1 and 3) and odd ones: odd
 * sizes, padding 0 and 2, stride 3 (and 1x1 stride 3, whose phases but one get no tap), strides
 * that differ by direction, a non-square kernel, a map of one row, input channels of 1, 2 and 4
 * lane groups, and the shapes of the row kernels (3x3 stride 2 on rows of 14 pixels of one lane
 * group or 7 of two) at either width. Then: the same bits on 1, 2 and 3 threads (a batch of 2 on
 * 3 threads takes the phases, on 1 and 2 the row kernels: the two orders of the same fmas) and
 * on the plain and vector paths (also pinned to 256 and 512 bits by surefire), {@link CpuConv2d}
 * giving it the geometries of its rule with the same bits, and a steady call allocating nothing.
 */
class CpuStridedBackwardDataTest {
    private static final int L = CpuKernels.LANES;
    private static final double BOUND = 1e-5;

    static Stream<Conv2dGeometry> convolutions() {
        return Stream.of(
                conv(3, 16, 14, 14, 32, 3, 2, 1), // the small ResNet's strided layers
                conv(1, 16, 14, 14, 32, 3, 2, 1),
                conv(3, 32, 7, 7, 64, 3, 2, 1),
                conv(1, 32, 7, 7, 64, 3, 2, 1),
                conv(3, 16, 14, 14, 32, 1, 2, 0), // its 1x1 stride-2 shortcuts
                conv(3, 32, 7, 7, 64, 1, 2, 0),
                conv(2, L, 14, 14, 8, 3, 2, 1), // the row kernels' shapes at either width: 14 pixels of one lane group,
                conv(2, 2 * L, 7, 7, 24, 3, 2, 1), // 7 of two,
                conv(2, L, 9, 14, 8, 3, 2, 1), // an odd height (its last row even),
                conv(2, 2 * L, 6, 7, 8, 3, 2, 1), // an even one (its last row odd, kernel row 0 past dy)
                conv(2, L, 9, 11, 16, 3, 2, 0), // odd sizes, no padding (the last column of dx is reached by no tap)
                conv(2, 2 * L, 10, 9, 24, 3, 2, 0),
                conv(2, L, 13, 13, 24, 3, 2, 2), // padding 2
                conv(3, 4 * L, 10, 9, 16, 3, 3, 1), // stride 3, four lane groups
                conv(2, 8 * L, 5, 6, 8, 3, 2, 1), // eight lane groups: two blocks of four per kernel call
                conv(2, 2 * L, 8, 8, 16, 1, 3, 0), // 1x1 stride 3: eight of nine phases get no tap
                conv(1, 2 * L, 1, 5, 16, 3, 2, 1), // one row: the second row phase is empty
                new Conv2dGeometry(2, 2 * L, 11, 8, 16, 5, 3, 2, 1, 2, 1, 1, 1, 1), // 5x3, strides 2 and 1
                new Conv2dGeometry(2, L, 7, 12, 8, 3, 3, 1, 2, 1, 1, 1, 1, 1)); // strides 1 and 2
    }

    private static Conv2dGeometry conv(int batch, int cin, int h, int w, int cout, int k, int stride, int pad) {
        return new Conv2dGeometry(batch, cin, h, w, cout, k, k, stride, stride, pad, pad, 1, 1, 1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void isWithinTheBoundOfTheDefinitionAndOfTheGemmPath(Conv2dGeometry g) {
        assertTrue(CpuStridedBackwardData.supports(g));
        ConvTestData d = new ConvTestData(g);
        float[] dx = strided(g, d, 2, CpuKernels.Path.select());
        float[] gemm = viaConv2d(g, d, 2, CpuKernels.Path.select(), false);
        int h = g.height(), wd = g.width(), ho = g.outHeight(), wo = g.outWidth(), cin = g.inChannels(), cout = g.outChannels();
        int kh = g.kernelH(), kw = g.kernelW();
        double worst = 0, worstGemm = 0;
        for (int n = 0; n < g.batch(); n++) {
            for (int ci = 0; ci < cin; ci++) {
                for (int ih = 0; ih < h; ih++) {
                    for (int iw = 0; iw < wd; iw++) {
                        double sum = 0, magnitude = 0;
                        for (int co = 0; co < cout; co++) {
                            for (int ki = 0; ki < kh; ki++) {
                                for (int kj = 0; kj < kw; kj++) {
                                    int th = ih + g.padH() - ki, tw = iw + g.padW() - kj;
                                    if (th % g.strideH() != 0 || tw % g.strideW() != 0) continue;
                                    int oh = th / g.strideH(), ow = tw / g.strideW();
                                    if (th < 0 || tw < 0 || oh >= ho || ow >= wo) continue;
                                    double term = (double) d.w[((co * cin + ci) * kh + ki) * kw + kj] * d.dy[((n * cout + co) * ho + oh) * wo + ow];
                                    sum += term;
                                    magnitude += Math.abs(term);
                                }
                            }
                        }
                        int i = ((n * cin + ci) * h + ih) * wd + iw;
                        double scale = Math.max(magnitude, Double.MIN_NORMAL);
                        worst = Math.max(worst, Math.abs(dx[i] - sum) / scale);
                        worstGemm = Math.max(worstGemm, Math.abs(dx[i] - gemm[i]) / scale);
                        if (magnitude == 0) assertTrue(dx[i] == 0f, "no tap reaches dx[" + i + "]");
                    }
                }
            }
        }
        assertTrue(worst <= BOUND, "against the definition: max |error| / sum |terms| = " + worst);
        assertTrue(worstGemm <= BOUND, "against the GEMM path: max |difference| / sum |terms| = " + worstGemm);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void sameBitsForAnyThreadCount(Conv2dGeometry g) {
        ConvTestData d = new ConvTestData(g);
        float[] one = strided(g, d, 1, CpuKernels.Path.select());
        for (int threads : new int[] {2, 3}) assertArrayEquals(one, strided(g, d, threads, CpuKernels.Path.select()), threads + " threads");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void plainAndVectorPathsGiveTheSameBits(Conv2dGeometry g) {
        assumeTrue(CpuKernels.VECTOR_API_PRESENT, "needs the Vector API in this JVM");
        ConvTestData d = new ConvTestData(g);
        assertArrayEquals(strided(g, d, 2, CpuKernels.Path.PLAIN_JAVA), strided(g, d, 2, CpuKernels.Path.VECTOR_API));
    }

    @Test
    void theConvolutionTakesItWhereTheRuleSays() {
        assertTrue(CpuStridedBackwardData.takes(conv(64, 16, 14, 14, 32, 3, 2, 1)), "16 -> 32, stride 2");
        assertTrue(CpuStridedBackwardData.takes(conv(64, 32, 7, 7, 64, 3, 2, 1)), "32 -> 64, stride 2");
        assertTrue(CpuStridedBackwardData.takes(conv(64, 16, 14, 14, 32, 1, 2, 0)), "the 1x1 shortcut 16 -> 32");
        assertTrue(CpuStridedBackwardData.takes(conv(64, 32, 7, 7, 64, 1, 2, 0)), "the 1x1 shortcut 32 -> 64");
        assertFalse(CpuStridedBackwardData.takes(conv(64, 64, 8, 8, 128, 3, 2, 1)), "64 -> 128: not measured");
        assertFalse(CpuStridedBackwardData.takes(conv(64, 16, 14, 14, 32, 3, 3, 1)), "stride 3: not measured");
        assertFalse(CpuStridedBackwardData.takes(conv(64, 16, 14, 14, 32, 5, 2, 2)), "5x5: not measured");
        assertFalse(CpuStridedBackwardData.supports(conv(64, 16, 14, 14, 32, 3, 1, 1)), "stride 1");
        assertFalse(CpuStridedBackwardData.supports(conv(64, L + 1, 14, 14, 32, 3, 2, 1)), "Cin not whole lane groups");
        assertFalse(CpuStridedBackwardData.supports(new Conv2dGeometry(4, 16, 14, 14, 16, 3, 3, 2, 2, 2, 2, 2, 2, 1)), "dilation 2");
        assertFalse(CpuStridedBackwardData.supports(new Conv2dGeometry(4, 32, 14, 14, 32, 3, 3, 2, 2, 1, 1, 1, 1, 2)), "two groups");
        assertFalse(CpuStridedBackwardData.supports(conv(1, 16, 1024, 1024, 64, 3, 2, 1)), "a sample's copies past the scratch bound");
        // through CpuConv2d, the bits of the class itself
        for (Conv2dGeometry g : new Conv2dGeometry[] {conv(3, 16, 14, 14, 32, 3, 2, 1), conv(3, 32, 7, 7, 64, 1, 2, 0)}) {
            ConvTestData d = new ConvTestData(g);
            CpuKernels.Path path = CpuKernels.Path.select();
            assertArrayEquals(strided(g, d, 2, path), viaConv2d(g, d, 2, path, true), g.toString());
        }
    }

    /** A steady backward-data of each strided layer of the small ResNet on two threads allocates nothing (child JVM, see {@link SteadyAllocationProbe}). */
    @Test
    void aSteadyCallAllocatesNothing() throws Exception {
        SteadyAllocationProbe.assertCleanInChildJvm(AllocationProbe.class);
    }

    /** The child JVM of {@link #aSteadyCallAllocatesNothing}. */
    static final class AllocationProbe {
        public static void main(String[] args) {
            Conv2dGeometry a = conv(4, 16, 14, 14, 32, 3, 2, 1), b = conv(4, 32, 7, 7, 64, 1, 2, 0);
            ConvTestData da = new ConvTestData(a), db = new ConvTestData(b);
            float[] dxa = new float[da.x.length], dxb = new float[db.x.length];
            try (CpuThreads threads = new CpuThreads(2)) {
                CpuKernels.Path path = CpuKernels.Path.select();
                CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path, true, true, true);
                Runnable call = () -> {
                    conv.backwardData(a, da.dy, da.w, dxa);
                    conv.backwardData(b, db.dy, db.w, dxb);
                };
                // Under load C2 took longer than the probe's windows to compile these kernels (a
                // run read 23 MB a window throughout): a second of calls first.
                for (long start = System.nanoTime(); System.nanoTime() - start < 1_000_000_000L; ) call.run();
                SteadyAllocationProbe.measure(call);
            }
        }
    }

    private static float[] strided(Conv2dGeometry g, ConvTestData d, int threadCount, CpuKernels.Path path) {
        try (CpuThreads threads = new CpuThreads(threadCount)) {
            float[] dx = new float[d.x.length];
            Arrays.fill(dx, Float.NaN); // every element must be written
            new CpuStridedBackwardData(threads, path).backwardData(g, d.dy, d.w, dx);
            return dx;
        }
    }

    /** Through CpuConv2d, with the strided passes on or off (off: the GEMM and col2im). */
    private static float[] viaConv2d(Conv2dGeometry g, ConvTestData d, int threadCount, CpuKernels.Path path, boolean withStrided) {
        try (CpuThreads threads = new CpuThreads(threadCount)) {
            CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path, true, true, withStrided);
            float[] dx = new float[d.x.length];
            Arrays.fill(dx, Float.NaN);
            conv.backwardData(g, d.dy, d.w, dx);
            return dx;
        }
    }
}
