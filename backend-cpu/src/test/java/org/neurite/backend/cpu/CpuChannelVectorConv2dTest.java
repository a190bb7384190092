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
 * {@link CpuChannelVectorConv2d} gives the GEMM path's bits ({@link CpuConv2d} without it and
 * without Winograd), with and without a bias and a relu, on the small ResNet's 3x3 layers (batch
 * 1 and 3; at 512 bits its 3x3 layers but 32 -> 32 read x in place, as the same shapes in lane
 * groups do at either width) and odd ones: output rows that are not whole pixel blocks, padding 0, 2 and 3 (rows
 * whose kernel rows read only padding: their terms are skipped, the bits stay the same), stride 2
 * on odd sizes, non-square kernels, 1x1, and output channels of 1, 2, 3 and 4 lane groups (each
 * kernel shape). It is checked against the definition summed in double too (within 2^-21 of the
 * sum of |terms|), so that a shared mistake of both paths would show. Then: the same bits on 1, 2
 * and 3 threads and on the plain and vector paths (also pinned to 256 and 512 bits by surefire),
 * backward-data through it equal to backward-data through the GEMM, and which geometries
 * {@link CpuConv2d} gives it.
 */
class CpuChannelVectorConv2dTest {
    private static final int L = CpuKernels.LANES;
    private static final double BOUND = 0x1p-21;

    static Stream<Conv2dGeometry> convolutions() {
        return Stream.of(
                conv(3, 16, 14, 14, 16, 3, 1, 1), // the small ResNet's layers
                conv(1, 16, 14, 14, 16, 3, 1, 1),
                conv(3, 16, 14, 14, 32, 3, 2, 1),
                conv(1, 16, 14, 14, 32, 3, 2, 1),
                conv(3, 32, 7, 7, 32, 3, 1, 1),
                conv(3, 32, 7, 7, 64, 3, 2, 1),
                conv(1, 32, 7, 7, 64, 3, 2, 1),
                conv(3, 64, 4, 4, 64, 3, 1, 1),
                conv(1, 64, 4, 4, 64, 3, 1, 1),
                conv(3, 16, 9, 17, 16, 3, 1, 0), // 7x15 outputs, no padding: rows of partial blocks
                conv(2, 8, 11, 5, 3 * L, 3, 1, 2), // padding 2: 13x7 outputs, three lane groups (one vector a call)
                conv(2, 16, 4, 5, L, 3, 1, 3), // padding 3: 8x9 outputs, the first and last rows read no input row
                conv(2, 16, 5, 5, 2 * L, 3, 1, 1), // 5x5: the first and last rows skip a kernel row each
                conv(2, 8, 14, 14, L, 3, 1, 1), // one lane group on a 14-wide map: read in place at both widths
                conv(2, 16, 14, 14, 2 * L, 3, 2, 1), // two lane groups, stride 2 on 14 wide: read in place at both widths
                conv(2, 8, 7, 7, 4 * L, 3, 2, 1), // four lane groups, stride 2 on 7 wide: read in place at both widths
                conv(2, 8, 7, 7, 2 * L, 3, 1, 1), // two lane groups, stride 1 on 7 wide: read in place at both widths
                conv(2, 17, 9, 10, 2 * L, 3, 2, 2), // stride 2 on odd sizes, Cin 17
                conv(2, 16, 15, 15, 4 * L, 3, 2, 0), // stride 2 unpadded, four lane groups
                conv(2, 16, 13, 13, L, 3, 2, 1), // stride 2, one lane group
                conv(3, 16, 14, 14, 2 * L, 1, 2, 0), // the strided 1x1 shortcut
                new Conv2dGeometry(2, 12, 8, 9, L, 5, 3, 1, 2, 2, 1, 1, 1, 1)); // 5x3, strides 1 and 2
    }

    private static Conv2dGeometry conv(int batch, int cin, int h, int w, int cout, int k, int stride, int pad) {
        return new Conv2dGeometry(batch, cin, h, w, cout, k, k, stride, stride, pad, pad, 1, 1, 1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void givesTheGemmPathsBitsWithAndWithoutBiasAndRelu(Conv2dGeometry g) {
        assertTrue(CpuChannelVectorConv2d.supports(g));
        ConvTestData d = new ConvTestData(g);
        for (boolean withBias : new boolean[] {false, true}) {
            for (boolean relu : new boolean[] {false, true}) {
                float[] bias = withBias ? d.bias : null;
                float[] expected = gemmForward(g, d.x, d.w, bias, relu, 2, CpuKernels.Path.select());
                float[] actual = channelVector(g, d.x, d.w, bias, relu, 2, CpuKernels.Path.select());
                assertArrayEquals(expected, actual, "bias " + withBias + ", relu " + relu);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void isTheConvolutionWithinTheBound(Conv2dGeometry g) {
        ConvTestData d = new ConvTestData(g);
        float[] y = channelVector(g, d.x, d.w, d.bias, false, 2, CpuKernels.Path.select());
        int ho = g.outHeight(), wo = g.outWidth(), cin = g.inChannels(), kh = g.kernelH(), kw = g.kernelW();
        double worst = 0;
        for (int n = 0; n < g.batch(); n++) {
            for (int co = 0; co < g.outChannels(); co++) {
                for (int oh = 0; oh < ho; oh++) {
                    for (int ow = 0; ow < wo; ow++) {
                        double sum = d.bias[co], magnitude = Math.abs(d.bias[co]);
                        for (int c = 0; c < cin; c++) {
                            for (int ki = 0; ki < kh; ki++) {
                                for (int kj = 0; kj < kw; kj++) {
                                    int ih = oh * g.strideH() - g.padH() + ki, iw = ow * g.strideW() - g.padW() + kj;
                                    if (ih < 0 || ih >= g.height() || iw < 0 || iw >= g.width()) continue;
                                    double term = (double) d.w[((co * cin + c) * kh + ki) * kw + kj] * d.x[((n * cin + c) * g.height() + ih) * g.width() + iw];
                                    sum += term;
                                    magnitude += Math.abs(term);
                                }
                            }
                        }
                        double error = Math.abs(y[((n * g.outChannels() + co) * ho + oh) * wo + ow] - sum) / magnitude;
                        worst = Math.max(worst, error);
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
        float[] one = channelVector(g, d.x, d.w, d.bias, true, 1, CpuKernels.Path.select());
        for (int threads : new int[] {2, 3}) {
            assertArrayEquals(one, channelVector(g, d.x, d.w, d.bias, true, threads, CpuKernels.Path.select()), threads + " threads");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void plainAndVectorPathsGiveTheSameBits(Conv2dGeometry g) {
        assumeTrue(CpuKernels.VECTOR_API_PRESENT, "needs the Vector API in this JVM");
        ConvTestData d = new ConvTestData(g);
        assertArrayEquals(channelVector(g, d.x, d.w, d.bias, true, 2, CpuKernels.Path.PLAIN_JAVA),
                channelVector(g, d.x, d.w, d.bias, true, 2, CpuKernels.Path.VECTOR_API));
        assertArrayEquals(gemmForward(g, d.x, d.w, d.bias, false, 2, CpuKernels.Path.PLAIN_JAVA),
                channelVector(g, d.x, d.w, d.bias, false, 2, CpuKernels.Path.PLAIN_JAVA), "plain path against the GEMM");
    }

    /** Backward-data of a stride-1 layer runs as a forward convolution; through this kernel it keeps the GEMM's bits. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void backwardDataThroughItGivesTheGemmPathsBits(Conv2dGeometry g) {
        ConvTestData d = new ConvTestData(g);
        CpuKernels.Path path = CpuKernels.Path.select();
        assertArrayEquals(backwardData(g, d, path, false), backwardData(g, d, path, true));
    }

    @Test
    void theConvolutionTakesItWhereTheRuleSays() {
        Conv2dGeometry resnet16 = conv(64, 16, 14, 14, 16, 3, 1, 1);
        assertTrue(CpuConv2d.takesChannelVector(resnet16), "16 -> 16 on 14x14");
        assertTrue(CpuConv2d.takesChannelVector(conv(64, 16, 14, 14, 32, 3, 2, 1)), "16 -> 32, stride 2");
        assertTrue(CpuConv2d.takesChannelVector(conv(64, 32, 7, 7, 64, 3, 2, 1)), "32 -> 64, stride 2");
        assertEquals(!CpuChannelWinograd.ENABLED && L == 16, CpuConv2d.takesChannelVector(conv(64, 32, 7, 7, 32, 3, 1, 1)),
                "32 -> 32: the channels-last Winograd (read in place at 512 bits without it, else the tile-wise Winograd)");
        assertFalse(CpuConv2d.takesChannelVector(conv(64, 64, 4, 4, 64, 3, 1, 1)), "64 -> 64: Winograd");
        assertFalse(CpuConv2d.takesChannelVector(conv(64, 16, 14, 14, 32, 1, 2, 0)), "the 1x1 strided shortcut");
        assertFalse(CpuConv2d.takesChannelVector(conv(64, 64, 8, 8, 128, 3, 2, 1)), "64 -> 128: not measured");
        assertFalse(CpuConv2d.takesChannelVector(conv(64, 16, 14, 14, 16, 3, 3, 1)), "stride 3");
        assertFalse(CpuConv2d.takesChannelVector(new Conv2dGeometry(64, 16, 14, 14, 16, 5, 5, 1, 1, 2, 2, 1, 1, 1)), "5x5");
        assertTrue(CpuChannelVectorConv2d.readsRowsInPlace(conv(64, 16, 14, 14, L, 3, 1, 1)), "one lane group, 14 wide: x read in place");
        assertFalse(CpuChannelVectorConv2d.readsRowsInPlace(conv(64, 16, 14, 14, 2 * L, 3, 1, 1)), "two lane groups: blocks of 7");
        assertFalse(CpuChannelVectorConv2d.readsRowsInPlace(conv(64, 16, 14, 14, L, 3, 1, 0)), "no padding: 12 wide");
        assertFalse(CpuChannelVectorConv2d.readsRowsInPlace(conv(64, 16, 14, 14, L, 3, 2, 1)), "one lane group at stride 2");
        assertTrue(CpuChannelVectorConv2d.readsRowsInPlace(conv(64, 16, 14, 14, 2 * L, 3, 2, 1)), "two lane groups, stride 2, 14 wide");
        assertTrue(CpuChannelVectorConv2d.readsRowsInPlace(conv(64, 32, 7, 7, 4 * L, 3, 2, 1)), "four lane groups, stride 2, 7 wide");
        assertTrue(CpuChannelVectorConv2d.readsRowsInPlace(conv(64, 32, 7, 7, 2 * L, 3, 1, 1)), "two lane groups, stride 1, 7 wide");
        assertFalse(CpuChannelVectorConv2d.readsRowsInPlace(conv(64, 64, 4, 4, 4 * L, 3, 1, 1)), "four lane groups at stride 1");
        assertFalse(CpuChannelVectorConv2d.readsRowsInPlace(conv(64, 16, 13, 13, 2 * L, 3, 2, 1)), "two lane groups, stride 2, 13 wide");
        assertFalse(CpuChannelVectorConv2d.readsRowsInPlace(conv(64, 32, 8, 8, 4 * L, 3, 2, 1)), "four lane groups, stride 2, 8 wide");
        assertFalse(CpuChannelVectorConv2d.readsRowsInPlace(conv(64, 16, 13, 13, L, 3, 1, 1)), "13 wide");
        assertFalse(CpuChannelVectorConv2d.supports(conv(64, 16, 14, 14, L + 1, 3, 1, 1)), "Cout not whole lane groups");
        assertFalse(CpuChannelVectorConv2d.supports(conv(64, CpuChannelVectorConv2d.MIN_IN_CHANNELS - 1, 14, 14, 16, 3, 1, 1)), "few input channels");
        assertFalse(CpuChannelVectorConv2d.supports(new Conv2dGeometry(4, 16, 14, 14, 16, 3, 3, 1, 1, 2, 2, 2, 2, 1)), "dilation 2");
        assertFalse(CpuChannelVectorConv2d.supports(new Conv2dGeometry(4, 16, 14, 14, 32, 3, 3, 1, 1, 1, 1, 1, 1, 2)), "two groups");
        assertFalse(CpuChannelVectorConv2d.supports(conv(4, CpuGemm.KC / 9 + 1, 8, 8, 16, 3, 1, 1)), "deeper than one GEMM k-block");
        assertTrue(CpuChannelVectorConv2d.supports(conv(4, 32, 112, 112, 64, 3, 1, 1)), "32 -> 64 on 112x112: 1.2M floats a sample");
        assertFalse(CpuChannelVectorConv2d.supports(conv(4, 32, 224, 224, 64, 3, 1, 1)), "32 -> 64 on 224x224: 4.8M floats a sample");
        // through CpuConv2d, the relu is applied by this kernel (forward returns true)
        ConvTestData d = new ConvTestData(conv(2, 16, 6, 6, 16, 3, 1, 1));
        try (CpuThreads threads = new CpuThreads(2)) {
            CpuKernels.Path path = CpuKernels.Path.select();
            CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path, true, true);
            float[] y = new float[2 * 16 * 36];
            assertTrue(conv.forward(conv(2, 16, 6, 6, 16, 3, 1, 1), d.x, d.w, d.bias, true, y));
            for (float v : y) assertTrue(v >= 0f);
        }
    }

    /**
     * A steady forward (with bias and relu) and stride-1 backward-data through it, on two threads,
     * allocate nothing on the calling thread: its scratch is grow-only. Measured in a child JVM, as
     * {@code CpuWinogradConv2dTest} does and for the same reason (until C2 has compiled the Vector
     * API code it allocates its vectors): one of up to 40 windows of 30 calls must stay under 15
     * bytes a call; a steady allocation shows in every window.
     */
    @Test
    void aSteadyCallAllocatesNothing() throws Exception {
        SteadyAllocationProbe.assertCleanInChildJvm(AllocationProbe.class);
    }

    /** The child JVM of {@link #aSteadyCallAllocatesNothing}: prints the bytes of each window, then "clean" or "allocates". */
    static final class AllocationProbe {
        public static void main(String[] args) {
            Conv2dGeometry g = conv(4, 16, 14, 14, 16, 3, 1, 1), s2 = conv(4, 16, 14, 14, 32, 3, 2, 1);
            ConvTestData d = new ConvTestData(g), d2 = new ConvTestData(s2);
            float[] y = output(g), dx = new float[d.x.length], y2 = output(s2);
            try (CpuThreads threads = new CpuThreads(2)) {
                CpuKernels.Path path = CpuKernels.Path.select();
                CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path, true, true);
                Runnable call = () -> {
                    conv.forward(g, d.x, d.w, d.bias, true, y);
                    conv.backwardData(g, d.dy, d.w, dx);
                    conv.forward(s2, d2.x, d2.w, null, false, y2);
                };
                SteadyAllocationProbe.measure(call);
            }
        }
    }

    private static float[] output(Conv2dGeometry g) {
        float[] y = new float[g.batch() * g.outChannels() * g.outHeight() * g.outWidth()];
        Arrays.fill(y, Float.NaN); // every output must be written
        return y;
    }

    /**
     * Remembered packings ({@link CpuWeightMemo}): on one instance, a call on
     * weights it has packed gives a fresh instance's bits, also at another batch size (the same
     * layer); weights changed in place (the same array, one value) are seen and packed again; more
     * layers than {@link CpuChannelVectorConv2d#MEMO_ENTRIES}, taken in turn, each get their own
     * convolution; and the forward and the transposed forward of one array are kept apart.
     */
    @Test
    void rememberedPackingsFollowTheWeights() {
        CpuKernels.Path path = CpuKernels.Path.select();
        try (CpuThreads threads = new CpuThreads(2)) {
            CpuChannelVectorConv2d conv = new CpuChannelVectorConv2d(threads, path);
            for (Conv2dGeometry g : new Conv2dGeometry[] {conv(3, 16, 14, 14, 16, 3, 1, 1), conv(3, 32, 7, 7, 64, 3, 2, 1)}) {
                ConvTestData d = new ConvTestData(g);
                float[] first = run(conv, g, d.x, d.w, d.bias);
                assertArrayEquals(channelVector(g, d.x, d.w, d.bias, false, 1, path), first, g + ": first call");
                assertArrayEquals(first, run(conv, g, d.x, d.w, d.bias), g + ": remembered");
                Conv2dGeometry one = conv(1, g.inChannels(), g.height(), g.width(), g.outChannels(), 3, g.strideH(), g.padH());
                int in = g.inChannels() * g.height() * g.width(), out = first.length / g.batch();
                assertArrayEquals(Arrays.copyOfRange(first, out, 2 * out), run(conv, one, Arrays.copyOfRange(d.x, in, 2 * in), d.w, d.bias),
                        g + ": the second sample alone, the same layer's packing");
                d.w[d.w.length / 3] += 0.25f;
                float[] changed = run(conv, g, d.x, d.w, d.bias);
                assertArrayEquals(channelVector(g, d.x, d.w, d.bias, false, 1, path), changed, g + ": after a weight changed in place");
                assertFalse(Arrays.equals(first, changed), g + ": the change must show");
            }
            Conv2dGeometry g = conv(2, 16, 6, 6, 16, 3, 1, 1);
            int count = CpuChannelVectorConv2d.MEMO_ENTRIES + 2;
            ConvTestData[] data = ConvTestData.distinctLayers(g, count);
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < count; i++) {
                    assertArrayEquals(channelVector(g, data[i].x, data[i].w, data[i].bias, false, 1, path), run(conv, g, data[i].x, data[i].w, data[i].bias),
                            "layer " + i + " of " + count + ", round " + round);
                }
            }
            ConvTestData d = new ConvTestData(g);
            float[] forward = run(conv, g, d.x, d.w, null), transposed = output(g), again = output(g);
            conv.forwardTransposed(g, d.x, d.w, transposed);
            assertArrayEquals(forward, run(conv, g, d.x, d.w, null), "forward after the transposed one");
            conv.forwardTransposed(g, d.x, d.w, again);
            assertArrayEquals(transposed, again, "transposed after the forward");
            assertFalse(Arrays.equals(forward, transposed), "the two packings differ");
        }
    }

    private static float[] run(CpuChannelVectorConv2d conv, Conv2dGeometry g, float[] x, float[] w, float[] bias) {
        float[] y = output(g);
        conv.forward(g, x, w, bias, false, y);
        return y;
    }

    /** CpuChannelVectorConv2d itself. */
    private static float[] channelVector(Conv2dGeometry g, float[] x, float[] w, float[] bias, boolean relu, int threadCount, CpuKernels.Path path) {
        try (CpuThreads threads = new CpuThreads(threadCount)) {
            float[] y = output(g);
            new CpuChannelVectorConv2d(threads, path).forward(g, x, w, bias, relu, y);
            return y;
        }
    }

    /** The GEMM path: CpuConv2d without this kernel and without Winograd (the relu applied after, as the relu op). */
    private static float[] gemmForward(Conv2dGeometry g, float[] x, float[] w, float[] bias, boolean relu, int threadCount, CpuKernels.Path path) {
        try (CpuThreads threads = new CpuThreads(threadCount)) {
            CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path, false, false);
            float[] y = output(g);
            conv.forward(g, x, w, bias, y);
            if (relu) for (int i = 0; i < y.length; i++) y[i] = Math.max(y[i], 0f);
            return y;
        }
    }

    private static float[] backwardData(Conv2dGeometry g, ConvTestData d, CpuKernels.Path path, boolean withChannelVector) {
        try (CpuThreads threads = new CpuThreads(2)) {
            CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path, false, withChannelVector);
            float[] dx = new float[d.x.length];
            Arrays.fill(dx, Float.NaN);
            conv.backwardData(g, d.dy, d.w, dx);
            return dx;
        }
    }
}
