package org.neurite.backend.cpu;

import java.util.Arrays;
import org.neurite.backend.Conv2dGeometry;

/**
 * Backward-filter of 3x3, stride-1, dilation-1, one-group convolutions by Winograd's minimal
 * filtering, F(2x2, 3x3) or F(4x4, 3x3) ({@link #outputTile}), the adjoint of the forward of
 * {@link CpuWinogradConv2d}; PyTorch layouts x[N, Cin, H, W], dy[N, Cout, Ho, Wo],
 * dw[Cout, Cin, 3, 3], any padding. The forward computes each m x m tile of outputs as
 * {@code Y = A^T [U .* V] A} with {@code U = G g G^T} and {@code V = B^T d B} (d the tile's
 * (m+2) x (m+2) block of padded input), so
 * <pre>
 *   dM    = A dY A^T                                  (per (co, tile): dy's m x m tile to (m+2)^2)
 *   dU[p] = sum over all tiles t of dM[p][co][t] V[p][ci][t]   for each position p
 *   dw    = G^T dU G                                  (per (co, ci): (m+2)^2 to 3x3, once per call)
 * </pre>
 * F(2x2, 3x3): B, G, A of {@link CpuWinogradConv2d}'s class comment, 16 positions. F(4x4, 3x3):
 * the points 0, 1, -1, 2, -2, infinity, B^T of {@link CpuWinogradConv2d#inputTransform6} (its
 * F(2x2, 5x5) input transform), G of {@link #G4}, {@code A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0;
 * 0 1 1 4 4 0; 0 1 -1 8 -8 1]}, 36 positions. The direct form ({@link CpuChannelVectorFilter})
 * does {@code 9 Cin Cout} multiply-adds per output pixel, these {@code 4} and {@code 2.25 Cin Cout},
 * plus transforms that cost {@code Cin + Cout} times a constant per tile, and a final transform of
 * {@code Cin Cout} times a constant per call. Tiles cover {@code m ceil(Ho/m) x m ceil(Wo/m)}
 * outputs; dy outside {@code Ho x Wo} counts as zero.
 *
 * <p>Work is split into blocks of whole samples ({@link #samplesPerBlock}, a function of the
 * geometry), claimed by the workers. Per block: the input copied zero-padded as m + 2 column
 * phases per row (rows grouped by their index mod m), the layout of {@link CpuWinogradConv2d}'s
 * forward, so that {@link CpuKernels#winogradInputTiles} ({@link CpuKernels#winograd5InputTiles})
 * makes V lane-wise over the block's tiles, as rows {@code [Cin][tiles]}; dy gathered into its
 * m^2 tile planes as {@code [tiles][Cout]} and {@link CpuKernels#winogradOutputGradient}
 * ({@link CpuKernels#winograd4OutputGradient}) makes dM lane-wise in that layout; then each
 * position's {@code dU^T [Cin, Cout]} as register tiles of {@link CpuKernels#channelFilterTile}
 * (input channels broadcast from V, lane groups of output channels loaded from dM), nothing
 * packed. Through {@link CpuGemm} the same products ran 2-2.5x slower than the direct form: its
 * packing transposes both operands, whose contiguous axis is the tiles, the depth. A second
 * region, claimed by input channel, adds the blocks' dUs in block order in double and computes
 * dw = G^T dU G in double, rounded once. Scratch is per worker and grow-only (the blocks' dUs in
 * one array of the call), so a steady call allocates nothing.
 *
 * <p>Determinism: the blocks are the geometry's, each block's dU element is one fma chain over
 * the block's tiles from zero in tile order (whichever worker, tile shape or vector width), the
 * transforms are fixed sequences of float operations (additions, and multiplies by 2 and 4, all
 * exact but the additions), lane-wise on the vector path in the plain path's order, and the
 * blocks are added in order; so the result is the same for any thread count and on both kernel
 * paths. It differs from the direct form's bits by rounding. Measured against dw summed in double
 * on the small ResNet's layers at batch 64, x and dy N(0, 1), the error per element relative to
 * its sum of |terms|, max / mean, F(2x2) | F(4x4) | the channel-vector form: 16 -> 16 on 14x14
 * 4.1e-8 / 6.9e-9 | 2.2e-7 / 2.1e-8 | 3.1e-8 / 6.5e-9; 32 -> 32 on 7x7 7.5e-8 / 1.2e-8 |
 * 3.4e-7 / 2.8e-8 | 1.0e-7 / 1.2e-8; 64 -> 64 on 4x4 8.7e-8 / 1.4e-8 | 9.3e-7 / 4.7e-8 |
 * 2.5e-7 / 2.0e-8 ({@code CpuWinogradFilterTest} bounds it at 1e-5).
 *
 * <p>{@code -Dneurite.cpu.winogradfilter=false} turns it off for the JVM (read once): those
 * layers' backward-filter then runs the path {@link CpuConv2d} would give them otherwise.
 */
final class CpuWinogradFilter {
    /** The system property that turns it off ({@code false}); anything else, or nothing, leaves it on. */
    static final String PROPERTY = "neurite.cpu.winogradfilter";
    /** Whether backends of this JVM use it where {@link CpuConv2d} takes it (the property, read once). */
    static final boolean ENABLED = CpuSwitch.isOn(PROPERTY, "the Winograd backward-filter");
    /** Most tile positions: F(4x4, 3x3)'s 6x6 transformed block (F(2x2, 3x3)'s is 4x4). */
    static final int MAX_POSITIONS = 36;
    /** Most floats of V and dM one sample may need (as the forward's {@link CpuWinogradConv2d#MAX_SAMPLE_FLOATS}). */
    static final int MAX_SAMPLE_FLOATS = CpuWinogradConv2d.MAX_SAMPLE_FLOATS;
    /**
     * Floats of V and dM (all positions, Cin + Cout rows) one block aims at: 1 MiB. Each block
     * leaves a dU of {@code positions Cin Cout} floats to add up at the end, so larger blocks
     * cost less on one thread, but two workers with 2 MiB blocks each ran 32 -> 32 (7x7) 4x
     * slower than with these on two threads (wall time, the 2-core VM).
     */
    static final int BLOCK_FLOATS = 1 << 18;
    /**
     * Fewest blocks, where the batch has as many samples (then a multiple of it): claimed tasks
     * that two workers share evenly. Each block adds a dU to sum and shortens the fma chains: 4
     * and 8 ran 64 -> 64 (4x4) 1.16x and 1.4x slower than 2 on one thread (the fewest blocks by
     * the cache budget alone), and not faster on two.
     */
    static final int MIN_BLOCKS = 2;
    /** Most blocks per call: each keeps a dU of {@code positions Cout Cin} floats until the sum. */
    static final int MAX_BLOCKS = 16;
    private static final long PARALLEL_MIN_FLOPS = 1L << 18;

    private final CpuThreads threads;
    private final CpuKernels[] kernels; // per worker: the transforms
    private final Scratch[] scratch; // per worker, grow-only
    private float[] blockProducts = new float[0]; // dU^T of each block: [block][position][Cin][Cout], positions positionStride(Cin Cout, 1) apart, grow-only
    private final BlockLoop blockLoop = new BlockLoop();
    private final FilterLoop filterLoop = new FilterLoop();
    private final int forcedTile; // 2 or 4: F(2x2, 3x3) or F(4x4, 3x3) whatever the geometry (tests, measurements); 0: outputTile's choice

    CpuWinogradFilter(CpuThreads threads, CpuKernels.Path path) {
        this(threads, path, 0);
    }

    /** With the output tile forced to {@code tile} (2 or 4), or chosen by {@link #outputTile} (0). */
    CpuWinogradFilter(CpuThreads threads, CpuKernels.Path path, int tile) {
        this.threads = threads;
        this.kernels = path.perWorker(threads.size());
        this.scratch = new Scratch[threads.size()];
        this.forcedTile = tile;
    }

    /**
     * The output tile of this geometry: 4 (F(4x4, 3x3)) up to {@link #TILE_4_MAX_CHANNELS} channels
     * in and out, else 2 (F(2x2, 3x3)). F(4x4) does 2.25 multiplies per output and channel pair
     * against F(2x2)'s 4, but its dU has 36 positions against 16, and the blocks' dUs are added
     * and transformed once per call whatever the batch: a cost that grows with {@code Cin Cout}.
     * Measured (thread CPU time, one thread, batch 64): 32 -> 32 on 7x7 0.54 ms against F(2x2)'s
     * 0.69; 64 -> 64 on 4x4 0.71-0.72 against 0.69-0.71; 128 -> 128 on 8x8 11.3-11.7 against
     * 9.8-10.2.
     */
    static int outputTile(Conv2dGeometry g) {
        return g.inChannels() <= TILE_4_MAX_CHANNELS && g.outChannels() <= TILE_4_MAX_CHANNELS ? 4 : 2;
    }

    /** Most channels in and out for F(4x4, 3x3) (see {@link #outputTile}). */
    static final int TILE_4_MAX_CHANNELS = 32;

    /**
     * F(4x4, 3x3)'s filter matrix G (6x3) for the points 0, 1, -1, 2, -2 and infinity, in the
     * scaling of {@link CpuWinogradConv2d}'s F(2x2, 5x5) input transform (the same B^T): row j is
     * {@code f_j [1, a_j, a_j^2]} with {@code f = 1/4, -1/6, -1/6, 1/24, 1/24}, and {@code [0 0 1]}.
     */
    private static final double[][] G4 = {
        {1.0 / 4, 0, 0},
        {-1.0 / 6, -1.0 / 6, -1.0 / 6},
        {-1.0 / 6, 1.0 / 6, -1.0 / 6},
        {1.0 / 24, 2.0 / 24, 4.0 / 24},
        {1.0 / 24, -2.0 / 24, 4.0 / 24},
        {0, 0, 1}};

    /**
     * Whether it computes this geometry: a 3x3 kernel, stride 1, dilation 1, one group, output
     * channels in whole lane groups, a non-empty batch and output, and one sample's V and dM
     * within {@link #MAX_SAMPLE_FLOATS}.
     */
    static boolean applies(Conv2dGeometry g) {
        return g.kernelH() == 3 && g.kernelW() == 3 && g.strideH() == 1 && g.strideW() == 1
                && g.dilationH() == 1 && g.dilationW() == 1 && g.groups() == 1 && g.outChannels() % CpuKernels.LANES == 0
                && g.batch() > 0 && g.outHeight() > 0 && g.outWidth() > 0
                && Math.max(perSample(g, 2), perSample(g, 4)) <= MAX_SAMPLE_FLOATS;
    }

    /** Floats of V and dM per sample with output tiles of {@code m x m}: {@code (m+2)^2 (Cin + Cout) tiles}. */
    private static long perSample(Conv2dGeometry g, int m) {
        return (long) (m + 2) * (m + 2) * (g.inChannels() + g.outChannels()) * tiles(g, m);
    }

    private static int tiles(Conv2dGeometry g, int m) {
        return CpuGemm.ceilDiv(g.outHeight(), m) * CpuGemm.ceilDiv(g.outWidth(), m);
    }

    /**
     * Samples per block: as many whole samples as keep the block's V and dM near
     * {@link #BLOCK_FLOATS}, at least one, and enough that there are at most {@link #MAX_BLOCKS}
     * blocks; then spread evenly over a multiple of {@link #MIN_BLOCKS} blocks (as many as the
     * batch allows). A function of the geometry alone: it decides the order of the sums.
     */
    static int samplesPerBlock(Conv2dGeometry g) {
        return samplesPerBlock(g, outputTile(g));
    }

    /** {@link #samplesPerBlock} with output tiles of {@code m x m}. */
    static int samplesPerBlock(Conv2dGeometry g, int m) {
        int byCache = (int) Math.max(1, Math.min(g.batch(), BLOCK_FLOATS / perSample(g, m)));
        int block = Math.max(byCache, CpuGemm.ceilDiv(g.batch(), MAX_BLOCKS)), blocks = CpuGemm.ceilDiv(g.batch(), block);
        return CpuGemm.ceilDiv(g.batch(), Math.min(g.batch(), CpuGemm.roundUp(blocks, MIN_BLOCKS)));
    }

    /** Floats between two positions' matrices of V or dM: as {@link CpuWinogradConv2d}'s, rounded to 4 KiB plus 3 cache lines (no L1 set conflicts). */
    private static int positionStride(int rows, int columns) {
        return CpuGemm.roundUp(rows * columns, 1024) + 48;
    }

    /** dw = the gradient of the convolution with respect to its weights (written, not added to); {@link #applies} must hold. */
    synchronized void backwardFilter(Conv2dGeometry g, float[] x, float[] dy, float[] dw) {
        int m = forcedTile != 0 ? forcedTile : outputTile(g), positions = (m + 2) * (m + 2);
        int block = samplesPerBlock(g, m), blocks = CpuGemm.ceilDiv(g.batch(), block), pairs = g.outChannels() * g.inChannels();
        int size = blocks * positions * positionStride(pairs, 1);
        if (blockProducts.length < size) blockProducts = new float[size];
        int parallelism = g.flops() < PARALLEL_MIN_FLOPS ? 1 : threads.size();
        blockLoop.execute(g, x, dy, m, block, blocks, parallelism);
        filterLoop.execute(g, m, blocks, dw, parallelism);
    }

    /** Lane groups of output channels per tile of dU^T: 3, 2 or 1, the most that divides {@code Cout / LANES}. */
    static int groups(int cout) {
        int ng = cout / CpuKernels.LANES;
        return ng % 3 == 0 ? 3 : ng % 2 == 0 ? 2 : 1;
    }

    private Scratch scratch(int worker) {
        Scratch s = scratch[worker];
        if (s == null) scratch[worker] = s = new Scratch();
        return s;
    }

    /** One worker's buffers, grown to the largest block seen. */
    private static final class Scratch {
        float[] padded = new float[0]; // the block's samples, zero-padded, m + 2 column phases per row
        float[] transformed = new float[0]; // V: 16 or 36 positions of [Cin][tiles], positionStride apart
        float[] gradients = new float[0]; // dM: 16 or 36 positions of [tiles][Cout], positionStride apart
        float[] tilePlanes = new float[0]; // dy as m^2 planes of [tiles][Cout], see gatherTiles
        final int[] at = new int[MAX_POSITIONS]; // see blockOffsets
        int[] padTo = new int[0]; // per input pixel of a plane, its two places in the padded copy, see pad
        final float[] tile = new float[24 * CpuKernels.LANES]; // one tile of dU^T out of the kernel
        final int[] rows = new int[16]; // a tile's rows (input channels) -> offset of their row of V
    }

    /**
     * Blocks of whole samples, claimed: per block V ({@link CpuKernels#winogradInputTiles} or
     * {@link CpuKernels#winograd5InputTiles}, rows of input channels over the tiles) and dM
     * ({@link CpuKernels#winogradOutputGradient} or {@link CpuKernels#winograd4OutputGradient} over
     * {@code (tile, output channel)} pairs, output channels fastest), then each position's
     * {@code dU^T [Cin, Cout] = V dM} as register tiles of {@link CpuKernels#channelFilterTile}
     * (rows: input channels, broadcast from V; lane groups: output channels, vector loads from
     * dM; one fma chain over the block's tiles from zero per element) into the block's part of
     * {@link #blockProducts}. Nothing is packed: both operands are read where the transforms
     * wrote them. (Through {@link CpuGemm}, whose packing transposes both operands here, it ran
     * 2-2.5x slower than the direct form.)
     */
    private final class BlockLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] x, dy;
        private int m, alpha, positions, block, tilesH, tilesW, hq, columns, vStride, mStride;
        private int[] depthStart = new int[0], tileStart = new int[0], groupStart = new int[0]; // channelFilterTile's tables, grow-only

        void execute(Conv2dGeometry g, float[] x, float[] dy, int m, int block, int blocks, int parallelism) {
            this.g = g;
            this.x = x;
            this.dy = dy;
            this.m = m;
            this.alpha = m + 2;
            this.positions = alpha * alpha;
            this.block = block;
            this.tilesH = CpuGemm.ceilDiv(g.outHeight(), m);
            this.tilesW = CpuGemm.ceilDiv(g.outWidth(), m);
            this.hq = m * (tilesH + 1);
            int cin = g.inChannels(), cout = g.outChannels(), lanes = CpuKernels.LANES, ng = cout / lanes;
            this.columns = CpuGemm.roundUp(block * tilesH * tilesW, lanes);
            this.vStride = positionStride(cin, columns);
            this.mStride = positionStride(columns, cout);
            if (depthStart.length < columns) {
                depthStart = new int[columns];
                tileStart = new int[columns];
            }
            for (int d = 0; d < columns; d++) {
                depthStart[d] = d * cout; // tile d's row of dM
                tileStart[d] = d; // tile d's column of V
            }
            if (groupStart.length < positions * ng) groupStart = new int[positions * ng];
            for (int p = 0; p < positions; p++) {
                for (int gi = 0; gi < ng; gi++) groupStart[p * ng + gi] = p * mStride + gi * lanes;
            }
            try {
                threads.runClaimed(blocks, parallelism, this);
            } finally {
                this.g = null;
                this.x = this.dy = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            Conv2dGeometry g = this.g;
            int cin = g.inChannels(), cout = g.outChannels(), productStride = positionStride(cout * cin, 1), perSample = tilesH * tilesW;
            int lanes = CpuKernels.LANES;
            int columns = this.columns, vStride = this.vStride, mStride = this.mStride, ng = cout / lanes;
            int groups = groups(cout), rows = CpuChannelVectorFilter.rows(groups), width = groups * lanes;
            Scratch s = scratch(worker);
            int m = this.m, alpha = this.alpha, positions = this.positions;
            int paddedSize = cin * alpha * hq * block * tilesW;
            if (s.padded.length < paddedSize) s.padded = new float[paddedSize];
            if (s.transformed.length < positions * vStride) s.transformed = new float[positions * vStride];
            if (s.gradients.length < positions * mStride) s.gradients = new float[positions * mStride];
            if (s.tilePlanes.length < m * m * columns * cout) s.tilePlanes = new float[m * m * columns * cout];
            CpuKernels k = kernels[worker];
            float[] v = s.transformed, dm = s.gradients, tile = s.tile, products = blockProducts;
            int[] rowOffset = s.rows;
            for (int b = begin; b < end; b++) {
                int n0 = b * block, samples = Math.min(block, g.batch() - n0), count = samples * perSample;
                pad(g, n0, samples, s);
                blockOffsets(samples, s.at);
                int planes = alpha * hq * samples * tilesW;
                if (m == 2) {
                    for (int ci = 0; ci < cin; ci++) k.winogradInputTiles(s.padded, ci * planes, s.at, count, v, ci * columns, vStride);
                    gatherTiles(g, n0, samples, s.tilePlanes, columns * cout);
                    k.winogradOutputGradient(s.tilePlanes, columns * cout, count * cout, dm, 0, mStride);
                } else {
                    for (int ci = 0; ci < cin; ci++) k.winograd5InputTiles(s.padded, ci * planes, s.at, count, v, ci * columns, vStride);
                    gatherTiles4(g, n0, samples, s.tilePlanes, columns * cout);
                    k.winograd4OutputGradient(s.tilePlanes, columns * cout, count * cout, dm, 0, mStride);
                }
                for (int p = 0; p < positions; p++) {
                    int out = (b * positions + p) * productStride;
                    for (int ci0 = 0; ci0 < cin; ci0 += rows) {
                        for (int r = 0; r < rows; r++) rowOffset[r] = p * vStride + Math.min(ci0 + r, cin - 1) * columns;
                        for (int g0 = 0; g0 < ng; g0 += groups) {
                            k.channelFilterTile(dm, depthStart, groupStart, p * ng + g0, groups, v, tileStart, rowOffset, 0, count, tile);
                            for (int r = 0; r < Math.min(rows, cin - ci0); r++) {
                                System.arraycopy(tile, r * width, products, out + (ci0 + r) * cout + g0 * lanes, width);
                            }
                        }
                    }
                }
            }
        }

        /**
         * Samples [n0, n0+samples) of x, zero-padded (the input at (padH, padW)), as alpha = m + 2
         * column phases per input channel: phase c of padded row r holds, for tile column u, the
         * float at column {@code m u + c}, at
         * {@code ci * alpha * phase + c * phase + ((r % m) * (hq / m) + r / m) * samples * tilesW + sample * tilesW + u}
         * ({@code phase = hq * samples * tilesW}; for m = 2 the layout of {@link CpuWinogradConv2d}'s
         * forward), so that tile column {@code j = (i * samples + sample) * tilesW + u} finds the
         * alpha^2 values of its block at the fixed offsets of {@link #blockOffsets}: row
         * {@code m i + k} of a tile is row group {@code k % m}, index {@code i + k / m}.
         */
        private void pad(Conv2dGeometry g, int n0, int samples, Scratch scratch) {
            int h = g.height(), w = g.width(), hw = h * w, ph = g.padH(), pw = g.padW(), cin = g.inChannels();
            int hq = this.hq, tw = tilesW, rowStride = samples * tw, phase = hq * rowStride, alpha = this.alpha, m = this.m;
            int shift = m == 2 ? 1 : 2, groupRows = hq / m;
            if (scratch.padTo.length < 2 * hw) scratch.padTo = new int[2 * hw];
            int[] to = scratch.padTo;
            // Where each input pixel of a plane goes: phase c of tile column u and, when c + m
            // is a phase too, phase c + m of u - 1 (else the same place again). Then per plane one
            // flat loop of two stores per pixel: loops per row, or per phase and row, ran a few
            // iterations each and cost more than the transforms on 4x4 maps.
            for (int ih = 0, q = 0; ih < h; ih++) {
                int r = ih + ph, d = ((r & (m - 1)) * groupRows + (r >> shift)) * rowStride;
                for (int iw = 0; iw < w; iw++, q++) {
                    int column = iw + pw, u = column >> shift, c = column & (m - 1), at = d + c * phase + u;
                    boolean second = u > 0 && c + m < alpha;
                    to[q] = u < tw ? at : at + m * phase - 1;
                    to[hw + q] = second ? at + m * phase - 1 : to[q];
                }
            }
            float[] x = this.x, xp = scratch.padded;
            Arrays.fill(xp, 0, cin * alpha * phase, 0f);
            for (int ci = 0; ci < cin; ci++) {
                for (int sample = 0; sample < samples; sample++) {
                    int src = ((n0 + sample) * cin + ci) * hw, dst = ci * alpha * phase + sample * tw;
                    for (int q = 0; q < hw; q++) {
                        float v = x[src + q];
                        xp[dst + to[q]] = v;
                        xp[dst + to[hw + q]] = v;
                    }
                }
            }
        }

        /** The offsets from tile column j of value (k, c) of its alpha x alpha block in {@link #pad}'s layout, into {@code at[alpha k + c]}. */
        private void blockOffsets(int samples, int[] at) {
            int rowStride = samples * tilesW, phase = hq * rowStride, m = this.m, alpha = this.alpha;
            for (int k = 0; k < alpha; k++) {
                for (int c = 0; c < alpha; c++) at[alpha * k + c] = c * phase + ((k % m) * (hq / m) + k / m) * rowStride;
            }
        }

        /**
         * The block's dy as four planes {@code os} apart, the tile's outputs (0,0), (0,1), (1,0),
         * (1,1), each {@code [tile][Cout]}: output channel co of tile column
         * {@code j = (i * samples + sample) * tilesW + u} (the order of {@link #pad}) at
         * {@code j * Cout + co}, zero past Ho or Wo.
         */
        private void gatherTiles(Conv2dGeometry g, int n0, int samples, float[] d, int os) {
            int cout = g.outChannels(), ho = g.outHeight(), wo = g.outWidth(), th = tilesH, tw = tilesW, plane = ho * wo;
            float[] dy = this.dy;
            for (int i = 0, j = 0; i < th; i++) {
                int oh = 2 * i;
                boolean secondRow = oh + 1 < ho;
                for (int sample = 0; sample < samples; sample++) {
                    int yRow = (n0 + sample) * cout * plane + oh * wo;
                    for (int u = 0; u < tw; u++, j++) {
                        int ow = 2 * u, at = yRow + ow, to = j * cout;
                        if (secondRow && ow + 1 < wo) {
                            for (int co = 0; co < cout; co++, at += plane) {
                                d[to + co] = dy[at];
                                d[os + to + co] = dy[at + 1];
                                d[2 * os + to + co] = dy[at + wo];
                                d[3 * os + to + co] = dy[at + wo + 1];
                            }
                        } else {
                            boolean secondColumn = ow + 1 < wo;
                            for (int co = 0; co < cout; co++, at += plane) {
                                d[to + co] = dy[at];
                                d[os + to + co] = secondColumn ? dy[at + 1] : 0f;
                                d[2 * os + to + co] = secondRow ? dy[at + wo] : 0f;
                                d[3 * os + to + co] = secondRow && secondColumn ? dy[at + wo + 1] : 0f;
                            }
                        }
                    }
                }
            }
        }

        /**
         * {@link #gatherTiles} for 4x4 tiles: sixteen planes {@code os} apart, plane {@code 4a + b}
         * the tile's output (a, b), each {@code [tile][Cout]}, zero past Ho or Wo.
         */
        private void gatherTiles4(Conv2dGeometry g, int n0, int samples, float[] d, int os) {
            int cout = g.outChannels(), ho = g.outHeight(), wo = g.outWidth(), th = tilesH, tw = tilesW, plane = ho * wo;
            float[] dy = this.dy;
            for (int i = 0, j = 0; i < th; i++) {
                for (int sample = 0; sample < samples; sample++) {
                    int y0 = (n0 + sample) * cout * plane;
                    for (int u = 0; u < tw; u++, j++) {
                        int to = j * cout;
                        for (int a = 0; a < 4; a++) {
                            int oh = 4 * i + a;
                            for (int b = 0; b < 4; b++) {
                                int ow = 4 * u + b, o = (4 * a + b) * os + to;
                                if (oh < ho && ow < wo) {
                                    for (int co = 0, at = y0 + oh * wo + ow; co < cout; co++, at += plane) d[o + co] = dy[at];
                                } else {
                                    Arrays.fill(d, o, o + cout, 0f);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Input channels, split: per input channel ci, the 16 (36) positions' rows of the blocks' dU^T
     * (over the output channels) added in block order into double sums, each row read in order,
     * then {@link #filterOfRow} ({@link #filterOfRow6}) over the row and its 9 values per output
     * channel into dw.
     */
    private final class FilterLoop implements CpuThreads.RangeTask {
        private int m, cin, cout, blocks;
        private float[] dw;
        private double[][] sums = new double[0][]; // per worker: the positions, then the transform's rows, of [Cout], grow-only

        void execute(Conv2dGeometry g, int m, int blocks, float[] dw, int parallelism) {
            this.m = m;
            this.cin = g.inChannels();
            this.cout = g.outChannels();
            this.blocks = blocks;
            this.dw = dw;
            if (sums.length < threads.size()) sums = new double[threads.size()][0];
            try {
                threads.runClaimed(g.inChannels(), parallelism, this);
            } finally {
                this.dw = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] products = blockProducts, dw = this.dw;
            int cin = this.cin, cout = this.cout, ps = positionStride(cin * cout, 1), blocks = this.blocks;
            int positions = (m + 2) * (m + 2), result = m == 2 ? 16 : 54; // the row of dw's first value, see filterOfRow(6)
            if (sums[worker].length < 63 * cout) sums[worker] = new double[63 * cout];
            double[] u = sums[worker];
            for (int ci = begin; ci < end; ci++) {
                Arrays.fill(u, 0, positions * cout, 0.0);
                for (int b = 0; b < blocks; b++) {
                    for (int p = 0; p < positions; p++) {
                        int o = (b * positions + p) * ps + ci * cout, q = p * cout;
                        for (int co = 0; co < cout; co++) u[q + co] += products[o + co];
                    }
                }
                if (m == 2) filterOfRow(u, cout);
                else filterOfRow6(u, cout);
                for (int co = 0; co < cout; co++) {
                    int at = (co * cin + ci) * 9;
                    for (int e = 0; e < 9; e++) dw[at + e] = (float) u[(result + e) * cout + co];
                }
            }
        }
    }

    /**
     * {@code G^T dU G} for a row of {@code n} (co, ci) pairs, in double, lane-wise over the row:
     * position {@code 4a + b} of dU at {@code u[(4a + b) * n + co]}, the 3x3 result {@code (r, c)}
     * to {@code u[(16 + 3r + c) * n + co]} (u holds 28 rows: dU G goes to rows 25-27 and 16-24
     * first). With {@code G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]}: per row a of dU,
     * {@code t_a0 = u_a0 + (u_a1 + u_a2)/2}, {@code t_a1 = (u_a1 - u_a2)/2},
     * {@code t_a2 = (u_a1 + u_a2)/2 + u_a3}; then the same down each column of t. Rounded to
     * float once, by the caller.
     */
    static void filterOfRow(double[] u, int n) {
        for (int a = 0; a < 4; a++) {
            // dU G of row a: t_a0..t_a2 to rows 16 + 3a.. (25.. for a = 3), read by the column pass before it writes
            int i = 4 * a * n, t = (a == 3 ? 25 : 16 + 3 * a) * n;
            for (int co = 0; co < n; co++) {
                double u0 = u[i + co], u1 = u[i + n + co], u2 = u[i + 2 * n + co], u3 = u[i + 3 * n + co];
                u[t + co] = u0 + 0.5 * (u1 + u2);
                u[t + n + co] = 0.5 * (u1 - u2);
                u[t + 2 * n + co] = 0.5 * (u1 + u2) + u3;
            }
        }
        for (int c = 0; c < 3; c++) {
            int t0 = (16 + c) * n, t1 = (19 + c) * n, t2 = (22 + c) * n, t3 = (25 + c) * n;
            for (int co = 0; co < n; co++) {
                double a0 = u[t0 + co], a1 = u[t1 + co], a2 = u[t2 + co], a3 = u[t3 + co];
                u[t0 + co] = a0 + 0.5 * (a1 + a2);
                u[t1 + co] = 0.5 * (a1 - a2);
                u[t2 + co] = 0.5 * (a1 + a2) + a3;
            }
        }
    }

    /**
     * {@code G^T dU G} of F(4x4, 3x3) ({@link #G4}) for a row of {@code n} (co, ci) pairs, in
     * double: position {@code 6a + b} of dU at {@code u[(6a + b) * n + co]}, the 3x3 result
     * {@code (r, c)} to {@code u[(54 + 3r + c) * n + co]}. Per row a of dU, with
     * {@code s = u_a1 + u_a2}, {@code d = u_a1 - u_a2}, {@code s' = u_a3 + u_a4},
     * {@code d' = u_a3 - u_a4}: {@code t_a0 = u_a0 / 4 - s / 6 + s' / 24},
     * {@code t_a1 = d' / 12 - d / 6}, {@code t_a2 = (s' - s) / 6 + u_a5}; then the same down each
     * column of t. Rounded to float once, by the caller.
     */
    static void filterOfRow6(double[] u, int n) {
        final double sixth = 1.0 / 6, twelfth = 1.0 / 12, twentyFourth = 1.0 / 24;
        for (int co = 0; co < n; co++) {
            double t00 = 0, t01 = 0, t02 = 0, t10 = 0, t11 = 0, t12 = 0, t20 = 0, t21 = 0, t22 = 0; // G^T applied as the rows of t come
            for (int a = 0; a < 6; a++) {
                int i = 6 * a * n + co;
                double u0 = u[i], u1 = u[i + n], u2 = u[i + 2 * n], u3 = u[i + 3 * n], u4 = u[i + 4 * n], u5 = u[i + 5 * n];
                double s = u1 + u2, d = u1 - u2, s2 = u3 + u4, d2 = u3 - u4;
                double c0 = 0.25 * u0 - sixth * s + twentyFourth * s2, c1 = twelfth * d2 - sixth * d, c2 = sixth * (s2 - s) + u5;
                // row a of t times column r of G (G_ar): G's rows are [1/4 0 0], -1/6 [1 1 1], -1/6 [1 -1 1], [1/24 1/12 1/6], [1/24 -1/12 1/6], [0 0 1]
                double g0 = G4[a][0], g1 = G4[a][1], g2 = G4[a][2];
                t00 += g0 * c0;
                t01 += g0 * c1;
                t02 += g0 * c2;
                t10 += g1 * c0;
                t11 += g1 * c1;
                t12 += g1 * c2;
                t20 += g2 * c0;
                t21 += g2 * c1;
                t22 += g2 * c2;
            }
            u[54 * n + co] = t00;
            u[55 * n + co] = t01;
            u[56 * n + co] = t02;
            u[57 * n + co] = t10;
            u[58 * n + co] = t11;
            u[59 * n + co] = t12;
            u[60 * n + co] = t20;
            u[61 * n + co] = t21;
            u[62 * n + co] = t22;
        }
    }

    /**
     * {@link CpuKernels#winogradOutputGradient} for t in [from, count): the definition the plain
     * path runs and the vector path's tail. With the tile's dy {@code y00 = d[t]},
     * {@code y01 = d[os + t]}, {@code y10 = d[2 os + t]}, {@code y11 = d[3 os + t]}, the rows of
     * {@code A dY} ({@code A^T = [1 1 1 0; 0 1 -1 -1]}) are {@code (a_k, b_k)} = {@code (y00, y01)},
     * {@code (y00 + y10, y01 + y11)}, {@code (y00 - y10, y01 - y11)}, {@code (-y10, -y11)}, and
     * row k of dM is {@code a_k, a_k + b_k, a_k - b_k, -b_k} at positions 4k..4k+3, to
     * {@code m[mo + (4k + c) * ps + t]}. Float additions (and exact negations) only.
     */
    static void outputGradientTiles(float[] d, int os, int from, int count, float[] m, int mo, int ps) {
        for (int t = from; t < count; t++) {
            float y00 = d[t], y01 = d[os + t], y10 = d[2 * os + t], y11 = d[3 * os + t];
            float a1 = y00 + y10, b1 = y01 + y11, a2 = y00 - y10, b2 = y01 - y11, a3 = -y10, b3 = -y11;
            int o = mo + t;
            m[o] = y00;
            m[o + ps] = y00 + y01;
            m[o + 2 * ps] = y00 - y01;
            m[o + 3 * ps] = -y01;
            m[o + 4 * ps] = a1;
            m[o + 5 * ps] = a1 + b1;
            m[o + 6 * ps] = a1 - b1;
            m[o + 7 * ps] = -b1;
            m[o + 8 * ps] = a2;
            m[o + 9 * ps] = a2 + b2;
            m[o + 10 * ps] = a2 - b2;
            m[o + 11 * ps] = -b2;
            m[o + 12 * ps] = a3;
            m[o + 13 * ps] = a3 + b3;
            m[o + 14 * ps] = a3 - b3;
            m[o + 15 * ps] = -b3;
        }
    }

    /**
     * {@link CpuKernels#winograd4OutputGradient} for t in [from, count): the definition the plain
     * path runs and the vector path's tail. A row pass, {@link #gradientTransform4} of row i of
     * the 4x4 dy tile ({@code d[(4i + j) * os + t]}) to positions {@code 6i..6i+5} of m, then a
     * column pass, the same transform of column b (rows 0-3 of m) in place to positions
     * {@code 6a + b}.
     */
    static void outputGradient4Tiles(float[] d, int os, int from, int count, float[] m, int mo, int ps) {
        for (int i = 0; i < 4; i++) {
            gradientTransform4(d, 4 * i * os, (4 * i + 1) * os, (4 * i + 2) * os, (4 * i + 3) * os, from, count, m, mo + 6 * i * ps, ps);
        }
        for (int b = 0; b < 6; b++) {
            int c = mo + b * ps, s = 6 * ps;
            gradientTransform4(m, c, c + s, c + 2 * s, c + 3 * s, from, count, m, c, s);
        }
    }

    /**
     * F(4x4, 3x3)'s {@code A} (6x4; {@code A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0;
     * 0 1 -1 8 -8 1]}) applied to the four values {@code y_i = src[f_i + t]}, for t in
     * [from, to), into {@code dst[o + k * ds + t]}, k = 0..5: {@code y0}, {@code p + q},
     * {@code p - q}, {@code r + s}, {@code r - s}, {@code y3} with {@code p = y0 + y2},
     * {@code q = y1 + y3}, {@code r = y0 + 4 y2}, {@code s = 2 (y1 + 4 y3)} (the multiplies by
     * 2 and 4 are exact). All four values are read before any is written, so it may run in place.
     */
    static void gradientTransform4(float[] src, int f0, int f1, int f2, int f3, int from, int to, float[] dst, int o, int ds) {
        for (int t = from; t < to; t++) {
            float y0 = src[f0 + t], y1 = src[f1 + t], y2 = src[f2 + t], y3 = src[f3 + t];
            float p = y0 + y2, q = y1 + y3, r = y0 + y2 * 4f, s = (y1 + y3 * 4f) * 2f;
            dst[o + t] = y0;
            dst[o + ds + t] = p + q;
            dst[o + 2 * ds + t] = p - q;
            dst[o + 3 * ds + t] = r + s;
            dst[o + 4 * ds + t] = r - s;
            dst[o + 5 * ds + t] = y3;
        }
    }
}
