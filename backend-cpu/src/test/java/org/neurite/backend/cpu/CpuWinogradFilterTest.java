package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.neurite.backend.Conv2dGeometry;

/**
 * {@link CpuWinogradFilter} (the filter gradient of 5x5 layers by F(2x2, 5x5), of 3x3 ones by
 * F(4x4, 3x3)) against the definition summed in double and against the path {@link CpuConv2d}
 * takes without Winograd, on fashion_cnn's c2, the small ResNet's 32 -> 32 and 64 -> 64 layers and
 * odd geometries: odd output sizes (the last tile row and column half
 * outside the output, where dy is taken as 0), padding 0, 1 and 2, batch 1 to 19 (more blocks
 * than {@link CpuWinogradFilter#MAX_GROUPS}, and fewer), channel counts that are not multiples
 * of the vector width or of the micro-tile's rows. Then the invariants: the same bits for 1, 2
 * and 3 threads and on the plain and the Vector API path.
 *
 * <p>The bound: as the forward's, the error scales with the terms, not with the result; and as
 * the transforms mix the weights of a (co, ci) pair (through the 6x6 blocks, padding included),
 * with the pair's terms: for every weight, {@code |winograd - exact| <= BOUND * s},
 * s the largest sum of |dy||x| over one weight's terms within its pair, BOUND the forward's:
 * 2^-18 (3.8e-6) for F(2x2, 5x5), 2^-16 (1.5e-5) for F(4x4, 3x3)
 * ({@link CpuWinogradConv2dTest#BOUND_5X5}, {@link CpuWinogradConv2dTest#BOUND_4X4}). Measured
 * ({@link #matchesTheDefinition} prints it): see backend-cpu/README.md.
 */
class CpuWinogradFilterTest {
    /** The bound for F(2x2, 5x5); see the class comment. */
    static final double BOUND_5X5 = CpuWinogradConv2dTest.BOUND_5X5;
    /** The bound for F(4x4, 3x3); see the class comment. */
    static final double BOUND_4X4 = CpuWinogradConv2dTest.BOUND_4X4;

    private static double bound(Conv2dGeometry g) {
        return g.kernelH() == 5 ? BOUND_5X5 : BOUND_4X4;
    }

    static Stream<Conv2dGeometry> convolutions() {
        return Stream.of(
                conv5(3, 32, 14, 14, 64, 2), // fashion_cnn's c2 (batch 3)
                conv5(19, 32, 14, 14, 64, 2), // 19 blocks of one sample in 8 groups
                conv5(1, 33, 7, 9, 35, 2), // odd sizes, batch 1: 7x9 outputs
                conv5(3, 34, 9, 8, 32, 0), // no padding: 5x4 outputs
                conv5(2, 40, 6, 5, 48, 1), // padding 1: 4x3 outputs
                conv3(64, 32, 7, 7, 32, 1), // the small ResNet's 32 -> 32 on 7x7 (batch 64): F(4x4, 3x3), 2x2 tiles a sample
                conv3(64, 64, 4, 4, 64, 1), // its 64 -> 64 on 4x4: one tile a sample, 32-sample blocks
                conv3(3, 33, 9, 6, 40, 0), // odd sizes, no padding: 7x4 outputs
                conv3(1, 32, 5, 5, 35, 2)); // padding 2: 7x7 outputs, batch 1
    }

    private static Conv2dGeometry conv3(int batch, int cin, int h, int w, int cout, int pad) {
        return new Conv2dGeometry(batch, cin, h, w, cout, 3, 3, 1, 1, pad, pad, 1, 1, 1);
    }

    private static Conv2dGeometry conv5(int batch, int cin, int h, int w, int cout, int pad) {
        return new Conv2dGeometry(batch, cin, h, w, cout, 5, 5, 1, 1, pad, pad, 1, 1, 1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void matchesTheDefinition(Conv2dGeometry g) {
        assertTrue(CpuWinogradFilter.applies(g));
        ConvTestData d = new ConvTestData(g);
        double[][] exact = ConvTestData.filterGradient(g, d.x, d.dy);
        float[] dw = winograd(g, d, 2, CpuKernels.Path.select());
        double worst = 0;
        double[] scale = pairScale(exact[1], g.kernelH() * g.kernelW());
        for (int i = 0; i < dw.length; i++) {
            double relative = Math.abs(dw[i] - exact[0][i]) / scale[i];
            assertTrue(relative <= bound(g), "weight " + i + ": " + dw[i] + " against " + exact[0][i] + ", error " + relative + " of the pair's largest sum |dy||x|");
            worst = Math.max(worst, relative);
        }
        System.out.printf("winograd filter gradient %s: max |error| / the pair's largest sum|dy||x| %.3g%n", g, worst);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void cpuConv2dTakesItAndAgreesWithTheOtherPaths(Conv2dGeometry g) {
        ConvTestData d = new ConvTestData(g);
        float[] with = throughConv(g, d, true), without = throughConv(g, d, false);
        // the layers of 32 to 64 channels take the channels-last form first (CpuChannelWinogradFilterTest)
        float[] expected = CpuChannelWinogradFilter.applies(g) ? channelsLast(g, d) : winograd(g, d, 2, CpuKernels.Path.select());
        assertArrayEquals(expected, with, "CpuConv2d with Winograd takes the Winograd filter gradient");
        assertFalse(Arrays.equals(with, without), "the other path rounds differently: the comparison is not vacuous");
        double[] scale = pairScale(ConvTestData.filterGradient(g, d.x, d.dy)[1], g.kernelH() * g.kernelW());
        for (int i = 0; i < with.length; i++) {
            assertTrue(Math.abs(with[i] - without[i]) <= 2 * bound(g) * scale[i], "weight " + i + ": " + with[i] + " against " + without[i]);
        }
    }

    private static float[] channelsLast(Conv2dGeometry g, ConvTestData d) {
        try (CpuThreads threads = new CpuThreads(2)) {
            float[] dw = new float[d.w.length];
            new CpuChannelWinogradFilter(threads, CpuKernels.Path.select()).backwardFilter(g, d.x, d.dy, dw);
            return dw;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void theSameBitsForAnyThreadCountAndEitherPath(Conv2dGeometry g) {
        ConvTestData d = new ConvTestData(g);
        float[] one = winograd(g, d, 1, CpuKernels.Path.select());
        for (int threads = 2; threads <= 3; threads++) {
            assertArrayEquals(one, winograd(g, d, threads, CpuKernels.Path.select()), threads + " threads");
        }
        assertArrayEquals(winograd(g, d, 2, CpuKernels.Path.PLAIN_JAVA), winograd(g, d, 2, CpuKernels.Path.VECTOR_API));
    }

    @Test
    void aPairsFilterTransformIsTimesG4OnTheRowsThenTheColumns() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        int cin = 5;
        double[] du = new double[36 * cin];
        for (int i = 0; i < du.length; i++) du[i] = random.nextGaussian() * Math.pow(10, random.nextInt(-3, 4));
        for (int ci = 0; ci < cin; ci++) {
            double[] rows = new double[39];
            for (int a = 0; a < 6; a++) timesG4(du, 6 * a * cin + ci, cin, rows, 3 * a, 1);
            for (int c = 0; c < 3; c++) timesG4(rows, c, 3, rows, 30 + c, 3);
            float[] expected = new float[9 + 2], written = new float[9 + 2];
            Arrays.fill(written, -7f);
            for (int i = 0; i < 9; i++) expected[1 + i] = (float) rows[30 + i];
            expected[0] = expected[10] = -7f;
            CpuWinogradFilter.pairG4(du, ci, cin, written, 1);
            assertArrayEquals(expected, written, "input channel " + ci);
        }
    }

    /**
     * The reference for {@link CpuWinogradFilter#pairG4}, one step at a time: three values
     * {@code out_c = sum over b of in_b G[b][c]} for F(4x4, 3x3)'s G from six,
     * {@code in_b = src[i + b * is]}, into {@code dst[o + c * os]}.
     */
    private static void timesG4(double[] src, int i, int is, double[] dst, int o, int os) {
        double sixth = 1.0 / 6, twentyFourth = 1.0 / 24;
        double w0 = src[i] * 0.25, w1 = -src[i + is] * sixth, w2 = -src[i + 2 * is] * sixth;
        double w3 = src[i + 3 * is] * twentyFourth, w4 = src[i + 4 * is] * twentyFourth, w5 = src[i + 5 * is];
        dst[o] = w0 + w1 + w2 + w3 + w4;
        dst[o + os] = w1 - w2 + 2 * (w3 - w4);
        dst[o + 2 * os] = w1 + w2 + 4 * (w3 + w4) + w5;
    }

    @Test
    void aSecondCallOverwritesTheFirstsGradient() {
        Conv2dGeometry small = conv5(2, 32, 7, 7, 32, 2), large = conv5(5, 32, 7, 7, 32, 2);
        ConvTestData ds = new ConvTestData(small), dl = new ConvTestData(large);
        try (CpuThreads threads = new CpuThreads(2)) {
            CpuKernels.Path path = CpuKernels.Path.select();
            CpuWinogradFilter filter = new CpuWinogradFilter(threads, new CpuGemm(threads, path), path);
            float[] first = new float[ds.w.length], again = new float[ds.w.length], between = new float[dl.w.length];
            filter.backwardFilter(small, ds.x, ds.dy, first);
            filter.backwardFilter(large, dl.x, dl.dy, between); // more groups, larger scratch
            Arrays.fill(again, Float.NaN);
            filter.backwardFilter(small, ds.x, ds.dy, again);
            assertArrayEquals(first, again);
        }
    }

    @Test
    void theRuleTakes3x3LayersOnFourByFourTiles() {
        assertTrue(CpuWinogradFilter.applies(conv3(64, 32, 7, 7, 32, 1)), "the small ResNet's 32 -> 32 on 7x7");
        assertTrue(CpuWinogradFilter.applies(conv3(64, 64, 4, 4, 64, 1)), "its 64 -> 64 on 4x4");
        assertFalse(CpuWinogradFilter.applies(conv3(64, 16, 14, 14, 16, 1)), "its 16 -> 16: under 32 channels");
        assertFalse(CpuWinogradFilter.applies(conv3(64, 32, 4, 4, 32, 0)), "2x2 outputs: F(2x2, 3x3) tiles");
    }

    @Test
    void theRuleTakes5x5LayersThatTheForwardRunsByWinograd() {
        assertTrue(CpuWinogradFilter.applies(conv5(64, 32, 14, 14, 64, 2)), "fashion_cnn's c2");
        assertFalse(CpuWinogradFilter.applies(conv5(64, 6, 14, 14, 16, 0)), "lenet5's c3: 6 -> 16");
        assertFalse(CpuWinogradFilter.applies(conv5(64, 1, 28, 28, 32, 2)), "fashion_cnn's c1: one input channel");
        assertFalse(CpuWinogradFilter.applies(new Conv2dGeometry(4, 32, 8, 8, 32, 5, 5, 2, 2, 2, 2, 1, 1, 1)), "stride 2");
        assertFalse(CpuWinogradFilter.applies(conv5(4, 256, 8, 8, 256, 2)), "256 -> 256: 19M floats of partial sums");
    }

    private static float[] winograd(Conv2dGeometry g, ConvTestData d, int threadCount, CpuKernels.Path path) {
        try (CpuThreads threads = new CpuThreads(threadCount)) {
            CpuWinogradFilter filter = new CpuWinogradFilter(threads, new CpuGemm(threads, path), path);
            float[] dw = new float[d.w.length];
            Arrays.fill(dw, Float.NaN); // every weight must be written
            filter.backwardFilter(g, d.x, d.dy, dw);
            return dw;
        }
    }

    private static float[] throughConv(Conv2dGeometry g, ConvTestData d, boolean withWinograd) {
        try (CpuThreads threads = new CpuThreads(2)) {
            CpuKernels.Path path = CpuKernels.Path.select();
            CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path, withWinograd, false);
            float[] dw = new float[d.w.length], dbias = new float[g.outChannels()];
            conv.backwardFilter(g, d.x, d.dy, dw, dbias);
            return dw;
        }
    }

    /** Per weight, the largest of {@code magnitude} over the {@code taps} weights of its (co, ci) pair. */
    private static double[] pairScale(double[] magnitude, int taps) {
        double[] scale = new double[magnitude.length];
        for (int pair = 0; pair < magnitude.length / taps; pair++) {
            double most = 0;
            for (int i = 0; i < taps; i++) most = Math.max(most, magnitude[taps * pair + i]);
            Arrays.fill(scale, taps * pair, taps * pair + taps, most);
        }
        return scale;
    }
}
