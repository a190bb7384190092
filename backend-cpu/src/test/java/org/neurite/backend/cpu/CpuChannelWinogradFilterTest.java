package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.neurite.backend.Conv2dGeometry;

/**
 * {@link CpuChannelWinogradFilter} (the F(4x4, 3x3) filter gradient over channels-last tiles)
 * against dw's definition in double ({@link ConvTestData#filterGradient}): for every weight,
 * {@code |dw - exact| <= }{@link CpuWinogradConv2dTest#BOUND_4X4} times the largest sum of
 * |dy||x| over the terms of a weight of its (co, ci) pair (the transforms mix a pair's nine taps,
 * so the error of a small tap scales with its neighbours'), on the small ResNet's 32 -> 32 and
 * 64 -> 64 layers and odd ones: tiles past the output (5x5 and 6x6 maps, padding 0 and 2), one
 * tile a sample, 48 channels (a pair of vectors and one at 512 bits). Then: the same bits for 1, 2
 * and 3 threads and on both paths (pinned to 256 and 512 bits too), {@link CpuConv2d} takes it
 * exactly where {@link CpuChannelWinogradFilter#applies}, and a steady call allocates nothing.
 */
class CpuChannelWinogradFilterTest {
    static Stream<Conv2dGeometry> convolutions() {
        return Stream.of(
                conv(3, 32, 7, 7, 32, 1), // the small ResNet's 32 -> 32 and 64 -> 64
                conv(4, 64, 4, 4, 64, 1),
                conv(2, 32, 5, 5, 48, 0), // unpadded 3x3 outputs, one tile part empty
                conv(3, 48, 6, 6, 32, 2), // padding 2: 8x8 outputs
                conv(9, 32, 4, 4, 64, 1)); // one tile a sample
    }

    private static Conv2dGeometry conv(int batch, int cin, int h, int w, int cout, int pad) {
        return new Conv2dGeometry(batch, cin, h, w, cout, 3, 3, 1, 1, pad, pad, 1, 1, 1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void theGradientIsTheDefinitionWithinTheBound(Conv2dGeometry g) {
        ConvTestData d = new ConvTestData(g);
        float[] dw = gradient(g, d, 2, CpuKernels.Path.select());
        double[][] exact = ConvTestData.filterGradient(g, d.x, d.dy);
        double worst = 0;
        for (int pair = 0; pair < g.outChannels() * g.inChannels(); pair++) {
            double scale = 0;
            for (int k = 0; k < 9; k++) scale = Math.max(scale, exact[1][pair * 9 + k]);
            for (int k = 0; k < 9; k++) {
                double error = Math.abs(dw[pair * 9 + k] - exact[0][pair * 9 + k]) / scale;
                if (!(error <= worst)) worst = error; // NaN wins
            }
        }
        System.out.printf("channels-last winograd backward-filter %s: max |error| / max sum|dy||x| of the pair %.3g%n", g, worst);
        assertTrue(worst <= CpuWinogradConv2dTest.BOUND_4X4, "error " + worst);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void sameBitsForAnyThreadCountAndOnBothPaths(Conv2dGeometry g) {
        ConvTestData d = new ConvTestData(g);
        float[] one = gradient(g, d, 1, CpuKernels.Path.select());
        for (int threads : new int[] {2, 3}) assertArrayEquals(one, gradient(g, d, threads, CpuKernels.Path.select()), threads + " threads");
        if (CpuKernels.VECTOR_API_PRESENT) {
            assertArrayEquals(gradient(g, d, 2, CpuKernels.Path.PLAIN_JAVA), gradient(g, d, 2, CpuKernels.Path.VECTOR_API), "plain and vector paths");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void theConvolutionTakesItWhereTheRuleSays(Conv2dGeometry g) {
        ConvTestData d = new ConvTestData(g);
        try (CpuThreads threads = new CpuThreads(2)) {
            CpuKernels.Path path = CpuKernels.Path.select();
            CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path);
            float[] dw = new float[d.w.length], db = new float[g.outChannels()];
            conv.backwardFilter(g, d.x, d.dy, dw, db);
            assertEquals(CpuChannelWinogradFilter.applies(g), Arrays.equals(gradient(g, d, 2, path), dw), "took it: " + CpuChannelWinogradFilter.applies(g));
        }
    }

    @Test
    void theRuleFollowsTheForward() {
        assertTrue(CpuChannelWinogradFilter.applies(conv(32, 32, 7, 7, 32, 1)), "the small ResNet's 32 -> 32");
        assertTrue(CpuChannelWinogradFilter.applies(conv(32, 64, 4, 4, 64, 1)), "the small ResNet's 64 -> 64");
        assertEquals(false, CpuChannelWinogradFilter.applies(conv(32, 16, 14, 14, 16, 1)), "16 -> 16: not the forward's either");
        assertEquals(false, CpuChannelWinogradFilter.applies(conv(20000, 64, 14, 14, 64, 1)), "V and Y over 32 MiB");
    }

    /** A steady backward-filter through {@link CpuConv2d} on two threads allocates nothing on the calling thread (child JVM). */
    @Test
    void aSteadyCallAllocatesNothing() throws Exception {
        SteadyAllocationProbe.assertCleanInChildJvm(AllocationProbe.class);
    }

    /** The child JVM of {@link #aSteadyCallAllocatesNothing}. */
    static final class AllocationProbe {
        public static void main(String[] args) {
            Conv2dGeometry g = conv(4, 32, 7, 7, 32, 1), g64 = conv(8, 64, 4, 4, 64, 1);
            ConvTestData d = new ConvTestData(g), d64 = new ConvTestData(g64);
            float[] dw = new float[d.w.length], dw64 = new float[d64.w.length];
            try (CpuThreads threads = new CpuThreads(2)) {
                CpuKernels.Path path = CpuKernels.Path.select();
                CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path);
                SteadyAllocationProbe.measure(() -> {
                    conv.backwardFilter(g, d.x, d.dy, dw, null);
                    conv.backwardFilter(g64, d64.x, d64.dy, dw64, null);
                });
            }
        }
    }

    private static float[] gradient(Conv2dGeometry g, ConvTestData d, int threadCount, CpuKernels.Path path) {
        try (CpuThreads threads = new CpuThreads(threadCount)) {
            float[] dw = new float[d.w.length];
            Arrays.fill(dw, Float.NaN); // every weight must be written
            new CpuChannelWinogradFilter(threads, path).backwardFilter(g, d.x, d.dy, dw);
            return dw;
        }
    }
}
