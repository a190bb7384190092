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
 *
 * <p><b>How each pass is computed (the rule):</b>
 * <ul>
 *   <li>1x1, stride 1, no padding: x itself is the column matrix; every pass is a plain GEMM.</li>
 *   <li>Forward with at least {@link #IMPLICIT_MIN_ROWS} output channels per group is an
 *       <em>implicit GEMM</em>: col is never built. The GEMM asks a {@link CpuGemm.PanelSource}
 *       for each {@code KC x NC} panel of it and the im2col walk writes the values straight into
 *       the packed strips, so each input value is copied once instead of into col and again into
 *       the panel. With fewer output channels each packed value is used too few times for that to
 *       pay, and forward builds col explicitly like the backward passes.</li>
 *   <li>Backward-data and backward-filter build col (or dcol) explicitly in per-worker scratch of
 *       at most {@link #COL_BUDGET} floats (wider outputs in pixel chunks). Their implicit forms
 *       were measured and dropped: backward-filter's panel is col transposed (a walk that
 *       scatters with an NR stride) and gained nothing; the stride-1 "transposed convolution"
 *       form of backward-data is a GEMM only Cin/groups rows tall, which for a first layer
 *       (Cin = 1) wastes five sixths of every micro-tile and ran several times slower.</li>
 * </ul>
 * There is no direct (non-GEMM) kernel: every layer of the example networks is GEMM-bound.
 *
 * <p>Parallel work: forward over (sample, group, pixel chunk), backward-data over (sample,
 * group), backward-filter over (group, block of dW columns), all as claimed tasks. Determinism:
 * every output element is computed by one task in a fixed order, whichever worker claims it and
 * whatever the thread count. Backward-filter is parallel over dW columns rather than over
 * samples: each task owns its columns of dW and accumulates the samples in order, so there are
 * no per-thread partials to reduce and the result is identical for any thread count (each task
 * recomputes only its own rows of col).
 */
final class CpuConv2d {
    /** Largest explicit column matrix one worker holds in the backward passes, in floats (4 MiB). */
    static final int COL_BUDGET = 1 << 20;
    private static final long PARALLEL_MIN_FLOPS = 1L << 18;
    /**
     * Output channels per group from which forward runs as an implicit GEMM. Measured with paired
     * old/new runs at batch 64 on 2 threads: LeNet-5's 6- and 16-channel layers ran 1.4x faster
     * with explicit im2col, fashion_cnn's 64-channel c2 1.1-1.2x faster implicit (its 32-channel
     * c1 about even).
     */
    static final int IMPLICIT_MIN_ROWS = 32;

    private final CpuThreads threads;
    private final CpuGemm gemm;
    private final float[][] cols; // per-worker column panel, grown to the largest size needed
    private final ColumnPanels[] columnPanels; // per-worker im2col panel sources of the forward implicit GEMM
    private final ForwardLoop forwardLoop = new ForwardLoop();
    private final BackwardDataLoop backwardDataLoop = new BackwardDataLoop();
    private final BackwardFilterLoop backwardFilterLoop = new BackwardFilterLoop();
    private final BiasGradientLoop biasGradientLoop = new BiasGradientLoop();

    CpuConv2d(CpuThreads threads, CpuGemm gemm) {
        this.threads = threads;
        this.gemm = gemm;
        this.cols = new float[threads.size()][];
        this.columnPanels = new ColumnPanels[threads.size()];
        for (int w = 0; w < columnPanels.length; w++) columnPanels[w] = new ColumnPanels();
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

    /**
     * The column matrix of one (sample, group) from pixel {@code pixel0} on, as a
     * {@link CpuGemm.PanelSource}: one per worker, aimed at its sample before each GEMM.
     */
    private static final class ColumnPanels implements CpuGemm.PanelSource {
        private Conv2dGeometry g;
        private float[] x;
        private int xOff, pixel0;

        ColumnPanels aim(Conv2dGeometry g, float[] x, int xOff, int pixel0) {
            this.g = g;
            this.x = x;
            this.xOff = xOff;
            this.pixel0 = pixel0;
            return this;
        }

        void release() {
            this.g = null;
            this.x = null;
        }

        /**
         * Rows [p0, p0+kc) of col, pixels [pixel0+j0, pixel0+j0+nc), each row walked once in
         * pixel order: the value of pixel j goes to lane j % NR of strip j / NR, so the write
         * position advances by one and jumps to the next strip every NR pixels.
         */
        @Override
        public void packPanel(int p0, int kc, int j0, int nc, float[] dst) {
            Conv2dGeometry g = this.g;
            float[] x = this.x;
            int kh = g.kernelH(), kw = g.kernelW(), h = g.height(), w = g.width(), wo = g.outWidth(), sw = g.strideW();
            int nr = CpuGemm.NR, nextStrip = (kc - 1) * nr + 1; // from the last lane of a strip to lane 0 of the next
            for (int r = p0; r < p0 + kc; r++) {
                int c = r / (kh * kw), ki = (r / kw) % kh, kj = r % kw;
                int colOffset = kj * g.dilationW() - g.padW(); // input column of output column ow: ow * sw + colOffset
                int validLo = validLo(colOffset, sw), validHi = validHi(colOffset, sw, w);
                int plane = xOff + c * h * w;
                int d = (r - p0) * nr, lane = 0;
                for (int q = pixel0 + j0, end = q + nc; q < end; ) {
                    int oh = q / wo, owLo = q - oh * wo, owHi = Math.min(wo, owLo + (end - q));
                    int ih = oh * g.strideH() - g.padH() + ki * g.dilationH();
                    // Output columns [lo, hi) read the input row; the rest of the run is padding.
                    int lo = owHi, hi = owHi;
                    if (ih >= 0 && ih < h) {
                        lo = Math.min(Math.max(validLo, owLo), owHi);
                        hi = Math.max(lo, Math.min(validHi, owHi));
                    }
                    int src = plane + ih * w + colOffset; // x index of output column ow: src + ow * sw
                    for (int ow = owLo; ow < owHi; ow++) {
                        dst[d] = ow >= lo && ow < hi ? x[src + ow * sw] : 0f;
                        if (++lane == nr) {
                            lane = 0;
                            d += nextStrip;
                        } else {
                            d++;
                        }
                    }
                    q += owHi - owLo;
                }
                for (; lane != 0 && lane < nr; lane++) dst[d++] = 0f; // the last strip's columns past nc
            }
        }
    }

    /** y = conv(x, w) + bias over (sample, group, pixel chunk) tasks; chunks only when samples are fewer than workers. */
    private final class ForwardLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] x, w, bias, y;
        private int chunkWidth, chunks;

        synchronized void execute(Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] y) {
            int p = g.outHeight() * g.outWidth();
            int units = g.batch() * g.groups();
            int split = CpuGemm.ceilDiv(threads.size(), Math.max(1, units));
            int width = split > 1 ? CpuGemm.roundUp(CpuGemm.ceilDiv(p, split), CpuGemm.NR) : p;
            // The explicit column matrix of a chunk must fit the per-worker budget.
            if (!isPointwise(g) && !isImplicit(g)) width = Math.min(width, Math.max(1, COL_BUDGET / (g.inChannelsPerGroup() * g.kernelH() * g.kernelW())));
            this.chunkWidth = width;
            this.chunks = CpuGemm.ceilDiv(p, chunkWidth);
            this.g = g;
            this.x = x;
            this.w = w;
            this.bias = bias;
            this.y = y;
            try {
                threads.runClaimed(units * chunks, parallelism(g), this);
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
            boolean pointwise = isPointwise(g), implicit = isImplicit(g);
            for (int t = begin; t < end; t++) {
                int unit = t / chunks, n = unit / groups, gi = unit % groups;
                int p0 = (t % chunks) * chunkWidth, p1 = Math.min(p, p0 + chunkWidth);
                int xOff = (n * g.inChannels() + gi * cinG) * hw;
                int yOff = (n * g.outChannels() + gi * coutG) * p;
                int wOff = gi * coutG * k;
                if (pointwise) {
                    gemm.multiply(worker, false, false, coutG, p1 - p0, k, 1f, w, wOff, k, x, xOff + p0, hw, 0f, y, yOff + p0, p);
                } else if (implicit) {
                    ColumnPanels col = columnPanels[worker].aim(g, x, xOff, p0);
                    gemm.multiply(worker, false, coutG, p1 - p0, k, 1f, w, wOff, k, col, 0f, y, yOff + p0, p);
                    col.release();
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
                threads.runClaimed(g.batch() * g.groups(), parallelism(g), this);
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

    /** Parallel over (group, block of dW columns), claimed; each task adds the samples in order into its own columns. */
    private final class BackwardFilterLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] x, dy, dw;
        private int colWidth, colChunks;

        synchronized void execute(Conv2dGeometry g, float[] x, float[] dy, float[] dw) {
            int k = g.inChannelsPerGroup() * g.kernelH() * g.kernelW();
            // About two column blocks per worker, so claiming evens out the load, each a whole
            // number of micro-tile columns (a narrower block would pad every tile with zeros).
            int colSplit = Math.min(k, CpuGemm.ceilDiv(2 * threads.size(), g.groups()));
            this.colWidth = Math.min(k, CpuGemm.roundUp(CpuGemm.ceilDiv(k, colSplit), CpuGemm.NR));
            this.colChunks = CpuGemm.ceilDiv(k, colWidth);
            this.g = g;
            this.x = x;
            this.dy = dy;
            this.dw = dw;
            try {
                threads.runClaimed(g.groups() * colChunks, parallelism(g), this);
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

    /**
     * Forward as an implicit GEMM when each packed column value feeds at least
     * {@link #IMPLICIT_MIN_ROWS} output channels; below that the walk that packs it costs more
     * than it saves, and an explicit im2col (contiguous copies) followed by a plain GEMM wins.
     */
    private static boolean isImplicit(Conv2dGeometry g) {
        return g.outChannelsPerGroup() >= IMPLICIT_MIN_ROWS;
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
