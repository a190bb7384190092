package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.neurite.backend.Conv2dGeometry;

/**
 * Winograd backward-filter ({@link CpuWinogradFilter}), F(2x2, 3x3) and F(4x4, 3x3) each, against
 * its definition summed in double: every dw element within {@link #BOUND} of the sum of |terms|,
 * on the small ResNet's 3x3 stride-1 layers (batch 1 and 3, and batches of several blocks with a
 * partial last one) and odd ones (odd and non-square maps, no padding, padding 2, input channels
 * that are not whole tiles of rows, 1 to 5 lane groups of output channels, a map of one tile);
 * the same bits on 1, 2 and 3 threads and on the plain and vector paths (run pinned to 256 and
 * 512 bits with {@code -Dtest}); the error on the small ResNet's layers at batch 64 with N(0, 1)
 * data next to {@link CpuChannelVectorFilter}'s; the same bits through {@link CpuConv2d} where it
 * takes it; which geometries it takes and with which tile; both output-gradient transforms on both
 * paths against {@code A dY A^T}; no allocation in a steady call.
 */
class CpuWinogradFilterTest {
    private static final int L = CpuKernels.LANES;
    /**
     * Error bound relative to the sum of |terms| of the element. V and dM add values of both signs
     * (F(4x4): with weights up to 8 and 5), and G^T dU G adds up dU values, so the error scales
     * with sums of |dy| |x| over more terms per tile than the 9 of the definition; measured worst
     * at batch 64 with N(0, 1) data 9.3e-7 (F(4x4) on 64 -> 64), see
     * {@link #batch64ErrorOnTheSmallResNet}.
     */
    private static final double BOUND = 1e-5;

    static Stream<Conv2dGeometry> convolutions() {
        return Stream.of(
                conv(1, 16, 14, 14, 16, 1), // the small ResNet's layers
                conv(3, 16, 14, 14, 16, 1),
                conv(3, 32, 7, 7, 32, 1),
                conv(3, 64, 4, 4, 64, 1),
                conv(13, 16, 14, 14, 16, 1), // several blocks, the last one partial; several workers
                conv(17, 2, 44, 44, 32, 1), // one sample per block by the budget would be 17 blocks: two per block
                conv(2, 7, 9, 11, L, 0), // odd sizes, no padding, 7 input channels
                conv(2, 13, 11, 5, 2 * L, 2), // padding 2 on odd sizes, 13 input channels
                conv(3, 17, 5, 9, 3 * L, 1), // Cin 17 (rows of two tiles, the last partial), three lane groups
                conv(2, 3, 7, 7, 5 * L, 1), // five lane groups: tiles of one
                conv(2, 33, 3, 3, L, 0)); // a 1x1 output: one tile with three zero outputs
    }

    private static Conv2dGeometry conv(int batch, int cin, int h, int w, int cout, int pad) {
        return new Conv2dGeometry(batch, cin, h, w, cout, 3, 3, 1, 1, pad, pad, 1, 1, 1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void isTheDefinitionWithinTheBound(Conv2dGeometry g) {
        assertTrue(CpuWinogradFilter.applies(g));
        ConvTestData d = new ConvTestData(g);
        double[][] reference = definition(g, d.x, d.dy);
        for (int tile : new int[] {2, 4}) {
            float[] dw = filter(g, d.x, d.dy, 2, CpuKernels.Path.select(), tile);
            double worst = 0;
            for (int e = 0; e < dw.length; e++) {
                double error = Math.abs(dw[e] - reference[0][e]);
                assertTrue(error <= BOUND * reference[1][e] || error == 0,
                        "F(" + tile + "x" + tile + "): dw[" + e + "] = " + dw[e] + ", expected " + reference[0][e]);
                if (reference[1][e] > 0) worst = Math.max(worst, error / reference[1][e]);
            }
            assertTrue(worst > 0, "an exact result everywhere is suspicious");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void sameBitsForAnyThreadCountAndPath(Conv2dGeometry g) {
        ConvTestData d = new ConvTestData(g);
        for (int tile : new int[] {2, 4}) {
            float[] one = filter(g, d.x, d.dy, 1, CpuKernels.Path.select(), tile);
            for (int threads : new int[] {2, 3}) {
                assertArrayEquals(one, filter(g, d.x, d.dy, threads, CpuKernels.Path.select(), tile), "F(" + tile + "x" + tile + "), " + threads + " threads");
            }
            if (!CpuKernels.VECTOR_API_PRESENT) continue;
            assertArrayEquals(filter(g, d.x, d.dy, 2, CpuKernels.Path.PLAIN_JAVA, tile), filter(g, d.x, d.dy, 2, CpuKernels.Path.VECTOR_API, tile),
                    "F(" + tile + "x" + tile + "): plain against vector path");
        }
    }

    /** The transform on both paths against {@code A dY A^T} in double, on values whose sums of four are exact (so equal). */
    @Test
    void theOutputGradientTransformIsTheAdjointOfTheOutputTransform() {
        int count = 3 * L + 5, os = count + 3, ps = count + 7;
        SplittableRandom rnd = new SplittableRandom(7);
        float[] d = new float[4 * os];
        for (int i = 0; i < d.length; i++) d[i] = rnd.nextInt(-1024, 1024) / 8f; // sums of four are exact
        for (CpuKernels.Path path : CpuKernels.VECTOR_API_PRESENT
                ? new CpuKernels.Path[] {CpuKernels.Path.PLAIN_JAVA, CpuKernels.Path.VECTOR_API} : new CpuKernels.Path[] {CpuKernels.Path.PLAIN_JAVA}) {
            float[] m = new float[16 * ps + 2];
            path.perWorker(1)[0].winogradOutputGradient(d, os, count, m, 2, ps);
            double[][] a = {{1, 0}, {1, 1}, {1, -1}, {0, -1}}; // A = (A^T)^T of the forward
            for (int t = 0; t < count; t++) {
                for (int p = 0; p < 16; p++) {
                    double expected = 0;
                    for (int i = 0; i < 2; i++) {
                        for (int j = 0; j < 2; j++) expected += a[p / 4][i] * d[(2 * i + j) * os + t] * a[p % 4][j];
                    }
                    assertEquals(expected, m[2 + p * ps + t], 0.0, path + " t " + t + " position " + p); // 0.0 == -0.0
                }
            }
        }
    }

    /** F(4x4, 3x3)'s transform on both paths against {@code A dY A^T} in double, on values whose sums are exact (so equal). */
    @Test
    void theFourByFourOutputGradientTransformIsTheAdjointOfItsOutputTransform() {
        int count = 2 * L + 3, os = count + 5, ps = count + 9;
        SplittableRandom rnd = new SplittableRandom(11);
        float[] d = new float[16 * os];
        for (int i = 0; i < d.length; i++) d[i] = rnd.nextInt(-1024, 1024) / 8f; // every sum below needs at most 19 bits
        double[][] at = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}}; // A^T of the forward
        for (CpuKernels.Path path : CpuKernels.VECTOR_API_PRESENT
                ? new CpuKernels.Path[] {CpuKernels.Path.PLAIN_JAVA, CpuKernels.Path.VECTOR_API} : new CpuKernels.Path[] {CpuKernels.Path.PLAIN_JAVA}) {
            float[] m = new float[36 * ps + 1];
            path.perWorker(1)[0].winograd4OutputGradient(d, os, count, m, 1, ps);
            for (int t = 0; t < count; t++) {
                for (int p = 0; p < 36; p++) {
                    double expected = 0;
                    for (int i = 0; i < 4; i++) {
                        for (int j = 0; j < 4; j++) expected += at[i][p / 6] * d[(4 * i + j) * os + t] * at[j][p % 6];
                    }
                    assertEquals(expected, m[1 + p * ps + t], 0.0, path + " t " + t + " position " + p);
                }
            }
        }
    }

    /**
     * The small ResNet's three layers at batch 64 with x and dy drawn from N(0, 1): max and mean of
     * |dw - exact| / sum of |terms| for this path and for {@link CpuChannelVectorFilter}, printed
     * (the figures in the class comments) and bounded.
     */
    @Test
    void batch64ErrorOnTheSmallResNet() {
        for (Conv2dGeometry g : new Conv2dGeometry[] {conv(64, 16, 14, 14, 16, 1), conv(64, 32, 7, 7, 32, 1), conv(64, 64, 4, 4, 64, 1)}) {
            SplittableRandom rnd = new SplittableRandom(g.hashCode());
            float[] x = gaussian(rnd, g.batch() * g.inChannels() * g.height() * g.width());
            float[] dy = gaussian(rnd, g.batch() * g.outChannels() * g.outHeight() * g.outWidth());
            double[][] reference = definition(g, x, dy);
            float[] direct = new float[g.outChannels() * g.inChannels() * 9];
            try (CpuThreads threads = new CpuThreads(2)) {
                new CpuChannelVectorFilter(threads, CpuKernels.Path.select()).backwardFilter(g, x, dy, direct);
            }
            double[] c = relativeErrors(direct, reference);
            for (int tile : new int[] {2, 4}) {
                double[] w = relativeErrors(filter(g, x, dy, 2, CpuKernels.Path.select(), tile), reference);
                System.out.printf("%s: F(%dx%d) max %.3g mean %.3g, channel-vector max %.3g mean %.3g%n", g, tile, tile, w[0], w[1], c[0], c[1]);
                assertTrue(w[0] <= BOUND, "max relative error " + w[0]);
                assertTrue(w[1] <= 20 * c[1] + 1e-7, "mean relative error " + w[1] + " against the direct form's " + c[1]);
            }
        }
    }

    /** The convolution's backward-filter gives these bits where it takes this kernel. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void theConvolutionGivesItsBits(Conv2dGeometry g) {
        ConvTestData d = new ConvTestData(g);
        try (CpuThreads threads = new CpuThreads(2)) {
            CpuKernels.Path path = CpuKernels.Path.select();
            CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path);
            float[] dw = new float[d.w.length], dbias = new float[g.outChannels()];
            Arrays.fill(dw, Float.NaN);
            conv.backwardFilter(g, d.x, d.dy, dw, dbias);
            if (CpuConv2d.takesWinogradFilter(g) && CpuWinogradFilter.ENABLED) assertArrayEquals(filter(g, d.x, d.dy, 2, path, 0), dw);
        }
    }

    @Test
    void whichGeometriesItTakes() {
        assertTrue(CpuConv2d.takesWinogradFilter(conv(64, 32, 7, 7, 32, 1)), "the small ResNet's 32 -> 32 on 7x7");
        assertTrue(CpuConv2d.takesWinogradFilter(conv(64, 64, 4, 4, 64, 1)), "the small ResNet's 64 -> 64 on 4x4");
        assertTrue(CpuConv2d.takesWinogradFilter(conv(64, 128, 8, 8, 128, 1)), "128 -> 128 on 8x8");
        assertFalse(CpuConv2d.takesWinogradFilter(conv(64, 16, 14, 14, 16, 1)), "16 -> 16 on 14x14: the channel-vector form is faster");
        assertFalse(CpuConv2d.takesWinogradFilter(conv(64, 16, 8, 8, 32, 1)), "16 input channels");
        assertEquals(4, CpuWinogradFilter.outputTile(conv(64, 32, 7, 7, 32, 1)), "32 -> 32: F(4x4, 3x3)");
        assertEquals(2, CpuWinogradFilter.outputTile(conv(64, 64, 4, 4, 64, 1)), "64 -> 64: F(2x2, 3x3)");
        assertEquals(2, CpuWinogradFilter.outputTile(conv(64, 32, 8, 8, 64, 1)), "32 -> 64: F(2x2, 3x3)");
        assertFalse(CpuWinogradFilter.applies(new Conv2dGeometry(4, 16, 14, 14, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1)), "stride 2");
        assertFalse(CpuWinogradFilter.applies(new Conv2dGeometry(4, 16, 14, 14, 16, 3, 3, 1, 1, 2, 2, 2, 2, 1)), "dilation 2");
        assertFalse(CpuWinogradFilter.applies(new Conv2dGeometry(4, 16, 14, 14, 16, 3, 3, 1, 1, 1, 1, 1, 1, 2)), "two groups");
        assertFalse(CpuWinogradFilter.applies(new Conv2dGeometry(4, 16, 14, 14, 16, 5, 5, 1, 1, 2, 2, 1, 1, 1)), "5x5");
        assertFalse(CpuWinogradFilter.applies(new Conv2dGeometry(4, 16, 14, 14, 16, 1, 1, 1, 1, 0, 0, 1, 1, 1)), "1x1");
        assertFalse(CpuWinogradFilter.applies(conv(4, 16, 14, 14, L + 1, 1)), "output channels not in whole lane groups");
        assertFalse(CpuWinogradFilter.applies(conv(1, 256, 64, 64, 16 * L, 1)), "one sample over the budget");
        assertEquals(11, CpuWinogradFilter.samplesPerBlock(conv(64, 16, 14, 14, 16, 1)), "14 by the budget: 5 blocks, then 6");
        assertEquals(32, CpuWinogradFilter.samplesPerBlock(conv(64, 64, 4, 4, 64, 1)), "32 by the budget: 2 blocks");
        assertEquals(25, CpuWinogradFilter.samplesPerBlock(conv(50, 64, 4, 4, 64, 1)));
        assertEquals(32, CpuWinogradFilter.samplesPerBlock(conv(64, 64, 2, 2, 64, 1)), "64 by the budget: at least 2 blocks");
        assertEquals(2, CpuWinogradFilter.samplesPerBlock(conv(17, 2, 44, 44, 32, 1)), "at most MAX_BLOCKS blocks");
        assertEquals(1, CpuWinogradFilter.samplesPerBlock(conv(1, 64, 4, 4, 64, 1)));
        assertTrue(conv(13, 16, 14, 14, 16, 1).flops() >= 1L << 18, "a test geometry runs on several workers");
    }

    /** Steady backward-filter calls (16 -> 16 split over two workers, directly, and 64 -> 64 through CpuConv2d) allocate nothing on the calling thread. */
    @Test
    void aSteadyCallAllocatesNothing() throws Exception {
        SteadyAllocationProbe.assertCleanInChildJvm(AllocationProbe.class);
    }

    /** The child JVM of {@link #aSteadyCallAllocatesNothing}: prints the bytes of each window, then "clean" or "allocates". */
    static final class AllocationProbe {
        public static void main(String[] args) {
            Conv2dGeometry g = conv(16, 16, 14, 14, 16, 1), h = conv(8, 64, 4, 4, 64, 1);
            ConvTestData d = new ConvTestData(g), e = new ConvTestData(h);
            float[] dw = new float[d.w.length], dwh = new float[e.w.length], db = new float[64];
            try (CpuThreads threads = new CpuThreads(2)) {
                CpuKernels.Path path = CpuKernels.Path.select();
                CpuWinogradFilter filter = new CpuWinogradFilter(threads, path);
                CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path);
                SteadyAllocationProbe.measure(() -> {
                    filter.backwardFilter(g, d.x, d.dy, dw);
                    conv.backwardFilter(h, e.x, e.dy, dwh, db);
                });
            }
        }
    }

    /** CpuWinogradFilter itself, with output tiles of {@code tile x tile} (0: its own choice). */
    private static float[] filter(Conv2dGeometry g, float[] x, float[] dy, int threadCount, CpuKernels.Path path, int tile) {
        try (CpuThreads threads = new CpuThreads(threadCount)) {
            float[] dw = new float[g.outChannels() * g.inChannels() * 9];
            Arrays.fill(dw, Float.NaN); // every element must be written
            new CpuWinogradFilter(threads, path, tile).backwardFilter(g, x, dy, dw);
            return dw;
        }
    }

    /** dw summed in double ([0]) and the sum of |terms| of each element ([1]). */
    private static double[][] definition(Conv2dGeometry g, float[] x, float[] dy) {
        int cin = g.inChannels(), cout = g.outChannels(), h = g.height(), w = g.width(), ho = g.outHeight(), wo = g.outWidth();
        double[] sum = new double[cout * cin * 9], magnitude = new double[sum.length];
        for (int n = 0; n < g.batch(); n++) {
            for (int co = 0; co < cout; co++) {
                for (int c = 0; c < cin; c++) {
                    for (int ki = 0; ki < 3; ki++) {
                        for (int kj = 0; kj < 3; kj++) {
                            int e = (co * cin + c) * 9 + ki * 3 + kj;
                            double s = 0, m = 0;
                            for (int oh = 0; oh < ho; oh++) {
                                int ih = oh - g.padH() + ki;
                                if (ih < 0 || ih >= h) continue;
                                for (int ow = 0; ow < wo; ow++) {
                                    int iw = ow - g.padW() + kj;
                                    if (iw < 0 || iw >= w) continue;
                                    double term = (double) dy[((n * cout + co) * ho + oh) * wo + ow] * x[((n * cin + c) * h + ih) * w + iw];
                                    s += term;
                                    m += Math.abs(term);
                                }
                            }
                            sum[e] += s;
                            magnitude[e] += m;
                        }
                    }
                }
            }
        }
        return new double[][] {sum, magnitude};
    }

    /** Max and mean over the elements of |dw - exact| / sum of |terms|. */
    private static double[] relativeErrors(float[] dw, double[][] reference) {
        double max = 0, total = 0;
        for (int e = 0; e < dw.length; e++) {
            double r = Math.abs(dw[e] - reference[0][e]) / reference[1][e];
            max = Math.max(max, r);
            total += r;
        }
        return new double[] {max, total / dw.length};
    }

    private static float[] gaussian(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            double u1 = 1 - rnd.nextDouble(), u2 = rnd.nextDouble();
            v[i] = (float) (Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
        }
        return v;
    }
}
