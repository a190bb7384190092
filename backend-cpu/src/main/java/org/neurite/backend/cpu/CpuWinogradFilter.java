package org.neurite.backend.cpu;

import java.util.Arrays;
import org.neurite.backend.Conv2dGeometry;

/**
 * The filter gradient of a stride-1, one-group convolution by Winograd, the transpose of
 * {@link CpuWinogradConv2d}'s forward: F(2x2, 5x5) for 5x5 kernels, F(4x4, 3x3) for 3x3 ones
 * where the forward takes 4x4 tiles. PyTorch layouts x[N, Cin, H, W], dy[N, Cout, Ho, Wo],
 * dw[Cout, Cin, k, k]. The forward computes each tile of outputs as
 * {@code y = A^T (sum over ci of U[co, ci] * V[ci]) A} with {@code U = G g G^T} and
 * {@code V = B^T d B}; so
 * <pre>
 *   V = B^T d B                 (per (ci, tile): the 6x6 padded input block, as the forward)
 *   Y = A dY A^T                (per (co, tile): the tile of dy, 2x2 or 4x4, to 6x6)
 *   dU[xi] = Y[xi]^T V[xi]      for each of the 36 positions xi: a GEMM [Cout, tiles] x [tiles, Cin]
 *   dg = G^T dU G               (per (co, ci): 6x6 to the k x k kernel, in double)
 * </pre>
 * 36 multiplies per tile and channel pair where the direct sum does 100 (5x5: 2.8x fewer) or
 * 144 (3x3 on 4x4 tiles: 4x fewer). The tiles past Ho or Wo take dy = 0, so they add nothing.
 *
 * <p>Work: the batch is cut into blocks of whole samples ({@link CpuWinogradConv2d#samplesPerBlock},
 * as the forward's, and at most one GEMM depth block of tiles), and the blocks into at most
 * {@link #MAX_GROUPS} contiguous groups, a function of the geometry alone. The workers claim
 * groups; per block a worker pads x in the forward's layout ({@link CpuWinogradConv2d.Tiling})
 * but with the input channels innermost, and gathers dy's tiles in the GEMM's packed layout of A
 * (MR output channels innermost), so that the lane-wise transforms
 * ({@link CpuKernels#winograd5InputTiles}, {@link CpuKernels#winograd5GradientTiles},
 * {@link CpuKernels#winograd4GradientTiles}) write V as [tiles, Cin], the layout the GEMM packs B
 * from without a transpose, and Y as the packed A itself (V as [Cin, tiles], the forward's
 * layout, made the packing of every product a scalar transpose: c2 ran 1.07x the direct path
 * instead of 1.8-2x); then it adds the block's 36 products into the group's own dU. Then, per
 * output channel, the groups' dU are added in group order and transformed into dw. So the bits
 * do not depend on the thread count.
 *
 * <p>{@code -Dneurite.cpu.winogradfilter=false} turns it off for the JVM (read once), and
 * {@code -Dneurite.cpu.winograd=false} with the rest of Winograd: the layers then take the
 * direct or GEMM paths of {@link CpuConv2d#backwardFilter}, which is how they were compared.
 */
final class CpuWinogradFilter {
    /** The system property that turns this path off ({@code false}); anything else, or nothing, leaves it on. */
    static final String PROPERTY = "neurite.cpu.winogradfilter";
    /** Whether backends of this JVM take it where {@link #applies} (the property, read once). */
    static final boolean ENABLED = CpuSwitch.isOn(PROPERTY, "Winograd filter gradient");
    /** Most groups of blocks, each with its own partial dU: the parallelism, bounded so their sum stays cheap. */
    static final int MAX_GROUPS = 8;
    /** Most floats of the groups' partial dU together (16 MiB): larger layers keep the other paths. */
    static final long MAX_PARTIAL_FLOATS = 1L << 22;
    private static final int POSITIONS = 36;
    private static final long PARALLEL_MIN_FLOPS = 1L << 18;

    private final CpuThreads threads;
    private final CpuGemm gemm;
    private final CpuKernels[] kernels; // per worker: the transforms
    private final Scratch[] scratch; // per worker, grow-only
    private float[] partials = new float[0]; // per group: dU as [position][co][ci], grow-only
    private final GroupLoop groupLoop = new GroupLoop();
    private final FilterLoop filterLoop = new FilterLoop();

    CpuWinogradFilter(CpuThreads threads, CpuGemm gemm, CpuKernels.Path path) {
        this.threads = threads;
        this.gemm = gemm;
        this.kernels = path.perWorker(threads.size());
        this.scratch = new Scratch[threads.size()];
        for (int w = 0; w < scratch.length; w++) scratch[w] = new Scratch();
    }

    /**
     * Whether {@link #backwardFilter} takes this geometry: a 5x5 kernel, or a 3x3 one on 4x4 tiles
     * ({@link CpuWinogradConv2d#outputTile}), where the forward takes Winograd
     * ({@link CpuWinogradConv2d#applies}: stride 1, dilation 1, one group, at least 32 channels in
     * and out), a sample's tiles within one GEMM depth block ({@link CpuGemm#KC}) and
     * the groups' partial dU within {@link #MAX_PARTIAL_FLOATS}.
     */
    static boolean applies(Conv2dGeometry g) {
        int tile = CpuWinogradConv2d.outputTile(g);
        boolean kernel = g.kernelH() == 5 || g.kernelH() == 3 && tile == 4;
        return kernel && CpuWinogradConv2d.applies(g) && CpuWinogradConv2d.tiles(g, tile) <= CpuGemm.KC
                && (long) POSITIONS * g.inChannels() * g.outChannels() * MAX_GROUPS <= MAX_PARTIAL_FLOATS;
    }

    /** dw = the gradient of conv(x, w) with respect to w, given dy; {@link #applies} must hold. */
    void backwardFilter(Conv2dGeometry g, float[] x, float[] dy, float[] dw) {
        // a block's tiles are one GEMM depth block (Y is written packed as one)
        int tile = CpuWinogradConv2d.outputTile(g);
        int block = Math.min(CpuWinogradConv2d.samplesPerBlock(g, tile), CpuGemm.KC / CpuWinogradConv2d.tiles(g, tile));
        int blocks = CpuGemm.ceilDiv(g.batch(), block), groups = Math.min(MAX_GROUPS, blocks);
        int groupFloats = POSITIONS * g.inChannels() * g.outChannels();
        if (partials.length < groups * groupFloats) partials = new float[groups * groupFloats];
        int parallelism = g.flops() < PARALLEL_MIN_FLOPS ? 1 : threads.size();
        groupLoop.execute(g, x, dy, tile, block, blocks, groups, parallelism);
        filterLoop.execute(g, groups, dw, parallelism);
    }

    /** Groups of blocks, claimed: each group's dU summed over its blocks into its part of {@link #partials}. */
    private final class GroupLoop extends CpuWinogradConv2d.Tiling implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] x, dy;
        private int blocks, groups;
        private final int[] channelOffsets = new int[CpuGemm.NR]; // x's planes for copyChannelsLast's gathers

        synchronized void execute(Conv2dGeometry g, float[] x, float[] dy, int tile, int block, int blocks, int groups, int parallelism) {
            this.g = g;
            this.x = x;
            this.dy = dy;
            this.blocks = blocks;
            this.groups = groups;
            setTiles(g, tile, block);
            CpuConvFilterChannelsLast.channelOffsets(g.inChannels(), g.height() * g.width(), channelOffsets);
            try {
                threads.runClaimed(groups, parallelism, this);
            } finally {
                this.g = null;
                this.x = this.dy = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            Conv2dGeometry g = this.g;
            int cin = g.inChannels(), cout = g.outChannels(), rows = CpuGemm.roundUp(cout, CpuGemm.MR);
            int perSample = tilesH * tilesW, most = block * perSample;
            Scratch s = scratch[worker];
            s.grow(paddedFloats(cin, block), POSITIONS * CpuWinogradConv2d.positionStride(most, cin),
                    POSITIONS * CpuWinogradConv2d.positionStride(most, rows), step * step * most * rows, cin * g.height() * g.width(),
                    cin * (g.height() + 2 * g.padH()) * (g.width() + 2 * g.padW()));
            CpuKernels k = kernels[worker];
            int groupFloats = POSITIONS * cin * cout;
            for (int group = begin; group < end; group++) {
                int first = (int) ((long) group * blocks / groups), last = (int) ((long) (group + 1) * blocks / groups);
                int du = group * groupFloats;
                for (int b = first; b < last; b++) {
                    int n0 = b * block, samples = Math.min(block, g.batch() - n0), count = samples * perSample;
                    int vStride = CpuWinogradConv2d.positionStride(count, cin), yStride = CpuWinogradConv2d.positionStride(count, rows);
                    padChannelsInnermost(g, x, n0, samples, k, s);
                    blockOffsets(samples, s.at);
                    for (int p = 0; p < POSITIONS; p++) s.at[p] *= cin;
                    k.winograd5InputTiles(s.padded, 0, s.at, count * cin, s.transformed, 0, vStride);
                    gatherGradient(dy, n0, samples, cout, g.outHeight(), g.outWidth(), s.gradient, count);
                    if (step == 4) k.winograd4GradientTiles(s.gradient, count * rows, count * rows, s.products, yStride);
                    else k.winograd5GradientTiles(s.gradient, count * rows, count * rows, s.products, yStride);
                    float beta = b == first ? 0f : 1f;
                    for (int p = 0; p < POSITIONS; p++) {
                        gemm.multiplyPacked(worker, s.products, p * yStride, cout, cin, count, 1f, false,
                                s.transformed, p * vStride, cin, beta, partials, du + p * cout * cin, cin);
                    }
                }
            }
        }

        /**
         * Samples [n0, n0+samples) of x zero-padded in {@link CpuWinogradConv2d.Tiling#pad}'s layout of
         * one channel, with the channels innermost: the value pad puts at {@code ci * alpha * phase + i}
         * goes to {@code i * Cin + ci}. So the input transform, lane-wise over {@code (tile column, ci)}
         * with pad's offsets times Cin, writes V as [tiles, Cin] per position, the layout the GEMM
         * packs without a transpose. Each sample is first made zero-padded and channels-last by
         * {@link CpuConvFilterChannelsLast#copyChannelsLast} (the convolution's padding; every value
         * once), so that each of its places in the block is one copy of Cin floats, and the block's
         * rows and columns past that padded grid (the last tiles' reach past the output) are zero.
         */
        private void padChannelsInnermost(Conv2dGeometry g, float[] x, int n0, int samples, CpuKernels k, Scratch s) {
            int cin = g.inChannels(), hp = g.height() + 2 * g.padH(), wp = g.width() + 2 * g.padW();
            int tw = tilesW, step = this.step, rowStride = samples * tw, phase = step * rowGroups * rowStride;
            float[] grid = s.grid, xp = s.padded;
            for (int sample = 0; sample < samples; sample++) {
                CpuConvFilterChannelsLast.copyChannelsLast(k, g, x, n0 + sample, channelOffsets, s.staging, grid, 0);
                for (int r = 0; r < hq; r++) {
                    int rowAt = ((r % step) * rowGroups + r / step) * rowStride + sample * tw;
                    for (int c = 0; c < alpha; c++) {
                        for (int u = 0; u < tw; u++) {
                            int col = step * u + c, d = (c * phase + rowAt + u) * cin;
                            if (r < hp && col < wp) System.arraycopy(grid, (r * wp + col) * cin, xp, d, cin);
                            else Arrays.fill(xp, d, d + cin, 0f);
                        }
                    }
                }
            }
        }

        /**
         * The block's tiles of dy (step x step): value (r, c) of tile column j (numbered as
         * {@link CpuWinogradConv2d.Tiling#pad} numbers them: {@code (i * samples + sample) * tilesW + u})
         * and output channel co in plane {@code step * r + c} of {@code roundUp(Cout, MR) * count}
         * floats, at {@code (co / MR) * count * MR + j * MR + co % MR}: {@link CpuGemm#packWhole}'s
         * layout of [Cout, count] (one depth block), which the lane-wise transform keeps, so the
         * GEMMs take Y as packed. Values past Ho or Wo, and the rows past Cout, are 0.
         */
        private void gatherGradient(float[] dy, int n0, int samples, int cout, int ho, int wo, float[] d, int count) {
            int th = tilesH, tw = tilesW, step = this.step, plane = ho * wo, mr = CpuGemm.MR, rows = CpuGemm.roundUp(cout, mr);
            int qs = rows * count;
            for (int sample = 0; sample < samples; sample++) {
                int sampleAt = (n0 + sample) * cout * plane;
                for (int i = 0; i < th; i++) {
                    int j0 = (i * samples + sample) * tw;
                    for (int r = 0; r < step; r++) {
                        int oh = step * i + r;
                        for (int u = 0; u < tw; u++) {
                            for (int c = 0; c < step; c++) {
                                int ow = step * u + c, to = (step * r + c) * qs + (j0 + u) * mr;
                                boolean inside = oh < ho && ow < wo;
                                for (int strip = 0, at = sampleAt + oh * wo + ow; strip < rows; strip += mr, to += count * mr) {
                                    for (int lane = 0; lane < mr; lane++, at += plane) {
                                        d[to + lane] = inside && strip + lane < cout ? dy[at] : 0f;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** Output channels, in ranges: the groups' dU added in group order (in float) and transformed into dw (in double, rounded once). */
    private final class FilterLoop implements CpuThreads.RangeTask {
        private int groups, cin, cout, kernel;
        private float[] dw;

        synchronized void execute(Conv2dGeometry g, int groups, float[] dw, int parallelism) {
            this.groups = groups;
            this.cin = g.inChannels();
            this.cout = g.outChannels();
            this.kernel = g.kernelH();
            this.dw = dw;
            try {
                threads.run(cout, parallelism, this);
            } finally {
                this.dw = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            int cin = this.cin, cout = this.cout, pairs = cin * cout, groupFloats = POSITIONS * pairs;
            float[] partials = CpuWinogradFilter.this.partials;
            // the groups' dU added into the first group's, in group order (runs of Cin floats)
            for (int p = 0; p < POSITIONS; p++) {
                for (int group = 1; group < groups; group++) {
                    for (int i = p * pairs + begin * cin, j = i + group * groupFloats, n = (end - begin) * cin; n > 0; n--, i++, j++) {
                        partials[i] += partials[j];
                    }
                }
            }
            Scratch scratch = CpuWinogradFilter.this.scratch[worker];
            scratch.growFilter(cin);
            double[] du = scratch.du, rows = scratch.rows;
            int k = kernel, kk = k * k;
            for (int co = begin; co < end; co++) {
                // the output channel's dU as [position][ci], whole runs: positions lie 4 KiB or more
                // apart, and reading one pair's 36 values at a time fell into a few L1 sets
                for (int p = 0; p < POSITIONS; p++) {
                    for (int ci = 0, at = p * pairs + co * cin; ci < cin; ci++) du[p * cin + ci] = partials[at + ci];
                }
                // per pair: dU G (6 x k), then G^T (dU G) (k x k) below it (lane-wise over ci, with
                // the steps' results as [ ][ci] rows, it ran 1.1x slower)
                for (int ci = 0; ci < cin; ci++) {
                    int o = (co * cin + ci) * kk;
                    if (k == 5) {
                        for (int a = 0; a < 6; a++) timesG5(du, 6 * a * cin + ci, cin, rows, 5 * a, 1);
                        for (int c = 0; c < 5; c++) timesG5(rows, c, 5, rows, 30 + c, 5);
                        for (int i = 0; i < kk; i++) dw[o + i] = (float) rows[30 + i];
                    } else {
                        pairG4(du, ci, cin, dw, o);
                    }
                }
            }
        }
    }

    /** 1/6 and 1/24 in double: multiplies, not divisions (dw is rounded to float after). */
    private static final double SIXTH = 1.0 / 6, TWENTY_FOURTH = 1.0 / 24;

    /**
     * Five values {@code out_c = sum over b of in_b G5[b][c]} (CpuWinogradConv2d's G5) from six,
     * {@code in_b = src[i + b * is]}, into {@code dst[o + c * os]}, by G5's structure: rows 1 and 2
     * are -1/6 times the powers of 1 and -1, rows 3 and 4 1/24 times those of 2 and -2, rows 0 and
     * 5 a quarter of the first column and the last. Applied to the rows of dU and then to the
     * columns of the result, it is {@code G^T dU G}.
     */
    static void timesG5(double[] src, int i, int is, double[] dst, int o, int os) {
        double in0 = src[i], in1 = src[i + is], in2 = src[i + 2 * is], in3 = src[i + 3 * is], in4 = src[i + 4 * is], in5 = src[i + 5 * is];
        double sum12 = (in1 + in2) * SIXTH, difference12 = (in1 - in2) * SIXTH;
        double sum34 = (in3 + in4) * TWENTY_FOURTH, difference34 = (in3 - in4) * TWENTY_FOURTH;
        dst[o] = in0 * 0.25 - sum12 + sum34;
        dst[o + os] = 2 * difference34 - difference12;
        dst[o + 2 * os] = 4 * sum34 - sum12;
        dst[o + 3 * os] = 8 * difference34 - difference12;
        dst[o + 4 * os] = 16 * sum34 - sum12 + in5;
    }

    /**
     * {@code dw[o..o+8] = G^T dU G} of one (co, ci) pair for F(4x4, 3x3), dU's 36 values at
     * {@code du[p * cin + ci]}, G the 6x3 {@code diag(f) V} (f = 1/4, -1/6, -1/6, 1/24, 1/24, 1 and
     * V's rows {@code [1, p, p^2]} at the points 0, 1, -1, 2, -2, {@code [0 0 1]} at infinity; see
     * CpuWinogradConv2d's {@code FILTER_SCALES_4X4}): each row of dU times G (the {@code r}
     * values), then G^T times each column of that (the {@code v} values), in double, rounded to
     * float once. Written out, every intermediate in a local: through a scratch row per step it
     * took about 40% of the 64 -> 64 layer's backward-filter (JFR, one thread).
     */
    static void pairG4(double[] du, int ci, int cin, float[] dw, int o) {
        int i0 = ci;
        double w00 = du[i0] * 0.25, w01 = -du[i0 + 1 * cin] * SIXTH, w02 = -du[i0 + 2 * cin] * SIXTH;
        double w03 = du[i0 + 3 * cin] * TWENTY_FOURTH, w04 = du[i0 + 4 * cin] * TWENTY_FOURTH, w05 = du[i0 + 5 * cin];
        double r00 = w00 + w01 + w02 + w03 + w04, r01 = w01 - w02 + 2 * (w03 - w04), r02 = w01 + w02 + 4 * (w03 + w04) + w05;
        int i1 = 6 * 1 * cin + ci;
        double w10 = du[i1] * 0.25, w11 = -du[i1 + 1 * cin] * SIXTH, w12 = -du[i1 + 2 * cin] * SIXTH;
        double w13 = du[i1 + 3 * cin] * TWENTY_FOURTH, w14 = du[i1 + 4 * cin] * TWENTY_FOURTH, w15 = du[i1 + 5 * cin];
        double r10 = w10 + w11 + w12 + w13 + w14, r11 = w11 - w12 + 2 * (w13 - w14), r12 = w11 + w12 + 4 * (w13 + w14) + w15;
        int i2 = 6 * 2 * cin + ci;
        double w20 = du[i2] * 0.25, w21 = -du[i2 + 1 * cin] * SIXTH, w22 = -du[i2 + 2 * cin] * SIXTH;
        double w23 = du[i2 + 3 * cin] * TWENTY_FOURTH, w24 = du[i2 + 4 * cin] * TWENTY_FOURTH, w25 = du[i2 + 5 * cin];
        double r20 = w20 + w21 + w22 + w23 + w24, r21 = w21 - w22 + 2 * (w23 - w24), r22 = w21 + w22 + 4 * (w23 + w24) + w25;
        int i3 = 6 * 3 * cin + ci;
        double w30 = du[i3] * 0.25, w31 = -du[i3 + 1 * cin] * SIXTH, w32 = -du[i3 + 2 * cin] * SIXTH;
        double w33 = du[i3 + 3 * cin] * TWENTY_FOURTH, w34 = du[i3 + 4 * cin] * TWENTY_FOURTH, w35 = du[i3 + 5 * cin];
        double r30 = w30 + w31 + w32 + w33 + w34, r31 = w31 - w32 + 2 * (w33 - w34), r32 = w31 + w32 + 4 * (w33 + w34) + w35;
        int i4 = 6 * 4 * cin + ci;
        double w40 = du[i4] * 0.25, w41 = -du[i4 + 1 * cin] * SIXTH, w42 = -du[i4 + 2 * cin] * SIXTH;
        double w43 = du[i4 + 3 * cin] * TWENTY_FOURTH, w44 = du[i4 + 4 * cin] * TWENTY_FOURTH, w45 = du[i4 + 5 * cin];
        double r40 = w40 + w41 + w42 + w43 + w44, r41 = w41 - w42 + 2 * (w43 - w44), r42 = w41 + w42 + 4 * (w43 + w44) + w45;
        int i5 = 6 * 5 * cin + ci;
        double w50 = du[i5] * 0.25, w51 = -du[i5 + 1 * cin] * SIXTH, w52 = -du[i5 + 2 * cin] * SIXTH;
        double w53 = du[i5 + 3 * cin] * TWENTY_FOURTH, w54 = du[i5 + 4 * cin] * TWENTY_FOURTH, w55 = du[i5 + 5 * cin];
        double r50 = w50 + w51 + w52 + w53 + w54, r51 = w51 - w52 + 2 * (w53 - w54), r52 = w51 + w52 + 4 * (w53 + w54) + w55;
        double v00 = r00 * 0.25, v01 = -r10 * SIXTH, v02 = -r20 * SIXTH, v03 = r30 * TWENTY_FOURTH, v04 = r40 * TWENTY_FOURTH, v05 = r50;
        dw[o + 0] = (float) (v00 + v01 + v02 + v03 + v04);
        dw[o + 3] = (float) (v01 - v02 + 2 * (v03 - v04));
        dw[o + 6] = (float) (v01 + v02 + 4 * (v03 + v04) + v05);
        double v10 = r01 * 0.25, v11 = -r11 * SIXTH, v12 = -r21 * SIXTH, v13 = r31 * TWENTY_FOURTH, v14 = r41 * TWENTY_FOURTH, v15 = r51;
        dw[o + 1] = (float) (v10 + v11 + v12 + v13 + v14);
        dw[o + 4] = (float) (v11 - v12 + 2 * (v13 - v14));
        dw[o + 7] = (float) (v11 + v12 + 4 * (v13 + v14) + v15);
        double v20 = r02 * 0.25, v21 = -r12 * SIXTH, v22 = -r22 * SIXTH, v23 = r32 * TWENTY_FOURTH, v24 = r42 * TWENTY_FOURTH, v25 = r52;
        dw[o + 2] = (float) (v20 + v21 + v22 + v23 + v24);
        dw[o + 5] = (float) (v21 - v22 + 2 * (v23 - v24));
        dw[o + 8] = (float) (v21 + v22 + 4 * (v23 + v24) + v25);
    }

    /**
     * {@link CpuKernels#winograd5GradientTiles} for t in [from, count): the definition the plain
     * path runs and the vector path's tail. {@code A = [1 0; 1 1; 1 -1; 1 2; 1 -2; 0 1]} (A^T of
     * {@link CpuWinogradConv2d#output5}): each row of the tile to six values (into positions 0..5
     * and 30..35, rows 0 and 5 of Y, which are those six values themselves), then each column.
     */
    static void gradientTiles5(float[] d, int qs, int from, int count, float[] v, int ps) {
        expand2(d, 0, qs, from, count, v, 0, ps);
        expand2(d, 2 * qs, 3 * qs, from, count, v, 30 * ps, ps);
        for (int c = 0; c < 6; c++) expand2(v, c * ps, (30 + c) * ps, from, count, v, c * ps, 6 * ps);
    }

    /**
     * {@link CpuKernels#winograd4GradientTiles} for t in [from, count): the definition the plain
     * path runs and the vector path's tail. A is the transpose of F(4x4, 3x3)'s
     * {@code A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]}: each row of the
     * 4x4 tile to six values (into rows 0, 1, 2 and 5 of Y: row 0 and 5 are the first and last row's
     * own values), then each column.
     */
    static void gradientTiles4(float[] d, int qs, int from, int count, float[] v, int ps) {
        for (int r = 0; r < 4; r++) {
            expand4(d, 4 * r * qs, (4 * r + 1) * qs, (4 * r + 2) * qs, (4 * r + 3) * qs, from, count, v, (r == 3 ? 30 : 6 * r) * ps, ps);
        }
        for (int c = 0; c < 6; c++) expand4(v, c * ps, (6 + c) * ps, (12 + c) * ps, (30 + c) * ps, from, count, v, c * ps, 6 * ps);
    }

    /**
     * A applied to the four values {@code d_i = src[f_i + t]}, for t in [from, to), into
     * {@code dst[o + i * ds + t]}: {@code d0, (d0 + d2) + (d1 + d3), (d0 + d2) - (d1 + d3),
     * (d0 + 4 d2) + (2 d1 + 8 d3), (d0 + 4 d2) - (2 d1 + 8 d3), d3} (the multiplies by 2, 4 and 8
     * are exact). All four values are read before any is written, so it may run in place.
     */
    static void expand4(float[] src, int f0, int f1, int f2, int f3, int from, int to, float[] dst, int o, int ds) {
        for (int t = from; t < to; t++) {
            float d0 = src[f0 + t], d1 = src[f1 + t], d2 = src[f2 + t], d3 = src[f3 + t];
            float even = d0 + d2, odd = d1 + d3, evenTwice = d0 + d2 * 4f, oddTwice = d1 * 2f + d3 * 8f;
            dst[o + t] = d0;
            dst[o + ds + t] = even + odd;
            dst[o + 2 * ds + t] = even - odd;
            dst[o + 3 * ds + t] = evenTwice + oddTwice;
            dst[o + 4 * ds + t] = evenTwice - oddTwice;
            dst[o + 5 * ds + t] = d3;
        }
    }

    /**
     * A applied to the two values {@code d_i = src[f_i + t]}, for t in [from, to), into
     * {@code dst[o + i * ds + t]}: {@code d0, d0 + d1, d0 - d1, d0 + 2 d1, d0 - 2 d1, d1} (the
     * multiply by 2 is exact). Both values are read before any is written, so it may run in place.
     */
    static void expand2(float[] src, int f0, int f1, int from, int to, float[] dst, int o, int ds) {
        for (int t = from; t < to; t++) {
            float d0 = src[f0 + t], d1 = src[f1 + t], twice = d1 * 2f;
            dst[o + t] = d0;
            dst[o + ds + t] = d0 + d1;
            dst[o + 2 * ds + t] = d0 - d1;
            dst[o + 3 * ds + t] = d0 + twice;
            dst[o + 4 * ds + t] = d0 - twice;
            dst[o + 5 * ds + t] = d1;
        }
    }

    /** One worker's buffers, grown to the largest block seen. */
    private static final class Scratch {
        float[] staging = new float[0]; // one sample of x as it lies (copyChannelsLast's staging)
        float[] grid = new float[0]; // one sample of x zero-padded and channels-last (copyChannelsLast)
        float[] padded = new float[0]; // the block's samples padded, channels innermost (padChannelsInnermost)
        float[] transformed = new float[0]; // V: 36 positions of [tiles, Cin]
        float[] gradient = new float[0]; // dy's tiles, step^2 values of [Cout, tiles] packed (gatherGradient)
        float[] products = new float[0]; // Y: 36 positions of [Cout, tiles], packed as the GEMM reads them
        final int[] at = new int[POSITIONS];
        double[] du = new double[0]; // one output channel's dU, [position][ci], the groups added; grow-only
        final double[] rows = new double[55]; // one pair's dU G (6 x kernel), then G^T dU G (kernel x kernel) from 30 on

        void growFilter(int cin) {
            if (du.length < POSITIONS * cin) {
                du = new double[POSITIONS * cin];
            }
        }

        void grow(int paddedFloats, int transformedFloats, int productFloats, int gradientFloats, int stagingFloats, int gridFloats) {
            if (padded.length < paddedFloats) padded = new float[paddedFloats];
            if (transformed.length < transformedFloats) transformed = new float[transformedFloats];
            if (products.length < productFloats) products = new float[productFloats];
            if (gradient.length < gradientFloats) gradient = new float[gradientFloats];
            if (staging.length < stagingFloats) staging = new float[stagingFloats];
            if (grid.length < gridFloats) grid = new float[gridFloats];
        }
    }
}
