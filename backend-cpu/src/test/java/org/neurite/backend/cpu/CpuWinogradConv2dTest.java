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
 * {@link CpuWinogradConv2d} (F(4x4, 3x3), F(2x2, 3x3) and F(2x2, 5x5)) against the definition summed in double
 * and against the GEMM path ({@link CpuConv2d} without Winograd), on the small ResNet's layers,
 * fashion_cnn's 5x5 c2 and LeNet-5's c3, and odd ones:
 * odd output sizes (the last tile row and column half outside the output), padding 0, 1 and 2,
 * batch 1 and 3, channel counts that are not multiples of the vector width or of the micro-tile's
 * rows, and 16-channel layers that the rule leaves to the GEMM. Through {@link CpuConv2d}: the
 * forward and the stride-1 backward-data (the forward convolution of dy) take Winograd exactly
 * where {@link CpuWinogradConv2d#applies} (its channels-last form where {@link CpuChannelWinograd#applies}).
 * Then the invariants: the same bits for 1, 2 and 3
 * threads and on the plain and the Vector API path.
 *
 * <p>The error bound: the transforms add terms of both signs before the products, so the error
 * scales with the terms, not with the result. For every output,
 * {@code |winograd - exact| <= BOUND * (|bias| + sum of |w||x| over its terms)}, BOUND = 2^-21
 * (4 float ulps of 1, 4.8e-7). Measured on these geometries: at most 2.7e-7 for Winograd, and
 * 2.7e-7 for the GEMM path, whose single fma chain over 9 Cin terms rounds as much.
 *
 * <p>F(2x2, 5x5) rounds more: its transforms multiply by up to 5 and its filter transform by
 * sixths and twenty-fourths (points 0, 1, -1, 2, -2), so {@link #BOUND_5X5} = 2^-18 (3.8e-6).
 * Measured: 3.9e-7 to 8.8e-7 for the forwards, up to 1.9e-6 for a backward-data (dy padded by 4,
 * 34 -> 32 channels), against 2.4e-7 for the GEMM path.
 *
 * <p>F(4x4, 3x3) rounds more again (A^T has entries up to 8, B^T up to 5), so
 * {@link #BOUND_4X4} = 2^-16 (1.5e-5). Measured: 6.0e-7 to 4.3e-6 on these geometries (the
 * largest backward-datas pad dy by 2), 8.3e-6 on the forward of 32 -> 35 on 6x6 with padding 2
 * (where most terms of the border outputs are padding). At a
 * training scale ({@link #fourByFourTilesAtATrainingScale}: N(0, 1) inputs, He weights, the small
 * ResNet's three layers at batch 8) max |error| / RMS(y) is 1.2e-5 to 1.8e-5 and the mean 5e-7 to
 * 1.1e-6, against 7e-7 to 1.5e-6 and 1.2e-7 to 2.2e-7 for F(2x2, 3x3) and 1.7e-6 to 4.4e-6 and
 * 1.4e-7 to 2.5e-7 for the GEMM path: {@link #RMS_BOUND_4X4} = 2^-14 (6.1e-5).
 */
class CpuWinogradConv2dTest {
    /** See the class comment. */
    static final double BOUND = 0x1p-21;
    /** The bound for F(2x2, 5x5); see the class comment. */
    static final double BOUND_5X5 = 0x1p-18;
    /** The bound for F(4x4, 3x3); see the class comment. */
    static final double BOUND_4X4 = 0x1p-16;
    /** The bound for F(4x4, 3x3) relative to the RMS of the outputs at a training scale; see the class comment. */
    static final double RMS_BOUND_4X4 = 0x1p-14;

    static Stream<Conv2dGeometry> convolutions() {
        return Stream.of(
                conv(3, 16, 14, 14, 16, 1), // the small ResNet's layers (batch 3); the first is left to the GEMM
                conv(2, 32, 7, 7, 32, 1),
                conv(3, 64, 4, 4, 64, 1),
                conv(1, 17, 7, 7, 19, 1), // odd sizes, batch 1
                conv(3, 16, 5, 9, 24, 0), // no padding: 3x7 outputs
                conv(1, 33, 5, 9, 40, 1),
                conv(3, 32, 6, 6, 35, 2), // padding 2: 8x8 outputs, backward-data unpadded
                conv(2, 33, 9, 8, 34, 0),
                conv(2, 32, 4, 4, 33, 0), // 2x2 outputs: F(2x2, 3x3) by the rule, its backward-data (padding 2) F(4x4, 3x3)
                conv(20, 32, 4, 4, 48, 1), // one 4x4 tile a sample: samples transposed in whole lane blocks and a rest
                conv(18, 32, 3, 3, 40, 1), // one tile of 3x3 outputs: the single-tile padding, the general write-back
                conv5(3, 32, 14, 14, 64, 2), // F(2x2, 5x5): fashion_cnn's c2 (batch 3), whose backward-data is 64 -> 32
                conv5(2, 6, 14, 14, 16, 0), // lenet5's c3 on 14x14, unpadded: left to the GEMM
                conv5(1, 33, 7, 9, 35, 2), // odd sizes, batch 1: 7x9 outputs
                conv5(3, 34, 9, 8, 32, 0)); // no padding: 5x4 outputs, backward-data padded 4
    }

    private static Conv2dGeometry conv(int batch, int cin, int h, int w, int cout, int pad) {
        return new Conv2dGeometry(batch, cin, h, w, cout, 3, 3, 1, 1, pad, pad, 1, 1, 1);
    }

    private static Conv2dGeometry conv5(int batch, int cin, int h, int w, int cout, int pad) {
        return new Conv2dGeometry(batch, cin, h, w, cout, 5, 5, 1, 1, pad, pad, 1, 1, 1);
    }

    /** {@link #BOUND} for F(2x2, 3x3), {@link #BOUND_4X4} for F(4x4, 3x3), {@link #BOUND_5X5} for 5x5. */
    private static double bound(Conv2dGeometry g, int tile) {
        return g.kernelH() == 5 ? BOUND_5X5 : tile == 4 ? BOUND_4X4 : BOUND;
    }

    /** The bound of the tiles the rule picks. */
    private static double bound(Conv2dGeometry g) {
        return bound(g, CpuWinogradConv2d.outputTile(g));
    }

    /** The output tiles the forward can run for g: 2 and 4 for 3x3 kernels, 2 for 5x5. */
    private static int[] tiles(Conv2dGeometry g) {
        return g.kernelH() == 3 ? new int[] {2, 4} : new int[] {2};
    }

    /** The transposed geometry backward-data runs as a forward convolution (as CpuConv2d makes it). */
    private static Conv2dGeometry transposed(Conv2dGeometry g) {
        int k = g.kernelH();
        return new Conv2dGeometry(g.batch(), g.outChannels(), g.outHeight(), g.outWidth(), g.inChannels(), k, k, 1, 1,
                k - 1 - g.padH(), k - 1 - g.padW(), 1, 1, 1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void forwardIsTheConvolutionWithinTheBound(Conv2dGeometry g) {
        assertTrue(CpuWinogradConv2d.supports(g));
        ConvTestData d = new ConvTestData(g);
        float[] gemm = forward(g, d, 2, CpuKernels.Path.select(), false);
        double[][] exact = definition(g, d.x, d.w, d.bias);
        double gemmError = maxRelative(gemm, exact);
        for (int tile : tiles(g)) {
            float[] winograd = winograd(g, d, 2, CpuKernels.Path.select(), tile);
            double winogradError = maxRelative(winograd, exact);
            System.out.printf("winograd forward %dx%d tiles %s: max |error| / sum|w||x|: winograd %.3g, gemm %.3g; max abs %.3g vs %.3g%n",
                    tile, tile, g, winogradError, gemmError, maxAbs(winograd, exact[0]), maxAbs(gemm, exact[0]));
            assertTrue(winogradError <= bound(g, tile), tile + "x" + tile + " tiles: winograd error " + winogradError + " over " + bound(g, tile));
        }
        assertTrue(gemmError <= BOUND, "gemm error " + gemmError);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void theConvolutionTakesWinogradWhereTheRuleSays(Conv2dGeometry g) {
        ConvTestData d = new ConvTestData(g);
        float[] viaConv = forward(g, d, 2, CpuKernels.Path.select(), true);
        // layers of 32 to 64 channels take the channels-last form of F(4x4, 3x3) first
        float[] expected = CpuChannelWinograd.applies(g) ? channelsLast(g, d)
                : CpuWinogradConv2d.applies(g) ? winograd(g, d, 2, CpuKernels.Path.select())
                : forward(g, d, 2, CpuKernels.Path.select(), false);
        assertArrayEquals(expected, viaConv);
        // Winograd's rounding is not the GEMM's: the comparison above can tell which ran
        assertFalse(Arrays.equals(winograd(g, d, 2, CpuKernels.Path.select()), forward(g, d, 2, CpuKernels.Path.select(), false)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void backwardDataIsTheConvolutionWithinTheBound(Conv2dGeometry g) {
        ConvTestData d = new ConvTestData(g);
        float[] withWinograd = backwardData(g, d, 2, CpuKernels.Path.select(), true);
        float[] gemm = backwardData(g, d, 2, CpuKernels.Path.select(), false);
        double[][] exact = backwardDataDefinition(g, d.dy, d.w);
        double error = maxRelative(withWinograd, exact), gemmError = maxRelative(gemm, exact);
        System.out.printf("winograd backward-data %s: max |error| / sum|w||dy|: %s %.3g, gemm %.3g%n", g,
                CpuWinogradConv2d.applies(transposed(g)) ? "winograd" : "gemm (rule)", error, gemmError);
        double bound = bound(transposed(g)); // the tiles of the forward convolution it runs
        assertTrue(error <= bound, "error " + error + " over " + bound);
        assertTrue(gemmError <= BOUND, "gemm error " + gemmError);
        assertEquals(CpuWinogradConv2d.applies(transposed(g)), !Arrays.equals(withWinograd, gemm), "backward-data took Winograd");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void sameBitsForAnyThreadCount(Conv2dGeometry g) {
        ConvTestData d = new ConvTestData(g);
        float[] oneDx = backwardData(g, d, 1, CpuKernels.Path.select(), true);
        for (int tile : tiles(g)) {
            float[] one = winograd(g, d, 1, CpuKernels.Path.select(), tile);
            for (int threads : new int[] {2, 3}) {
                assertArrayEquals(one, winograd(g, d, threads, CpuKernels.Path.select(), tile), threads + " threads, forward, tile " + tile);
            }
        }
        for (int threads : new int[] {2, 3}) {
            assertArrayEquals(oneDx, backwardData(g, d, threads, CpuKernels.Path.select(), true), threads + " threads, backward-data");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void plainAndVectorPathsGiveTheSameBits(Conv2dGeometry g) {
        assumeTrue(CpuKernels.VECTOR_API_PRESENT, "needs the Vector API in this JVM");
        ConvTestData d = new ConvTestData(g);
        for (int tile : tiles(g)) {
            assertArrayEquals(winograd(g, d, 2, CpuKernels.Path.PLAIN_JAVA, tile), winograd(g, d, 2, CpuKernels.Path.VECTOR_API, tile),
                    "tile " + tile);
        }
        assertArrayEquals(backwardData(g, d, 2, CpuKernels.Path.PLAIN_JAVA, true),
                backwardData(g, d, 2, CpuKernels.Path.VECTOR_API, true));
    }

    /** The small ResNet's stride-1 3x3 layers, batch 8. */
    static Stream<Conv2dGeometry> resnetLayers() {
        return Stream.of(conv(8, 16, 14, 14, 16, 1), conv(8, 32, 7, 7, 32, 1), conv(8, 64, 4, 4, 64, 1));
    }

    /**
     * The error at a training scale: x ~ N(0, 1), w ~ N(0, 2 / (9 Cin)) (He), no bias, against
     * the definition in double. Printed for F(2x2, 3x3), F(4x4, 3x3) and the GEMM path: the max
     * and mean of |error| relative to the RMS of the exact outputs, and the max of |error| /
     * sum|w||x|; F(4x4, 3x3) must stay within {@link #BOUND_4X4} of sum|w||x| and within
     * {@link #RMS_BOUND_4X4} of the RMS (see the class comment for the figures).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("resnetLayers")
    void fourByFourTilesAtATrainingScale(Conv2dGeometry g) {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(g.hashCode());
        float[] x = new float[g.batch() * g.inChannels() * g.height() * g.width()];
        float[] w = new float[g.outChannels() * g.inChannels() * 9];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        double he = Math.sqrt(2.0 / (9 * g.inChannels()));
        for (int i = 0; i < w.length; i++) w[i] = (float) (he * rnd.nextGaussian());
        float[] bias = new float[g.outChannels()];
        double[][] exact = definition(g, x, w, bias);
        double rms = 0;
        for (double v : exact[0]) rms += v * v;
        rms = Math.sqrt(rms / exact[0].length);
        for (int tile : new int[] {2, 4, 0}) {
            float[] y = tile == 0 ? gemm(g, x, w, bias) : winograd(g, x, w, bias, 2, CpuKernels.Path.select(), tile);
            double max = 0, mean = 0;
            for (int i = 0; i < y.length; i++) {
                double e = Math.abs(y[i] - exact[0][i]);
                max = Math.max(max, e);
                mean += e;
            }
            mean /= y.length;
            double relative = maxRelative(y, exact);
            System.out.printf("%s, N(0,1) x, He w, %s: |error| / rms(y) max %.3g mean %.3g; max |error| / sum|w||x| %.3g%n",
                    tile == 0 ? "gemm path" : "winograd " + tile + "x" + tile + " tiles", g, max / rms, mean / rms, relative);
            if (tile == 4) {
                assertTrue(relative <= BOUND_4X4, "error " + relative + " over " + BOUND_4X4);
                assertTrue(max / rms <= RMS_BOUND_4X4, "error / rms " + max / rms + " over " + RMS_BOUND_4X4);
            }
        }
    }

    @Test
    void theRuleTakesOneGroupStrideOneUndilated3x3And5x5LayersOn32ChannelsOrMore() {
        assertTrue(CpuWinogradConv2d.applies(conv(4, 32, 8, 8, 32, 1)));
        assertFalse(CpuWinogradConv2d.applies(conv(4, 31, 8, 8, 32, 1)), "Cin 31");
        assertFalse(CpuWinogradConv2d.applies(conv(4, 32, 8, 8, 31, 1)), "Cout 31");
        assertFalse(CpuWinogradConv2d.applies(new Conv2dGeometry(4, 32, 8, 8, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1)), "stride 2");
        assertFalse(CpuWinogradConv2d.applies(new Conv2dGeometry(4, 32, 8, 8, 32, 3, 3, 1, 1, 2, 2, 2, 2, 1)), "dilation 2");
        assertFalse(CpuWinogradConv2d.applies(new Conv2dGeometry(4, 32, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 2)), "two groups");
        assertTrue(CpuWinogradConv2d.applies(conv5(4, 32, 14, 14, 64, 2)), "fashion_cnn's c2");
        assertTrue(CpuWinogradConv2d.applies(conv5(4, 64, 14, 14, 32, 2)), "fashion_cnn's c2, backward-data");
        assertFalse(CpuWinogradConv2d.applies(conv5(4, 6, 14, 14, 16, 0)), "lenet5's c3: 6 -> 16");
        assertFalse(CpuWinogradConv2d.applies(conv5(4, 31, 8, 8, 32, 2)), "5x5, Cin 31");
        assertFalse(CpuWinogradConv2d.applies(new Conv2dGeometry(4, 32, 8, 8, 32, 5, 5, 2, 2, 2, 2, 1, 1, 1)), "5x5 stride 2");
        assertFalse(CpuWinogradConv2d.applies(new Conv2dGeometry(4, 32, 8, 8, 32, 7, 7, 1, 1, 3, 3, 1, 1, 1)), "7x7");
        assertFalse(CpuWinogradConv2d.applies(new Conv2dGeometry(4, 32, 8, 8, 32, 5, 3, 1, 1, 2, 1, 1, 1, 1)), "5x3");
        assertFalse(CpuWinogradConv2d.applies(new Conv2dGeometry(4, 32, 8, 8, 32, 3, 1, 1, 1, 1, 0, 1, 1, 1)), "3x1");
        assertFalse(CpuWinogradConv2d.applies(conv(4, CpuGemm.KC + 1, 8, 8, 32, 1)), "Cin deeper than one GEMM depth block");
        assertTrue(CpuWinogradConv2d.applies(conv(4, 64, 56, 56, 64, 1)), "64 channels on 56x56: 1.6M floats a sample");
        assertFalse(CpuWinogradConv2d.applies(conv(4, 64, 112, 112, 64, 1)), "64 channels on 112x112: 6.4M floats a sample");
    }

    @Test
    void theRulePicksFourByFourTilesWhereTheyMultiplyNoMore() {
        assertEquals(4, CpuWinogradConv2d.outputTile(conv(4, 64, 4, 4, 64, 1)), "4x4: 1 tile of 16 outputs against 4 of 4");
        assertEquals(4, CpuWinogradConv2d.outputTile(conv(4, 32, 7, 7, 32, 1)), "7x7: 4 tiles against 16");
        assertEquals(4, CpuWinogradConv2d.outputTile(conv(4, 32, 14, 14, 32, 1)), "14x14: 16 tiles against 49");
        assertEquals(4, CpuWinogradConv2d.outputTile(conv(4, 32, 5, 5, 32, 1)), "5x5: 4 tiles against 9, as many multiplies");
        assertEquals(4, CpuWinogradConv2d.outputTile(conv(4, 32, 5, 5, 32, 0)), "3x3 outputs: 1 tile against 4");
        assertEquals(2, CpuWinogradConv2d.outputTile(conv(4, 32, 4, 4, 32, 0)), "2x2 outputs: 1 tile of 36 multiplies against 1 of 16");
        assertEquals(2, CpuWinogradConv2d.outputTile(conv5(4, 32, 14, 14, 64, 2)), "5x5 kernels: F(2x2, 5x5)");
        assertTrue(CpuWinogradConv2d.applies(conv(4, 64, 56, 56, 64, 1)), "64 channels on 56x56 with 4x4 tiles");
    }

    /**
     * A steady Winograd forward, backward-data and 5x5 backward-filter (through {@link CpuConv2d}, on two threads)
     * allocates nothing on the calling thread: its scratch is grow-only. Measured as
     * {@code CpuAllocationTest} does (until C2 has compiled the Vector API code it allocates its
     * vectors: 300-400 calls on this machine under load), one of up to 40 windows of 30 calls must
     * stay under 15 bytes a call; a steady allocation shows in every window. In a child JVM: in
     * this module's full test JVM, after the other tests' kernels, C2 was seen to leave these
     * kernels boxing their vectors in some runs (25-120 KB a call), a state of the shared JIT
     * profile that this test could not tell from an allocation of Winograd's own.
     */
    @Test
    void aSteadyCallAllocatesNothing() throws Exception {
        SteadyAllocationProbe.assertCleanInChildJvm(AllocationProbe.class);
    }

    /** The child JVM of {@link #aSteadyCallAllocatesNothing}: prints the bytes of each window, then "clean" or "allocates". */
    static final class AllocationProbe {
        public static void main(String[] args) {
            Conv2dGeometry g = conv(4, 32, 7, 7, 32, 1), g5 = conv5(2, 32, 7, 7, 32, 2);
            ConvTestData d = new ConvTestData(g), d5 = new ConvTestData(g5);
            float[] y = new float[g.batch() * g.outChannels() * g.outHeight() * g.outWidth()];
            float[] dx = new float[d.x.length];
            float[] y5 = new float[g5.batch() * g5.outChannels() * g5.outHeight() * g5.outWidth()], dx5 = new float[d5.x.length];
            float[] dw5 = new float[d5.w.length];
            try (CpuThreads threads = new CpuThreads(2)) {
                CpuKernels.Path path = CpuKernels.Path.select();
                CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path, true, false);
                Runnable call = () -> {
                    conv.forward(g, d.x, d.w, d.bias, y);
                    conv.backwardData(g, d.dy, d.w, dx);
                    conv.forward(g5, d5.x, d5.w, d5.bias, y5);
                    conv.backwardData(g5, d5.dy, d5.w, dx5);
                    conv.backwardFilter(g5, d5.x, d5.dy, dw5, null); // CpuWinogradFilter
                };
                SteadyAllocationProbe.measure(call);
            }
        }
    }

    /**
     * Remembered filters ({@code CpuWinogradConv2d.prepareFilters}): on one instance, a call on
     * weights it has transformed gives the bits of a fresh instance; weights changed in place (the
     * same array, one value) are seen and transformed again; more layers than
     * {@link CpuWinogradConv2d#MEMO_ENTRIES}, taken in turn, each get their own convolution; and the
     * forward and the transposed forward of one array are kept apart. F(4x4, 3x3), F(2x2, 3x3) and
     * F(2x2, 5x5) all go through it.
     */
    @Test
    void rememberedFiltersFollowTheWeights() {
        Conv2dGeometry[] layers = {conv(2, 64, 4, 4, 64, 1), conv(2, 32, 4, 4, 33, 0), conv5(2, 32, 9, 9, 32, 2)};
        CpuKernels.Path path = CpuKernels.Path.select();
        try (CpuThreads threads = new CpuThreads(2)) {
            CpuWinogradConv2d conv = new CpuWinogradConv2d(threads, new CpuGemm(threads, path), path);
            for (Conv2dGeometry g : layers) {
                ConvTestData d = new ConvTestData(g);
                int tile = CpuWinogradConv2d.outputTile(g);
                float[] first = run(conv, g, d.x, d.w, d.bias, tile);
                assertArrayEquals(winograd(g, d.x, d.w, d.bias, 1, path, tile), first, g + ": first call");
                assertArrayEquals(first, run(conv, g, d.x, d.w, d.bias, tile), g + ": remembered");
                d.w[d.w.length / 2] += 0.25f;
                float[] changed = run(conv, g, d.x, d.w, d.bias, tile);
                assertArrayEquals(winograd(g, d.x, d.w, d.bias, 1, path, tile), changed, g + ": after a weight changed in place");
                assertFalse(Arrays.equals(first, changed), g + ": the change must show");
            }
            // More layers than entries, in turn: each call evicts the entry the next one wants.
            Conv2dGeometry g = conv(2, 32, 6, 6, 32, 1);
            int count = CpuWinogradConv2d.MEMO_ENTRIES + 2, tile = CpuWinogradConv2d.outputTile(g);
            ConvTestData[] data = ConvTestData.distinctLayers(g, count);
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < count; i++) {
                    assertArrayEquals(winograd(g, data[i].x, data[i].w, data[i].bias, 1, path, tile), run(conv, g, data[i].x, data[i].w, data[i].bias, tile),
                            "layer " + i + " of " + count + ", round " + round);
                }
            }
            // One array as a forward and as a transposed forward (backward-data): two entries.
            Conv2dGeometry square = conv(2, 32, 4, 4, 32, 1);
            ConvTestData d = new ConvTestData(square);
            float[] forward = run(conv, square, d.x, d.w, null, 4);
            float[] transposed = new float[forward.length];
            conv.forwardTransposed(square, d.x, d.w, transposed);
            assertArrayEquals(forward, run(conv, square, d.x, d.w, null, 4), "forward after the transposed one");
            float[] again = new float[forward.length];
            conv.forwardTransposed(square, d.x, d.w, again);
            assertArrayEquals(transposed, again, "transposed after the forward");
            assertFalse(Arrays.equals(forward, transposed), "the two filters differ");
        }
    }

    private static float[] run(CpuWinogradConv2d conv, Conv2dGeometry g, float[] x, float[] w, float[] bias, int tile) {
        float[] y = new float[g.batch() * g.outChannels() * g.outHeight() * g.outWidth()];
        Arrays.fill(y, Float.NaN);
        conv.forward(g, x, w, bias, y, tile);
        return y;
    }

    /** {@link CpuChannelWinograd} itself, on two threads. */
    private static float[] channelsLast(Conv2dGeometry g, ConvTestData d) {
        try (CpuThreads threads = new CpuThreads(2)) {
            float[] y = new float[g.batch() * g.outChannels() * g.outHeight() * g.outWidth()];
            new CpuChannelWinograd(threads, CpuKernels.Path.select()).forward(g, d.x, d.w, d.bias, null, false, y);
            return y;
        }
    }

    /** CpuWinogradConv2d itself, whatever the rule says, with the tiles {@link CpuWinogradConv2d#outputTile} picks. */
    private static float[] winograd(Conv2dGeometry g, ConvTestData d, int threadCount, CpuKernels.Path path) {
        return winograd(g, d, threadCount, path, CpuWinogradConv2d.outputTile(g));
    }

    /** CpuWinogradConv2d itself with {@code tile x tile} output tiles. */
    private static float[] winograd(Conv2dGeometry g, ConvTestData d, int threadCount, CpuKernels.Path path, int tile) {
        return winograd(g, d.x, d.w, d.bias, threadCount, path, tile);
    }

    private static float[] winograd(Conv2dGeometry g, float[] x, float[] w, float[] bias, int threadCount, CpuKernels.Path path, int tile) {
        try (CpuThreads threads = new CpuThreads(threadCount)) {
            CpuWinogradConv2d conv = new CpuWinogradConv2d(threads, new CpuGemm(threads, path), path);
            float[] y = new float[g.batch() * g.outChannels() * g.outHeight() * g.outWidth()];
            Arrays.fill(y, Float.NaN); // every output must be written
            conv.forward(g, x, w, bias, y, tile);
            return y;
        }
    }

    /** The GEMM path (CpuConv2d without Winograd or the channel-vector kernel), on two threads. */
    private static float[] gemm(Conv2dGeometry g, float[] x, float[] w, float[] bias) {
        try (CpuThreads threads = new CpuThreads(2)) {
            CpuKernels.Path path = CpuKernels.Path.select();
            CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path, false, false);
            float[] y = new float[g.batch() * g.outChannels() * g.outHeight() * g.outWidth()];
            conv.forward(g, x, w, bias, y);
            return y;
        }
    }

    private static float[] forward(Conv2dGeometry g, ConvTestData d, int threadCount, CpuKernels.Path path, boolean winograd) {
        try (CpuThreads threads = new CpuThreads(threadCount)) {
            CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path, winograd, false);
            float[] y = new float[g.batch() * g.outChannels() * g.outHeight() * g.outWidth()];
            Arrays.fill(y, Float.NaN); // every output must be written
            conv.forward(g, d.x, d.w, d.bias, y);
            return y;
        }
    }

    private static float[] backwardData(Conv2dGeometry g, ConvTestData d, int threadCount, CpuKernels.Path path, boolean winograd) {
        try (CpuThreads threads = new CpuThreads(threadCount)) {
            CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path, winograd, false);
            float[] dx = new float[g.batch() * g.inChannels() * g.height() * g.width()];
            Arrays.fill(dx, Float.NaN);
            conv.backwardData(g, d.dy, d.w, dx);
            return dx;
        }
    }

    /** {exact value, |bias| + sum of |w||x|} per output, in double. */
    static double[][] definition(Conv2dGeometry g, float[] x, float[] w, float[] bias) {
        int cin = g.inChannels(), h = g.height(), wd = g.width(), cout = g.outChannels(), ho = g.outHeight(), wo = g.outWidth();
        int k = g.kernelH();
        double[] value = new double[g.batch() * cout * ho * wo], scale = new double[value.length];
        for (int n = 0; n < g.batch(); n++) {
            for (int co = 0; co < cout; co++) {
                for (int oh = 0; oh < ho; oh++) {
                    for (int ow = 0; ow < wo; ow++) {
                        double sum = bias[co], abs = Math.abs(bias[co]);
                        for (int ci = 0; ci < cin; ci++) {
                            for (int ki = 0; ki < k; ki++) {
                                int ih = oh - g.padH() + ki;
                                if (ih < 0 || ih >= h) continue;
                                for (int kj = 0; kj < k; kj++) {
                                    int iw = ow - g.padW() + kj;
                                    if (iw < 0 || iw >= wd) continue;
                                    double t = (double) w[((co * cin + ci) * k + ki) * k + kj] * x[((n * cin + ci) * h + ih) * wd + iw];
                                    sum += t;
                                    abs += Math.abs(t);
                                }
                            }
                        }
                        int at = ((n * cout + co) * ho + oh) * wo + ow;
                        value[at] = sum;
                        scale[at] = abs;
                    }
                }
            }
        }
        return new double[][] {value, scale};
    }

    /** dx[n, ci, ih, iw] = sum over (co, ki, kj) of w[co, ci, ki, kj] dy[n, co, ih + pad - ki, iw + pad - kj], with the same scale. */
    static double[][] backwardDataDefinition(Conv2dGeometry g, float[] dy, float[] w) {
        int cin = g.inChannels(), h = g.height(), wd = g.width(), cout = g.outChannels(), ho = g.outHeight(), wo = g.outWidth();
        int k = g.kernelH();
        double[] value = new double[g.batch() * cin * h * wd], scale = new double[value.length];
        for (int n = 0; n < g.batch(); n++) {
            for (int ci = 0; ci < cin; ci++) {
                for (int ih = 0; ih < h; ih++) {
                    for (int iw = 0; iw < wd; iw++) {
                        double sum = 0, abs = 0;
                        for (int co = 0; co < cout; co++) {
                            for (int ki = 0; ki < k; ki++) {
                                int oh = ih + g.padH() - ki;
                                if (oh < 0 || oh >= ho) continue;
                                for (int kj = 0; kj < k; kj++) {
                                    int ow = iw + g.padW() - kj;
                                    if (ow < 0 || ow >= wo) continue;
                                    double t = (double) w[((co * cin + ci) * k + ki) * k + kj] * dy[((n * cout + co) * ho + oh) * wo + ow];
                                    sum += t;
                                    abs += Math.abs(t);
                                }
                            }
                        }
                        int at = ((n * cin + ci) * h + ih) * wd + iw;
                        value[at] = sum;
                        scale[at] = abs;
                    }
                }
            }
        }
        return new double[][] {value, scale};
    }

    /** max over outputs of |actual - exact| / scale (scale 0 only where every term is 0: then the output must be 0). */
    static double maxRelative(float[] actual, double[][] exact) {
        double worst = 0;
        for (int i = 0; i < actual.length; i++) {
            double diff = Math.abs(actual[i] - exact[0][i]);
            double r = exact[1][i] == 0 ? (diff == 0 ? 0 : Double.POSITIVE_INFINITY) : diff / exact[1][i];
            if (!(r <= worst)) worst = r; // NaN (an output left unwritten) wins
        }
        return worst;
    }

    private static double maxAbs(float[] actual, double[] exact) {
        double worst = 0;
        for (int i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - exact[i]));
        return worst;
    }
}
