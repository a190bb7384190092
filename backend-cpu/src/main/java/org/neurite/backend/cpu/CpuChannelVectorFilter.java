package org.neurite.backend.cpu;

import org.neurite.backend.Conv2dGeometry;

/**
 * Backward-filter of one-group convolutions whose input channels fill whole lane groups and which
 * have at most 64 channels in and out (the small ResNet's 3x3 layers and its strided 1x1
 * shortcuts), as register tiles over a channels-last input, with nothing packed:
 * <pre>
 *   dwT[co][(t, c)] = sum over d = (n, q) of dy[n][co][q] * xc[n][pixel[q] + tap[t]][c]      (t = (ki, kj))
 * </pre>
 * {@code xc} is each sample's input zero-padded and channels-last, {@code [Hp*Wp][Cin]}, as
 * {@link CpuConvFilterChannelsLast} copies it (for a 1x1 kernel only the pixels the stride reads,
 * {@code [Ho*Wo][Cin]}); dy is read where it lies, one value per (output channel, pixel). dw is a
 * tall-skinny product: a few thousand weights, a reduction over every pixel of the batch (12,544
 * for 14x14 at batch 64). The GEMM form ({@link CpuConvFilterChannelsLast}) packs colT, which is
 * {@code kh*kw} times the input, strip by strip before its micro-kernel reads it; here
 * {@link CpuKernels#channelFilterTile} reads the tile's lane groups of x straight from the copy:
 * {@link #rows} output channels times 3, 2 or 1 lane groups of dwT's columns (8 x 3 or 8 x 2 or
 * 16 x 1 vector accumulators) kept in registers over the depth, per pixel one vector load per
 * lane group, one broadcast of dy per output channel, an fma per accumulator.
 *
 * <p>Per pass (as many whole samples as {@link #PASS_BUDGET} allows: the small ResNet's batch of 64
 * in one), a region over samples (claimed) makes the channels-last copies and the tables of each
 * depth step's pixel start in the copy and in dy; a second region runs one claimed task per tile of dwT (a block of
 * {@link #rows} output channels and of {@link #groups} lane groups), which walks the pass's depth
 * in chains of {@link #CHAIN_DEPTH} pixels and adds each chain's tile into dwT; the last pass
 * permutes the tile's block of dwT into dw's (c, ki, kj) order.
 *
 * <p>Bits and determinism: each dw element is a sum of chains in depth order, each chain an fma
 * chain over at most {@link #CHAIN_DEPTH} consecutive pixels of a pass from zero, added into the
 * element in order (one chain over all 12,544 pixels would have let the rounding error grow with
 * the whole batch). The passes and chains depend on the geometry alone, every element is computed
 * by one task (tasks split over dW elements, never over samples: no partial dWs to reduce), so the
 * result is the same for any thread count, for either vector width (the tile shape changes which
 * elements share a task, not how one is computed) and on the plain path, which does the same fmas
 * in the same order. The bits differ from the GEMM form's (KC-deep chains over a pass) by rounding.
 */
final class CpuChannelVectorFilter {
    /** The system property that turns this kernel off ({@code false}); anything else, or nothing, leaves it on. */
    static final String PROPERTY = "neurite.cpu.channelfilter";
    /** Whether backends of this JVM use it where {@link CpuConv2d} takes it (the property, read once). */
    static final boolean ENABLED = CpuSwitch.isOn(PROPERTY, "the channel-vector backward-filter");
    /** Most input and output channels: the small ResNet's widest layer (64 -> 64), the range measured. */
    static final int MAX_CHANNELS = 64;
    /** Pixels of one fma chain before it is added into dw (about {@link CpuGemm#KC}, the GEMM form's depth block). */
    static final int CHAIN_DEPTH = 1024;
    /** Floats of the channels-last copy per pass (4 MiB); one sample's must fit. */
    static final int PASS_BUDGET = 1 << 20;
    /**
     * Fewest flops run on more than one worker (8.4M): the small ResNet's 1x1 shortcuts (3.2M and
     * 4.2M flops, 0.09-0.12 ms on one thread) ran 0.6-0.9x of the old path on two threads, paired,
     * under load (two regions per call, one or two tiles each), and 1.4-1.8x on one; its 3x3 layers
     * (29M flops and more) split.
     */
    static final long PARALLEL_MIN_FLOPS = 1L << 23;

    private final CpuThreads threads;
    private final CpuKernels[] kernels; // per worker
    private final float[][] tiles; // per worker: one tile of accumulators out of the kernel
    private final float[][] staging; // per worker: one sample of x as it lies, grow-only (see CpuConvFilterChannelsLast.copyChannelsLast)
    private final PrepareLoop prepareLoop = new PrepareLoop();
    private final TileLoop tileLoop = new TileLoop();
    // Grow-only scratch shared by the tasks of a call (each writes its own part).
    private float[] channelsLast = new float[0]; // [sample][grid][Cin] of the pass
    private float[] dwT = new float[0];          // [Cout rounded up to whole tiles][(tap, c)]
    private int[] xStart = new int[0];           // depth d = s*P + q -> start of its pixel in channelsLast
    private int[] dyStart = new int[0];          // depth d = s*P + q -> dy[n][0][q]
    private int[] groupStart = new int[0];       // lane group of dwT's columns -> offset of its run from a pixel's start
    private int[] pixel = new int[0];            // q -> the pixel of the copy that output pixel q's window starts at
    private final int[] channelOffsets = new int[CpuGemm.NR]; // x's planes for copyChannelsLast's gathers
    private final int[][] rowOffsets; // per worker: a tile's rows -> offset of their dy plane (the last channel's for rows past Cout)

    CpuChannelVectorFilter(CpuThreads threads, CpuKernels.Path path) {
        this.threads = threads;
        this.kernels = path.perWorker(threads.size());
        this.tiles = new float[threads.size()][24 * CpuKernels.LANES];
        this.staging = new float[threads.size()][];
        this.rowOffsets = new int[threads.size()][16];
    }

    /**
     * One group, input channels in whole lane groups, at most {@link #MAX_CHANNELS} in and out, a
     * kernel of more than one tap or a stride (a 1x1 stride-1 layer is a plain GEMM already), a
     * non-empty output, and one sample's copy within {@link #PASS_BUDGET}.
     */
    static boolean applies(Conv2dGeometry g) {
        return g.groups() == 1 && g.inChannels() % CpuKernels.LANES == 0 && g.inChannels() <= MAX_CHANNELS && g.outChannels() <= MAX_CHANNELS
                && (g.kernelH() * g.kernelW() > 1 || g.strideH() > 1 || g.strideW() > 1)
                && g.batch() > 0 && g.outHeight() > 0 && g.outWidth() > 0 && perSample(g) <= PASS_BUDGET;
    }

    /** Lane groups of dwT's columns per tile: 3, 2 or 1, the most that divides {@code Cin*kh*kw / LANES}. */
    static int groups(Conv2dGeometry g) {
        int ng = g.inChannels() / CpuKernels.LANES * g.kernelH() * g.kernelW();
        return ng % 3 == 0 ? 3 : ng % 2 == 0 ? 2 : 1;
    }

    /** Output channels per tile with {@code groups} lane groups: 8, or 16 with one (16 to 24 accumulators). */
    static int rows(int groups) {
        return groups == 1 ? 16 : 8;
    }

    /** Whether the copy holds only the pixels a 1x1 kernel reads (one per output pixel) rather than the padded grid. */
    private static boolean sampled(Conv2dGeometry g) {
        return g.kernelH() == 1 && g.kernelW() == 1;
    }

    /** Pixels of one sample's copy: the padded grid, or the output pixels of a 1x1 kernel. */
    private static int grid(Conv2dGeometry g) {
        return sampled(g) ? g.outHeight() * g.outWidth() : (g.height() + 2 * g.padH()) * (g.width() + 2 * g.padW());
    }

    private static int paddedRows(Conv2dGeometry g) {
        return CpuGemm.roundUp(g.outChannels(), rows(groups(g)));
    }

    private static long perSample(Conv2dGeometry g) {
        return (long) grid(g) * g.inChannels();
    }

    /** Samples per pass: as many as fit {@link #PASS_BUDGET} (at least one). A function of the geometry alone. */
    static int samplesPerPass(Conv2dGeometry g) {
        return (int) Math.max(1, Math.min(g.batch(), PASS_BUDGET / perSample(g)));
    }

    /** dw = sum over samples of dy_n * col_n^T (see the class comment); dw is written, not added to. */
    synchronized void backwardFilter(Conv2dGeometry g, float[] x, float[] dy, float[] dw) {
        int cin = g.inChannels(), taps = g.kernelH() * g.kernelW(), k = cin * taps, lanes = CpuKernels.LANES;
        int wo = g.outWidth(), p = g.outHeight() * wo, grid = grid(g), ldy = paddedRows(g), pass = samplesPerPass(g);
        if (channelsLast.length < pass * grid * cin) channelsLast = new float[pass * grid * cin];
        if (dyStart.length < pass * p) dyStart = new int[pass * p];
        if (dwT.length < ldy * k) dwT = new float[ldy * k];
        if (xStart.length < pass * p) xStart = new int[pass * p];
        if (pixel.length < p) pixel = new int[p];
        if (groupStart.length < k / lanes) groupStart = new int[k / lanes];
        if (sampled(g)) {
            for (int q = 0; q < p; q++) pixel[q] = q;
            for (int gi = 0; gi < k / lanes; gi++) groupStart[gi] = gi * lanes;
        } else {
            int wp = g.width() + 2 * g.padW();
            for (int q = 0; q < p; q++) pixel[q] = (q / wo) * g.strideH() * wp + (q % wo) * g.strideW();
            for (int gi = 0; gi < k / lanes; gi++) {
                int t = gi * lanes / cin, c0 = gi * lanes % cin, ki = t / g.kernelW(), kj = t % g.kernelW();
                groupStart[gi] = (ki * g.dilationH() * wp + kj * g.dilationW()) * cin + c0;
            }
        }
        CpuConvFilterChannelsLast.channelOffsets(cin, g.height() * g.width(), channelOffsets);
        int parts = g.flops() < PARALLEL_MIN_FLOPS ? 1 : threads.size();
        for (int n0 = 0; n0 < g.batch(); n0 += pass) {
            int nb = Math.min(pass, g.batch() - n0);
            prepareLoop.execute(g, x, n0, nb, parts);
            tileLoop.execute(g, dy, nb * p, n0 == 0, n0 + nb == g.batch() ? dw : null, parts);
        }
    }

    /** Samples [n0, n0+nb), claimed one at a time: channels-last copies and the depth steps' pixel starts. */
    private final class PrepareLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] x;
        private int n0;

        void execute(Conv2dGeometry g, float[] x, int n0, int nb, int parts) {
            this.g = g;
            this.x = x;
            this.n0 = n0;
            try {
                threads.runClaimed(nb, parts, this);
            } finally {
                this.g = null;
                this.x = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            Conv2dGeometry g = this.g;
            int cin = g.inChannels(), cout = g.outChannels(), ho = g.outHeight(), wo = g.outWidth(), p = ho * wo;
            int grid = grid(g);
            CpuKernels gather = kernels[worker];
            float[] xc = channelsLast, x = this.x, stage = CpuThreads.scratch(staging, worker, cin * g.height() * g.width());
            for (int s = begin; s < end; s++) {
                int n = n0 + s;
                if (sampled(g)) copySampled(g, x, n, stage, xc, s * grid * cin);
                else CpuConvFilterChannelsLast.copyChannelsLast(gather, g, x, n, channelOffsets, stage, xc, s * grid * cin);
                for (int q = 0; q < p; q++) {
                    xStart[s * p + q] = (s * grid + pixel[q]) * cin;
                    dyStart[s * p + q] = n * cout * p + q;
                }
            }
        }
    }

    /**
     * The pixels a 1x1 kernel reads of sample n, channels-last, {@code xc[base + q*Cin + c]} (zero
     * where it reads padding), read from the sample copied whole into {@code staging} first, as
     * {@link CpuConvFilterChannelsLast#copyChannelsLast} does: the small ResNet's strided 1x1
     * shortcuts' backward-filters ran 1.18-1.26x cold, 0.92-0.94x in cache (a quarter of the copy is read).
     */
    private static void copySampled(Conv2dGeometry g, float[] x, int n, float[] staging, float[] xc, int base) {
        int cin = g.inChannels(), h = g.height(), w = g.width(), wo = g.outWidth(), hw = h * w;
        System.arraycopy(x, n * cin * hw, staging, 0, cin * hw);
        for (int oh = 0, at = base; oh < g.outHeight(); oh++) {
            int ih = oh * g.strideH() - g.padH();
            for (int ow = 0; ow < wo; ow++, at += cin) {
                int iw = ow * g.strideW() - g.padW();
                if (ih < 0 || ih >= h || iw < 0 || iw >= w) {
                    java.util.Arrays.fill(xc, at, at + cin, 0f);
                    continue;
                }
                int src = ih * w + iw;
                for (int c = 0; c < cin; c++) xc[at + c] = staging[src + c * hw];
            }
        }
    }

    /** Claimed tasks of one tile of dwT each (output channels fastest): its chains over the pass, then on the last pass its block of dw. */
    private final class TileLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] dy, dw;
        private int depth;
        private boolean first;

        void execute(Conv2dGeometry g, float[] dy, int depth, boolean first, float[] dw, int parts) {
            int groups = groups(g), tasks = paddedRows(g) / rows(groups) * (g.inChannels() * g.kernelH() * g.kernelW() / CpuKernels.LANES / groups);
            this.g = g;
            this.depth = depth;
            this.first = first;
            this.dy = dy;
            this.dw = dw;
            try {
                threads.runClaimed(tasks, parts, this);
            } finally {
                this.g = null;
                this.dy = this.dw = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            Conv2dGeometry g = this.g;
            int cin = g.inChannels(), cout = g.outChannels(), taps = g.kernelH() * g.kernelW(), k = cin * taps, lanes = CpuKernels.LANES;
            int groups = groups(g), rows = rows(groups), width = groups * lanes, ldy = paddedRows(g), rowBlocks = ldy / rows;
            int p = g.outHeight() * g.outWidth();
            float[] dwT = CpuChannelVectorFilter.this.dwT, dy = this.dy, dw = this.dw, tile = tiles[worker];
            int[] rowOffset = rowOffsets[worker];
            CpuKernels kernel = kernels[worker];
            for (int task = begin; task < end; task++) {
                int co0 = task % rowBlocks * rows, g0 = task / rowBlocks * groups, j0 = g0 * lanes;
                for (int r = 0; r < rows; r++) rowOffset[r] = Math.min(co0 + r, cout - 1) * p;
                for (int d0 = 0; d0 < depth; d0 += CHAIN_DEPTH) {
                    kernel.channelFilterTile(channelsLast, xStart, groupStart, g0, groups, dy, dyStart, rowOffset, d0, Math.min(depth, d0 + CHAIN_DEPTH), tile);
                    boolean assign = first && d0 == 0;
                    for (int r = 0; r < rows; r++) {
                        int row = (co0 + r) * k + j0, t = r * width;
                        if (assign) System.arraycopy(tile, t, dwT, row, width);
                        else for (int j = 0; j < width; j++) dwT[row + j] += tile[t + j];
                    }
                }
                if (dw == null) continue;
                for (int co = co0; co < Math.min(cout, co0 + rows); co++) {
                    int row = co * k;
                    // column j = (t, c) of dwT to dw's (c, t), walking t and c (a division per element cost as much as the tile)
                    for (int j = j0, t = j0 / cin, c = j0 % cin; j < j0 + width; j++) {
                        dw[row + c * taps + t] = dwT[row + j];
                        if (++c == cin) {
                            c = 0;
                            t++;
                        }
                    }
                }
            }
        }
    }
}
