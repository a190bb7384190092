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
 *   <li>Stride 1, dilation 1 and a tiny reduction ({@code K <= }{@link CpuDirectConv2d#MAX_K}, e.g. a
 *       first layer on one-channel images): forward and backward-filter run the direct kernels of
 *       {@link CpuDirectConv2d}; im2col + GEMM would be bound by packing there.</li>
 *   <li>Otherwise the input of a (sample, group) is copied once into a zero-padded buffer, and
 *       every element of col is one load from it through two offset tables ({@link Offsets}).
 *       Forward with at least {@link #IMPLICIT_MIN_ROWS} output channels per group is an
 *       <em>implicit GEMM</em>: a {@link CpuGemm.PanelSource} gathers each {@code KC x NC} panel
 *       of col straight into the packed strips, so col is never built. Backward-filter does the
 *       same with col transposed as its B operand. Backward-data computes dcol = w^T * dy a block
 *       of rows at a time (L2-sized) and adds it into a padded dx buffer (col2im without bounds
 *       tests; at stride 1 whole output rows), cropped into dx at the end.</li>
 *   <li>The stride-1 "transposed convolution" form of backward-data (a GEMM only Cin/groups rows
 *       tall) was measured before and ran several times slower on first layers; not used.</li>
 * </ul>
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
    /** Floats of dcol produced at a time in backward-data (128 KiB: stays in L2 until col2im reads it). */
    static final int DCOL_BLOCK = 1 << 15;
    private static final long PARALLEL_MIN_FLOPS = 1L << 18;
    /**
     * Output channels per group from which forward runs as an implicit GEMM. With the padded-input
     * gather, single-thread runs at batch 16 (thread CPU time, medians) had implicit 1.25x faster
     * than explicit im2col + GEMM on fashion_cnn's c2 (64 channels) and 1.2-1.5x on a 16-channel
     * layer on 6 input channels. (With the earlier bounds-testing walk, explicit had won below 32
     * channels.) Fewer channels than 16 were not measured and keep the explicit path.
     */
    static final int IMPLICIT_MIN_ROWS = 16;

    private final CpuThreads threads;
    private final CpuGemm gemm;
    private final float[][] cols; // per-worker column panel, grown to the largest size needed
    private final float[][] padded; // per-worker zero-padded copy of one (sample, group) of x or dx
    private final ColumnPanels[] columnPanels; // per-worker im2col panel sources of the forward implicit GEMM
    private final TransposedColumnPanels[] transposedPanels; // per-worker col^T panel sources of backward-filter
    private final Offsets offsets = new Offsets();
    private final CpuDirectConv2d direct;
    private float[] packedWeights = new float[0]; // w (forward) or w^T (backward-data) packed once per call, grow-only
    private final ForwardLoop forwardLoop = new ForwardLoop();
    private final BackwardDataLoop backwardDataLoop = new BackwardDataLoop();
    private final BackwardFilterLoop backwardFilterLoop = new BackwardFilterLoop();
    private final BiasGradientLoop biasGradientLoop = new BiasGradientLoop();

    CpuConv2d(CpuThreads threads, CpuGemm gemm, CpuKernels.Path path) {
        this.threads = threads;
        this.gemm = gemm;
        this.cols = new float[threads.size()][];
        this.padded = new float[threads.size()][];
        this.direct = new CpuDirectConv2d(threads, path);
        this.columnPanels = new ColumnPanels[threads.size()];
        this.transposedPanels = new TransposedColumnPanels[threads.size()];
        for (int w = 0; w < columnPanels.length; w++) {
            columnPanels[w] = new ColumnPanels();
            transposedPanels[w] = new TransposedColumnPanels();
        }
    }

    /** y = conv(x, w) + bias; parallel over (sample, group, column chunk). */
    void forward(Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] y) {
        if (CpuDirectConv2d.applies(g)) direct.forward(g, x, w, bias, y);
        else forwardLoop.execute(g, x, w, bias, y);
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
        if (CpuDirectConv2d.applies(g)) direct.backwardFilter(g, x, dy, dw);
        else backwardFilterLoop.execute(g, x, dy, dw);
        if (dbias != null) biasGradientLoop.execute(g, dy, dbias);
    }

    /**
     * Index tables of the padded-input walk, computed once per call (grow-only arrays, so a
     * steady training step allocates nothing). With the input of one (sample, group) copied into
     * a zero-padded buffer {@code xp[cinG][Hp][Wp]} ({@code Hp = H + 2 padH}, {@code Wp = W + 2 padW}),
     * every element of the column matrix is one load, with no bounds test:
     * <pre>
     *   col[r][q] = xp[row[r] + pixel[q]]
     *   row[r]    = c * Hp * Wp + ki * dilationH * Wp + kj * dilationW     (r = (c, ki, kj))
     *   pixel[q]  = oh * strideH * Wp + ow * strideW                       (q = (oh, ow))
     * </pre>
     * and col2im is the same map read backwards: {@code dxp[row[r] + pixel[q]] += dcol[r][q]}.
     */
    private static final class Offsets {
        int[] row = new int[0], pixel = new int[0];
        int paddedH, paddedW;

        void compute(Conv2dGeometry g) {
            int kh = g.kernelH(), kw = g.kernelW(), k = g.inChannelsPerGroup() * kh * kw;
            int wo = g.outWidth(), p = g.outHeight() * wo;
            paddedH = g.height() + 2 * g.padH();
            paddedW = g.width() + 2 * g.padW();
            if (row.length < k) row = new int[k];
            if (pixel.length < p) pixel = new int[p];
            for (int r = 0; r < k; r++) {
                int c = r / (kh * kw), ki = (r / kw) % kh, kj = r % kw;
                row[r] = (c * paddedH + ki * g.dilationH()) * paddedW + kj * g.dilationW();
            }
            for (int q = 0; q < p; q++) pixel[q] = (q / wo) * g.strideH() * paddedW + (q % wo) * g.strideW();
        }

        int paddedSize(Conv2dGeometry g) {
            return g.inChannelsPerGroup() * paddedH * paddedW;
        }
    }

    /** Copies channels [0, cinG) of x from {@code xOff} into {@code xp} with a zero border of padH rows and padW columns. */
    private static void pad(Conv2dGeometry g, Offsets o, float[] x, int xOff, float[] xp) {
        int h = g.height(), w = g.width(), hp = o.paddedH, wp = o.paddedW, ph = g.padH(), pw = g.padW();
        int cin = g.inChannelsPerGroup();
        if (ph == 0 && pw == 0) {
            System.arraycopy(x, xOff, xp, 0, cin * h * w);
            return;
        }
        for (int c = 0; c < cin; c++) {
            int plane = c * hp * wp;
            Arrays.fill(xp, plane, plane + ph * wp + pw, 0f); // top rows and the first row's left border
            for (int ih = 0; ih < h; ih++) {
                int d = plane + (ih + ph) * wp + pw;
                System.arraycopy(x, xOff + (c * h + ih) * w, xp, d, w);
                // right border of this row and left border of the next
                Arrays.fill(xp, d + w, ih + 1 < h ? d + w + 2 * pw : plane + hp * wp, 0f);
            }
        }
    }

    /** dx[channels of one (sample, group) at dxOff] = the interior of the padded gradient {@code dxp}. */
    private static void crop(Conv2dGeometry g, Offsets o, float[] dxp, float[] dx, int dxOff) {
        int h = g.height(), w = g.width(), hp = o.paddedH, wp = o.paddedW, ph = g.padH(), pw = g.padW();
        int cin = g.inChannelsPerGroup();
        if (ph == 0 && pw == 0) {
            System.arraycopy(dxp, 0, dx, dxOff, cin * h * w);
            return;
        }
        for (int c = 0; c < cin; c++) {
            for (int ih = 0; ih < h; ih++) {
                System.arraycopy(dxp, (c * hp + ih + ph) * wp + pw, dx, dxOff + (c * h + ih) * w, w);
            }
        }
    }

    /**
     * The column matrix of one (sample, group) from pixel {@code pixel0} on, as a
     * {@link CpuGemm.PanelSource} over the padded input: one per worker, aimed at its padded
     * sample before each GEMM.
     */
    private static final class ColumnPanels implements CpuGemm.PanelSource {
        private float[] xp;
        private int[] row, pixel;
        private int pixel0;

        ColumnPanels aim(Offsets o, float[] xp, int pixel0) {
            this.xp = xp;
            this.row = o.row;
            this.pixel = o.pixel;
            this.pixel0 = pixel0;
            return this;
        }

        void release() {
            this.xp = null;
            this.row = this.pixel = null;
        }

        /**
         * Rows [p0, p0+kc) of col, pixels [pixel0+j0, pixel0+j0+nc): strip s, depth p, lane l
         * gets {@code xp[row[p0+p] + pixel[pixel0+j0+s*NR+l]]}; lanes past nc are zero.
         */
        @Override
        public void packPanel(int p0, int kc, int j0, int nc, float[] dst) {
            float[] xp = this.xp;
            int[] pixel = this.pixel;
            int nr = CpuGemm.NR, full = nc / nr * nr, q0 = pixel0 + j0, stripStride = kc * nr;
            for (int p = 0; p < kc; p++) {
                int base = row[p0 + p], d = p * nr;
                for (int j = 0; j < full; j += nr, d += stripStride) {
                    int q = q0 + j;
                    for (int l = 0; l < nr; l++) dst[d + l] = xp[base + pixel[q + l]];
                }
                if (full < nc) {
                    int q = q0 + full, rest = nc - full;
                    for (int l = 0; l < rest; l++) dst[d + l] = xp[base + pixel[q + l]];
                    for (int l = rest; l < nr; l++) dst[d + l] = 0f;
                }
            }
        }
    }

    /**
     * The transposed column matrix of one (sample, group), {@code colT[P, K]}, as the B operand
     * of backward-filter ({@code dw[Cout, K] += dy[Cout, P] * colT}): depth is pixels, columns
     * are rows of col. Packed straight from the padded input, so col is never built and then
     * transposed while packing.
     */
    private static final class TransposedColumnPanels implements CpuGemm.PanelSource {
        private float[] xp;
        private int[] row, pixel;
        private int row0, pixel0;

        TransposedColumnPanels aim(Offsets o, float[] xp, int row0, int pixel0) {
            this.xp = xp;
            this.row = o.row;
            this.pixel = o.pixel;
            this.row0 = row0;
            this.pixel0 = pixel0;
            return this;
        }

        void release() {
            this.xp = null;
            this.row = this.pixel = null;
        }

        /**
         * Pixels [pixel0+p0, pixel0+p0+kc) x col rows [row0+j0, row0+j0+nc): lane l of strip s at
         * depth p is {@code xp[pixel[pixel0+p0+p] + row[row0+j0+s*NR+l]]}; lanes past nc are zero.
         */
        @Override
        public void packPanel(int p0, int kc, int j0, int nc, float[] dst) {
            float[] xp = this.xp;
            int[] row = this.row;
            int nr = CpuGemm.NR;
            for (int j = 0, d = 0; j < nc; j += nr) {
                int r = row0 + j0 + j, lanes = Math.min(nr, nc - j);
                for (int p = 0; p < kc; p++, d += nr) {
                    int base = pixel[pixel0 + p0 + p];
                    if (lanes == nr) {
                        for (int l = 0; l < nr; l++) dst[d + l] = xp[base + row[r + l]];
                    } else {
                        for (int l = 0; l < lanes; l++) dst[d + l] = xp[base + row[r + l]];
                        for (int l = lanes; l < nr; l++) dst[d + l] = 0f;
                    }
                }
            }
        }
    }

    /** y = conv(x, w) + bias over (sample, group, pixel chunk) tasks; chunks only when samples are fewer than workers. */
    private final class ForwardLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] x, w, bias, y, packedW;
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
            if (!isPointwise(g) && isImplicit(g)) offsets.compute(g);
            this.packedW = isPointwise(g) ? null : packWeights(g, w, false);
            this.g = g;
            this.x = x;
            this.w = w;
            this.bias = bias;
            this.y = y;
            try {
                threads.runClaimed(units * chunks, parallelism(g), this);
            } finally {
                this.g = null;
                this.x = this.w = this.bias = this.y = this.packedW = null;
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
                    float[] xp = padded(worker, offsets.paddedSize(g));
                    pad(g, offsets, x, xOff, xp);
                    ColumnPanels col = columnPanels[worker].aim(offsets, xp, p0);
                    if (packedW != null) gemm.multiplyPacked(worker, packedW, 0, coutG, coutG, p1 - p0, k, 1f, col, false, null, 0, 0, 0f, y, yOff + p0, p);
                    else gemm.multiply(worker, false, coutG, p1 - p0, k, 1f, w, wOff, k, col, 0f, y, yOff + p0, p);
                    col.release();
                } else {
                    float[] col = cols(worker, k * (p1 - p0));
                    im2col(g, x, xOff, 0, k, p0, p1, col);
                    if (packedW != null) gemm.multiplyPacked(worker, packedW, 0, coutG, coutG, p1 - p0, k, 1f, null, false, col, 0, p1 - p0, 0f, y, yOff + p0, p);
                    else gemm.multiply(worker, false, false, coutG, p1 - p0, k, 1f, w, wOff, k, col, 0, p1 - p0, 0f, y, yOff + p0, p);
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
     * Overlapping windows scatter into the same dx elements, so one task owns a whole (sample,
     * group) slice. Its gradient is gathered in a zero-padded buffer (col2im then needs no
     * bounds tests and, at stride 1, adds whole output rows), and dcol is produced a block of
     * rows at a time, small enough to stay in L2 between the GEMM that writes it and the col2im
     * that reads it. Each dx element still receives its terms in row order, so the result does
     * not depend on the block size.
     */
    private final class BackwardDataLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] dy, w, dx, packedWT;

        synchronized void execute(Conv2dGeometry g, float[] dy, float[] w, float[] dx) {
            if (!isPointwise(g)) offsets.compute(g);
            this.packedWT = isPointwise(g) ? null : packWeights(g, w, true);
            this.g = g;
            this.dy = dy;
            this.w = w;
            this.dx = dx;
            try {
                threads.runClaimed(g.batch() * g.groups(), parallelism(g), this);
            } finally {
                this.g = null;
                this.dy = this.w = this.dx = this.packedWT = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            Conv2dGeometry g = this.g;
            int groups = g.groups(), cinG = g.inChannelsPerGroup(), coutG = g.outChannelsPerGroup();
            int k = cinG * g.kernelH() * g.kernelW();
            int hw = g.height() * g.width(), p = g.outHeight() * g.outWidth();
            boolean pointwise = isPointwise(g);
            int rowsPerBlock = Math.min(k, Math.max(CpuGemm.MR, DCOL_BLOCK / p / CpuGemm.MR * CpuGemm.MR));
            for (int unit = begin; unit < end; unit++) {
                int n = unit / groups, gi = unit % groups;
                int xOff = (n * g.inChannels() + gi * cinG) * hw;
                int yOff = (n * g.outChannels() + gi * coutG) * p;
                int wOff = gi * coutG * k;
                if (pointwise) {
                    gemm.multiply(worker, true, false, k, p, coutG, 1f, w, wOff, k, dy, yOff, p, 0f, dx, xOff, hw);
                    continue;
                }
                float[] dxp = padded(worker, offsets.paddedSize(g));
                Arrays.fill(dxp, 0, offsets.paddedSize(g), 0f);
                float[] col = cols(worker, rowsPerBlock * p);
                for (int r0 = 0; r0 < k; r0 += rowsPerBlock) {
                    int r1 = Math.min(k, r0 + rowsPerBlock);
                    if (packedWT != null) gemm.multiplyPacked(worker, packedWT, r0, k, r1 - r0, p, coutG, 1f, null, false, dy, yOff, p, 0f, col, 0, p);
                    else gemm.multiply(worker, true, false, r1 - r0, p, coutG, 1f, w, wOff + r0, k, dy, yOff, p, 0f, col, 0, p);
                    col2imPadded(g, offsets, col, r0, r1, dxp);
                }
                crop(g, offsets, dxp, dx, xOff);
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
            if (!isPointwise(g)) offsets.compute(g);
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
            float[] xp = pointwise ? null : padded(worker, offsets.paddedSize(g));
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
                            if (p0 == 0) pad(g, offsets, x, xOff, xp);
                            TransposedColumnPanels colT = transposedPanels[worker].aim(offsets, xp, k0, p0);
                            gemm.multiply(worker, false, coutG, k1 - k0, p1 - p0, 1f, dy, yOff + p0, p,
                                    colT, beta, dw, dwOff, k);
                            colT.release();
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

    /** Forward as an implicit GEMM when each packed column value feeds at least {@link #IMPLICIT_MIN_ROWS} output channels. */
    private static boolean isImplicit(Conv2dGeometry g) {
        return g.outChannelsPerGroup() >= IMPLICIT_MIN_ROWS;
    }

    private static boolean isPointwise(Conv2dGeometry g) {
        return g.kernelH() == 1 && g.kernelW() == 1 && g.strideH() == 1 && g.strideW() == 1 && g.padH() == 0 && g.padW() == 0;
    }

    /**
     * op(w) of a one-group convolution packed once for all samples ({@link CpuGemm#packWhole}):
     * {@code w [Cout, K]} for forward, {@code w^T [K, Cout]} for backward-data. Null with groups,
     * whose products pack per call as before.
     */
    private float[] packWeights(Conv2dGeometry g, float[] w, boolean transposed) {
        if (g.groups() != 1) return null;
        int k = g.inChannels() * g.kernelH() * g.kernelW(), cout = g.outChannels();
        int rows = transposed ? k : cout, depth = transposed ? cout : k;
        int size = CpuGemm.roundUp(rows, CpuGemm.MR) * depth;
        if (packedWeights.length < size) packedWeights = new float[size];
        CpuGemm.packWhole(transposed, w, 0, k, rows, depth, packedWeights);
        return packedWeights;
    }

    private float[] padded(int worker, int size) {
        float[] p = padded[worker];
        if (p == null || p.length < size) padded[worker] = p = new float[size];
        return p;
    }

    /**
     * The adjoint of the padded im2col for rows [r0, r1) of dcol ({@code col[(r-r0)*P + q]}):
     * {@code dxp[row[r] + pixel[q]] += col[r][q]}, rows in order, pixels in order. At stride 1
     * the pixels of one output row are consecutive in dxp, so that loop is a plain vector add.
     */
    private static void col2imPadded(Conv2dGeometry g, Offsets o, float[] col, int r0, int r1, float[] dxp) {
        int p = g.outHeight() * g.outWidth(), wo = g.outWidth(), ho = g.outHeight();
        int[] row = o.row, pixel = o.pixel;
        if (g.strideW() == 1) {
            int rowStep = g.strideH() * o.paddedW;
            for (int r = r0; r < r1; r++) {
                int d = (r - r0) * p;
                for (int oh = 0, base = row[r]; oh < ho; oh++, base += rowStep, d += wo) {
                    for (int ow = 0; ow < wo; ow++) dxp[base + ow] += col[d + ow];
                }
            }
            return;
        }
        for (int r = r0; r < r1; r++) {
            int d = (r - r0) * p, base = row[r];
            for (int q = 0; q < p; q++) dxp[base + pixel[q]] += col[d + q];
        }
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

    /** First output column whose input column {@code ow * sw + colOffset} is >= 0. */
    private static int validLo(int colOffset, int sw) {
        return colOffset >= 0 ? 0 : CpuGemm.ceilDiv(-colOffset, sw);
    }

    /** One past the last output column whose input column is < w (0 when there is none). */
    private static int validHi(int colOffset, int sw, int w) {
        return w - 1 - colOffset < 0 ? 0 : (w - 1 - colOffset) / sw + 1;
    }
}
