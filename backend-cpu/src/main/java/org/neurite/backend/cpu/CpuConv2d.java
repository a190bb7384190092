package org.neurite.backend.cpu;

import java.util.Arrays;
import org.neurite.backend.Conv2dGeometry;

/**
 * 2-D convolution (stride, padding, dilation, groups), PyTorch layouts: x[N, Cin, H, W],
 * w[Cout, Cin/groups, kh, kw], y[N, Cout, Ho, Wo]. For one sample and group the column matrix
 * is {@code col[K, P]} with {@code K = Cin/groups * kh * kw} rows (channel, kernel row, kernel
 * column) and {@code P = Ho * Wo} columns (output pixels), so
 * <pre>
 *   forward          y_g[Cout/g, P]  = w_g[Cout/g, K] * col[K, P]            (+ bias)
 *   backward data    dx = the forward convolution of dy with w transposed and flipped (stride 1),
 *                    or dcol[K, P] = w_g^T * dy_g[Cout/g, P], then col2im (scatter-add) into dx
 *   backward filter  dw_g[Cout/g, K] = sum over samples of dy_g * col^T
 * </pre>
 *
 * <p><b>How each pass is computed (the rule, checked in this order):</b>
 * <ol>
 *   <li>1x1, stride 1, no padding: x (or dy) already is the column matrix; a plain GEMM on it.</li>
 *   <li>Otherwise, forward and backward-filter are <em>implicit GEMMs</em>: the column matrix is
 *       never stored. The GEMM asks a {@link CpuGemm.PanelSource} for each {@code KC x NR} strip
 *       of it and im2col writes that strip straight into the packed panel, so each input value is
 *       copied once (not into col and then again into the panel) and there is no column scratch.</li>
 *   <li>Backward-data with stride 1 and padding at most the kernel's reach ({@code pad <=
 *       dilation * (k - 1)}, true of "same" and "valid" convolutions) is the forward pass of a
 *       convolution of dy, with Cout input channels, padding {@code dilation * (k - 1) - pad} and
 *       the weights transposed to [Cin, Cout/groups, kh, kw] and flipped in both kernel axes.
 *       So it is an implicit GEMM as deep as forward's ({@code Cout/g * kh * kw}) instead of a
 *       GEMM only {@code Cout/g} deep followed by a scatter, and it needs no col2im.</li>
 *   <li>Other backward-data (stride > 1): {@code w^T * dy} into column scratch (per worker,
 *       at most {@link #COL_BUDGET} floats, wider outputs in pixel chunks), then col2im.</li>
 * </ol>
 * A direct (non-GEMM) kernel was not added: with im2col fused into the packing, every layer of
 * the example networks is GEMM-bound.
 *
 * <p>Determinism: every output element is computed by one task in a fixed order, whatever the
 * thread count or which worker claims the task. Forward (and the transposed backward-data) are
 * parallel over (sample, group, pixel chunk); the scatter form of backward-data over
 * (sample, group). Backward-filter is parallel over (group, block of dW columns), not over
 * samples: each task owns its columns of dW and accumulates the samples in order, so there are
 * no per-thread partials to reduce (each task forms only its own rows of col).
 */
final class CpuConv2d {
    /** Largest column panel one worker holds in the scatter form of backward-data, in floats (4 MiB). */
    static final int COL_BUDGET = 1 << 20;
    private static final long PARALLEL_MIN_FLOPS = 1L << 18;

    private final CpuThreads threads;
    private final CpuGemm gemm;
    private final float[][] cols; // per-worker column panel of the scatter backward-data, grown to the largest size needed
    private final ColumnPanels[] columnPanels; // per-worker im2col panel sources of the implicit GEMMs
    private final ForwardLoop forwardLoop = new ForwardLoop();
    private final TransposedBackwardData transposedBackwardData = new TransposedBackwardData();
    private final ScatterBackwardDataLoop scatterBackwardDataLoop = new ScatterBackwardDataLoop();
    private final BackwardFilterLoop backwardFilterLoop = new BackwardFilterLoop();
    private final BiasGradientLoop biasGradientLoop = new BiasGradientLoop();

    CpuConv2d(CpuThreads threads, CpuGemm gemm) {
        this.threads = threads;
        this.gemm = gemm;
        this.cols = new float[threads.size()][];
        this.columnPanels = new ColumnPanels[threads.size()];
        for (int w = 0; w < columnPanels.length; w++) columnPanels[w] = new ColumnPanels();
    }

    /** y = conv(x, w) + bias; parallel over (sample, group, pixel chunk). */
    void forward(Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] y) {
        forwardLoop.execute(g, x, w, bias, y);
    }

    /** dx for dy: the transposed convolution when the rule above allows it, else w^T * dy and col2im. */
    void backwardData(Conv2dGeometry g, float[] dy, float[] w, float[] dx) {
        if (!isPointwise(g) && TransposedBackwardData.applies(g)) transposedBackwardData.execute(g, dy, w, dx);
        else scatterBackwardDataLoop.execute(g, dy, w, dx);
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
     * The column matrix of one (sample, group) as a {@link CpuGemm.PanelSource}, one per worker,
     * re-aimed before each GEMM. As the forward B ({@code transposed == false}) it is col[K, P]
     * from pixel {@code offset} on; as the backward-filter B it is col^T[P, K] from column
     * (row of col) {@code offset} on.
     */
    private static final class ColumnPanels implements CpuGemm.PanelSource {
        private Conv2dGeometry g;
        private float[] x;
        private int xOff, offset;
        private boolean transposed;

        ColumnPanels aim(Conv2dGeometry g, float[] x, int xOff, boolean transposed, int offset) {
            this.g = g;
            this.x = x;
            this.xOff = xOff;
            this.transposed = transposed;
            this.offset = offset;
            return this;
        }

        void release() {
            this.g = null;
            this.x = null;
        }

        @Override
        public void packStrip(int p0, int kc, int j0, int cols, float[] dst, int base) {
            if (!transposed) {
                // Rows of col [p0, p0+kc), pixels [offset+j0, offset+j0+cols): dst[base + row*NR + pixel].
                im2col(g, x, xOff, p0, p0 + kc, offset + j0, offset + j0 + cols, dst, base, CpuGemm.NR, 1);
                if (cols < CpuGemm.NR) for (int p = 0; p < kc; p++) Arrays.fill(dst, base + p * CpuGemm.NR + cols, base + (p + 1) * CpuGemm.NR, 0f);
            } else {
                // Pixels (depth) [p0, p0+kc), rows of col [offset+j0, offset+j0+cols): dst[base + pixel*NR + row].
                im2col(g, x, xOff, offset + j0, offset + j0 + cols, p0, p0 + kc, dst, base, 1, CpuGemm.NR);
                if (cols < CpuGemm.NR) for (int p = 0; p < kc; p++) Arrays.fill(dst, base + p * CpuGemm.NR + cols, base + (p + 1) * CpuGemm.NR, 0f);
            }
        }
    }

    /** Forward, also run by the transposed backward-data: parallel over (sample, group, pixel chunk). */
    private final class ForwardLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] x, w, bias, y;
        private int chunkWidth, chunks;

        synchronized void execute(Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] y) {
            int p = g.outHeight() * g.outWidth();
            int units = g.batch() * g.groups();
            // Pixel chunks only when there are fewer (sample, group) units than workers.
            int split = CpuGemm.ceilDiv(threads.size(), Math.max(1, units));
            this.chunkWidth = split > 1 ? CpuGemm.roundUp(CpuGemm.ceilDiv(p, split), CpuGemm.NR) : p;
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
                    ColumnPanels col = columnPanels[worker].aim(g, x, xOff, false, p0);
                    gemm.multiply(worker, false, coutG, p1 - p0, k, 1f, w, wOff, k, col, 0f, y, yOff + p0, p);
                    col.release();
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

    /**
     * Stride-1 backward-data as a forward convolution of dy (see the class comment): the weights
     * are transposed and flipped into reusable scratch, the transposed geometry is kept while
     * the same geometry comes back (so a training step allocates nothing), and
     * {@link ForwardLoop} does the rest.
     */
    private final class TransposedBackwardData {
        private float[] flipped = new float[0];
        private Conv2dGeometry forGeometry, transposedGeometry;

        /** Stride 1 and padding within the kernel's reach, so the transposed padding is >= 0. */
        static boolean applies(Conv2dGeometry g) {
            return g.strideH() == 1 && g.strideW() == 1
                    && g.padH() <= g.dilationH() * (g.kernelH() - 1) && g.padW() <= g.dilationW() * (g.kernelW() - 1);
        }

        /**
         * Field-by-field equality: the record's own equals runs through method handles, which
         * allocate while they are interpreted, and this check runs on every call.
         */
        private static boolean sameGeometry(Conv2dGeometry a, Conv2dGeometry b) {
            return a == b || b != null && a.batch() == b.batch() && a.inChannels() == b.inChannels() && a.height() == b.height()
                    && a.width() == b.width() && a.outChannels() == b.outChannels() && a.kernelH() == b.kernelH()
                    && a.kernelW() == b.kernelW() && a.strideH() == b.strideH() && a.strideW() == b.strideW()
                    && a.padH() == b.padH() && a.padW() == b.padW() && a.dilationH() == b.dilationH()
                    && a.dilationW() == b.dilationW() && a.groups() == b.groups();
        }

        synchronized void execute(Conv2dGeometry g, float[] dy, float[] w, float[] dx) {
            if (!sameGeometry(g, forGeometry)) {
                transposedGeometry = new Conv2dGeometry(g.batch(), g.outChannels(), g.outHeight(), g.outWidth(), g.inChannels(),
                        g.kernelH(), g.kernelW(), 1, 1, g.dilationH() * (g.kernelH() - 1) - g.padH(),
                        g.dilationW() * (g.kernelW() - 1) - g.padW(), g.dilationH(), g.dilationW(), g.groups());
                forGeometry = g;
            }
            if (flipped.length < w.length) flipped = new float[w.length];
            // flipped[gi*cinG + ci][co][i][j] = w[gi*coutG + co][ci][kh-1-i][kw-1-j]
            int groups = g.groups(), cinG = g.inChannelsPerGroup(), coutG = g.outChannelsPerGroup();
            int kh = g.kernelH(), kw = g.kernelW(), taps = kh * kw;
            for (int gi = 0; gi < groups; gi++) {
                for (int co = 0; co < coutG; co++) {
                    for (int ci = 0; ci < cinG; ci++) {
                        int src = ((gi * coutG + co) * cinG + ci) * taps;
                        int dst = ((gi * cinG + ci) * coutG + co) * taps;
                        for (int t = 0; t < taps; t++) flipped[dst + taps - 1 - t] = w[src + t];
                    }
                }
            }
            forwardLoop.execute(transposedGeometry, dy, flipped, null, dx);
        }
    }

    /**
     * The general backward-data (strides > 1, or padding wider than the kernel reach): dcol =
     * w^T * dy into per-worker column scratch, in pixel chunks of at most {@link #COL_BUDGET}
     * floats, then col2im. Overlapping windows scatter into the same dx elements, so one task owns
     * a whole (sample, group) slice. 1x1 stride-1 unpadded convolutions write w^T * dy straight
     * into dx.
     */
    private final class ScatterBackwardDataLoop implements CpuThreads.RangeTask {
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

    /**
     * Parallel over (group, block of dW columns), claimed; each task adds the samples in order
     * into its own columns, one implicit GEMM per sample (depth: the pixels).
     */
    private final class BackwardFilterLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] x, dy, dw;
        private int colWidth, colChunks;

        synchronized void execute(Conv2dGeometry g, float[] x, float[] dy, float[] dw) {
            int k = g.inChannelsPerGroup() * g.kernelH() * g.kernelW();
            // About two blocks per worker, in whole micro-tile columns: enough to even out the load.
            int colSplit = Math.max(1, Math.min(CpuGemm.ceilDiv(k, CpuGemm.NR), CpuGemm.ceilDiv(2 * threads.size(), g.groups())));
            this.colWidth = CpuGemm.roundUp(CpuGemm.ceilDiv(k, colSplit), CpuGemm.NR);
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
            for (int t = begin; t < end; t++) {
                int gi = t / colChunks;
                int k0 = (t % colChunks) * colWidth, k1 = Math.min(k, k0 + colWidth);
                int dwOff = gi * coutG * k + k0;
                for (int n = 0; n < g.batch(); n++) {
                    int xOff = (n * g.inChannels() + gi * cinG) * hw;
                    int yOff = (n * g.outChannels() + gi * coutG) * p;
                    float beta = n == 0 ? 0f : 1f;
                    if (pointwise) {
                        // Rows of col are the input channels themselves.
                        gemm.multiply(worker, false, true, coutG, k1 - k0, p, 1f, dy, yOff, p,
                                x, xOff + k0 * hw, hw, beta, dw, dwOff, k);
                    } else {
                        ColumnPanels colT = columnPanels[worker].aim(g, x, xOff, true, k0);
                        gemm.multiply(worker, false, coutG, k1 - k0, p, 1f, dy, yOff, p, colT, beta, dw, dwOff, k);
                        colT.release();
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
     * Writes rows [r0, r1) and pixel columns [p0, p1) of the column matrix of one (sample, group)
     * whose first input channel starts at {@code xOff}: element (r, q) goes to
     * {@code col[colOff + (r-r0)*rowStride + (q-p0)*colStride]}, so the same walk fills a row-major
     * block (colStride 1) or a transposed one (rowStride 1). Each row is walked one output row at
     * a time: a zero run for left padding, a copy of the input row (strided when strideW > 1), a
     * zero run for right padding; rows of the kernel that fall in top or bottom padding are zeros.
     */
    static void im2col(Conv2dGeometry g, float[] x, int xOff, int r0, int r1, int p0, int p1,
                       float[] col, int colOff, int rowStride, int colStride) {
        int kh = g.kernelH(), kw = g.kernelW(), h = g.height(), w = g.width(), wo = g.outWidth(), sw = g.strideW();
        for (int r = r0; r < r1; r++) {
            int c = r / (kh * kw), ki = (r / kw) % kh, kj = r % kw;
            int colOffset = kj * g.dilationW() - g.padW(); // input column of output column ow: ow * sw + colOffset
            int validLo = validLo(colOffset, sw), validHi = validHi(colOffset, sw, w);
            int plane = xOff + c * h * w;
            int rowBase = colOff + (r - r0) * rowStride; // col index of pixel p0
            for (int q = p0; q < p1; ) {
                int oh = q / wo, owLo = q - oh * wo, owHi = Math.min(wo, owLo + (p1 - q)), run = owHi - owLo;
                int ih = oh * g.strideH() - g.padH() + ki * g.dilationH();
                int d = rowBase + (q - p0) * colStride; // col index of output column owLo
                if (ih < 0 || ih >= h) {
                    if (colStride == 1) Arrays.fill(col, d, d + run, 0f);
                    else for (int i = 0; i < run; i++) col[d + i * colStride] = 0f;
                } else {
                    int lo = Math.min(Math.max(validLo, owLo), owHi), hi = Math.max(lo, Math.min(validHi, owHi));
                    int src = plane + ih * w + colOffset; // x index of output column ow: src + ow * sw
                    if (colStride == 1) {
                        int base = d - owLo; // col index of output column ow
                        Arrays.fill(col, d, base + lo, 0f);
                        if (sw == 1 && hi > lo) System.arraycopy(x, src + lo, col, base + lo, hi - lo);
                        else for (int ow = lo; ow < hi; ow++) col[base + ow] = x[src + ow * sw];
                        Arrays.fill(col, base + hi, base + owHi, 0f);
                    } else {
                        for (int ow = owLo; ow < lo; ow++) col[d + (ow - owLo) * colStride] = 0f;
                        for (int ow = lo; ow < hi; ow++) col[d + (ow - owLo) * colStride] = x[src + ow * sw];
                        for (int ow = hi; ow < owHi; ow++) col[d + (ow - owLo) * colStride] = 0f;
                    }
                }
                q += run;
            }
        }
    }

    /** The adjoint of {@link #im2col} (row-major, colStride 1) over all rows and pixel columns [p0, p1): dx[...] += col[...]; padding is dropped. */
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
