package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.neurite.backend.Conv2dGeometry;

/**
 * The strided direct backward-filter ({@link CpuStridedDirectConv2d}) through {@link CpuConv2d}:
 * within (n + 2) * 2^-24 of the sum of |terms| of dW summed in double, n the terms a lane partial
 * sum takes (the float sum's error bound), also over several blocks of samples; the same bits on
 * 1, 2 and 3 threads and on the plain and vector paths (also run pinned to 256 and 512 bits); a
 * steady call allocates nothing; which geometries take it (forward stays on the GEMM path).
 * Geometries: the small ResNet's stem (1 -> 16, 3x3, stride 2, padding 1, 28x28), planes smaller
 * than a vector, odd sizes, stride 3, unequal strides, padding 0 and 2, dilation 2 at stride 1,
 * three input channels, 5x5, and a batch whose gathered taps need several blocks.
 */
class CpuStridedDirectConv2dTest {
    static Conv2dGeometry conv(int n, int cin, int h, int w, int cout, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw) {
        return new Conv2dGeometry(n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, dh, dw, 1);
    }

    static Conv2dGeometry[] geometries() {
        return new Conv2dGeometry[] {
            conv(3, 1, 28, 28, 16, 3, 3, 2, 2, 1, 1, 1, 1), // the stem
            conv(2, 1, 5, 5, 3, 3, 3, 2, 2, 1, 1, 1, 1), // a 3x3 plane: shorter than a vector
            conv(2, 1, 13, 11, 5, 3, 3, 2, 2, 0, 0, 1, 1),
            conv(1, 3, 17, 19, 7, 3, 3, 2, 2, 2, 2, 1, 1), // K = 27
            conv(2, 1, 20, 23, 4, 5, 5, 3, 2, 2, 1, 1, 1), // K = 25, unequal strides
            conv(2, 2, 15, 15, 6, 3, 3, 1, 1, 2, 2, 2, 2), // dilation 2 at stride 1
            conv(1, 1, 31, 9, 2, 3, 1, 3, 1, 1, 0, 1, 1),
        };
    }

    @Test
    void takesTheStridedTinyReductionsOnly() {
        Conv2dGeometry stem = conv(64, 1, 28, 28, 16, 3, 3, 2, 2, 1, 1, 1, 1);
        assertTrue(CpuStridedDirectConv2d.applies(stem));
        assertTrue(CpuDirectConv2d.appliesToFilter(stem));
        assertFalse(CpuDirectConv2d.applies(stem), "the stem's forward stays on the GEMM path");
        assertFalse(CpuStridedDirectConv2d.applies(conv(64, 1, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1)), "stride 1: CpuDirectConv2d's own");
        assertFalse(CpuStridedDirectConv2d.applies(conv(64, 4, 28, 28, 16, 3, 3, 2, 2, 1, 1, 1, 1)), "K = 36");
        assertFalse(CpuStridedDirectConv2d.applies(new Conv2dGeometry(2, 2, 9, 9, 4, 3, 3, 2, 2, 1, 1, 1, 1, 2)), "two groups");
        assertFalse(CpuStridedDirectConv2d.applies(conv(1, 1, 1024, 1024, 4, 3, 3, 2, 2, 1, 1, 1, 1)), "9 x 512 x 512 taps a sample");
    }

    @ParameterizedTest
    @MethodSource("geometries")
    void backwardFilterMatchesTheSumInDouble(Conv2dGeometry g) {
        ConvTestData d = new ConvTestData(g);
        float[] dw = filter(g, d.x, d.dy, 2, CpuKernels.Path.select());
        assertWithinLaneSumBound(g, dw);
    }

    /** dW against the sum in double: a float lane sum of n terms is within (n + 1) * 2^-24 of the sum of |terms| (the lanes then add in double). */
    private static void assertWithinLaneSumBound(Conv2dGeometry g, float[] dw) {
        ConvTestData d = new ConvTestData(g);
        double[][] exact = ConvTestData.filterGradient(g, d.x, d.dy);
        int perLane = (g.batch() * g.outHeight() * g.outWidth() + CpuKernels.LANES - 1) / CpuKernels.LANES;
        double bound = (perLane + 2) * 0x1p-24;
        for (int i = 0; i < dw.length; i++) assertEquals(exact[0][i], dw[i], bound * exact[1][i] + 1e-30, "dw at " + i);
    }

    @Test
    void backwardFilterOverSeveralBlocksOfSamples() {
        // 9 x 16384 taps a sample: CpuConv2d.COL_BUDGET holds 7 samples, so 9 samples take two blocks.
        Conv2dGeometry g = conv(9, 1, 256, 256, 2, 3, 3, 2, 2, 1, 1, 1, 1);
        ConvTestData d = new ConvTestData(g);
        float[] dw = filter(g, d.x, d.dy, 2, CpuKernels.Path.select());
        assertWithinLaneSumBound(g, dw);
        assertArrayEquals(dw, filter(g, d.x, d.dy, 1, CpuKernels.Path.select()), "1 thread");
    }

    @ParameterizedTest
    @MethodSource("geometries")
    void theSameBitsOnEveryThreadCountAndPath(Conv2dGeometry g) {
        ConvTestData d = new ConvTestData(g);
        float[] dw = filter(g, d.x, d.dy, 1, CpuKernels.Path.select());
        for (int threads : new int[] {2, 3}) assertArrayEquals(dw, filter(g, d.x, d.dy, threads, CpuKernels.Path.select()), threads + " threads");
        assertArrayEquals(dw, filter(g, d.x, d.dy, 2, CpuKernels.Path.PLAIN_JAVA), "plain path");
    }

    @Test
    void aSteadyCallAllocatesNothing() throws Exception {
        SteadyAllocationProbe.assertCleanInChildJvm(AllocationProbe.class);
    }

    /** The child JVM of {@link #aSteadyCallAllocatesNothing}: the stem's backward-filter with its bias gradient, on 2 threads. */
    static final class AllocationProbe {
        public static void main(String[] args) {
            Conv2dGeometry g = conv(8, 1, 28, 28, 16, 3, 3, 2, 2, 1, 1, 1, 1);
            ConvTestData d = new ConvTestData(g);
            float[] dw = new float[d.w.length], db = new float[d.bias.length];
            try (CpuThreads threads = new CpuThreads(2)) {
                CpuKernels.Path path = CpuKernels.Path.select();
                CpuConv2d conv = new CpuConv2d(threads, new CpuGemm(threads, path), path);
                SteadyAllocationProbe.measure(() -> conv.backwardFilter(g, d.x, d.dy, dw, db));
            }
        }
    }

    private static float[] filter(Conv2dGeometry g, float[] x, float[] dy, int threadCount, CpuKernels.Path path) {
        float[] dw = new float[g.outChannels() * g.inChannels() * g.kernelH() * g.kernelW()];
        Arrays.fill(dw, Float.NaN);
        try (CpuThreads threads = new CpuThreads(threadCount)) {
            new CpuConv2d(threads, new CpuGemm(threads, path), path).backwardFilter(g, x, dy, dw, null);
        }
        return dw;
    }
}
