package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.neurite.backend.Conv2dGeometry;

/**
 * The direct forward ({@link CpuDirectConv2d}, stride 1, {@code K <= 32}) through
 * {@link CpuConv2d}, with the bias and with the relu in its store, against the definition summed
 * in double (within 1e-5 relative to the sum of |terms|: K fma roundings), the same bits on 1, 2
 * and 3 threads and on the plain and vector paths; both walks, along the flat output grid and a
 * call per row ({@link CpuDirectConv2d#flatGrid}), at whatever width the JVM runs (the module
 * also runs this class pinned to 256 and 512 bits); a steady call allocates nothing.
 */
class CpuDirectConv2dTest {

    /**
     * LeNet-5's c1 (28-wide rows: the flat grid at 512 bits, a call per row at 256), 14-wide rows
     * (flat at both), 64-wide rows (a call per row at both), rows so wide that the grid goes in
     * blocks of a row or two, a plane of 4 outputs (less than a vector: the stores must not run
     * past it), two groups with an odd number of output channels per group.
     */
    static Stream<Arguments> geometries() {
        return Stream.of(
                Arguments.of(new Conv2dGeometry(3, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 1, 1, 1)),
                Arguments.of(new Conv2dGeometry(2, 3, 14, 14, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1)),
                Arguments.of(new Conv2dGeometry(2, 1, 9, 64, 4, 5, 5, 1, 1, 2, 2, 1, 1, 1)),
                Arguments.of(new Conv2dGeometry(2, 2, 6, 700, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1)),
                Arguments.of(new Conv2dGeometry(5, 1, 3, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 1)),
                Arguments.of(new Conv2dGeometry(2, 4, 10, 11, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2)));
    }

    @Test
    void bothWalksAreTaken() {
        boolean wide = CpuKernels.LANES == 16;
        assertEquals(wide, CpuDirectConv2d.flatGrid(new Conv2dGeometry(1, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 1, 1, 1)), "LeNet-5's c1");
        assertTrue(CpuDirectConv2d.flatGrid(new Conv2dGeometry(1, 3, 14, 14, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1)), "14-wide rows");
        assertTrue(!CpuDirectConv2d.flatGrid(new Conv2dGeometry(1, 1, 9, 64, 4, 5, 5, 1, 1, 2, 2, 1, 1, 1)), "64-wide rows");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void forwardWithBiasAndReluMatchesTheDefinitionOnEveryPathAndThreadCount(Conv2dGeometry g) {
        assertTrue(CpuDirectConv2d.applies(g));
        ConvTestData d = new ConvTestData(g);
        double[][] exact = definition(g, d);
        float[] reference = null;
        for (CpuKernels.Path path : new CpuKernels.Path[] {CpuKernels.Path.select(), CpuKernels.Path.PLAIN_JAVA}) {
            for (int threadCount : new int[] {1, 2, 3}) {
                float[] y = new float[exact[0].length];
                try (CpuThreads threads = new CpuThreads(threadCount)) {
                    new CpuConv2d(threads, new CpuGemm(threads, path), path).forward(g, d.x, d.w, d.bias, true, y);
                }
                if (reference == null) {
                    reference = y;
                    for (int i = 0; i < y.length; i++) {
                        double want = Math.max(exact[0][i], 0);
                        assertEquals(want, y[i], 1e-5 * exact[1][i] + 1e-30, "y at " + i);
                    }
                } else {
                    assertArrayEquals(reference, y, path + ", " + threadCount + " threads");
                }
            }
        }
    }

    /** y = conv(x, w) + bias in double, and the sum of the terms' magnitudes (bias included), per output. */
    private static double[][] definition(Conv2dGeometry g, ConvTestData d) {
        int n = g.batch(), cout = g.outChannels(), ho = g.outHeight(), wo = g.outWidth(), h = g.height(), w = g.width();
        int cinG = g.inChannelsPerGroup(), coutG = g.outChannelsPerGroup(), kh = g.kernelH(), kw = g.kernelW();
        double[] y = new double[n * cout * ho * wo], mag = new double[y.length];
        for (int b = 0; b < n; b++) {
            for (int oc = 0; oc < cout; oc++) {
                int gi = oc / coutG;
                for (int oh = 0; oh < ho; oh++) {
                    for (int ow = 0; ow < wo; ow++) {
                        int i = ((b * cout + oc) * ho + oh) * wo + ow;
                        double sum = d.bias[oc], m = Math.abs(d.bias[oc]);
                        for (int c = 0; c < cinG; c++) {
                            for (int ki = 0; ki < kh; ki++) {
                                for (int kj = 0; kj < kw; kj++) {
                                    int ih = oh - g.padH() + ki, iw = ow - g.padW() + kj;
                                    if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                                    double t = (double) d.w[((oc * cinG + c) * kh + ki) * kw + kj]
                                            * d.x[((b * g.inChannels() + gi * cinG + c) * h + ih) * w + iw];
                                    sum += t;
                                    m += Math.abs(t);
                                }
                            }
                        }
                        y[i] = sum;
                        mag[i] = m;
                    }
                }
            }
        }
        return new double[][] {y, mag};
    }

    /** A steady direct forward (its grid stores with bias and relu) allocates nothing, at the JVM's vector width. */
    @Test
    void aSteadyCallAllocatesNothing() throws Exception {
        SteadyAllocationProbe.assertCleanInChildJvm(AllocationProbe.class);
    }

    /** The child JVM of {@link #aSteadyCallAllocatesNothing}: LeNet-5's c1 with bias and relu, batch 8, on 2 threads. */
    static final class AllocationProbe {
        public static void main(String[] args) {
            Conv2dGeometry g = new Conv2dGeometry(8, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 1, 1, 1);
            ConvTestData d = new ConvTestData(g);
            float[] y = new float[g.batch() * g.outChannels() * g.outHeight() * g.outWidth()];
            try (CpuThreads threads = new CpuThreads(2)) {
                CpuKernels.Path path = CpuKernels.Path.select();
                CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path);
                SteadyAllocationProbe.measure(() -> conv.forward(g, d.x, d.w, d.bias, true, y));
            }
        }
    }
}
