package org.neurite.backend.cpu;

import java.util.Arrays;

/**
 * Data movement without arithmetic: strided block copies (concatenation and splitting along an
 * axis, batch-major ↔ time-major transposes) and zero padding of planes with its adjoint, the
 * crop. Work is split over blocks or planes, each written by one task with
 * {@link System#arraycopy}, so results do not depend on the thread count; copies below
 * {@link #PARALLEL_MIN} floats run on the caller, where a second thread costs more than it saves.
 * Each op is a reusable {@link CpuThreads.RangeTask} holding its arguments, so a call allocates
 * nothing.
 */
final class CpuCopy {
    static final long PARALLEL_MIN = 1L << 16;

    private final CpuThreads threads;
    private final BlockCopyLoop blockCopyLoop = new BlockCopyLoop();
    private final PadLoop padLoop = new PadLoop();

    CpuCopy(CpuThreads threads) {
        this.threads = threads;
    }

    private int parts(long floats) {
        return floats < PARALLEL_MIN ? 1 : threads.size();
    }

    /**
     * For b in [0, count): dst[dstOff + b*dstStride ..+length] = src[srcOff + b*srcStride ..+length].
     * The destination blocks do not overlap each other (the checking wrapper refuses that). When
     * src and dst are the same array a block may read what an earlier block wrote, so the blocks
     * run in order on one thread.
     */
    void copyBlocks(float[] src, int srcOff, int srcStride, float[] dst, int dstOff, int dstStride, int length, int count) {
        blockCopyLoop.execute(src, srcOff, srcStride, dst, dstOff, dstStride, length, count);
    }

    /** y[p, top + i, left + j] = x[p, i, j] over planes [planes, outH, outW], zeros elsewhere. */
    void pad2d(float[] x, float[] y, int planes, int h, int w, int top, int left, int outH, int outW) {
        padLoop.execute(false, x, y, planes, h, w, top, left, outH, outW);
    }

    /** dx[p, i, j] = dy[p, top + i, left + j]: the (h, w) window of each [outH, outW] plane. */
    void crop2d(float[] dy, float[] dx, int planes, int h, int w, int top, int left, int outH, int outW) {
        padLoop.execute(true, dx, dy, planes, h, w, top, left, outH, outW);
    }

    private final class BlockCopyLoop implements CpuThreads.RangeTask {
        private float[] src, dst;
        private int srcOff, srcStride, dstOff, dstStride, length;

        synchronized void execute(float[] src, int srcOff, int srcStride, float[] dst, int dstOff, int dstStride, int length, int count) {
            this.src = src;
            this.srcOff = srcOff;
            this.srcStride = srcStride;
            this.dst = dst;
            this.dstOff = dstOff;
            this.dstStride = dstStride;
            this.length = length;
            try {
                threads.run(count, src == dst ? 1 : parts((long) length * count), this);
            } finally {
                this.src = this.dst = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            for (int b = begin; b < end; b++)
                System.arraycopy(src, srcOff + b * srcStride, dst, dstOff + b * dstStride, length);
        }
    }

    /**
     * Padding (x [planes, h, w] into y [planes, outH, outW], zeros around) or, with {@code crop},
     * its adjoint (y's (h, w) window back into x); one plane per task.
     */
    private final class PadLoop implements CpuThreads.RangeTask {
        private boolean crop;
        private float[] x, y;
        private int h, w, top, left, outH, outW;

        synchronized void execute(boolean crop, float[] x, float[] y, int planes, int h, int w, int top, int left, int outH, int outW) {
            this.crop = crop;
            this.x = x;
            this.y = y;
            this.h = h;
            this.w = w;
            this.top = top;
            this.left = left;
            this.outH = outH;
            this.outW = outW;
            try {
                threads.run(planes, parts((long) planes * (crop ? h * w : outH * outW)), this);
            } finally {
                this.x = this.y = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] x = this.x, y = this.y;
            int outPlane = outH * outW;
            for (int p = begin; p < end; p++) {
                int yp = p * outPlane, xp = p * h * w;
                if (crop) {
                    for (int i = 0; i < h; i++) System.arraycopy(y, yp + (top + i) * outW + left, x, xp + i * w, w);
                    continue;
                }
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
        }
    }
}
