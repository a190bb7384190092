package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * Backward-filter over the channels-last copy ({@link CpuConvFilterChannelsLast}, input channels a
 * multiple of the lanes): dW and dbias against their definitions summed in double, the same bits
 * on 1, 2 and 3 threads and on the plain and vector paths. Batch 1, output channels that are not
 * a multiple of the micro-tile's rows, a kernel column count that leaves half a GEMM strip,
 * stride 2, non-square kernels (one dilated, with uneven padding), and a map large
 * enough that each sample is a pass of its own (passes added in order).
 */
class CpuConvFilterChannelsLastTest {
    private static final int L = CpuKernels.LANES;

    static Stream<Conv2dGeometry> convolutions() {
        return Stream.of(
                new Conv2dGeometry(1, L, 5, 5, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1),          // batch 1, 7 output channels
                new Conv2dGeometry(4, 16, 14, 14, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1),     // the small ResNet's first stage
                new Conv2dGeometry(9, 2 * L, 7, 7, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1),    // stride 2
                new Conv2dGeometry(3, L, 6, 9, 11, 3, 2, 1, 1, 2, 0, 2, 1, 1),        // 3x2 kernel, dilation 2 in rows, pad 2 x 0
                new Conv2dGeometry(5, 4 * L, 4, 4, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1),    // the small ResNet's last stage
                new Conv2dGeometry(2, 3 * L, 5, 6, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1),     // 3 lane groups of channels: neither whole strips nor half of one
                new Conv2dGeometry(6, L, 7, 7, 32, 1, 3, 2, 2, 0, 1, 1, 1, 1),        // 1x3 kernel, stride 2
                new Conv2dGeometry(2, 16, 255, 256, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1));   // one sample per pass
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void matchesTheDefinitionOnAnyThreadCountAndPath(Conv2dGeometry g) {
        assertTrue(CpuConvFilterChannelsLast.applies(g));
        SplittableRandom rnd = new SplittableRandom(g.hashCode());
        float[] x = random(rnd, g.batch() * g.inChannels() * g.height() * g.width());
        float[] dy = random(rnd, g.batch() * g.outChannels() * g.outHeight() * g.outWidth());
        float[] one = filter(g, x, dy, 1, CpuKernels.Path.select());
        assertArrayEquals(one, filter(g, x, dy, 2, CpuKernels.Path.select()));
        assertArrayEquals(one, filter(g, x, dy, 3, CpuKernels.Path.select()));
        assertArrayEquals(one, filter(g, x, dy, 2, CpuKernels.Path.PLAIN_JAVA));
        double[] expected = definition(g, x, dy);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], one[i], 1e-4 * (1 + Math.abs(expected[i])), i < expected.length - g.outChannels() ? "dw[" + i + "]" : "dbias");
        }
    }

    /** dy packed sample by sample (13 rows: a partial strip; 30 samples of 49 pixels: depth blocks that cut samples) is CpuGemm.packWhole's layout. */
    @Test
    void packedDyIsTheLayoutOfPackWhole() {
        int cout = 13, p = 49, samples = 30, depth = samples * p, rows = CpuGemm.roundUp(cout, CpuGemm.MR);
        assertTrue(depth > CpuGemm.KC);
        SplittableRandom rnd = new SplittableRandom(3);
        float[] dy = random(rnd, (samples + 2) * cout * p), matrix = new float[cout * depth];
        for (int s = 0; s < samples; s++) {
            for (int co = 0; co < cout; co++) System.arraycopy(dy, ((s + 2) * cout + co) * p, matrix, co * depth + s * p, p);
        }
        float[] expected = new float[rows * depth], packed = new float[rows * depth];
        CpuGemm.packWhole(false, matrix, 0, depth, cout, depth, expected);
        java.util.Arrays.fill(packed, Float.NaN); // every element must be written, the padding rows as zeros
        for (int s = 0; s < samples; s++) CpuConvFilterChannelsLast.packDy(dy, s + 2, cout, p, s, depth, packed);
        assertArrayEquals(expected, packed);
    }

    @Test
    void largeMapsTakeOneSamplePerPass() {
        assertEquals(1, CpuConvFilterChannelsLast.samplesPerPass(new Conv2dGeometry(2, 16, 255, 256, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1)));
        assertEquals(64, CpuConvFilterChannelsLast.samplesPerPass(new Conv2dGeometry(64, 16, 14, 14, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1)));
    }

    @Test
    void otherConvolutionsKeepTheGatheredForm() { // channels not in lane groups, two groups, 1x1 kernels
        assertFalse(CpuConvFilterChannelsLast.applies(new Conv2dGeometry(2, L + 1, 5, 5, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1)));
        assertFalse(CpuConvFilterChannelsLast.applies(new Conv2dGeometry(2, 2 * L, 5, 5, 8, 3, 3, 1, 1, 1, 1, 1, 1, 2)));
        assertFalse(CpuConvFilterChannelsLast.applies(new Conv2dGeometry(2, L, 5, 5, 8, 1, 1, 1, 1, 0, 0, 1, 1, 1)));
        assertFalse(CpuConvFilterChannelsLast.applies(new Conv2dGeometry(2, L, 5, 5, 8, 1, 1, 2, 2, 0, 0, 1, 1, 1)));
    }

    /**
     * dw of this class followed by the backend's dbias ({@link CpuConv2d} gives most of these
     * geometries to {@link CpuChannelVectorFilter} now, which has its own test).
     */
    private static float[] filter(Conv2dGeometry g, float[] x, float[] dy, int threads, CpuKernels.Path path) {
        try (CpuBackend cpu = new CpuBackend(new BackendOptions(threads, null), path)) {
            Tensor tx = cpu.allocate(Shape.of(g.batch(), g.inChannels(), g.height(), g.width()));
            Tensor tdy = cpu.allocate(Shape.of(g.batch(), g.outChannels(), g.outHeight(), g.outWidth()));
            Tensor dw = cpu.allocate(Shape.of(g.outChannels(), g.inChannels(), g.kernelH(), g.kernelW()));
            Tensor dbias = cpu.allocate(Shape.of(g.outChannels()));
            cpu.upload(x, tx);
            cpu.upload(dy, tdy);
            cpu.conv2dBackwardFilter(g, tx, tdy, dw, dbias);
            float[] w = new float[dw.shape().size()], b = cpu.download(dbias), both = new float[w.length + b.length];
            try (CpuThreads pool = new CpuThreads(threads)) {
                new CpuConvFilterChannelsLast(pool, new CpuGemm(pool, path), path).backwardFilter(g, x, dy, w);
            }
            System.arraycopy(w, 0, both, 0, w.length);
            System.arraycopy(b, 0, both, w.length, b.length);
            return both;
        }
    }

    /** dw[co, c, ki, kj] = sum over n, oh, ow of dy[n, co, oh, ow] * x[n, c, oh*s - pad + ki*dil, ow*s - pad + kj*dil], then dbias, in double. */
    private static double[] definition(Conv2dGeometry g, float[] x, float[] dy) {
        int cin = g.inChannels(), cout = g.outChannels(), kh = g.kernelH(), kw = g.kernelW();
        int h = g.height(), w = g.width(), ho = g.outHeight(), wo = g.outWidth();
        double[] dw = new double[cout * cin * kh * kw + cout];
        for (int n = 0; n < g.batch(); n++) {
            for (int co = 0; co < cout; co++) {
                for (int oh = 0; oh < ho; oh++) {
                    for (int ow = 0; ow < wo; ow++) {
                        double d = dy[((n * cout + co) * ho + oh) * wo + ow];
                        dw[cout * cin * kh * kw + co] += d;
                        for (int c = 0; c < cin; c++) {
                            for (int ki = 0; ki < kh; ki++) {
                                int ih = oh * g.strideH() - g.padH() + ki * g.dilationH();
                                if (ih < 0 || ih >= h) continue;
                                for (int kj = 0; kj < kw; kj++) {
                                    int iw = ow * g.strideW() - g.padW() + kj * g.dilationW();
                                    if (iw < 0 || iw >= w) continue;
                                    dw[((co * cin + c) * kh + ki) * kw + kj] += d * x[((n * cin + c) * h + ih) * w + iw];
                                }
                            }
                        }
                    }
                }
            }
        }
        return dw;
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextDouble() * 2 - 1);
        return v;
    }
}
