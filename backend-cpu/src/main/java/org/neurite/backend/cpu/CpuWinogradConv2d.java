package org.neurite.backend.cpu;

import java.util.Arrays;
import org.neurite.backend.Conv2dGeometry;

/**
 * The forward of a 3x3 (or 5x5, below), stride-1, dilation-1, one-group convolution by Winograd's minimal
 * filtering F(2x2, 3x3) (Lavin and Gray, 2015), PyTorch layouts x[N, Cin, H, W],
 * w[Cout, Cin, 3, 3], y[N, Cout, Ho, Wo], any padding. Each 2x2 block of outputs (a <em>tile</em>)
 * is computed from the 4x4 block of the zero-padded input under it:
 * <pre>
 *   U = G g G^T          (per (co, ci): the 3x3 kernel to 4x4, once per call)
 *   V = B^T d B          (per (ci, tile): the 4x4 input block)
 *   M[xi] = U[xi] * V[xi] for each of the 16 positions xi: a GEMM [Cout, Cin] x [Cin, tiles]
 *   y = A^T M A (+ bias) (per (co, tile): 2x2 outputs)
 * </pre>
 * with {@code B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]}, {@code G = [1 0 0; .5 .5 .5;
 * .5 -.5 .5; 0 0 1]}, {@code A^T = [1 1 1 0; 0 1 -1 -1]}: 16 multiplies per tile and channel pair
 * instead of 36, so the GEMMs do 2.25x fewer flops than the im2col GEMM of {@link CpuConv2d},
 * and the transforms are additions (and halves, exact in binary) only.
 *
 * <p>5x5 kernels run F(2x2, 5x5) the same way: 6x6 input blocks (six column phases, 36
 * positions and GEMMs), U = G g G^T with G of {@link #G5} (points 0, 1, -1, 2, -2, infinity),
 * computed in double and rounded once, V = B^T d B by {@link #inputTransform6} (integer
 * entries) and {@code A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 1]} ({@link #output5}): 36 multiplies per
 * tile and channel pair instead of 100 (2.8x fewer), at a larger rounding error (multiples of 5
 * in the transforms; see the test's bounds).
 *
 * <p>3x3 kernels where {@link #outputTile} says so run F(4x4, 3x3) instead: 4x4 tiles of outputs
 * from 6x6 input blocks, the same points and so the same B^T ({@link #inputTransform6}, the 5x5
 * path's six column phases), U = G g G^T with G of {@link #transformFilters4} (double, rounded once) and
 * {@code A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]} ({@link #output4}):
 * 36 multiplies per tile and channel pair for 16 outputs, 2.25 per output against F(2x2, 3x3)'s
 * 4 and the direct convolution's 9. On the small ResNet's maps the tiles cover 4x4 (one tile),
 * 8x8 (7x7 outputs, 2x2 tiles, as F(2x2, 3x3)'s 4x4 tiles do) and 16x16 (14x14, 4x4 tiles).
 * It rounds about 10x worse than F(2x2, 3x3) (entries up to 8 in A^T and 5 in B^T): on the
 * small ResNet's 16 -> 16 (14x14), 32 -> 32 (7x7) and 64 -> 64 (4x4) layers with x ~ N(0, 1) and
 * He-scaled weights, against the direct convolution in double, max |error| / RMS(y) 1.5e-5,
 * 1.2e-5 and 1.8e-5, mean |error| / RMS(y) 5.1e-7, 5.8e-7 and 1.1e-6 (F(2x2, 3x3): max 7.4e-7,
 * 9.3e-7, 1.5e-6, mean 1.2e-7 to 2.2e-7; the im2col GEMM: max 1.7e-6 to 4.4e-6, mean 1.4e-7 to
 * 2.5e-7). {@code CpuWinogradConv2dTest} asserts the bounds.
 *
 * <p>Work is split into blocks of whole samples ({@link #samplesPerBlock}, a function of the
 * geometry), claimed by the workers. A block's inputs are copied, zero-padded to planes of
 * {@code 2*tilesH + 2} by {@code 2*tilesW + 2} (the last tiles of an odd output read zeros), as
 * four column phases per row ({@link ForwardLoop#pad}; alpha phases of rows grouped by their
 * residue modulo the tile side in general), so that the 16 values of every tile's
 * 4x4 block lie at fixed offsets from its column and {@link CpuKernels#winogradInputTiles}
 * transforms whole vectors of tiles into 16 matrices V [Cin, tile columns], one per position;
 * {@link CpuGemm#multiplyPacked} multiplies each by its transformed filter (packed once per call
 * by {@link CpuGemm#packWhole}) into M [Cout, tile columns]; and {@link CpuKernels#winogradOutput}
 * transforms M back, lane-wise over tiles, before the outputs and the bias go into y. All
 * scratch is per worker and grow-only, so a steady call allocates nothing.
 *
 * <p>Determinism: each M element is one fma chain over ci from zero (Cin is at most
 * {@link CpuGemm#KC}, one depth block), whichever block, strip or worker computes it, and the
 * transforms are fixed sequences of float additions per tile, lane-wise on the vector path in
 * the plain path's order; so the result does not depend on the thread count or the kernel
 * path. It differs from the direct convolution's by rounding: the transforms add values of both
 * signs before the products, so the error grows with
 * the magnitude of the terms rather than of the result ({@code CpuWinogradConv2dTest} states and
 * checks the bound).
 *
 * <p>{@code -Dneurite.cpu.winograd=false} turns it off for the JVM (read once): the convolution
 * then runs the padded-grid implicit GEMM of {@link CpuConv2d}, which is how the two were
 * compared.
 */
final class CpuWinogradConv2d {
    /** The system property that turns Winograd off ({@code false}); anything else, or nothing, leaves it on. */
    static final String PROPERTY = "neurite.cpu.winograd";
    /** Whether backends of this JVM use Winograd where {@link #applies} (the property, read once). */
    static final boolean ENABLED = CpuSwitch.isOn(PROPERTY, "Winograd convolution");
    /** Tile positions of F(2x2, 3x3): the 4x4 transformed block. */
    private static final int POSITIONS = 16;
    /** Most tile positions: F(2x2, 5x5)'s 6x6 transformed block. */
    private static final int MAX_POSITIONS = 36;
    /**
     * Channels from which Winograd is used, in and out. The GEMMs save {@code 40 Cin Cout} flops
     * per tile against the im2col GEMM, while the transforms cost about {@code Cin + Cout} times a
     * constant per tile, so the gain grows with the channels. Measured against the padded-grid
     * GEMM (paired runs, batch 64 and 256; backend-cpu/README.md, BENCHMARKS.md): 64 -> 64 on 4x4
     * 2.1-2.25x, 32 -> 32 on 7x7 1.1-1.3x, but 16 -> 16 on 14x14 only 1.03-1.10x on one thread
     * and 0.95-1.00x on two, within the noise of the shared machine: left to the GEMM. With 4x4
     * tiles it ran 0.85x (forward) and 0.67x (backward-data) against {@link CpuChannelVectorConv2d},
     * which takes that layer now (its GEMMs only 16 deep).
     */
    static final int MIN_CHANNELS = 32;
    /**
     * Channels from which F(2x2, 5x5) is used, in and out: its GEMMs do 9 instead of 25
     * multiplies per output and channel pair, against transforms of 36 values per tile and
     * channel (see backend-cpu/README.md for the measurements).
     */
    static final int MIN_CHANNELS_5X5 = 32;
    /** The system property that turns F(4x4, 3x3) off ({@code false}): 3x3 layers then run F(2x2, 3x3). */
    static final String PROPERTY_4X4 = "neurite.cpu.winograd4x4";
    /** Whether 3x3 layers may run F(4x4, 3x3) where {@link #outputTile} picks it (the property, read once). */
    static final boolean ENABLED_4X4 = CpuSwitch.isOn(PROPERTY_4X4, "Winograd F(4x4, 3x3)");
    /** Most floats of transformed input and output one sample may need (8 MiB per worker, twice the GEMM path's column budget). */
    static final int MAX_SAMPLE_FLOATS = 1 << 21;
    /** Floats of transformed input and output (16 positions, Cin + Cout rows) one block aims at: 512 KiB, for L2. */
    private static final int BLOCK_FLOATS = 1 << 17;
    private static final long PARALLEL_MIN_FLOPS = 1L << 18;
    /** Layers whose transformed filters are remembered (see {@link #prepareFilters}), least recently used replaced. */
    static final int MEMO_ENTRIES = 8;
    /** Most floats of one remembered layer's U (1 MiB: 64 -> 64 on F(4x4)'s 36 positions takes 0.56 MiB), so at most 8 MiB in all. */
    static final long MEMO_MAX_FLOATS = 1L << 18;

    private final CpuThreads threads;
    private final CpuGemm gemm;
    private final CpuKernels[] kernels; // per worker: the transforms' column passes
    private final Scratch[] scratch; // per worker, grow-only
    // U per position, packed MR-row strips, grow-only: the current call's, a remembered layer's
    // (transformedFilters) or, for filters too large to remember, the arrays of unrememberedFilters.
    private float[][] packedFilters;
    private final float[][] unrememberedFilters = emptyPositions();
    private final CpuWeightMemo<float[][]> transformedFilters = new CpuWeightMemo<>(MEMO_ENTRIES, CpuWinogradConv2d::emptyPositions);
    private float[] filterScratch = new float[0]; // U per position as [Cout, Cin] before packing, grow-only
    private final double[] filterRows = new double[30]; // G g of one 5x5 kernel (6x5), see transformFilters5
    private final ForwardLoop forwardLoop = new ForwardLoop();
    private final FilterTransform4 filterTransform4 = new FilterTransform4();

    CpuWinogradConv2d(CpuThreads threads, CpuGemm gemm, CpuKernels.Path path) {
        this.threads = threads;
        this.gemm = gemm;
        this.kernels = path.perWorker(threads.size());
        this.scratch = new Scratch[threads.size()];
        packedFilters = unrememberedFilters;
    }

    /** U's arrays of every position, empty until a transform grows them. */
    private static float[][] emptyPositions() {
        float[][] positions = new float[MAX_POSITIONS][];
        Arrays.fill(positions, new float[0]);
        return positions;
    }

    /**
     * Whether {@link CpuConv2d} should take Winograd for this geometry (the property aside): one it
     * {@linkplain #supports supports}, with at least {@link #MIN_CHANNELS} channels in and out and
     * one sample's transformed input and output within {@link #MAX_SAMPLE_FLOATS} (blocks are
     * whole samples; larger maps keep the GEMM, whose scratch is capped).
     */
    static boolean applies(Conv2dGeometry g) {
        int min = g.kernelH() == 5 ? MIN_CHANNELS_5X5 : MIN_CHANNELS;
        return supports(g) && g.inChannels() >= min && g.outChannels() >= min
                && perSampleFloats(g, outputTile(g)) <= MAX_SAMPLE_FLOATS;
    }

    /**
     * Whether {@link #forward} computes this geometry: a 3x3 (F(2x2, 3x3)) or 5x5 (F(2x2, 5x5))
     * kernel, stride 1, dilation 1, one group, {@code Cin <= KC}, a non-empty output.
     */
    static boolean supports(Conv2dGeometry g) {
        return (g.kernelH() == 3 || g.kernelH() == 5) && g.kernelW() == g.kernelH() && g.strideH() == 1 && g.strideW() == 1
                && g.dilationH() == 1 && g.dilationW() == 1 && g.groups() == 1
                && g.inChannels() <= CpuGemm.KC && g.outHeight() > 0 && g.outWidth() > 0;
    }

    /**
     * Samples per block: as many whole samples as keep the block's transformed input and output
     * ({@code alpha^2 (Cin + Cout) tiles} floats) near {@link #BLOCK_FLOATS}, at least one. A function
     * of the geometry alone (the result does not depend on it anyway).
     */
    static int samplesPerBlock(Conv2dGeometry g, int tile) {
        long samples = Math.max(1, BLOCK_FLOATS / perSampleFloats(g, tile));
        if (tile == 4) {
            // whole GEMM strips of tile columns (NR, two vectors, wide): with one to a few tiles a
            // sample, the block's columns would otherwise end in a strip of mostly spare columns
            // and in transforms run on the scalar tail
            int perSample = tiles(g, tile);
            samples = CpuGemm.ceilDiv(CpuGemm.roundUp((int) samples * perSample, CpuGemm.NR), perSample);
        }
        return (int) Math.min(g.batch(), samples);
    }

    /** Floats of one sample's transformed input and output with {@code tile x tile} output tiles. */
    private static long perSampleFloats(Conv2dGeometry g, int tile) {
        int alpha = alpha(g, tile);
        return (long) alpha * alpha * (g.inChannels() + g.outChannels()) * tiles(g, tile);
    }

    /**
     * The side of the output tiles {@link #forward} uses: 2 for 5x5 kernels (F(2x2, 5x5)); for 3x3
     * ones 4 (F(4x4, 3x3)) where its GEMMs do no more multiplies than F(2x2, 3x3)'s
     * ({@code 36 tiles4 <= 16 tiles2}: every map from 3x3 outputs up, not 1x1 or 2x2), unless
     * {@code -Dneurite.cpu.winograd4x4=false}; else 2. Paired runs (backend-cpu/README.md): 1.3-1.5x
     * faster forward and backward-data than F(2x2, 3x3) on the small ResNet's 64 -> 64 on 4x4 and
     * 32 -> 32 on 7x7; 1.05-1.1x on 32 -> 32 on 5x5, 6x6 and 14x14 maps (as many or 1.4x fewer
     * multiplies, and a cheaper padded copy).
     */
    static int outputTile(Conv2dGeometry g) {
        if (g.kernelH() != 3 || !ENABLED_4X4) return 2;
        return 36L * tiles(g, 4) <= 16L * tiles(g, 2) ? 4 : 2;
    }

    /** The side of a tile's input block: the tile plus the kernel less one (4, or 6 for F(2x2, 5x5) and F(4x4, 3x3)). */
    private static int alpha(Conv2dGeometry g, int tile) {
        return g.kernelH() + tile - 1;
    }

    static int tiles(Conv2dGeometry g, int tile) {
        return CpuGemm.ceilDiv(g.outHeight(), tile) * CpuGemm.ceilDiv(g.outWidth(), tile);
    }

    /** y = conv(x, w) + bias (bias may be null) with the tiles of {@link #outputTile}; {@link #supports} must hold. */
    void forward(Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] y) {
        forward(g, x, w, bias, y, outputTile(g));
    }

    /** {@link #forward} with {@code tile x tile} output tiles: 2, or 4 for a 3x3 kernel (the tests run both). */
    void forward(Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] y, int tile) {
        forward(g, x, w, bias, null, false, y, tile);
    }

    /**
     * y = conv(x, w) + bias + residual, then with {@code relu} y = max(y, 0): the residual (y's
     * shape) and the relu added to each block's samples of y right after its output transform
     * writes them, the bits of {@link #forward} then the add (and relu) op. Without a residual
     * the relu is left to the caller, as {@link #forward} leaves it.
     */
    void forward(Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] residual, boolean relu, float[] y) {
        forward(g, x, w, bias, residual, relu, y, outputTile(g));
    }

    private void forward(Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] residual, boolean relu, float[] y, int tile) {
        if (g.batch() == 0) return;
        prepareFilters(g, w, tile, false);
        forwardLoop.execute(g, x, bias, residual, relu, y, tile);
    }

    /**
     * Points {@link #packedFilters} at U for these weights: a remembered layer's while {@code w}
     * holds the values it was transformed from ({@link CpuWeightMemo}), else transformed now
     * ({@link #transformFilters}, {@link #transformFilters4}, {@link #transformFilters5}) and
     * remembered. The same U, so the same bits: what makes small batches of a trained model cheaper
     * (the 64 -> 64 layer of the small ResNet at batch 1, 4,096 pairs: 0.23 ms a call with the
     * transform, 0.14 without).
     */
    private void prepareFilters(Conv2dGeometry g, float[] w, int tile, boolean transposed) {
        int kernel = g.kernelH(), cin = g.inChannels(), cout = g.outChannels();
        int positions = kernel == 5 || tile == 4 ? 36 : POSITIONS;
        long floats = (long) positions * CpuGemm.roundUp(cout, CpuGemm.MR) * cin;
        CpuWeightMemo.Entry<float[][]> memo = null;
        if (floats <= MEMO_MAX_FLOATS) {
            memo = transformedFilters.find(g, 2 * tile + (transposed ? 1 : 0), w, cout * cin * kernel * kernel);
            packedFilters = memo.prepared;
            if (memo.current()) return;
        } else packedFilters = unrememberedFilters;
        if (kernel == 5) transformFilters5(g, w);
        else if (tile == 4) transformFilters4(g, w, transposed);
        else transformFilters(g, w);
        if (memo != null) memo.remember(w);
    }

    /**
     * Whether {@link #forwardTransposed} takes this geometry: a 3x3 kernel on F(4x4, 3x3)'s tiles
     * ({@link #outputTile}), where the filter transform reads the weights pair by pair.
     */
    static boolean readsTransposed(Conv2dGeometry g) {
        return g.kernelH() == 3 && outputTile(g) == 4;
    }

    /**
     * {@link #forward} (no bias) of a stride-1 backward-data as a convolution ({@link CpuConv2d}):
     * the flipped, transposed kernel {@code w'[co, ci, ki, kj] = w[ci, co, 2-ki, 2-kj]} read from
     * the layer's own weights by the filter transform instead of a flipped copy first (a serial
     * 32 µs a call on 64 -> 64). The same bits; {@link #readsTransposed} must hold.
     */
    void forwardTransposed(Conv2dGeometry g, float[] x, float[] w, float[] y) {
        if (!readsTransposed(g)) throw new IllegalArgumentException("forwardTransposed takes 3x3 kernels on 4x4 tiles");
        if (g.batch() == 0) return;
        prepareFilters(g, w, 4, true);
        forwardLoop.execute(g, x, null, null, false, y, 4);
    }

    /**
     * U = G g G^T for every (co, ci), written per position as a [Cout, Cin] matrix and packed into
     * {@link #packedFilters} (MR-row strips, Cin deep). In float: the halves are exact, and the
     * sums are rounded once each, in the order written.
     */
    private void transformFilters(Conv2dGeometry g, float[] w) {
        int cout = g.outChannels(), cin = g.inChannels(), pairs = cout * cin, stride = positionStride(cout, cin);
        if (filterScratch.length < POSITIONS * stride) filterScratch = new float[POSITIONS * stride];
        float[] u = filterScratch;
        for (int pair = 0; pair < pairs; pair++) {
            int o = pair * 9;
            // rows of G g: G applied to each column c of g
            float g00 = w[o], g01 = w[o + 1], g02 = w[o + 2];
            float g10 = w[o + 3], g11 = w[o + 4], g12 = w[o + 5];
            float g20 = w[o + 6], g21 = w[o + 7], g22 = w[o + 8];
            float a00 = g00, a01 = g01, a02 = g02;
            float a10 = 0.5f * (g00 + g10 + g20), a11 = 0.5f * (g01 + g11 + g21), a12 = 0.5f * (g02 + g12 + g22);
            float a20 = 0.5f * (g00 - g10 + g20), a21 = 0.5f * (g01 - g11 + g21), a22 = 0.5f * (g02 - g12 + g22);
            float a30 = g20, a31 = g21, a32 = g22;
            // (G g) G^T, row by row
            putRow(u, pair, stride, 0, a00, a01, a02);
            putRow(u, pair, stride, 1, a10, a11, a12);
            putRow(u, pair, stride, 2, a20, a21, a22);
            putRow(u, pair, stride, 3, a30, a31, a32);
        }
        int size = CpuGemm.roundUp(cout, CpuGemm.MR) * cin;
        for (int p = 0; p < POSITIONS; p++) {
            if (packedFilters[p].length < size) packedFilters[p] = new float[size];
            CpuGemm.packWhole(false, u, p * stride, cin, cout, cin, packedFilters[p]);
        }
    }

    /** Row r of U for one (co, ci) pair: {@code [a0, (a0+a1+a2)/2, (a0-a1+a2)/2, a2]} at positions 4r..4r+3, {@code stride} apart. */
    private static void putRow(float[] u, int pair, int stride, int r, float a0, float a1, float a2) {
        int at = 4 * r * stride + pair;
        u[at] = a0;
        u[at + stride] = 0.5f * (a0 + a1 + a2);
        u[at + 2 * stride] = 0.5f * (a0 - a1 + a2);
        u[at + 3 * stride] = a2;
    }

    /**
     * F(2x2, 5x5)'s filter matrix G (6x5), for the interpolation points 0, 1, -1, 2, -2 and
     * infinity: row j is {@code f_j [1, a_j, a_j^2, a_j^3, a_j^4]} with {@code f = 1/4, -1/6, -1/6,
     * 1/24, 1/24} (so that {@link #inputTransform6}'s B^T has integer entries), and
     * {@code [0 0 0 0 1]} for infinity.
     */
    private static final double[][] G5 = {
        {1.0 / 4, 0, 0, 0, 0},
        {-1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6},
        {-1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6},
        {1.0 / 24, 2.0 / 24, 4.0 / 24, 8.0 / 24, 16.0 / 24},
        {1.0 / 24, -2.0 / 24, 4.0 / 24, -8.0 / 24, 16.0 / 24},
        {0, 0, 0, 0, 1}};

    /**
     * U = G g G^T (6x6) for every (co, ci) of a 5x5 kernel, as {@link #transformFilters} does for
     * 3x3 ones. In double, rounded to float once per value: G's sixths and twenty-fourths are not
     * exact in binary, and the filters are transformed once per call.
     */
    private void transformFilters5(Conv2dGeometry g, float[] w) {
        int cout = g.outChannels(), cin = g.inChannels(), pairs = cout * cin, stride = positionStride(cout, cin);
        int positions = 36; // 6x6
        if (filterScratch.length < positions * stride) filterScratch = new float[positions * stride];
        float[] u = filterScratch;
        double[] gg = filterRows;
        for (int pair = 0; pair < pairs; pair++) {
            int o = pair * 25;
            for (int a = 0; a < 6; a++) {
                for (int c = 0; c < 5; c++) {
                    double sum = 0;
                    for (int k = 0; k < 5; k++) sum += G5[a][k] * w[o + 5 * k + c];
                    gg[5 * a + c] = sum;
                }
            }
            for (int a = 0; a < 6; a++) {
                for (int b = 0; b < 6; b++) {
                    double sum = 0;
                    for (int c = 0; c < 5; c++) sum += gg[5 * a + c] * G5[b][c];
                    u[(6 * a + b) * stride + pair] = (float) sum;
                }
            }
        }
        int size = CpuGemm.roundUp(cout, CpuGemm.MR) * cin;
        for (int p = 0; p < positions; p++) {
            if (packedFilters[p].length < size) packedFilters[p] = new float[size];
            CpuGemm.packWhole(false, u, p * stride, cin, cout, cin, packedFilters[p]);
        }
    }

    /**
     * The products {@code f_a f_b} of F(4x4, 3x3)'s filter transform, at {@code 6a + b}: its G
     * (6x3, points 0, 1, -1, 2, -2, infinity) is {@code diag(f) V} with {@code f = 1/4, -1/6, -1/6,
     * 1/24, 1/24, 1} (the row scales of {@link #G5}, so that B^T is {@link #inputTransform6}'s)
     * and V's rows {@code [1, a, a^2]} ({@code [0 0 1]} for infinity): {@code U_ab = f_a f_b (V g V^T)_ab}.
     */
    private static final double[] FILTER_SCALES_4X4 = filterScales4();

    private static double[] filterScales4() {
        double[] f = {1.0 / 4, -1.0 / 6, -1.0 / 6, 1.0 / 24, 1.0 / 24, 1};
        double[] scales = new double[36];
        for (int a = 0; a < 6; a++) {
            for (int b = 0; b < 6; b++) scales[6 * a + b] = f[a] * f[b];
        }
        return scales;
    }

    /**
     * U = G g G^T (6x6) for every (co, ci) of a 3x3 kernel for F(4x4, 3x3), written straight into
     * {@link #packedFilters} in the layout {@link #transformFilters} packs: {@code V g V^T} in double (integer combinations of at
     * most nine floats, exact but for extreme exponent spreads), times {@link #FILTER_SCALES_4X4},
     * rounded to float once. Straight-line code per pair ({@link #putRow4}): the filters are
     * transformed on every call, and a loop over G's entries took longer than the whole F(2x2, 3x3)
     * forward of a 64 -> 64 layer on 4x4 maps.
     */
    private void transformFilters4(Conv2dGeometry g, float[] w, boolean transposed) {
        int cout = g.outChannels(), cin = g.inChannels(), mr = CpuGemm.MR, rows = CpuGemm.roundUp(cout, mr), size = rows * cin;
        float[][] packed = packedFilters;
        for (int p = 0; p < 36; p++) {
            if (packed[p].length < size) packed[p] = new float[size];
            // the last strip's rows past Cout are zeros (the arrays serve every geometry)
            for (int co = cout; co < rows; co++) {
                for (int ci = 0, at = co / mr * mr * cin + co % mr; ci < cin; ci++, at += mr) packed[p][at] = 0f;
            }
        }
        filterTransform4.execute(g, w, transposed);
    }

    /**
     * {@link #transformFilters4}'s (co, ci) pairs over claimed blocks of output channels: the
     * transform is serial work of ~150 double operations and 36 scattered stores per pair
     * (4,096 pairs on 64 -> 64), about a quarter of that layer's forward at batch 64 on one thread.
     * Each pair is computed the same way whichever worker takes it, so the bits do not change.
     */
    private final class FilterTransform4 implements CpuThreads.RangeTask {
        /** Output channels per claimed task, and pairs from which the transform is split over the workers. */
        private static final int CHANNELS_PER_TASK = 8, PARALLEL_MIN_PAIRS = 1024;
        private Conv2dGeometry g;
        private float[] w;
        private boolean transposed;

        synchronized void execute(Conv2dGeometry g, float[] w, boolean transposed) {
            int cout = g.outChannels(), tasks = CpuGemm.ceilDiv(cout, CHANNELS_PER_TASK);
            int parts = (long) cout * g.inChannels() < PARALLEL_MIN_PAIRS ? 1 : threads.size();
            this.g = g;
            this.w = w;
            this.transposed = transposed;
            try {
                threads.runClaimed(tasks, parts, this);
            } finally {
                this.g = null;
                this.w = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            int cout = g.outChannels();
            transformFilterPairs4(g, w, transposed, packedFilters, begin * CHANNELS_PER_TASK, Math.min(cout, end * CHANNELS_PER_TASK));
        }
    }

    /**
     * U of F(4x4, 3x3) for the output channels [co0, co1) and every input channel, into the packed
     * strips. The output channels innermost: neighbouring channels' values lie next to each other
     * in each of the 36 strips, so a cache line is written whole while it is in L1 (with the input
     * channels innermost, each channel wrote one float into each of 36 Cin lines, evicted before
     * the next channel wrote the float beside it). With {@code transposed}, the pair's kernel is
     * {@code w[ci, co]} turned by half a turn ({@link #forwardTransposed}).
     */
    private static void transformFilterPairs4(Conv2dGeometry g, float[] w, boolean transposed, float[][] packed, int co0, int co1) {
        int cin = g.inChannels(), cout = g.outChannels(), mr = CpuGemm.MR;
        // g_ab = w[o + a*da + b*db]: row by row, or from the last value back
        int da = transposed ? -3 : 3, db = transposed ? -1 : 1;
        for (int ci = 0; ci < cin; ci++) {
            for (int co = co0; co < co1; co++) {
                int o = (transposed ? ci * cout + co : co * cin + ci) * 9 + (transposed ? 8 : 0);
                int at = co / mr * mr * cin + co % mr + ci * mr;
                double g00 = w[o], g01 = w[o + db], g02 = w[o + 2 * db];
                double g10 = w[o + da], g11 = w[o + da + db], g12 = w[o + da + 2 * db];
                double g20 = w[o + 2 * da], g21 = w[o + 2 * da + db], g22 = w[o + 2 * da + 2 * db];
                // V g, column by column, as putRow4 does each row: even = g0 + g2, quadruple = g0 + 4 g2, odd = 2 g1
                double e0 = g00 + g20, e1 = g01 + g21, e2 = g02 + g22;
                double q0 = g00 + 4 * g20, q1 = g01 + 4 * g21, q2 = g02 + 4 * g22;
                double d0 = 2 * g10, d1 = 2 * g11, d2 = 2 * g12;
                putRow4(packed, at, 0, g00, g01, g02);
                putRow4(packed, at, 1, e0 + g10, e1 + g11, e2 + g12);
                putRow4(packed, at, 2, e0 - g10, e1 - g11, e2 - g12);
                putRow4(packed, at, 3, q0 + d0, q1 + d1, q2 + d2);
                putRow4(packed, at, 4, q0 - d0, q1 - d1, q2 - d2);
                putRow4(packed, at, 5, g20, g21, g22);
            }
        }
    }

    /**
     * Row a of U for one (co, ci) pair from row a of V g, {@code (c0, c1, c2)}: V times it (rows
     * {@code [1 a a^2]} at 0, 1, -1, 2, -2 and {@code [0 0 1]}), times {@code f_a f_b}, rounded to
     * float, into positions {@code 6a..6a+5} at {@code at}, the pair's place in {@link CpuGemm#packWhole}'s
     * layout ({@code (co - co % MR) Cin + ci MR + co % MR}: Cin is one depth block).
     */
    private static void putRow4(float[][] packed, int at, int a, double c0, double c1, double c2) {
        double even = c0 + c2, quadruple = c0 + 4 * c2, odd = 2 * c1;
        double[] f = FILTER_SCALES_4X4;
        int p = 6 * a;
        packed[p][at] = (float) (c0 * f[p]);
        packed[p + 1][at] = (float) ((even + c1) * f[p + 1]);
        packed[p + 2][at] = (float) ((even - c1) * f[p + 2]);
        packed[p + 3][at] = (float) ((quadruple + odd) * f[p + 3]);
        packed[p + 4][at] = (float) ((quadruple - odd) * f[p + 4]);
        packed[p + 5][at] = (float) (c2 * f[p + 5]);
    }

    /** One worker's buffers, grown to the largest block seen. */
    private static final class Scratch {
        float[] padded = new float[0]; // the block's samples, zero-padded planes of hq x wq
        float[] transformed = new float[0]; // V: 16 or 36 positions of [Cin, tile columns], positionStride apart
        float[] products = new float[0]; // M: 16 or 36 positions of [Cout, tile columns], positionStride apart
        float[] row = new float[0]; // one padded input row, then a row of zeros (pad); or the block as [pixel][sample] (padSingleTiles)
        final int[] at = new int[MAX_POSITIONS]; // see blockOffsets
        float[] outputs = new float[0]; // one channel's 4 (or 16) outputs per tile, see transformOutput
    }

    /**
     * Floats between two positions' matrices of {@code rows x columns}: the matrix rounded up to
     * 4 KiB, plus 192 bytes. The transforms touch one element of each of the 16 positions in
     * turn; 16 streams a multiple of 4 KiB apart fall in one set of the 8-way L1 and evict each
     * other on every access (measured: the output transform took 18 ns per tile and channel).
     * Staggered by 3 cache lines, they take 16 different sets.
     */
    static int positionStride(int rows, int columns) {
        return CpuGemm.roundUp(rows * columns, 1024) + 48;
    }

    private Scratch scratch(int worker) {
        Scratch s = scratch[worker];
        if (s == null) scratch[worker] = s = new Scratch();
        return s;
    }

    /**
     * The tiling of one geometry and tile size and the padded layout of a block's samples as
     * column phases, which the forward ({@link ForwardLoop}) and the filter gradient
     * ({@link CpuWinogradFilter}) share: the tile counts, the layout's size ({@link #paddedFloats})
     * and each block value's offset from its tile column ({@link #blockOffsets}). The forward
     * writes that layout ({@link #pad}, {@link #padAcrossSamples}, {@link #padSingleTiles}) and
     * transforms it, V = B^T d B lane-wise over the block's tiles ({@link #transformInput}); the
     * filter gradient writes it with the channels innermost.
     */
    abstract static class Tiling {
        int block, tilesH, tilesW, hq, wq, alpha, positions;
        int step; // the output tile's side: 2, or 4 for F(4x4, 3x3)
        int rowGroups; // padded rows per residue modulo step in the padded layout: hq / step rounded up

        /** Sets the tiling of g with {@code tile x tile} output tiles and blocks of {@code block} samples. */
        final void setTiles(Conv2dGeometry g, int tile, int block) {
            this.step = tile;
            this.block = block;
            this.tilesH = CpuGemm.ceilDiv(g.outHeight(), tile);
            this.tilesW = CpuGemm.ceilDiv(g.outWidth(), tile);
            this.alpha = alpha(g, tile);
            this.positions = alpha * alpha;
            this.hq = tile * tilesH + alpha - tile;
            this.wq = tile * tilesW + alpha - tile;
            this.rowGroups = CpuGemm.ceilDiv(hq, tile);
        }

        /** Floats of a block of {@code samples} padded as {@link #pad} lays it out. */
        final int paddedFloats(int cin, int samples) {
            return cin * alpha * step * rowGroups * samples * tilesW;
        }

        /**
         * Samples [n0, n0+samples) of x, zero-padded to {@code hq x wq} (the input at (padH, padW)),
         * as four column phases per input channel (six for 5x5: alpha in general, with
         * {@code hq / 2} for {@code tilesH + 1} below): phase c holds, for padded row r and tile column
         * u, the float at column {@code 2u + c}, at
         * {@code ci * 4 * phase + c * phase + ((r & 1) * (tilesH + 1) + (r >> 1)) * samples * tilesW + sample * tilesW + u}
         * ({@code phase = hq * samples * tilesW}). Then the 16 values of a tile's block, for tile
         * column {@code j = (i * samples + sample) * tilesW + u}, lie at 16 fixed offsets from j
         * ({@link #blockOffsets}), so the input transform reads whole vectors of tiles with no
         * gather: row {@code 2i + k} of a tile is row {@code k & 1} of the parity, pair
         * {@code i + (k >> 1)}. Each float is written twice (as phase c of tile u and c + 2 of u - 1).
         */
        final void pad(Conv2dGeometry g, float[] x, int n0, int samples, float[] xp, float[] row) {
            int h = g.height(), w = g.width(), ph = g.padH(), pw = g.padW(), cin = g.inChannels();
            int hq = this.hq, wq = this.wq, th = tilesH, tw = tilesW, rowStride = samples * tw, phase = hq * rowStride;
            int cols = Math.min(w, wq - pw);
            // row[0, wq): the padded row, whose padding columns stay zero; row[wq, 2 wq): the
            // padding rows (two calls of Arrays.fill per row took a fifth of a 64 -> 64 forward on 4x4 maps)
            Arrays.fill(row, 0, 2 * wq, 0f);
            for (int ci = 0; ci < cin; ci++) {
                for (int sample = 0; sample < samples; sample++) {
                    int src = ((n0 + sample) * cin + ci) * h * w, dst0 = ci * alpha * phase + sample * tw;
                    for (int r = 0; r < hq; r++) {
                        // the padded row, then its four phases (reading x directly, with the
                        // padding tested per column, measured slower: 0.47 against 0.31 ms)
                        int ih = r - ph, z = 0;
                        if (ih >= 0 && ih < h) System.arraycopy(x, src + ih * w, row, pw, cols);
                        else z = wq;
                        int d = dst0 + ((r & 1) * (hq / 2) + (r >> 1)) * rowStride;
                        if (alpha == 4) {
                            for (int u = 0; u < tw; u++, d++) {
                                xp[d] = row[z + 2 * u];
                                xp[d + phase] = row[z + 2 * u + 1];
                                xp[d + 2 * phase] = row[z + 2 * u + 2];
                                xp[d + 3 * phase] = row[z + 2 * u + 3];
                            }
                        } else {
                            for (int c = 0; c < alpha; c++) {
                                for (int u = 0, at = d + c * phase; u < tw; u++) xp[at + u] = row[z + 2 * u + c];
                            }
                        }
                    }
                }
            }
        }

        /**
         * {@link #pad}'s layout for 4x4 tiles (F(4x4, 3x3)): phase c of tile column u holds column
         * {@code 4u + c}, six phases, and the padded rows are grouped by {@code r % 4}
         * ({@link #rowGroups} rows each, {@code phase = 4 * rowGroups * samples * tilesW}), so that
         * row {@code 4i + k} of a tile's block is row {@code i + k / 4} of group {@code k % 4}: fixed
         * offsets again ({@link #blockOffsets}). Written with the samples innermost: per (ci, padded
         * row, phase, tile column) one strided run over the block's samples, read from x (a plane
         * apart) or zero. With one to four tiles a row on the small ResNet's maps, {@link #pad}'s
         * per-row copy and loops took a third of a 64 -> 64 forward on 4x4 maps.
         */
        final void padAcrossSamples(Conv2dGeometry g, float[] x, int n0, int samples, float[] xp) {
            int h = g.height(), w = g.width(), ph = g.padH(), pw = g.padW(), cin = g.inChannels(), plane = h * w;
            int sampleStride = cin * plane, tw = tilesW, rowStride = samples * tw, phase = step * rowGroups * rowStride;
            int run = sampleStride % 1024 == 0 ? SAMPLE_RUN : samples;
            for (int ci = 0; ci < cin; ci++) {
                for (int n0b = 0; n0b < samples; n0b += run) {
                    int runs = Math.min(run, samples - n0b), src0 = ((n0 + n0b) * cin + ci) * plane;
                    for (int r = 0; r < hq; r++) {
                        int ih = r - ph, rowAt = ci * alpha * phase + ((r & 3) * rowGroups + (r >> 2)) * rowStride + n0b * tw;
                        boolean inside = ih >= 0 && ih < h;
                        for (int c = 0; c < alpha; c++) {
                            for (int u = 0; u < tw; u++) {
                                int col = 4 * u + c - pw, d = rowAt + c * phase + u;
                                if (inside && col >= 0 && col < w) {
                                    for (int n = 0, at = src0 + ih * w + col; n < runs; n++, at += sampleStride, d += tw) xp[d] = x[at];
                                } else {
                                    for (int n = 0; n < runs; n++, d += tw) xp[d] = 0f;
                                }
                            }
                        }
                    }
                }
            }
        }

        /** Whether one 4x4 tile covers the output (F(4x4, 3x3) on maps of at most 4x4 outputs: the small ResNet's 64 -> 64). */
        final boolean singleTile() {
            return step == 4 && tilesH == 1 && tilesW == 1;
        }

        /**
         * {@link #padAcrossSamples} where one tile covers the output ({@link #singleTile}): the
         * padded layout then holds, per input channel and padded pixel (r, c), one run of the
         * block's samples, so per channel the samples' planes are transposed into {@code rows}
         * ({@code [pixel][sample]}, {@link CpuKernels#transpose}) and each pixel's run copied to
         * its place; the padding's runs are zeros. The scalar gathers (a plane apart per value)
         * took a fifth of the 64 -> 64 forward on 4x4 maps.
         */
        final void padSingleTiles(CpuKernels k, Conv2dGeometry g, float[] x, int n0, int samples, float[] xp, float[] rows) {
            int h = g.height(), w = g.width(), ph = g.padH(), pw = g.padW(), cin = g.inChannels(), plane = h * w;
            int phase = step * rowGroups * samples;
            for (int ci = 0; ci < cin; ci++) {
                k.transpose(x, (n0 * cin + ci) * plane, cin * plane, samples, plane, rows, 0, samples);
                for (int r = 0; r < hq; r++) {
                    int ih = r - ph, rowAt = ci * alpha * phase + ((r & 3) * rowGroups + (r >> 2)) * samples;
                    for (int c = 0; c < alpha; c++) {
                        int iw = c - pw, d = rowAt + c * phase;
                        if (ih >= 0 && ih < h && iw >= 0 && iw < w) System.arraycopy(rows, (ih * w + iw) * samples, xp, d, samples);
                        else Arrays.fill(xp, d, d + samples, 0f);
                    }
                }
            }
        }

        /**
         * Samples per run of {@link #padAcrossSamples} where their planes lie a multiple of 4 KiB
         * apart in x (64 channels of 4x4): then every sample's line falls in one set of the 8-way
         * L1, and longer runs evict each other (paired: 1.15-1.2x faster than runs of 32 there,
         * 0.95-1.0x on 7x7 maps, which keep whole blocks).
         */
        private static final int SAMPLE_RUN = 8;

        /** The offsets from tile column j of value (k, c) of its alpha x alpha block in {@link #pad}'s layout, into {@code at[alpha k + c]}. */
        final void blockOffsets(int samples, int[] at) {
            int rowStride = samples * tilesW, phase = step * rowGroups * rowStride;
            for (int k = 0; k < alpha; k++) {
                for (int c = 0; c < alpha; c++) at[alpha * k + c] = c * phase + ((k % step) * rowGroups + k / step) * rowStride;
            }
        }

        /**
         * V = B^T d B for every (ci, tile) of the block: position p's value of tile column j goes
         * to {@code v[p * s + ci * columns + j]}; per input channel one lane-wise pass over the
         * block's tiles ({@link CpuKernels#winogradInputTiles}).
         */
        final void transformInput(CpuKernels k, int cin, int samples, float[] xp, int[] at, float[] v, int columns, int s) {
            int count = samples * tilesH * tilesW, planes = alpha * step * rowGroups * samples * tilesW;
            if (alpha == 6) {
                for (int ci = 0; ci < cin; ci++) k.winograd5InputTiles(xp, ci * planes, at, count, v, ci * columns, s);
            } else {
                for (int ci = 0; ci < cin; ci++) k.winogradInputTiles(xp, ci * planes, at, count, v, ci * columns, s);
            }
        }
    }

    /** Blocks of whole samples, claimed; see the class comment. */
    private final class ForwardLoop extends Tiling implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] x, bias, y;
        private float[] residual; // y's shape, added (then the relu) after each block's output transform; or null
        private boolean relu;

        synchronized void execute(Conv2dGeometry g, float[] x, float[] bias, float[] residual, boolean relu, float[] y, int tile) {
            this.g = g;
            this.x = x;
            this.bias = bias;
            this.residual = residual;
            this.relu = relu;
            this.y = y;
            setTiles(g, tile, samplesPerBlock(g, tile));
            int parallelism = g.flops() < PARALLEL_MIN_FLOPS ? 1 : threads.size();
            try {
                threads.runClaimed(CpuGemm.ceilDiv(g.batch(), block), parallelism, this);
            } finally {
                this.g = null;
                this.x = this.bias = this.y = this.residual = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            Conv2dGeometry g = this.g;
            int cin = g.inChannels(), cout = g.outChannels(), perSample = tilesH * tilesW;
            int sampleOut = cout * g.outHeight() * g.outWidth();
            float[] residual = this.residual;
            int columnsMax = CpuGemm.roundUp(block * perSample, CpuGemm.NR);
            Scratch s = scratch(worker);
            int paddedSize = paddedFloats(cin, block);
            if (s.padded.length < paddedSize) s.padded = new float[paddedSize];
            int vSize = positions * positionStride(cin, columnsMax), mSize = positions * positionStride(cout, columnsMax);
            if (s.transformed.length < vSize) s.transformed = new float[vSize];
            if (s.products.length < mSize) s.products = new float[mSize];
            if (s.outputs.length < step * step * columnsMax) s.outputs = new float[step * step * columnsMax];
            int rowFloats = singleTile() ? g.height() * g.width() * block : 2 * wq; // padSingleTiles' [pixel][sample], or pad's rows
            if (s.row.length < rowFloats) s.row = new float[rowFloats];
            CpuKernels k = kernels[worker];
            for (int b = begin; b < end; b++) {
                int n0 = b * block, samples = Math.min(block, g.batch() - n0);
                // Every tile column of the last GEMM strip is computed (its spare columns from
                // whatever V holds there), so the write-back is always whole vectors; only the
                // first samples * perSample columns are read back.
                int columns = CpuGemm.roundUp(samples * perSample, CpuGemm.NR);
                int vStride = positionStride(cin, columns), mStride = positionStride(cout, columns);
                if (singleTile()) padSingleTiles(k, g, x, n0, samples, s.padded, s.row);
                else if (step == 4) padAcrossSamples(g, x, n0, samples, s.padded);
                else pad(g, x, n0, samples, s.padded, s.row);
                blockOffsets(samples, s.at);
                transformInput(k, cin, samples, s.padded, s.at, s.transformed, columns, vStride);
                for (int p = 0; p < positions; p++) {
                    gemm.multiplyPacked(worker, packedFilters[p], 0, cout, cout, columns, cin, 1f, null, false,
                            s.transformed, p * vStride, columns, 0f, s.products, p * mStride, columns);
                }
                transformOutput(k, g, n0, samples, s.products, columns, mStride, s.outputs, bias, y);
                if (residual == null) continue;
                k.addResidualRun(y, residual, n0 * sampleOut, samples * sampleOut, relu); // the block's samples of y, while in cache
            }
        }

        /**
         * y = A^T M A (+ bias) for every (sample, co, tile) of the block: per output channel,
         * {@link CpuKernels#winogradOutput} over the tile columns into {@code out} (four rows, one
         * per output of a tile), then each tile's outputs into y with the bias added (one more
         * rounding, as the GEMM paths add it after the product). Outputs of the last tile row or
         * column past Ho or Wo are dropped.
         */
        private void transformOutput(CpuKernels k, Conv2dGeometry g, int n0, int samples, float[] m, int columns, int s,
                                     float[] out, float[] bias, float[] y) {
            int cout = g.outChannels(), ho = g.outHeight(), wo = g.outWidth(), th = tilesH, tw = tilesW, perSample = th * tw;
            int os = columns;
            if (step == 4) {
                transformOutput4(k, g, n0, samples, m, columns, s, out, bias, y);
                return;
            }
            for (int co = 0; co < cout; co++) {
                if (alpha == 6) k.winograd5Output(m, co * columns, s, samples * perSample, out, os);
                else k.winogradOutput(m, co * columns, s, samples * perSample, out, os);
                float b = bias == null ? 0f : bias[co];
                boolean withBias = bias != null;
                for (int i = 0, j = 0; i < th; i++) {
                    int oh = 2 * i;
                    boolean secondRow = oh + 1 < ho;
                    for (int sample = 0; sample < samples; sample++) {
                        int yRow = ((n0 + sample) * cout + co) * ho * wo + oh * wo;
                        for (int u = 0; u < tw; u++, j++) {
                            float y00 = out[j], y01 = out[os + j], y10 = out[2 * os + j], y11 = out[3 * os + j];
                            if (withBias) {
                                y00 += b;
                                y01 += b;
                                y10 += b;
                                y11 += b;
                            }
                            int ow = 2 * u, at = yRow + ow;
                            boolean secondColumn = ow + 1 < wo;
                            y[at] = y00;
                            if (secondColumn) y[at + 1] = y01;
                            if (secondRow) {
                                y[at + wo] = y10;
                                if (secondColumn) y[at + wo + 1] = y11;
                            }
                        }
                    }
                }
            }
        }

        /**
         * {@link #transformOutput} for 4x4 tiles (F(4x4, 3x3)): per output channel
         * {@link CpuKernels#winograd4Output} into {@code out} (sixteen rows, output (a, b) of a
         * tile in row {@code 4a + b}), then the outputs inside Ho x Wo into y, the bias added.
         */
        private void transformOutput4(CpuKernels k, Conv2dGeometry g, int n0, int samples, float[] m, int columns, int s,
                                      float[] out, float[] bias, float[] y) {
            int cout = g.outChannels(), ho = g.outHeight(), wo = g.outWidth(), th = tilesH, tw = tilesW;
            int os = columns;
            if (ho == 4 && wo == 4 && singleTile()) {
                // one whole tile a sample: its 16 rows (outputs) by samples transposed into the planes
                for (int co = 0; co < cout; co++) {
                    k.winograd4Output(m, co * columns, s, samples, out, os);
                    if (bias != null) {
                        float b = bias[co];
                        for (int j = 0; j < 16; j++) for (int n = 0, o = j * os; n < samples; n++) out[o + n] += b;
                    }
                    k.transpose(out, 0, os, 16, samples, y, (n0 * cout + co) * 16, cout * 16);
                }
                return;
            }
            for (int co = 0; co < cout; co++) {
                k.winograd4Output(m, co * columns, s, samples * th * tw, out, os);
                float b = bias == null ? 0f : bias[co];
                boolean withBias = bias != null;
                for (int i = 0, j = 0; i < th; i++) {
                    int oh = 4 * i, rows = Math.min(4, ho - oh);
                    for (int sample = 0; sample < samples; sample++) {
                        int yRow = ((n0 + sample) * cout + co) * ho * wo + oh * wo;
                        for (int u = 0; u < tw; u++, j++) {
                            int ow = 4 * u, cols = Math.min(4, wo - ow);
                            if (rows == 4 && cols == 4) {
                                // a whole tile: constant trip counts, unrolled
                                for (int a = 0, at = yRow + ow, o = j; a < 4; a++, at += wo, o += 4 * os) {
                                    for (int c = 0; c < 4; c++) {
                                        float v = out[o + c * os];
                                        if (withBias) v += b;
                                        y[at + c] = v;
                                    }
                                }
                                continue;
                            }
                            for (int a = 0; a < rows; a++) {
                                int at = yRow + a * wo + ow, o = 4 * a * os + j;
                                for (int c = 0; c < cols; c++) {
                                    float v = out[o + c * os];
                                    if (withBias) v += b;
                                    y[at + c] = v;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * {@link CpuKernels#winogradInputTiles} for t in [from, count): the definition the plain path
     * runs and the vector path's tail (the same float operations).
     */
    static void inputTiles(float[] src, int base, int[] at, int from, int count, float[] v, int vo, int ps) {
        int a0 = base + at[0], a1 = base + at[1], a2 = base + at[2], a3 = base + at[3];
        int a4 = base + at[4], a5 = base + at[5], a6 = base + at[6], a7 = base + at[7];
        int a8 = base + at[8], a9 = base + at[9], a10 = base + at[10], a11 = base + at[11];
        int a12 = base + at[12], a13 = base + at[13], a14 = base + at[14], a15 = base + at[15];
        for (int t = from; t < count; t++) {
            float r00 = src[a0 + t] - src[a2 + t], r01 = src[a1 + t] + src[a2 + t];
            float r02 = src[a2 + t] - src[a1 + t], r03 = src[a1 + t] - src[a3 + t];
            float r10 = src[a4 + t] - src[a6 + t], r11 = src[a5 + t] + src[a6 + t];
            float r12 = src[a6 + t] - src[a5 + t], r13 = src[a5 + t] - src[a7 + t];
            float r20 = src[a8 + t] - src[a10 + t], r21 = src[a9 + t] + src[a10 + t];
            float r22 = src[a10 + t] - src[a9 + t], r23 = src[a9 + t] - src[a11 + t];
            float r30 = src[a12 + t] - src[a14 + t], r31 = src[a13 + t] + src[a14 + t];
            float r32 = src[a14 + t] - src[a13 + t], r33 = src[a13 + t] - src[a15 + t];
            int o = vo + t;
            v[o] = r00 - r20;
            v[o + ps] = r01 - r21;
            v[o + 2 * ps] = r02 - r22;
            v[o + 3 * ps] = r03 - r23;
            v[o + 4 * ps] = r10 + r20;
            v[o + 5 * ps] = r11 + r21;
            v[o + 6 * ps] = r12 + r22;
            v[o + 7 * ps] = r13 + r23;
            v[o + 8 * ps] = r20 - r10;
            v[o + 9 * ps] = r21 - r11;
            v[o + 10 * ps] = r22 - r12;
            v[o + 11 * ps] = r23 - r13;
            v[o + 12 * ps] = r10 - r30;
            v[o + 13 * ps] = r11 - r31;
            v[o + 14 * ps] = r12 - r32;
            v[o + 15 * ps] = r13 - r33;
        }
    }

    /** {@link CpuKernels#winogradOutput} for t in [from, count): the plain path, and the vector path's tail. */
    static void output(float[] m, int mo, int ps, int from, int count, float[] out, int os) {
        for (int t = from; t < count; t++) {
            int i = mo + t;
            float s00 = m[i] + m[i + 4 * ps] + m[i + 8 * ps];
            float s01 = m[i + ps] + m[i + 5 * ps] + m[i + 9 * ps];
            float s02 = m[i + 2 * ps] + m[i + 6 * ps] + m[i + 10 * ps];
            float s03 = m[i + 3 * ps] + m[i + 7 * ps] + m[i + 11 * ps];
            float s10 = m[i + 4 * ps] - m[i + 8 * ps] - m[i + 12 * ps];
            float s11 = m[i + 5 * ps] - m[i + 9 * ps] - m[i + 13 * ps];
            float s12 = m[i + 6 * ps] - m[i + 10 * ps] - m[i + 14 * ps];
            float s13 = m[i + 7 * ps] - m[i + 11 * ps] - m[i + 15 * ps];
            out[t] = s00 + s01 + s02;
            out[os + t] = s01 - s02 - s03;
            out[2 * os + t] = s10 + s11 + s12;
            out[3 * os + t] = s11 - s12 - s13;
        }
    }

    /**
     * {@link CpuKernels#winograd5InputTiles} for t in [from, count): the definition the plain path
     * runs and the vector path's tail. Row pass then column pass, in place in v.
     */
    static void inputTiles5(float[] src, int base, int[] at, int from, int count, float[] v, int vo, int ps) {
        for (int k = 0; k < 6; k++) {
            int r = 6 * k;
            inputTransform6(src, base + at[r], base + at[r + 1], base + at[r + 2], base + at[r + 3], base + at[r + 4],
                    base + at[r + 5], from, count, v, vo + r * ps, ps);
        }
        for (int b = 0; b < 6; b++) {
            int c = vo + b * ps, s = 6 * ps;
            inputTransform6(v, c, c + s, c + 2 * s, c + 3 * s, c + 4 * s, c + 5 * s, from, count, v, c, s);
        }
    }

    /**
     * F(2x2, 5x5)'s {@code B^T} (points 0, 1, -1, 2, -2, infinity) applied to the six values
     * {@code d_i = src[f_i + t]}, for t in [from, to), into {@code dst[o + i * ds + t]}:
     * <pre>
     *   B^T = [4  0 -5  0 1 0;  0 -4 -4  1 1 0;  0 4 -4 -1 1 0;
     *          0 -2 -1  2 1 0;  0  2 -1 -2 1 0;  0 4  0 -5 0 1]
     * </pre>
     * as {@code (d4 - 5 d2) + 4 d0}, {@code t1 + t2}, {@code t1 - t2}, {@code t3 + t4},
     * {@code t3 - t4}, {@code (d5 - 5 d3) + 4 d1} with {@code t1 = d4 - 4 d2}, {@code t2 = d3 - 4 d1},
     * {@code t3 = d4 - d2}, {@code t4 = 2 (d3 - d1)} (the multiplies by 2 and 4 are exact). All six
     * values are read before any is written, so it may run in place.
     */
    static void inputTransform6(float[] src, int f0, int f1, int f2, int f3, int f4, int f5, int from, int to,
                                float[] dst, int o, int ds) {
        for (int t = from; t < to; t++) {
            float d0 = src[f0 + t], d1 = src[f1 + t], d2 = src[f2 + t], d3 = src[f3 + t], d4 = src[f4 + t], d5 = src[f5 + t];
            float t1 = d4 - d2 * 4f, t2 = d3 - d1 * 4f, t3 = d4 - d2, t4 = (d3 - d1) * 2f;
            dst[o + t] = d4 - d2 * 5f + d0 * 4f;
            dst[o + ds + t] = t1 + t2;
            dst[o + 2 * ds + t] = t1 - t2;
            dst[o + 3 * ds + t] = t3 + t4;
            dst[o + 4 * ds + t] = t3 - t4;
            dst[o + 5 * ds + t] = d5 - d3 * 5f + d1 * 4f;
        }
    }

    /**
     * {@link CpuKernels#winograd5Output} for t in [from, count): the plain path, and the vector
     * path's tail. {@code A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 1]}: per row k of M, {@code p_k = m_k0 +
     * .. + m_k4} and {@code q_k = (m_k1 - m_k2) + 2 (m_k3 - m_k4) + m_k5}; the outputs are the
     * same two sums over k of p (column 0) and q (column 1).
     */
    static void output5(float[] m, int mo, int ps, int from, int count, float[] out, int os) {
        for (int t = from; t < count; t++) {
            int i = mo + t;
            float p0 = sum5(m, i, ps), p1 = sum5(m, i + 6 * ps, ps), p2 = sum5(m, i + 12 * ps, ps);
            float p3 = sum5(m, i + 18 * ps, ps), p4 = sum5(m, i + 24 * ps, ps), p5 = sum5(m, i + 30 * ps, ps);
            float q0 = difference6(m, i, ps), q1 = difference6(m, i + 6 * ps, ps), q2 = difference6(m, i + 12 * ps, ps);
            float q3 = difference6(m, i + 18 * ps, ps), q4 = difference6(m, i + 24 * ps, ps), q5 = difference6(m, i + 30 * ps, ps);
            out[t] = p0 + p1 + p2 + p3 + p4;
            out[os + t] = q0 + q1 + q2 + q3 + q4;
            out[2 * os + t] = p1 - p2 + (p3 - p4) * 2f + p5;
            out[3 * os + t] = q1 - q2 + (q3 - q4) * 2f + q5;
        }
    }

    private static float sum5(float[] m, int i, int ps) {
        return m[i] + m[i + ps] + m[i + 2 * ps] + m[i + 3 * ps] + m[i + 4 * ps];
    }

    private static float difference6(float[] m, int i, int ps) {
        return m[i + ps] - m[i + 2 * ps] + (m[i + 3 * ps] - m[i + 4 * ps]) * 2f + m[i + 5 * ps];
    }

    /**
     * {@link CpuKernels#winograd4Output} for t in [from, count): the plain path, and the vector
     * path's tail. Per row k of M, {@link #outputTransform4} in place into positions 6k..6k+3;
     * then the same of each of those four columns into the outputs.
     */
    static void output4(float[] m, int mo, int ps, int from, int count, float[] out, int os) {
        for (int k = 0; k < 6; k++) {
            int r = mo + 6 * k * ps;
            outputTransform4(m, r, r + ps, r + 2 * ps, r + 3 * ps, r + 4 * ps, r + 5 * ps, from, count, m, r, r + ps, r + 2 * ps, r + 3 * ps);
        }
        int s = 6 * ps;
        for (int b = 0; b < 4; b++) {
            int c = mo + b * ps;
            outputTransform4(m, c, c + s, c + 2 * s, c + 3 * s, c + 4 * s, c + 5 * s, from, count,
                    out, b * os, (4 + b) * os, (8 + b) * os, (12 + b) * os);
        }
    }

    /**
     * F(4x4, 3x3)'s {@code A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]} applied
     * to the six values {@code m_i = src[f_i + t]}, for t in [from, to), into {@code dst[o_r + t]}:
     * with {@code s = m1 + m2}, {@code d = m1 - m2}, {@code s' = m3 + m4}, {@code d' = m3 - m4},
     * {@code (m0 + s) + s'}, {@code d + 2 d'}, {@code s + 4 s'}, {@code (d + 8 d') + m5} (the
     * multiplies by 2, 4 and 8 are exact). All six values are read before any is written, so it
     * may run in place.
     */
    static void outputTransform4(float[] src, int f0, int f1, int f2, int f3, int f4, int f5, int from, int to,
                                 float[] dst, int o0, int o1, int o2, int o3) {
        for (int t = from; t < to; t++) {
            float m0 = src[f0 + t], m1 = src[f1 + t], m2 = src[f2 + t], m3 = src[f3 + t], m4 = src[f4 + t], m5 = src[f5 + t];
            float sum12 = m1 + m2, difference12 = m1 - m2, sum34 = m3 + m4, difference34 = m3 - m4;
            dst[o0 + t] = m0 + sum12 + sum34;
            dst[o1 + t] = difference12 + difference34 * 2f;
            dst[o2 + t] = sum12 + sum34 * 4f;
            dst[o3 + t] = difference12 + difference34 * 8f + m5;
        }
    }
}
