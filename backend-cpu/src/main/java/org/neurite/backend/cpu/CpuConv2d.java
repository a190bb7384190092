package org.neurite.backend.cpu;

import java.util.Arrays;
import org.neurite.backend.Conv2dGeometry;

/**
 * 2-D convolution (stride, padding, dilation, groups) as im2col + GEMM, PyTorch layouts:
 * x[N, Cin, H, W], w[Cout, Cin/groups, kh, kw], y[N, Cout, Ho, Wo]. For one sample and group
 * the column matrix is {@code col[K, P]} with {@code K = Cin/groups * kh * kw} rows (channel,
 * kernel row, kernel column) and {@code P = Ho * Wo} columns (output pixels), so
 * <pre>
 *   forward          y_g[Cout/g, P]  = w_g[Cout/g, K] * col[K, P]            (+ bias)
 *   backward data    dcol[K, P]      = w_g^T * dy_g[Cout/g, P], then col2im (scatter-add) into dx
 *   backward filter  dw_g[Cout/g, K] = sum over samples of dy_g * col^T
 * </pre>
 * A 1x1, stride-1, unpadded convolution uses x itself as the column matrix.
 *
 * <p>Column panels live in per-worker scratch capped at {@link #COL_BUDGET} floats; wider
 * outputs are processed in column chunks. Determinism: forward and backward-data compute every
 * output element in a fixed order, whatever the thread count. Backward-filter is parallel over
 * (group, block of dW columns) rather than over samples: each task owns its columns of dW and
 * accumulates the samples in order, so there are no per-thread partials to reduce and the
 * result is identical for any thread count (each task recomputes only its own rows of col).
 */
final class CpuConv2d {
    /** Largest column panel one worker holds, in floats (4 MiB). */
    static final int COL_BUDGET = 1 << 20;
    private static final long PARALLEL_MIN_FLOPS = 1L << 18;

    private final CpuThreads threads;
    private final CpuGemm gemm;
    private final float[][] cols; // per-worker column panel, grown to the largest size needed
    private final ForwardLoop forwardLoop = new ForwardLoop();
    private final BackwardDataLoop backwardDataLoop = new BackwardDataLoop();
    private final BackwardFilterLoop backwardFilterLoop = new BackwardFilterLoop();
    private final BiasGradientLoop biasGradientLoop = new BiasGradientLoop();

    CpuConv2d(CpuThreads threads, CpuGemm gemm) {
        this.threads = threads;
        this.gemm = gemm;
        this.cols = new float[threads.size()][];
    }

    /** y = conv(x, w) + bias; parallel over (sample, group, column chunk). */
    void forward(Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] y) {
        forwardLoop.execute(g, x, w, bias, y);
    }

    /** dx = w^T * dy, scattered back through col2im; parallel over (sample, group). */
    void backwardData(Conv2dGeometry g, float[] dy, float[] w, float[] dx) {
        backwardDataLoop.execute(g, dy, w, dx);
    }

    /** dw = sum_n dy_n * col_n^T and dbias = sum of dy over samples and pixels; see the class comment for the split. */
    void backwardFilter(Conv2dGeometry g, float[] x, float[] dy, float[] dw, float[] dbias) {
        if (g.batch() == 0) {
            Arrays.fill(dw, 0f);
            if (dbias != null) Arrays.fill(dbias, 0f);
            return;
        }
        backwardFilterLoop.execute(g, x, dy, dw);
        if (dbias != null) biasGradientLoop.execute(g, dy, dbias);
    }

    private final class ForwardLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] x, w, bias, y;
        private int chunkWidth, chunks;

        synchronized void execute(Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] y) {
            int k = g.inChannelsPerGroup() * g.kernelH() * g.kernelW();
            int p = g.outHeight() * g.outWidth();
            int units = g.batch() * g.groups();
            // Column chunk: within the scratch budget, and narrower when there are fewer (sample, group) units than workers.
            int pw = Math.min(p, Math.max(1, COL_BUDGET / k));
            int split = CpuGemm.ceilDiv(threads.size(), Math.max(1, units));
            if (split > 1) pw = Math.min(pw, CpuGemm.ceilDiv(p, split));
            this.g = g;
            this.x = x;
            this.w = w;
            this.bias = bias;
            this.y = y;
            this.chunkWidth = pw;
            this.chunks = CpuGemm.ceilDiv(p, pw);
            try {
                threads.run(units * chunks, parallelism(g), this);
            } finally {
                this.g = null;
                this.x = this.w = this.bias = this.y = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            Conv2dGeometry g = this.g;
            int groups = g.groups(), cinG = g.inChannelsPerGroup(), coutG = g.outChannelsPerGroup();
            int k = cinG * g.kernelH() * g.kernelW();
            int hw = g.height() * g.width(), p = g.outHeight() * g.outWidth();
            boolean pointwise = isPointwise(g);
            for (int t = begin; t < end; t++) {
                int unit = t / chunks, n = unit / groups, gi = unit % groups;
                int p0 = (t % chunks) * chunkWidth, p1 = Math.min(p, p0 + chunkWidth);
                int xOff = (n * g.inChannels() + gi * cinG) * hw;
                int yOff = (n * g.outChannels() + gi * coutG) * p;
                int wOff = gi * coutG * k;
                if (pointwise) {
                    gemm.multiply(worker, false, false, coutG, p1 - p0, k, 1f, w, wOff, k, x, xOff + p0, hw, 0f, y, yOff + p0, p);
                } else {
                    float[] col = cols(worker, k * (p1 - p0));
                    im2col(g, x, xOff, 0, k, p0, p1, col);
                    gemm.multiply(worker, false, false, coutG, p1 - p0, k, 1f, w, wOff, k, col, 0, p1 - p0, 0f, y, yOff + p0, p);
                }
                if (bias != null) {
                    for (int oc = 0; oc < coutG; oc++) {
                        float b = bias[gi * coutG + oc];
                        int row = yOff + oc * p;
                        for (int q = p0; q < p1; q++) y[row + q] += b;
                    }
                }
            }
        }
    }

    /** Overlapping windows scatter into the same dx elements, so one task owns a whole (sample, group) slice. */
    private final class BackwardDataLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] dy, w, dx;

        synchronized void execute(Conv2dGeometry g, float[] dy, float[] w, float[] dx) {
            this.g = g;
            this.dy = dy;
            this.w = w;
            this.dx = dx;
            try {
                threads.run(g.batch() * g.groups(), parallelism(g), this);
            } finally {
                this.g = null;
                this.dy = this.w = this.dx = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            Conv2dGeometry g = this.g;
            int groups = g.groups(), cinG = g.inChannelsPerGroup(), coutG = g.outChannelsPerGroup();
            int k = cinG * g.kernelH() * g.kernelW();
            int hw = g.height() * g.width(), p = g.outHeight() * g.outWidth();
            boolean pointwise = isPointwise(g);
            int pw = Math.min(p, Math.max(1, COL_BUDGET / k));
            for (int unit = begin; unit < end; unit++) {
                int n = unit / groups, gi = unit % groups;
                int xOff = (n * g.inChannels() + gi * cinG) * hw;
                int yOff = (n * g.outChannels() + gi * coutG) * p;
                int wOff = gi * coutG * k;
                if (pointwise) {
                    gemm.multiply(worker, true, false, k, p, coutG, 1f, w, wOff, k, dy, yOff, p, 0f, dx, xOff, hw);
                    continue;
                }
                Arrays.fill(dx, xOff, xOff + cinG * hw, 0f);
                for (int p0 = 0; p0 < p; p0 += pw) {
                    int p1 = Math.min(p, p0 + pw);
                    float[] col = cols(worker, k * (p1 - p0));
                    gemm.multiply(worker, true, false, k, p1 - p0, coutG, 1f, w, wOff, k, dy, yOff + p0, p, 0f, col, 0, p1 - p0);
                    col2im(g, col, dx, xOff, p0, p1);
                }
            }
        }
    }

    /** Parallel over (group, block of dW columns); each task adds the samples in order into its own columns. */
    private final class BackwardFilterLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] x, dy, dw;
        private int colWidth, colChunks;

        synchronized void execute(Conv2dGeometry g, float[] x, float[] dy, float[] dw) {
            int k = g.inChannelsPerGroup() * g.kernelH() * g.kernelW();
            int colSplit = Math.min(k, CpuGemm.ceilDiv(threads.size(), g.groups()));
            this.colWidth = CpuGemm.ceilDiv(k, colSplit);
            this.colChunks = CpuGemm.ceilDiv(k, colWidth);
            this.g = g;
            this.x = x;
            this.dy = dy;
            this.dw = dw;
            try {
                threads.run(g.groups() * colChunks, parallelism(g), this);
            } finally {
                this.g = null;
                this.x = this.dy = this.dw = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            Conv2dGeometry g = this.g;
            int cinG = g.inChannelsPerGroup(), coutG = g.outChannelsPerGroup();
            int k = cinG * g.kernelH() * g.kernelW();
            int hw = g.height() * g.width(), p = g.outHeight() * g.outWidth();
            boolean pointwise = isPointwise(g);
            // Column chunk depends only on the geometry, so the order of the sum over pixels never depends on threads.
            int pw = Math.min(p, Math.max(1, COL_BUDGET / k));
            for (int t = begin; t < end; t++) {
                int gi = t / colChunks;
                int k0 = (t % colChunks) * colWidth, k1 = Math.min(k, k0 + colWidth);
                int dwOff = gi * coutG * k + k0;
                for (int n = 0; n < g.batch(); n++) {
                    int xOff = (n * g.inChannels() + gi * cinG) * hw;
                    int yOff = (n * g.outChannels() + gi * coutG) * p;
                    for (int p0 = 0; p0 < p; p0 += pw) {
                        int p1 = Math.min(p, p0 + pw);
                        float beta = n == 0 && p0 == 0 ? 0f : 1f;
                        if (pointwise) {
                            // Rows of col are the input channels themselves.
                            gemm.multiply(worker, false, true, coutG, k1 - k0, p1 - p0, 1f, dy, yOff + p0, p,
                                    x, xOff + k0 * hw + p0, hw, beta, dw, dwOff, k);
                        } else {
                            float[] col = cols(worker, (k1 - k0) * (p1 - p0));
                            im2col(g, x, xOff, k0, k1, p0, p1, col);
                            gemm.multiply(worker, false, true, coutG, k1 - k0, p1 - p0, 1f, dy, yOff + p0, p,
                                    col, 0, p1 - p0, beta, dw, dwOff, k);
                        }
                    }
                }
            }
        }
    }

    /** dbias[c] = sum over samples and pixels of dy[n, c, :], in double, one channel per task. */
    private final class BiasGradientLoop implements CpuThreads.RangeTask {
        private float[] dy, dbias;
        private int channels, p, batch;

        synchronized void execute(Conv2dGeometry g, float[] dy, float[] dbias) {
            this.dy = dy;
            this.dbias = dbias;
            this.channels = g.outChannels();
            this.p = g.outHeight() * g.outWidth();
            this.batch = g.batch();
            long work = (long) batch * channels * p;
            try {
                threads.run(channels, work < (1 << 16) ? 1 : threads.size(), this);
            } finally {
                this.dy = this.dbias = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] dy = this.dy;
            for (int c = begin; c < end; c++) {
                double sum = 0;
                for (int n = 0; n < batch; n++) {
                    int row = (n * channels + c) * p;
                    for (int q = 0; q < p; q++) sum += dy[row + q];
                }
                dbias[c] = (float) sum;
            }
        }
    }

    private int parallelism(Conv2dGeometry g) {
        return g.flops() < PARALLEL_MIN_FLOPS ? 1 : threads.size();
    }

    private static boolean isPointwise(Conv2dGeometry g) {
        return g.kernelH() == 1 && g.kernelW() == 1 && g.strideH() == 1 && g.strideW() == 1 && g.padH() == 0 && g.padW() == 0;
    }

    private float[] cols(int worker, int size) {
        float[] c = cols[worker];
        if (c == null || c.length < size) cols[worker] = c = new float[size];
        return c;
    }

    /**
     * Fills rows [r0, r1) and pixel columns [p0, p1) of the column matrix of one (sample, group)
     * whose first input channel starts at {@code xOff}: {@code col[(r-r0)*(p1-p0) + (q-p0)]}.
     * Each row is walked one output row at a time: a zero run for left padding, a copy of the
     * input row (strided when strideW > 1), a zero run for right padding.
     */
    static void im2col(Conv2dGeometry g, float[] x, int xOff, int r0, int r1, int p0, int p1, float[] col) {
        int kh = g.kernelH(), kw = g.kernelW(), h = g.height(), w = g.width(), wo = g.outWidth(), sw = g.strideW();
        for (int r = r0; r < r1; r++) {
            int c = r / (kh * kw), ki = (r / kw) % kh, kj = r % kw;
            int colOffset = kj * g.dilationW() - g.padW(); // input column of output column ow: ow * sw + colOffset
            int validLo = validLo(colOffset, sw), validHi = validHi(colOffset, sw, w);
            int plane = xOff + c * h * w;
            int d = (r - r0) * (p1 - p0); // col index of pixel q
            for (int q = p0; q < p1; ) {
                int oh = q / wo, owLo = q - oh * wo, owHi = Math.min(wo, owLo + (p1 - q)), run = owHi - owLo;
                int ih = oh * g.strideH() - g.padH() + ki * g.dilationH();
                if (ih < 0 || ih >= h) {
                    Arrays.fill(col, d, d + run, 0f);
                } else {
                    int lo = Math.min(Math.max(validLo, owLo), owHi), hi = Math.max(lo, Math.min(validHi, owHi));
                    int base = d - owLo; // col index of output column ow
                    int src = plane + ih * w + colOffset; // x index of output column ow: src + ow * sw
                    Arrays.fill(col, d, base + lo, 0f);
                    if (sw == 1 && hi > lo) System.arraycopy(x, src + lo, col, base + lo, hi - lo);
                    else for (int ow = lo; ow < hi; ow++) col[base + ow] = x[src + ow * sw];
                    Arrays.fill(col, base + hi, base + owHi, 0f);
                }
                q += run;
                d += run;
            }
        }
    }

    /** The adjoint of {@link #im2col} over all rows and pixel columns [p0, p1): dx[...] += col[...]; padding is dropped. */
    static void col2im(Conv2dGeometry g, float[] col, float[] dx, int xOff, int p0, int p1) {
        int kh = g.kernelH(), kw = g.kernelW(), h = g.height(), w = g.width(), wo = g.outWidth(), sw = g.strideW();
        int rows = g.inChannelsPerGroup() * kh * kw;
        for (int r = 0; r < rows; r++) {
            int c = r / (kh * kw), ki = (r / kw) % kh, kj = r % kw;
            int colOffset = kj * g.dilationW() - g.padW();
            int validLo = validLo(colOffset, sw), validHi = validHi(colOffset, sw, w);
            int plane = xOff + c * h * w;
            int d = r * (p1 - p0);
            for (int q = p0; q < p1; ) {
                int oh = q / wo, owLo = q - oh * wo, owHi = Math.min(wo, owLo + (p1 - q)), run = owHi - owLo;
                int ih = oh * g.strideH() - g.padH() + ki * g.dilationH();
                if (ih >= 0 && ih < h) {
                    int lo = Math.max(validLo, owLo), hi = Math.min(validHi, owHi);
                    int base = d - owLo;
                    int dst = plane + ih * w + colOffset;
                    for (int ow = lo; ow < hi; ow++) dx[dst + ow * sw] += col[base + ow];
                }
                q += run;
                d += run;
            }
        }
    }

    /** First output column whose input column {@code ow * sw + colOffset} is >= 0. */
    private static int validLo(int colOffset, int sw) {
        return colOffset >= 0 ? 0 : CpuGemm.ceilDiv(-colOffset, sw);
    }

    /** One past the last output column whose input column is < w (0 when there is none). */
    private static int validHi(int colOffset, int sw, int w) {
        return w - 1 - colOffset < 0 ? 0 : (w - 1 - colOffset) / sw + 1;
    }
}
