package org.neurite.backend.cpu;

import java.util.Arrays;

/**
 * Data movement without arithmetic: strided block copies (concatenation and splitting along an
 * axis, batch-major ↔ time-major transposes) and zero padding of planes with its adjoint, the
 * crop. Work is split over blocks or planes, each written by one task with
 * {@link System#arraycopy}, so results do not depend on the thread count; copies below
 * {@link #PARALLEL_MIN} floats run on the caller, where a second thread costs more than it saves.
 */
final class CpuCopy {
    static final long PARALLEL_MIN = 1L << 16;

    private final CpuThreads threads;

    CpuCopy(CpuThreads threads) {
        this.threads = threads;
    }

    private int parts(long floats) {
        return floats < PARALLEL_MIN ? 1 : threads.size();
    }

    /**
     * For b in [0, count): dst[dstOff + b*dstStride ..+length] = src[srcOff + b*srcStride ..+length].
     * The destination blocks must not overlap each other (checked by the caller). When src and dst
     * are the same array a block may read what an earlier block wrote, so the blocks run in order
     * on one thread.
     */
    void copyBlocks(float[] src, int srcOff, int srcStride, float[] dst, int dstOff, int dstStride, int length, int count) {
        int parts = src == dst ? 1 : parts((long) length * count);
        threads.run(count, parts, (worker, begin, end) -> {
            for (int b = begin; b < end; b++)
                System.arraycopy(src, srcOff + b * srcStride, dst, dstOff + b * dstStride, length);
        });
    }

    /** y[p, top + i, left + j] = x[p, i, j] over planes [planes, outH, outW], zeros elsewhere. */
    void pad2d(float[] x, float[] y, int planes, int h, int w, int top, int left, int outH, int outW) {
        int outPlane = outH * outW;
        threads.run(planes, parts((long) planes * outPlane), (worker, begin, end) -> {
            for (int p = begin; p < end; p++) {
                int yp = p * outPlane, xp = p * h * w;
                // Zero the bands above and below the input, then each input row's left and right margins.
                Arrays.fill(y, yp, yp + top * outW, 0f);
                Arrays.fill(y, yp + (top + h) * outW, yp + outPlane, 0f);
                for (int i = 0; i < h; i++) {
                    int row = yp + (top + i) * outW;
                    Arrays.fill(y, row, row + left, 0f);
                    System.arraycopy(x, xp + i * w, y, row + left, w);
                    Arrays.fill(y, row + left + w, row + outW, 0f);
                }
            }
        });
    }

    /** dx[p, i, j] = dy[p, top + i, left + j]: the (h, w) window of each [outH, outW] plane. */
    void crop2d(float[] dy, float[] dx, int planes, int h, int w, int top, int left, int outH, int outW) {
        int outPlane = outH * outW;
        threads.run(planes, parts((long) planes * h * w), (worker, begin, end) -> {
            for (int p = begin; p < end; p++) {
                int yp = p * outPlane, xp = p * h * w;
                for (int i = 0; i < h; i++) System.arraycopy(dy, yp + (top + i) * outW + left, dx, xp + i * w, w);
            }
        });
    }
}
