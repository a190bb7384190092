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
 * in {@link CpuKernels#directForwardChunk} and the two filter kernels) run along an output row
 * and read the input where it lies, in a zero-padded copy whose rows are wide enough that every
 * vector lane reads real data or zeros ({@code Wd >= roundUp(Wo, CHUNK) + kw - 1}); backward
 * filter masks the lanes past the last output column of a row to zero input.
 * <pre>
 *   forward          y[n, co, oh, ow..ow+CHUNK) = sum over (c, ki, kj) of w[co, c, ki, kj] * xp[n, c, oh+ki, ow+kj..]
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
    /** Output columns per forward kernel call: four vectors. */
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
    private final float[][] sums; // per-worker vector partial sums of one dW row (backward filter)
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

    /** Width of a padded row: the padded input, or wider so that the last chunk's lanes read zeros. */
    private static int paddedWidth(Conv2dGeometry g) {
        int widest = Math.max(CpuGemm.roundUp(g.outWidth(), CHUNK), CpuGemm.roundUp(g.kernelW(), KJ) - 1 + CpuGemm.roundUp(g.outWidth(), L));
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

    /** One (sample, group) per claimed task: pad it, then every output channel pair, row and chunk. */
    private final class ForwardLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] x, w, bias, y;
        private boolean relu;

        synchronized void execute(Conv2dGeometry g, float[] x, float[] w, float[] bias, boolean relu, float[] y) {
            if (forwardOffsets.length < MAX_K) forwardOffsets = new int[MAX_K];
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
            int kh = g.kernelH(), kw = g.kernelW(), k = cinG * kh * kw;
            int hp = paddedHeight(g), wd = paddedWidth(g), plane = hp * wd;
            int ho = g.outHeight(), wo = g.outWidth(), p = ho * wo;
            float[] xp = CpuThreads.scratch(padded, worker, cinG * plane);
            float[] tile = CpuThreads.scratch(sums, worker, 2 * CHUNK);
            int[] off = termOffsets(forwardOffsets, g, plane, wd);
            CpuKernels kernels = CpuDirectConv2d.this.kernels[worker];
            for (int unit = begin; unit < end; unit++) {
                int n = unit / groups, gi = unit % groups;
                pad(g, x, (n * g.inChannels() + gi * cinG) * g.height() * g.width(), xp, 0, hp, wd);
                for (int co = 0; co < coutG; co += 2) {
                    int oc = gi * coutG + co;
                    boolean pair = co + 1 < coutG;
                    int wA = oc * k, wB = pair ? wA + k : wA;
                    float biasA = bias == null ? 0f : bias[oc], biasB = bias == null || !pair ? 0f : bias[oc + 1];
                    int yA = (n * g.outChannels() + oc) * p;
                    for (int oh = 0; oh < ho; oh++) {
                        for (int ow = 0; ow < wo; ow += CHUNK) {
                            kernels.directForwardChunk(xp, oh * wd + ow, off, k, w, wA, wB, tile);
                            int cols = Math.min(CHUNK, wo - ow), row = yA + oh * wo + ow;
                            store(tile, 0, y, row, cols, bias != null, biasA, relu);
                            if (pair) store(tile, CHUNK, y, row + p, cols, bias != null, biasB, relu);
                        }
                    }
                }
            }
        }
    }

    /**
     * y[row..row+cols) = tile[t..t+cols) (+ b): the GEMM path's write-back, acc * 1 and then one
     * rounded add; with {@code relu} then {@code Math.max(v, 0f)} as the relu op (NaN kept, -0 to +0).
     */
    private static void store(float[] tile, int t, float[] y, int row, int cols, boolean addBias, float b, boolean relu) {
        if (relu && addBias) for (int j = 0; j < cols; j++) y[row + j] = Math.max(tile[t + j] + b, 0f);
        else if (relu) for (int j = 0; j < cols; j++) y[row + j] = Math.max(tile[t + j], 0f);
        else if (addBias) for (int j = 0; j < cols; j++) y[row + j] = tile[t + j] + b;
        else System.arraycopy(tile, t, y, row, cols);
    }

    /** off[r] = c * plane + ki * wd + kj for r = (c, ki, kj): where term r of an output reads the padded input, relative to it. */
    private static int[] termOffsets(int[] off, Conv2dGeometry g, int plane, int wd) {
        int kh = g.kernelH(), kw = g.kernelW(), k = g.inChannelsPerGroup() * kh * kw;
        for (int r = 0; r < k; r++) off[r] = (r / (kh * kw)) * plane + ((r / kw) % kh) * wd + r % kw;
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
            float[] acc = CpuThreads.scratch(sums, worker, Math.max(2 * CHUNK, cinG * kh * kwr * L));
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
