package org.neurite.backend.cpu;

import java.util.Arrays;
import org.neurite.backend.Conv2dGeometry;

/**
 * Direct (non-GEMM) convolution for layers with a tiny reduction, {@code K = Cin/groups * kh * kw
 * <= }{@link #MAX_K}; the backward-filter of other strides and dilations (one group) goes to
 * {@link CpuStridedDirectConv2d} (the small ResNet's stride-2 stem), and what follows is the
 * stride 1, dilation 1 case: first layers on one-channel images
 * (fashion_cnn's and LeNet-5's c1, K = 25). There im2col + GEMM is bound by packing: every
 * packed value feeds only K (or Cout) fmas. Here the vectors ({@link CpuKernels#LANES} floats,
 * in {@link CpuKernels#directForwardChunk} and the two filter kernels) read the input where it
 * lies, in a zero-padded copy. Forward runs them along the <em>output grid</em>: the outputs
 * laid out with the padded input's row pitch {@code Wp = W + 2 padW}, so that grid position
 * {@code q = oh * Wp + ow} reads term (c, ki, kj) at {@code q + c * Hp * Wp + ki * Wp + kj} for
 * every q, and one kernel call takes {@link #CHUNK} consecutive positions whatever the rows. Of
 * each grid row the first Wo positions are outputs, the other {@code kw - 1} are computed from
 * the next row's inputs and dropped when the rows go to y ({@link CpuKernels#directStoreRows}).
 * On 28-wide rows a call per row and 64-lane chunk computed 64 outputs for 28 (the grid: 32 for
 * 28): LeNet-5's and fashion_cnn's c1 forward ran 2.1x as fast on the grid (one thread,
 * 512 bits). Where the grid takes no fewer calls (28-wide rows at 256 bits: 32 lanes), the
 * calls start at each row instead ({@link #flatGrid}). Backward filter walks dy row by row, in a
 * copy whose rows are wide enough for whole vectors, and masks the lanes past the last output
 * column of a row to zero input.
 * <pre>
 *   forward          y[n, co, q..q+CHUNK) = sum over (c, ki, kj) of w[co, c, ki, kj] * xp[n, c][q + ki*Wp + kj..]   (grid positions q)
 *   backward filter  dw[co, c, ki, kj] = sum over n, oh, ow of dy[n, co, oh, ow] * xp[n, c, oh+ki, ow+kj]
 * </pre>
 * Forward adds the K terms of each output in r = (c, ki, kj) order with fmas from zero, exactly
 * like the GEMM path (K <= KC: one k-block), so both give the same bits; then the bias is added.
 * Backward filter keeps, per (co, c, ki, kj), one vector of partial sums (lane j takes the
 * columns ow = j mod L): per sample in order, first the whole vectors of every row (row by row),
 * then the partial last vectors; the lanes are added in index order in double at the end. One
 * task owns one output channel's whole row of dW, so the result is the same for any thread count.
 */
final class CpuDirectConv2d {
    private static final int L = CpuKernels.LANES;
    /** Output grid positions per forward kernel call: four vectors. */
    static final int CHUNK = 4 * L;
    /** Largest reduction (Cin/groups * kh * kw) that runs direct. */
    static final int MAX_K = 32;
    /** Kernel columns handled per backward-filter kernel call (its accumulators). */
    static final int KJ = 5;
    private static final long PARALLEL_MIN_FLOPS = 1L << 18;

    private final CpuThreads threads;
    private final CpuKernels[] kernels; // per worker
    private final float[][] padded; // per-worker padded sample (forward)
    private final float[][] dyRows; // per-worker padded dy plane (backward filter)
    private final float[][] sums; // per-worker: the vector partial sums of one dW row (backward filter), two channels' grid blocks (forward)
    private float[] batchPadded = new float[0]; // the whole padded batch (backward filter), grow-only
    private int[] forwardOffsets = new int[MAX_K]; // term offsets of the forward kernel (written before each region, then read only)
    private final ForwardLoop forwardLoop = new ForwardLoop();
    private final FilterLoop filterLoop = new FilterLoop();
    private final CpuStridedDirectConv2d strided; // backward-filter at other steps

    CpuDirectConv2d(CpuThreads threads, CpuKernels.Path path) {
        this.threads = threads;
        this.strided = new CpuStridedDirectConv2d(threads, path);
        this.kernels = path.perWorker(threads.size());
        this.padded = new float[threads.size()][];
        this.dyRows = new float[threads.size()][];
        this.sums = new float[threads.size()][];
    }

    /** Forward and backward-filter: stride 1, dilation 1 and a reduction of at most MAX_K. */
    static boolean applies(Conv2dGeometry g) {
        return g.strideH() == 1 && g.strideW() == 1 && g.dilationH() == 1 && g.dilationW() == 1
                && g.inChannelsPerGroup() * g.kernelH() * g.kernelW() <= MAX_K;
    }

    /** Backward-filter: {@link #applies}, or other steps of one group ({@link CpuStridedDirectConv2d#applies}). */
    static boolean appliesToFilter(Conv2dGeometry g) {
        return applies(g) || CpuStridedDirectConv2d.applies(g);
    }

    /** Width of a padded row of backward filter's copy: the padded input, or wider so that its last vectors read zeros. */
    private static int paddedWidth(Conv2dGeometry g) {
        int widest = CpuGemm.roundUp(g.kernelW(), KJ) - 1 + CpuGemm.roundUp(g.outWidth(), L);
        return Math.max(g.width() + 2 * g.padW(), widest + g.kernelW() - 1);
    }

    private static int paddedHeight(Conv2dGeometry g) {
        return g.height() + 2 * g.padH();
    }

    /** Copies the cinG channels of x at xOff into xp at xpOff with a zero border ({@code padH} rows above, {@code padW} columns left, zeros right and below). */
    private static void pad(Conv2dGeometry g, float[] x, int xOff, float[] xp, int xpOff, int hp, int wd) {
        int h = g.height(), w = g.width(), ph = g.padH(), pw = g.padW(), plane = hp * wd;
        int size = g.inChannelsPerGroup() * plane;
        Arrays.fill(xp, xpOff, xpOff + size, 0f);
        for (int c = 0; c < g.inChannelsPerGroup(); c++) {
            for (int ih = 0; ih < h; ih++) {
                System.arraycopy(x, xOff + (c * h + ih) * w, xp, xpOff + c * plane + (ih + ph) * wd + pw, w);
            }
        }
    }


    private int parallelism(Conv2dGeometry g) {
        return g.flops() < PARALLEL_MIN_FLOPS ? 1 : threads.size();
    }

    // ---- forward ------------------------------------------------------------------------------

    void forward(Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] y) {
        forwardLoop.execute(g, x, w, bias, false, y);
    }

    /** {@link #forward}, then with {@code relu} y = max(y, 0) in the same store (the bits of the convolution then the relu op). */
    void forward(Conv2dGeometry g, float[] x, float[] w, float[] bias, boolean relu, float[] y) {
        forwardLoop.execute(g, x, w, bias, relu, y);
    }

    /**
     * One (sample, group) per claimed task: copy it zero-padded, then every output
     * channel pair and chunk of the output grid.
     */
    private final class ForwardLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] x, w, bias, y;
        private boolean relu;
        private int scratchSize; // floats of a worker's padded copy and the chunks' reach past it

        synchronized void execute(Conv2dGeometry g, float[] x, float[] w, float[] bias, boolean relu, float[] y) {
            if (forwardOffsets.length < MAX_K) forwardOffsets = new int[MAX_K];
            int plane = paddedHeight(g) * gridPitch(g);
            int[] off = termOffsets(forwardOffsets, g, plane, gridPitch(g));
            int maxOffset = 0;
            for (int r = 0, k = g.inChannelsPerGroup() * g.kernelH() * g.kernelW(); r < k; r++) maxOffset = Math.max(maxOffset, off[r]);
            // The padded planes, and the reach of the last chunk past them (zeros), either way.
            int lastChunkEnd = Math.max(g.outHeight() * gridPitch(g) + CHUNK, (g.outHeight() - 1) * gridPitch(g) + rowChunks(g) * CHUNK);
            this.scratchSize = Math.max(g.inChannelsPerGroup() * plane, maxOffset + lastChunkEnd);
            this.g = g;
            this.x = x;
            this.w = w;
            this.bias = bias;
            this.relu = relu;
            this.y = y;
            try {
                threads.runClaimed(g.batch() * g.groups(), parallelism(g), this);
            } finally {
                this.g = null;
                this.x = this.w = this.bias = this.y = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            Conv2dGeometry g = this.g;
            int groups = g.groups(), cinG = g.inChannelsPerGroup(), coutG = g.outChannelsPerGroup();
            int k = cinG * g.kernelH() * g.kernelW(), ho = g.outHeight(), wo = g.outWidth(), p = ho * wo;
            int pitch = gridPitch(g), hp = paddedHeight(g);
            boolean flat = flatGrid(g);
            int rowSpan = rowChunks(g) * CHUNK, blockPitch = flat ? pitch : rowSpan; // between rows of a block
            float[] xp = CpuThreads.scratch(padded, worker, scratchSize);
            int rows = blockRows(g), span = CpuGemm.roundUp(rows * blockPitch, CHUNK) + L; // a block of one channel, and the slack its last row's vector reads
            float[] grids = CpuThreads.scratch(sums, worker, 2 * span);
            int[] off = forwardOffsets;
            CpuKernels kernels = CpuDirectConv2d.this.kernels[worker];
            Arrays.fill(xp, cinG * hp * pitch, scratchSize, 0f); // the chunks' reach past the planes, which pad leaves alone
            for (int unit = begin; unit < end; unit++) {
                int n = unit / groups, gi = unit % groups;
                pad(g, x, (n * g.inChannels() + gi * cinG) * g.height() * g.width(), xp, 0, hp, pitch);
                for (int co = 0; co < coutG; co += 2) {
                    int oc = gi * coutG + co;
                    boolean pair = co + 1 < coutG;
                    int wA = oc * k, wB = pair ? wA + k : wA, yA = (n * g.outChannels() + oc) * p;
                    float biasA = bias == null ? 0f : bias[oc], biasB = bias == null || !pair ? 0f : bias[oc + 1];
                    for (int r0 = 0; r0 < ho; r0 += rows) {
                        // A block of rows of both channels' grids first, then its rows into y (each
                        // row's first Wo positions): a row read straight after a chunk's stores
                        // would wait for them (unaligned store-to-load forwarding).
                        int r1 = Math.min(ho, r0 + rows);
                        if (flat) {
                            for (int q = r0 * pitch, t = 0; q < r1 * pitch; q += CHUNK, t += CHUNK) {
                                kernels.directForwardChunk(xp, q, off, k, w, wA, wB, grids, t, span + t);
                            }
                        } else {
                            for (int oh = r0, t = 0; oh < r1; oh++) {
                                for (int c = 0; c < rowSpan; c += CHUNK, t += CHUNK) {
                                    kernels.directForwardChunk(xp, oh * pitch + c, off, k, w, wA, wB, grids, t, span + t);
                                }
                            }
                        }
                        kernels.directStoreRows(grids, 0, blockPitch, r1 - r0, y, yA + r0 * wo, wo, yA + p, bias != null, biasA, relu);
                        if (pair) kernels.directStoreRows(grids, span, blockPitch, r1 - r0, y, yA + p + r0 * wo, wo, yA + 2 * p, bias != null, biasB, relu);
                    }
                }
            }
        }
    }

    /** Grid positions computed before their rows are stored, at most: 16 kernel calls' worth (1,024 floats a channel at 512 bits). */
    private static final int BLOCK_POSITIONS = 16 * CHUNK;

    /** Output rows per block: as many as {@link #BLOCK_POSITIONS} hold, at least one. */
    private static int blockRows(Conv2dGeometry g) {
        return Math.max(1, Math.min(g.outHeight(), BLOCK_POSITIONS / (flatGrid(g) ? gridPitch(g) : rowChunks(g) * CHUNK)));
    }

    /** Kernel calls per output row when each row starts its own chunks. */
    private static int rowChunks(Conv2dGeometry g) {
        return CpuGemm.ceilDiv(g.outWidth(), CHUNK);
    }

    /**
     * Whether the kernel calls run along the flat grid ({@code Ho * Wp} positions) rather than
     * row by row ({@code Ho * ceil(Wo / CHUNK)} calls): when that takes fewer calls. LeNet-5's c1
     * (28-wide rows, Wp = 32): 14 calls instead of 28 at 512 bits, 28 either way at 256, where
     * the rows keep their own chunks.
     */
    static boolean flatGrid(Conv2dGeometry g) {
        return CpuGemm.ceilDiv(g.outHeight() * gridPitch(g), CHUNK) < g.outHeight() * rowChunks(g);
    }

    /** Row pitch of the forward's padded copy and output grid: the padded width. */
    private static int gridPitch(Conv2dGeometry g) {
        return g.width() + 2 * g.padW();
    }

    /** off[r] = c * plane + ki * pitch + kj for r = (c, ki, kj): where term r of grid position 0 lies in the padded copy. */
    private static int[] termOffsets(int[] off, Conv2dGeometry g, int plane, int pitch) {
        int kh = g.kernelH(), kw = g.kernelW(), k = g.inChannelsPerGroup() * kh * kw;
        for (int r = 0; r < k; r++) off[r] = (r / (kh * kw)) * plane + ((r / kw) % kh) * pitch + r % kw;
        return off;
    }

    // ---- backward filter ----------------------------------------------------------------------

    /** dw only; the caller computes dbias. */
    void backwardFilter(Conv2dGeometry g, float[] x, float[] dy, float[] dw) {
        if (applies(g)) filterLoop.execute(g, x, dy, dw);
        else strided.backwardFilter(g, x, dy, dw);
    }

    /**
     * Two regions: the whole batch is padded once (one sample per task), then each claimed task
     * is one output channel, which adds every sample in order into its own row of dW.
     */
    private final class FilterLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] x, dy, dw;
        private boolean padding;

        synchronized void execute(Conv2dGeometry g, float[] x, float[] dy, float[] dw) {
            int size = g.batch() * g.inChannels() * paddedHeight(g) * paddedWidth(g);
            if (batchPadded.length < size) batchPadded = new float[size];
            this.g = g;
            this.x = x;
            this.dy = dy;
            this.dw = dw;
            try {
                padding = true;
                threads.run(g.batch() * g.groups(), parallelism(g), this);
                padding = false;
                threads.runClaimed(g.outChannels(), parallelism(g), this);
            } finally {
                this.g = null;
                this.x = this.dy = this.dw = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            Conv2dGeometry g = this.g;
            int groups = g.groups(), cinG = g.inChannelsPerGroup(), coutG = g.outChannelsPerGroup();
            int kh = g.kernelH(), kw = g.kernelW(), k = cinG * kh * kw;
            int hp = paddedHeight(g), wd = paddedWidth(g), plane = hp * wd, hw = g.height() * g.width();
            if (padding) {
                for (int unit = begin; unit < end; unit++) {
                    int n = unit / groups, gi = unit % groups;
                    int xOff = (n * g.inChannels() + gi * cinG) * hw;
                    pad(g, x, xOff, batchPadded, xOff / hw * plane, hp, wd);
                }
                return;
            }
            int ho = g.outHeight(), wo = g.outWidth(), p = ho * wo, wc = CpuGemm.roundUp(wo, L);
            int kwr = CpuGemm.roundUp(kw, KJ);
            int nv = wc / L, whole = wo / L; // vectors per dy row, of which whole are full; a partial last one is masked
            int tailLanes = wo - whole * L; // output columns in the partial last vector of a row, if there is one
            float[] dyp = CpuThreads.scratch(dyRows, worker, ho * wc);
            float[] acc = CpuThreads.scratch(sums, worker, cinG * kh * kwr * L);
            CpuKernels kernels = CpuDirectConv2d.this.kernels[worker];
            for (int oc = begin; oc < end; oc++) {
                int gi = oc / coutG;
                Arrays.fill(acc, 0, cinG * kh * kwr * L, 0f);
                for (int n = 0; n < g.batch(); n++) {
                    // This sample's dy plane with rows widened to whole vectors, the extra lanes zero.
                    int src = (n * g.outChannels() + oc) * p;
                    for (int oh = 0; oh < ho; oh++) {
                        System.arraycopy(dy, src + oh * wo, dyp, oh * wc, wo);
                        if (wc > wo) Arrays.fill(dyp, oh * wc + wo, (oh + 1) * wc, 0f);
                    }
                    int xp0 = (n * g.inChannels() + gi * cinG) * plane;
                    for (int c = 0; c < cinG; c++) {
                        for (int ki = 0; ki < kh; ki++) {
                            for (int kj = 0; kj < kw; kj += KJ) {
                                int at = xp0 + c * plane + ki * wd + kj, accOff = ((c * kh + ki) * kwr + kj) * L;
                                if (whole > 0) kernels.directFilterRows(dyp, ho, nv, whole, batchPadded, at, wd, acc, accOff);
                                if (whole < nv) kernels.directFilterTails(dyp, ho, nv, whole, tailLanes, batchPadded, at, wd, acc, accOff);
                            }
                        }
                    }
                }
                // Lanes added in index order, in double.
                int row = oc * k;
                for (int c = 0, r = 0; c < cinG; c++) {
                    for (int ki = 0; ki < kh; ki++) {
                        for (int kj = 0; kj < kw; kj++, r++) {
                            int a = ((c * kh + ki) * kwr + kj) * L;
                            double s = 0;
                            for (int l = 0; l < L; l++) s += acc[a + l];
                            dw[row + r] = (float) s;
                        }
                    }
                }
            }
        }
    }
}
