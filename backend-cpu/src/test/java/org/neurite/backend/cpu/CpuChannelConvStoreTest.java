package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The two halves of the channel-vector convolutions' write-back on both kernel paths (surefire
 * runs this at 256 and 512 bits): {@link CpuKernels#channelConvStore} (a tile, channels-last, with
 * the bias and the relu) and {@link CpuKernels#channelsLastToPlanes} (channels-last into planes,
 * and {@link CpuKernels#transpose}, which it calls, at any strides and sizes),
 * each against its definition written out here (the plain path alone in a JVM without the Vector API), on rows that are and are not whole lane blocks,
 * at offsets, checking that nothing outside the target is written.
 */
class CpuChannelConvStoreTest {
    private static final int L = CpuKernels.LANES;
    private static final float UNTOUCHED = -12345f;

    @Test
    void storeWritesTheTileChannelsLastWithBiasAndRelu() {
        for (CpuKernels.Path path : paths()) {
            CpuKernels kernels = path.create();
            for (int vectors : new int[] {1, 2, 4}) {
                int vl = vectors * L, pixels = CpuChannelVectorConv2d.pixels(vectors), b0 = L, o = 3, stride = vl + 5;
                float[] tile = values(pixels * vl, 7), bias = values(b0 + vl, 8);
                tile[0] = -0f;
                tile[1] = Float.NaN;
                tile[vl + 2] = -1f;
                bias[b0 + 2] = 1f; // pixel 1, channel 2 with the bias: exactly +0
                for (int count = 1; count <= pixels; count++) {
                    for (boolean withBias : new boolean[] {false, true}) {
                        for (boolean relu : new boolean[] {false, true}) {
                            float[] out = filled(o + count * stride + 4);
                            kernels.channelConvStore(tile, vectors, count, withBias ? bias : null, b0, relu, out, o, stride);
                            for (int i = 0; i < out.length; i++) {
                                int q = (i - o) / stride, c = (i - o) % stride;
                                float expected = UNTOUCHED;
                                if (i >= o && q < count && c < vl) {
                                    expected = tile[q * vl + c];
                                    if (withBias) expected += bias[b0 + c];
                                    if (relu) expected = Math.max(expected, 0f);
                                }
                                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(out[i]),
                                        path + " vectors " + vectors + " count " + count + " bias " + withBias + " relu " + relu + " at " + i);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void channelsLastToPlanesTransposesAndWritesNothingElse() {
        for (CpuKernels.Path path : paths()) {
            CpuKernels kernels = path.create();
            for (int cols : new int[] {L, 2 * L, 4 * L, 9 * L}) { // 9L: past the 64 columns 8-lane gathers once took
                for (int rows = 0; rows <= 2 * L + 3; rows++) {
                    int s = 5, d = 7, planeStride = rows + 3;
                    float[] src = values(s + rows * cols, rows);
                    float[] dst = filled(d + cols * planeStride);
                    kernels.channelsLastToPlanes(src, s, rows, cols, dst, d, planeStride);
                    for (int i = 0; i < dst.length; i++) {
                        int c = (i - d) / planeStride, q = (i - d) % planeStride;
                        float expected = i >= d && q < rows ? src[s + q * cols + c] : UNTOUCHED;
                        assertEquals(expected, dst[i], path + " rows " + rows + " cols " + cols + " at " + i);
                    }
                }
            }
        }
    }

    @Test
    void transposeReadsAndWritesAtItsStridesAndWritesNothingElse() {
        for (CpuKernels.Path path : paths()) {
            CpuKernels kernels = path.create();
            for (int cols : new int[] {1, 3, L - 1, L, L + 5, 2 * L, 3 * L + 2}) {
                for (int rows : new int[] {0, 1, L - 1, L, L + 3, 2 * L, 2 * L + 1}) {
                    int s = 3, srcStride = cols + 9, d = 6, dstStride = rows + 2;
                    float[] src = values(s + rows * srcStride, 31 * rows + cols);
                    float[] dst = filled(d + cols * dstStride);
                    kernels.transpose(src, s, srcStride, rows, cols, dst, d, dstStride);
                    for (int i = 0; i < dst.length; i++) {
                        int c = (i - d) / dstStride, q = (i - d) % dstStride;
                        float expected = i >= d && q < rows ? src[s + q * srcStride + c] : UNTOUCHED;
                        assertEquals(expected, dst[i], path + " rows " + rows + " cols " + cols + " at " + i);
                    }
                }
            }
        }
    }

    /** Both paths where this JVM has the Vector API, else the plain one. */
    private static CpuKernels.Path[] paths() {
        return CpuKernels.VECTOR_API_PRESENT ? new CpuKernels.Path[] {CpuKernels.Path.PLAIN_JAVA, CpuKernels.Path.VECTOR_API}
                : new CpuKernels.Path[] {CpuKernels.Path.PLAIN_JAVA};
    }

    private static float[] values(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (random.nextDouble() * 2 - 1);
        return v;
    }

    private static float[] filled(int n) {
        float[] v = new float[n];
        Arrays.fill(v, UNTOUCHED);
        return v;
    }
}
