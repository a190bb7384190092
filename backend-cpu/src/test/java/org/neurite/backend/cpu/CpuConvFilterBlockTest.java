package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * Backward-filter on small maps, where several samples make one GEMM
 * ({@link CpuConv2d#FILTER_BLOCK_DEPTH} pixels deep): dW against its definition summed in double,
 * and the same bits on 1, 2 and 3 threads. Batches that leave a partial last block, stride 2,
 * a pad of 0, and a map that takes one sample per block (to compare with).
 */
class CpuConvFilterBlockTest {
    static Stream<Conv2dGeometry> convolutions() {
        return Stream.of(
                new Conv2dGeometry(20, 8, 4, 4, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1),  // 16 pixels: blocks of 16 samples, then 4
                new Conv2dGeometry(11, 5, 7, 7, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1),  // 49 pixels: blocks of 5, 5, 1
                new Conv2dGeometry(9, 6, 13, 13, 10, 3, 3, 2, 2, 1, 1, 1, 1, 1), // stride 2, 7x7 output
                new Conv2dGeometry(6, 4, 9, 9, 7, 3, 3, 1, 1, 0, 0, 1, 1, 1),    // no padding, 7x7 output
                new Conv2dGeometry(3, 4, 16, 16, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1)); // 256 pixels: one sample per GEMM
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void matchesTheDefinitionOnAnyThreadCount(Conv2dGeometry g) {
        SplittableRandom rnd = new SplittableRandom(g.hashCode());
        float[] x = random(rnd, g.batch() * g.inChannels() * g.height() * g.width());
        float[] dy = random(rnd, g.batch() * g.outChannels() * g.outHeight() * g.outWidth());
        float[] one = filter(g, x, dy, 1);
        assertArrayEquals(one, filter(g, x, dy, 2));
        assertArrayEquals(one, filter(g, x, dy, 3));
        double[] expected = definition(g, x, dy);
        for (int i = 0; i < one.length; i++) assertEquals(expected[i], one[i], 1e-4 * (1 + Math.abs(expected[i])), "dw[" + i + "]");
    }

    private static float[] filter(Conv2dGeometry g, float[] x, float[] dy, int threads) {
        try (CpuBackend cpu = new CpuBackend(new BackendOptions(threads, null))) {
            Tensor tx = cpu.allocate(Shape.of(g.batch(), g.inChannels(), g.height(), g.width()));
            Tensor tdy = cpu.allocate(Shape.of(g.batch(), g.outChannels(), g.outHeight(), g.outWidth()));
            Tensor dw = cpu.allocate(Shape.of(g.outChannels(), g.inChannels(), g.kernelH(), g.kernelW()));
            cpu.upload(x, tx);
            cpu.upload(dy, tdy);
            cpu.conv2dBackwardFilter(g, tx, tdy, dw, null);
            return cpu.download(dw);
        }
    }

    /** dw[co, c, ki, kj] = sum over n, oh, ow of dy[n, co, oh, ow] * x[n, c, oh*s - pad + ki, ow*s - pad + kj], in double. */
    private static double[] definition(Conv2dGeometry g, float[] x, float[] dy) {
        int cin = g.inChannels(), cout = g.outChannels(), kh = g.kernelH(), kw = g.kernelW();
        int h = g.height(), w = g.width(), ho = g.outHeight(), wo = g.outWidth();
        double[] dw = new double[cout * cin * kh * kw];
        for (int n = 0; n < g.batch(); n++) {
            for (int co = 0; co < cout; co++) {
                for (int c = 0; c < cin; c++) {
                    for (int ki = 0; ki < kh; ki++) {
                        for (int kj = 0; kj < kw; kj++) {
                            double sum = 0;
                            for (int oh = 0; oh < ho; oh++) {
                                for (int ow = 0; ow < wo; ow++) {
                                    int ih = oh * g.strideH() - g.padH() + ki, iw = ow * g.strideW() - g.padW() + kj;
                                    if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                                    sum += (double) dy[((n * cout + co) * ho + oh) * wo + ow] * x[((n * cin + c) * h + ih) * w + iw];
                                }
                            }
                            dw[((co * cin + c) * kh + ki) * kw + kj] += sum;
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
