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
 * Backward-filter by register tiles over a channels-last input ({@link CpuChannelVectorFilter})
 * against its definition summed in double: every dw element within 1e-5 of the sum of |terms| (the
 * chains run over at most {@link CpuChannelVectorFilter#CHAIN_DEPTH} pixels), on the small ResNet's
 * 3x3 layers and strided 1x1 shortcuts (batch 1 and 3; 16 and 24, whose work is split over the
 * workers, see {@link CpuChannelVectorFilter#PARALLEL_MIN_FLOPS}, and whose pixels make several chains)
 * and odd ones: odd sizes, padding 0 and 2, stride 3, dilation 2, output channels that are not whole
 * tiles, a 1x1 kernel with padding, each tile shape (3, 2 and 1 lane groups), and a map large enough
 * that each sample is a pass of its own. Then: the same bits on 1, 2 and 3 threads and on the plain
 * and vector paths (pinned to 256 and 512 bits by surefire), the same bits through {@link CpuConv2d},
 * which geometries it takes, and no allocation in a steady call.
 */
class CpuChannelVectorFilterTest {
    private static final int L = CpuKernels.LANES;
    private static final double BOUND = 1e-5;

    static Stream<Conv2dGeometry> convolutions() {
        return Stream.of(
                conv(3, 16, 14, 14, 16, 3, 1, 1), // the small ResNet's layers
                conv(1, 16, 14, 14, 16, 3, 1, 1),
                conv(16, 16, 14, 14, 16, 3, 1, 1), // four chains; large enough for several workers
                conv(3, 16, 14, 14, 32, 3, 2, 1),
                conv(3, 32, 7, 7, 32, 3, 1, 1),
                conv(1, 32, 7, 7, 64, 3, 2, 1),
                conv(24, 32, 7, 7, 64, 3, 2, 1), // several workers
                conv(3, 64, 4, 4, 64, 3, 1, 1),
                conv(3, 16, 14, 14, 32, 1, 2, 0), // its strided 1x1 shortcuts
                conv(1, 32, 7, 7, 64, 1, 2, 0),
                conv(3, L, 9, 11, 7, 3, 1, 0), // odd sizes, no padding, 7 output channels
                conv(2, 2 * L, 11, 5, 13, 3, 2, 2), // padding 2, stride 2 on odd sizes
                conv(1, L, 10, 10, 16, 3, 3, 1), // stride 3
                conv(2, L, 7, 9, 24, 1, 2, 1), // 1x1 with padding: reads zeros on the border
                conv(2, 2 * L, 7, 7, 16, 1, 3, 0), // 1x1 stride 3, two lane groups of columns
                new Conv2dGeometry(2, L, 9, 9, 10, 1, 5, 1, 1, 0, 2, 1, 1, 1), // 1x5: five lane groups, tiles of one
                new Conv2dGeometry(2, L, 8, 9, 8, 3, 3, 1, 1, 2, 2, 2, 2, 1), // dilation 2
                conv(2, 16, 183, 183, 8, 3, 1, 1)); // one sample per pass
    }

    private static Conv2dGeometry conv(int batch, int cin, int h, int w, int cout, int k, int stride, int pad) {
        return new Conv2dGeometry(batch, cin, h, w, cout, k, k, stride, stride, pad, pad, 1, 1, 1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void isTheDefinitionWithinTheBound(Conv2dGeometry g) {
        assertTrue(CpuChannelVectorFilter.applies(g));
        ConvTestData d = new ConvTestData(g);
        float[] dw = filter(g, d, 2, CpuKernels.Path.select());
        int ho = g.outHeight(), wo = g.outWidth();
        double[][] exact = ConvTestData.filterGradient(g, d.x, d.dy);
        double[] sum = exact[0], magnitude = exact[1];
        double worst = 0;
        for (int e = 0; e < dw.length; e++) {
            double error = Math.abs(dw[e] - sum[e]);
            assertTrue(error <= BOUND * magnitude[e] || error == 0, "dw[" + e + "] = " + dw[e] + ", expected " + sum[e]);
            if (magnitude[e] > 0) worst = Math.max(worst, error / magnitude[e]);
        }
        assertTrue(worst > 0 || g.batch() * ho * wo < 4, "an exact result everywhere is suspicious");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void sameBitsForAnyThreadCountAndPath(Conv2dGeometry g) {
        ConvTestData d = new ConvTestData(g);
        float[] one = filter(g, d, 1, CpuKernels.Path.select());
        for (int threads : new int[] {2, 3}) assertArrayEquals(one, filter(g, d, threads, CpuKernels.Path.select()), threads + " threads");
        assumeTrue(CpuKernels.VECTOR_API_PRESENT, "needs the Vector API in this JVM");
        assertArrayEquals(filter(g, d, 2, CpuKernels.Path.PLAIN_JAVA), filter(g, d, 2, CpuKernels.Path.VECTOR_API), "plain against vector path");
    }

    /**
     * The convolution's backward-filter gives these bits where it takes this kernel, not Winograd's
     * (the 32 -> 32 and 64 -> 64 layers: {@link CpuWinogradFilterTest}), and the bias gradient as before.
     */
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
            if (CpuConv2d.takesChannelVectorFilter(g) && !CpuConv2d.takesWinogradFilter(g)) assertArrayEquals(filter(g, d, 2, path), dw);
            for (int co = 0; co < g.outChannels(); co++) {
                double s = 0;
                for (int n = 0; n < g.batch(); n++) {
                    for (int q = 0; q < g.outHeight() * g.outWidth(); q++) s += d.dy[(n * g.outChannels() + co) * g.outHeight() * g.outWidth() + q];
                }
                assertEquals(s, dbias[co], 1e-5 * (1 + Math.abs(s)), "dbias[" + co + "]");
            }
        }
    }

    @Test
    void theConvolutionTakesItWhereTheRuleSays() {
        assertTrue(CpuConv2d.takesChannelVectorFilter(conv(64, 16, 14, 14, 16, 3, 1, 1)), "16 -> 16 on 14x14");
        assertTrue(CpuConv2d.takesChannelVectorFilter(conv(64, 16, 14, 14, 32, 3, 2, 1)), "16 -> 32, stride 2");
        assertTrue(CpuConv2d.takesChannelVectorFilter(conv(64, 32, 7, 7, 32, 3, 1, 1)), "32 -> 32");
        assertTrue(CpuConv2d.takesChannelVectorFilter(conv(64, 32, 7, 7, 64, 3, 2, 1)), "32 -> 64, stride 2");
        assertTrue(CpuConv2d.takesChannelVectorFilter(conv(64, 64, 4, 4, 64, 3, 1, 1)), "64 -> 64");
        assertTrue(CpuConv2d.takesChannelVectorFilter(conv(64, 16, 14, 14, 32, 1, 2, 0)), "the 1x1 shortcut 16 -> 32");
        assertTrue(CpuConv2d.takesChannelVectorFilter(conv(64, 32, 7, 7, 64, 1, 2, 0)), "the 1x1 shortcut 32 -> 64");
        assertFalse(CpuChannelVectorFilter.applies(conv(64, 1, 28, 28, 16, 3, 2, 1)), "the stem: one input channel");
        assertFalse(CpuChannelVectorFilter.applies(conv(64, L + 1, 14, 14, 16, 3, 1, 1)), "Cin not whole lane groups");
        assertFalse(CpuChannelVectorFilter.applies(conv(64, 16, 14, 14, 16, 1, 1, 0)), "1x1 stride 1: a plain GEMM");
        assertFalse(CpuChannelVectorFilter.applies(conv(64, 128, 8, 8, 128, 3, 1, 1)), "128 channels: not measured");
        assertFalse(CpuChannelVectorFilter.applies(new Conv2dGeometry(4, 32, 14, 14, 32, 3, 3, 1, 1, 1, 1, 1, 1, 2)), "two groups");
        assertFalse(CpuChannelVectorFilter.applies(conv(1, 64, 200, 200, 16, 3, 1, 1)), "one sample over the pass budget");
        assertEquals(1, CpuChannelVectorFilter.samplesPerPass(conv(3, 16, 183, 183, 8, 3, 1, 1)));
        assertEquals(64, CpuChannelVectorFilter.samplesPerPass(conv(64, 16, 14, 14, 16, 3, 1, 1)));
        assertTrue(conv(16, 16, 14, 14, 16, 3, 1, 1).flops() >= CpuChannelVectorFilter.PARALLEL_MIN_FLOPS, "a test geometry runs on several workers");
        assertTrue(conv(24, 32, 7, 7, 64, 3, 2, 1).flops() >= CpuChannelVectorFilter.PARALLEL_MIN_FLOPS, "a test geometry runs on several workers");
    }

    /** Steady backward-filter calls (a 3x3 layer split over two workers and a 1x1 shortcut, through CpuConv2d) allocate nothing on the calling thread. */
    @Test
    void aSteadyCallAllocatesNothing() throws Exception {
        SteadyAllocationProbe.assertCleanInChildJvm(AllocationProbe.class);
    }

    /** The child JVM of {@link #aSteadyCallAllocatesNothing}: prints the bytes of each window, then "clean" or "allocates". */
    static final class AllocationProbe {
        public static void main(String[] args) {
            Conv2dGeometry g = conv(16, 16, 14, 14, 16, 3, 1, 1), s = conv(8, 16, 14, 14, 32, 1, 2, 0);
            ConvTestData d = new ConvTestData(g), ds = new ConvTestData(s);
            float[] dw = new float[d.w.length], db = new float[16], dws = new float[ds.w.length], dbs = new float[32];
            try (CpuThreads threads = new CpuThreads(2)) {
                CpuKernels.Path path = CpuKernels.Path.select();
                CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path);
                SteadyAllocationProbe.measure(() -> {
                    conv.backwardFilter(g, d.x, d.dy, dw, db);
                    conv.backwardFilter(s, ds.x, ds.dy, dws, dbs);
                });
            }
        }
    }

    /** CpuChannelVectorFilter itself. */
    private static float[] filter(Conv2dGeometry g, ConvTestData d, int threadCount, CpuKernels.Path path) {
        try (CpuThreads threads = new CpuThreads(threadCount)) {
            float[] dw = new float[d.w.length];
            Arrays.fill(dw, Float.NaN); // every element must be written
            new CpuChannelVectorFilter(threads, path).backwardFilter(g, d.x, d.dy, dw);
            return dw;
        }
    }
}
