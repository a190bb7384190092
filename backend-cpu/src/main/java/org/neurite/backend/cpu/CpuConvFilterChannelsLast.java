package org.neurite.backend.cpu;

import java.util.Arrays;
import org.neurite.backend.Conv2dGeometry;

/**
 * Backward-filter of a one-group convolution whose input channels fill whole lane groups
 * ({@code Cin} a multiple of {@link CpuKernels#LANES}; {@link CpuConv2d} gives the layers of at
 * most 64 channels, the small ResNet's, to {@link CpuChannelVectorFilter} instead), as
 * one GEMM over all the samples of a pass with no gather:
 * <pre>
 *   dwT[Cout, K] = dy[Cout, D] * colT[D, K]        D = samples x Ho*Wo (depth), K = kh*kw*Cin
 *   colT[(n, q)][(t, c)] = xc[n][pixel[q] + tap[t]][c]
 * </pre>
 * where {@code xc} is each sample's input zero-padded and stored channels-last,
 * {@code [Hp*Wp][Cin]}, {@code pixel[q] = oh*strideH*Wp + ow*strideW} and {@code tap[t] =
 * ki*dilationH*Wp + kj*dilationW}. The columns of dwT run over (tap, channel) rather than dw's
 * (channel, tap), so every {@link CpuKernels#LANES} consecutive columns of colT at one depth step
 * are consecutive channels of one padded pixel: each row of a packed B strip is two contiguous
 * runs ({@link CpuKernels#copyStripRuns}) instead of two vector gathers through an offset table
 * over the channel-major padded input ({@code CpuConv2d}'s gathered col^T). dwT is permuted into
 * dw's order at the end.
 *
 * <p>Per pass (as many samples as {@link #PASS_BUDGET} allows, all of the small ResNet's batch of
 * 64), one region over samples builds the channels-last copies, the table of each depth step's
 * pixel start, and packs dy once as the GEMM's A operand in the layout of
 * {@link CpuGemm#packWhole}; a second, claimed region runs one task per block of
 * {@link CpuGemm#NR} columns of dwT, each a GEMM {@code D} deep from the shared packed dy (the
 * gathered form in {@code CpuConv2d} makes one GEMM per sample or block of 256 pixels, packs dy
 * again for every task and block, and writes its tile of dw back after every 196 or 256 depth
 * steps).
 *
 * <p>Determinism: every dw element is the fma chain over the depth in {@link CpuGemm#KC}-sized
 * blocks of each pass, passes added in order; the passes and blocks depend on the geometry
 * alone, and a column of dwT is computed by one task whatever the thread count or the column
 * split. A copy and a permutation change no bits, so the plain and vector paths agree.
 */
final class CpuConvFilterChannelsLast {
    /**
     * Floats of the channels-last copy, and of packed dy, per pass (8 MiB each): a pass takes as
     * many samples as fit (the small ResNet's whole batch of 64 needs at most 1 MiB of each).
     */
    static final int PASS_BUDGET = 1 << 21;
    private static final long PARALLEL_MIN_FLOPS = 1L << 18;

    private final CpuThreads threads;
    private final CpuGemm gemm;
    private final CpuKernels[] kernels; // per worker: copyStripRuns (through its RunPanels) and gatherStrip
    private final RunPanels[] panels; // per worker
    private final float[][] staging; // per worker: one sample of x as it lies, grow-only (see copyChannelsLast)
    private final PrepareLoop prepareLoop = new PrepareLoop();
    private final GemmLoop gemmLoop = new GemmLoop();
    // Grow-only scratch shared by the tasks of a call (each writes its own part).
    private float[] channelsLast = new float[0]; // [sample][Hp*Wp][Cin] of the pass
    private float[] packedDy = new float[0];     // dy of the pass as CpuGemm.packWhole packs [Cout, D]
    private float[] dwT = new float[0];          // [Cout][(tap, c)]
    private int[] depthStart = new int[0];       // depth d = s*P + q -> start of its padded pixel in channelsLast
    private int[] groupStart = new int[0];       // lane group g of dwT's columns -> offset of its run from a pixel's start
    private int[] pixel = new int[0];            // q -> padded pixel oh*strideH*Wp + ow*strideW
    private final int[] channelOffsets = new int[CpuGemm.NR]; // lane l of a transposing gather -> its x offset, see PrepareLoop

    CpuConvFilterChannelsLast(CpuThreads threads, CpuGemm gemm, CpuKernels.Path path) {
        this.threads = threads;
        this.gemm = gemm;
        this.kernels = path.perWorker(threads.size());
        this.panels = new RunPanels[threads.size()];
        this.staging = new float[threads.size()][];
        for (int w = 0; w < panels.length; w++) panels[w] = new RunPanels(kernels[w]);
    }

    /**
     * One group, input channels in whole lane groups, and a kernel of more than one tap. A 1x1
     * kernel reads each input value at most once, so copying the whole input channels-last costs
     * more than the gather it saves (the small ResNet's strided 1x1 shortcuts ran 2.5x slower).
     */
    static boolean applies(Conv2dGeometry g) {
        return g.groups() == 1 && g.kernelH() * g.kernelW() > 1 && g.inChannels() % CpuKernels.LANES == 0 && g.batch() > 0;
    }

    /** Samples per pass: as many as fit {@link #PASS_BUDGET} (at least one). A function of the geometry alone. */
    static int samplesPerPass(Conv2dGeometry g) {
        long grid = (long) (g.height() + 2 * g.padH()) * (g.width() + 2 * g.padW());
        long p = (long) g.outHeight() * g.outWidth();
        long perSample = Math.max(grid * g.inChannels(), CpuGemm.roundUp(g.outChannels(), CpuGemm.MR) * p);
        return (int) Math.max(1, Math.min(g.batch(), PASS_BUDGET / perSample));
    }

    /** dw = sum over samples of dy_n * col_n^T (see the class comment); dw is written, not added to. */
    synchronized void backwardFilter(Conv2dGeometry g, float[] x, float[] dy, float[] dw) {
        int cin = g.inChannels(), cout = g.outChannels(), taps = g.kernelH() * g.kernelW(), k = cin * taps;
        int wp = g.width() + 2 * g.padW(), grid = (g.height() + 2 * g.padH()) * wp;
        int wo = g.outWidth(), p = g.outHeight() * wo, lanes = CpuKernels.LANES;
        int pass = samplesPerPass(g), rows = CpuGemm.roundUp(cout, CpuGemm.MR);
        if (channelsLast.length < pass * grid * cin) channelsLast = new float[pass * grid * cin];
        if (packedDy.length < rows * pass * p) packedDy = new float[rows * pass * p];
        if (depthStart.length < pass * p) depthStart = new int[pass * p];
        if (dwT.length < cout * k) dwT = new float[cout * k];
        if (pixel.length < p) pixel = new int[p];
        if (groupStart.length < k / lanes) groupStart = new int[k / lanes];
        int hw = g.height() * g.width();
        channelOffsets(cin, hw, channelOffsets);
        for (int q = 0; q < p; q++) pixel[q] = (q / wo) * g.strideH() * wp + (q % wo) * g.strideW();
        for (int gi = 0; gi < k / lanes; gi++) {
            int t = gi * lanes / cin, c0 = gi * lanes % cin, ki = t / g.kernelW(), kj = t % g.kernelW();
            groupStart[gi] = (ki * g.dilationH() * wp + kj * g.dilationW()) * cin + c0;
        }
        int parts = g.flops() < PARALLEL_MIN_FLOPS ? 1 : threads.size();
        for (int n0 = 0; n0 < g.batch(); n0 += pass) {
            int nb = Math.min(pass, g.batch() - n0);
            prepareLoop.execute(g, x, dy, n0, nb, parts);
            gemmLoop.execute(g, nb * p, n0 == 0 ? 0f : 1f, n0 + nb == g.batch() ? dw : null, parts);
        }
    }

    /** Samples [n0, n0+nb), claimed one at a time: channels-last copies, depth starts and packed dy. */
    private final class PrepareLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] x, dy;
        private int n0, depth;

        void execute(Conv2dGeometry g, float[] x, float[] dy, int n0, int nb, int parts) {
            this.g = g;
            this.x = x;
            this.dy = dy;
            this.n0 = n0;
            this.depth = nb * g.outHeight() * g.outWidth();
            try {
                threads.runClaimed(nb, parts, this); // claimed: a descheduled worker leaves its samples to the other
            } finally {
                this.g = null;
                this.x = this.dy = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            Conv2dGeometry g = this.g;
            int cin = g.inChannels(), cout = g.outChannels(), p = g.outHeight() * g.outWidth();
            int grid = (g.height() + 2 * g.padH()) * (g.width() + 2 * g.padW());
            CpuKernels gather = kernels[worker];
            float[] xc = channelsLast, packed = packedDy, x = this.x, dy = this.dy;
            float[] stage = CpuThreads.scratch(staging, worker, cin * g.height() * g.width());
            for (int s = begin; s < end; s++) {
                int n = n0 + s;
                copyChannelsLast(gather, g, x, n, channelOffsets, stage, xc, s * grid * cin);
                for (int q = 0; q < p; q++) depthStart[s * p + q] = (s * grid + pixel[q]) * cin;
                packDy(dy, n, cout, p, s, depth, packed);
            }
        }
    }

    /**
     * Sample n of x, zero-padded and channels-last, into {@code xc[base + (ih*Wp + iw)*Cin + c]}:
     * the sample's planes first copied whole into {@code staging} ({@code Cin*H*W} floats or
     * more), then the border rows, then per input row its side borders and its pixels, each
     * pixel's channels (or two pixels', see {@code channelOffsets}) gathered at once across the
     * staged planes. In a training step x was written by the forward pass long before and comes
     * from memory: the copy reads it as one stream, which the prefetchers follow, where the
     * gathers straight from x walked {@code Cin} streams a few floats at a time. With the caches
     * pushed out before each call ({@code PairedKernels --cold}, one thread, batch 64) the small
     * ResNet's backward-filters ran 1.41x (16 -> 16 on 14x14), 1.63x (16 -> 32 stride 2),
     * 1.18x (32 -> 32 on 7x7), 1.29x (32 -> 64 stride 2); in cache 1.00-1.03x.
     */
    static void copyChannelsLast(CpuKernels gather, Conv2dGeometry g, float[] x, int n, int[] channelOffsets, float[] staging, float[] xc,
                                 int base) {
        int cin = g.inChannels(), h = g.height(), w = g.width(), ph = g.padH(), pw = g.padW();
        System.arraycopy(x, n * cin * h * w, staging, 0, cin * h * w);
        int wp = w + 2 * pw, grid = (h + 2 * ph) * wp, nr = CpuGemm.NR;
        Arrays.fill(xc, base, base + ph * wp * cin, 0f);
        Arrays.fill(xc, base + (ph + h) * wp * cin, base + grid * cin, 0f);
        for (int ih = 0; ih < h; ih++) {
            int rowStart = base + (ih + ph) * wp * cin;
            Arrays.fill(xc, rowStart, rowStart + pw * cin, 0f);
            Arrays.fill(xc, rowStart + (pw + w) * cin, rowStart + wp * cin, 0f);
            int d0 = rowStart + pw * cin, src = ih * w, iw = 0;
            if (cin % nr == 0) {
                for (; iw < w; iw++) {
                    for (int c0 = 0; c0 < cin; c0 += nr) gather.gatherStrip(staging, src + c0 * h * w + iw, channelOffsets, 0, xc, d0 + iw * cin + c0);
                }
            } else if (2 * cin == nr) {
                for (; iw + 1 < w; iw += 2) gather.gatherStrip(staging, src + iw, channelOffsets, 0, xc, d0 + iw * cin);
            }
            for (; iw < w; iw++) { // the last pixel of an odd row after pairs, or every pixel of another Cin
                for (int c = 0; c < cin; c++) xc[d0 + iw * cin + c] = staging[src + c * h * w + iw];
            }
        }
    }

    /**
     * The offsets of {@link #copyChannelsLast}'s gathers for {@code cin} planes of {@code hw}
     * floats, into {@code offsets} ({@link CpuGemm#NR} of them): a gather of NR lanes reads NR
     * channels of one pixel (Cin a multiple of NR), or, when Cin is half a strip, all the channels
     * of two neighbouring pixels; other Cin are copied by scalars.
     */
    static void channelOffsets(int cin, int hw, int[] offsets) {
        int nr = CpuGemm.NR;
        for (int l = 0; l < nr; l++) offsets[l] = cin % nr == 0 ? l * hw : (l % cin) * hw + l / cin;
    }

    /**
     * Sample n of dy, the pass's sample s, into A = dy[Cout, D] of a pass {@code depth} deep as
     * {@link CpuGemm#packWhole} lays it out: depth block pc ({@code kc} deep) at {@code pc * rows},
     * its strip of MR rows at {@code (co - co%MR) * kc}, depth step d - pc at {@code (d-pc) * MR},
     * row {@code co % MR}; the rows past Cout zero.
     */
    static void packDy(float[] dy, int n, int cout, int p, int s, int depth, float[] packed) {
        int rows = CpuGemm.roundUp(cout, CpuGemm.MR), mr = CpuGemm.MR, kcMax = CpuGemm.KC;
        for (int q0 = 0; q0 < p; ) {
            int d0 = s * p + q0, pc = d0 / kcMax * kcMax, kc = Math.min(kcMax, depth - pc);
            int q1 = Math.min(p, q0 + (pc + kc - d0));
            int blockBase = pc * rows + (d0 - pc) * mr;
            for (int co = 0; co < rows; co++) {
                int at = blockBase + (co - co % mr) * kc + co % mr;
                if (co < cout) {
                    int src = (n * cout + co) * p;
                    for (int q = q0; q < q1; q++, at += mr) packed[at] = dy[src + q];
                } else {
                    for (int q = q0; q < q1; q++, at += mr) packed[at] = 0f;
                }
            }
            q0 = q1;
        }
    }

    /** Claimed tasks of {@link CpuGemm#NR} columns of dwT (one task for all on one part): GEMM, then, on the last pass, the permutation into dw. */
    private final class GemmLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] dw;
        private int depth, taskWidth;
        private float beta;

        void execute(Conv2dGeometry g, int depth, float beta, float[] dw, int parts) {
            int k = g.inChannels() * g.kernelH() * g.kernelW();
            this.g = g;
            this.depth = depth;
            this.beta = beta;
            this.dw = dw;
            this.taskWidth = parts == 1 ? k : CpuGemm.NR;
            try {
                threads.runClaimed(CpuGemm.ceilDiv(k, taskWidth), parts, this);
            } finally {
                this.g = null;
                this.dw = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            Conv2dGeometry g = this.g;
            int cin = g.inChannels(), cout = g.outChannels(), taps = g.kernelH() * g.kernelW(), k = cin * taps;
            float[] dwT = CpuConvFilterChannelsLast.this.dwT, dw = this.dw;
            for (int task = begin; task < end; task++) {
                int j0 = task * taskWidth, nc = Math.min(taskWidth, k - j0);
                RunPanels source = panels[worker].aim(channelsLast, depthStart, groupStart, j0);
                gemm.multiplyPacked(worker, packedDy, 0, cout, cout, nc, depth, 1f, source, false, null, 0, 0, beta, dwT, j0, k);
                source.release();
                if (dw == null) continue;
                for (int co = 0; co < cout; co++) {
                    int row = co * k;
                    for (int j = j0; j < j0 + nc; j++) dw[row + (j % cin) * taps + j / cin] = dwT[row + j];
                }
            }
        }
    }

    /**
     * colT of a pass, columns from {@code column0} on, as a {@link CpuGemm.PanelSource}: lane l of
     * strip s at depth step d is {@code xc[depthStart[d] + groupStart[(column0 + j0)/LANES + 2s + l/LANES] + l%LANES]}.
     */
    private static final class RunPanels implements CpuGemm.PanelSource {
        private final CpuKernels kernels;
        private float[] xc;
        private int[] depthStart, groupStart;
        private int column0;

        RunPanels(CpuKernels kernels) {
            this.kernels = kernels;
        }

        RunPanels aim(float[] xc, int[] depthStart, int[] groupStart, int column0) {
            this.xc = xc;
            this.depthStart = depthStart;
            this.groupStart = groupStart;
            this.column0 = column0;
            return this;
        }

        void release() {
            this.xc = null;
            this.depthStart = this.groupStart = null;
        }

        /** Columns come in whole lane groups (K and every task's first column are multiples of LANES), so a strip is one or two runs. */
        @Override
        public void packPanel(int p0, int kc, int j0, int nc, float[] dst) {
            int nr = CpuGemm.NR, lanes = CpuKernels.LANES, group = (column0 + j0) / lanes;
            for (int j = 0, d = 0; j < nc; j += nr, d += kc * nr, group += 2) {
                int runB = nc - j > lanes ? groupStart[group + 1] : -1;
                kernels.copyStripRuns(xc, depthStart, p0, kc, groupStart[group], runB, dst, d);
            }
        }
    }
}
