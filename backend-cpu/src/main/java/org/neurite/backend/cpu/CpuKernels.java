package org.neurite.backend.cpu;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One worker's inner loops of the CPU backend that the incubating Vector API
 * ({@code jdk.incubator.vector}) speeds up, with that worker's scratch. A backend chooses the
 * implementation once, when it is created ({@link Path#select}), and each kernel class that
 * uses these loops ({@link CpuGemm}, {@link CpuDirectConv2d}, {@link CpuElementwise}) holds one
 * instance per worker ({@link Path#perWorker}):
 * <ul>
 *   <li>{@link CpuVectorKernels}: {@code FloatVector} code (the fast path); the only class of the
 *       module that names the Vector API, so it is loaded only when the JVM was started with
 *       {@code --add-modules jdk.incubator.vector};</li>
 *   <li>{@link CpuPlainKernels}: plain counted loops over float arrays, written so that C2's
 *       auto-vectoriser compiles them to SIMD where it can (correct everywhere, slower).</li>
 * </ul>
 * Everything around these loops (blocking, packing, threads, the choice of algorithm) is shared,
 * and both implementations do the same float operations in the same order (the same fmas, the
 * same lane-wise partial sums, a multiply then an add), so they give the same bits: a
 * backend's results do not depend on the path.
 *
 * <p>The loops work on {@link #LANES}-wide groups of floats (a GEMM strip is two groups wide, a
 * direct-convolution chunk four). It is a property of the JVM, fixed at class initialisation:
 * the float lanes of the vector width {@link CpuVectorWidth} chose when the Vector API is present
 * (16 at 512 bits, 8 at 256), else {@link CpuPlainKernels#LANES_WITHOUT_VECTOR_API}. Plain kernels in a JVM that has
 * the Vector API use the same lanes as the vector ones, which lets the tests compare the two
 * paths bit for bit.
 */
abstract class CpuKernels {
    /** The module that holds the Vector API. */
    static final String VECTOR_MODULE = "jdk.incubator.vector";
    /** Whether the boot layer has {@link #VECTOR_MODULE} (the JVM was started with {@code --add-modules} for it). */
    static final boolean VECTOR_API_PRESENT = ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent();
    /** Float lanes of one group (see the class comment): the vector width {@link CpuVectorWidth} chose, over 32. */
    static final int LANES = VECTOR_API_PRESENT ? CpuVectorWidth.chosen().bits() / Float.SIZE : CpuPlainKernels.LANES_WITHOUT_VECTOR_API;
    // The calls into CpuVectorKernels and CpuVectorWidth here are static methods whose signatures
    // name no Vector API type, so verifying this class never loads one; they run only when the
    // module is present.

    /** The line a JVM without the module prints once, when its first CPU backend is created. */
    static final String NOTICE = "neurite: the cpu backend runs plain Java loops; start the JVM with --add-modules "
            + VECTOR_MODULE + " for the Vector API path (same results, faster)";
    /** Whether {@link #NOTICE} has been printed in this JVM. */
    static final AtomicBoolean NOTICE_PRINTED = new AtomicBoolean();

    /** Which kernels a backend runs, chosen once when it is created. */
    enum Path {
        VECTOR_API {
            @Override CpuKernels create() { return CpuVectorKernels.create(); }
            @Override String description() { return CpuVectorKernels.describe() + CpuJitSettings.descriptionSuffix(); }
        },
        PLAIN_JAVA {
            @Override CpuKernels create() { return new CpuPlainKernels(); }
            @Override String description() {
                return VECTOR_API_PRESENT ? "plain Java" : "plain Java: start the JVM with --add-modules " + VECTOR_MODULE + " for the Vector API path";
            }
        };

        /**
         * The Vector API's kernels when the JVM has the module; otherwise the plain loops, and the
         * first such choice in this JVM prints one line on standard error saying how to get the
         * fast path (the backend's {@code description()} says it too). The Vector API's path checks
         * the JIT setting its kernels need once per JVM ({@link CpuJitSettings#checkOnce}).
         */
        static Path select() {
            if (VECTOR_API_PRESENT) {
                CpuJitSettings.checkOnce();
                return VECTOR_API;
            }
            if (NOTICE_PRINTED.compareAndSet(false, true)) System.err.println(NOTICE);
            return PLAIN_JAVA;
        }

        abstract CpuKernels create();

        /** Which path and why, for the backend's description: e.g. {@code Vector API, 512-bit vectors}. */
        abstract String description();

        /** One instance per worker: each holds that worker's scratch. */
        CpuKernels[] perWorker(int workers) {
            CpuKernels[] kernels = new CpuKernels[workers];
            for (int w = 0; w < workers; w++) kernels[w] = create();
            return kernels;
        }
    }

    // ---- GEMM (CpuGemm) ---------------------------------------------------------------------

    /**
     * One packed block: C[mc, nc] (at {@code co}, leading dimension ldc) = alpha * A * B + beta * C
     * (C not read when beta == 0), A the packed MR-row strips of {@code pa} from {@code ao} (kc
     * deep), B the packed {@link CpuGemm#NR}-column strips of {@code pb} from 0. Every element
     * is the fma sequence over the kc depth steps from zero, then one rounding with alpha and
     * beta: {@code beta == 0 ? acc * alpha : fma(acc, alpha, C * beta)}.
     */
    abstract void gemmBlock(float[] pa, int ao, float[] pb, int mc, int nc, int kc, float[] c, int co, int ldc,
                            float alpha, float beta);

    /** Copies {@code rows} runs of {@link CpuGemm#NR} floats, {@code b} from {@code src} with stride ldb, to {@code dst} from {@code d} with stride NR. */
    abstract void copyStrip(float[] b, int src, int ldb, float[] dst, int d, int rows);

    // ---- direct convolution (CpuDirectConv2d) ----------------------------------------------

    /**
     * Two output channels of one chunk of {@link CpuDirectConv2d#CHUNK} output grid positions: for
     * each position j, {@code tile[tA + j]} and {@code tile[tB + j]} get the fma sequence from zero
     * over r in [0, k) of {@code w[wA + r]} (and {@code w[wB + r]}) times {@code xp[at + off[r] + j]}.
     */
    abstract void directForwardChunk(float[] xp, int at, int[] off, int k, float[] w, int wA, int wB, float[] tile, int tA, int tB);

    /**
     * {@code rows} rows of {@code wo} outputs: {@code y[at + i * wo + j] = v} for j in [0, wo) with
     * {@code v = grid[t + i * pitch + j]}, then {@code v + b} with {@code addBias}, then
     * {@code Math.max(v, 0f)} with {@code relu} (NaN kept, -0 to +0). The vector path stores whole
     * vectors while they end at or before {@code limit}, so a row's last vector may write up to
     * {@code LANES - 1} positions past it, which the next row (or a later call) writes again; the
     * grid must be readable that far past its last row. What is left before {@code limit} goes
     * one value at a time.
     */
    abstract void directStoreRows(float[] grid, int t, int pitch, int rows, float[] y, int at, int wo, int limit, boolean addBias, float b,
                                  boolean relu);

    /**
     * The whole lane groups of every output row into KJ = 5 groups of lane partial sums: for
     * each kernel column jj in [0, 5) and lane l, {@code acc[accOff + jj*LANES + l]} gets, in
     * (row, group) order, {@code fma(dyp[d + l], xp[i + jj + l], .)} where row oh's group v sits
     * at {@code d = (oh*nv + v) * LANES} and {@code i = at + oh*wd + v*LANES}; v runs over the
     * first {@code whole} of the row's {@code nv} groups.
     */
    abstract void directFilterRows(float[] dyp, int ho, int nv, int whole, float[] xp, int at, int wd, float[] acc, int accOff);

    /**
     * After {@link #directFilterRows}, the partial last group of every row (group {@code whole}),
     * of which only the first {@code tailLanes} lanes are output columns: the other lanes take
     * zero input instead of what lies there (so 0 * inf cannot add a NaN the true sum lacks).
     */
    abstract void directFilterTails(float[] dyp, int ho, int nv, int whole, int tailLanes, float[] xp, int at, int wd,
                                    float[] acc, int accOff);

    // ---- element-wise (CpuElementwise) -----------------------------------------------------

    /** {@code y[i + d] = scale * x[i] + shift} for i in [from, to): a float multiply, then a float add (never fused). */
    abstract void affine(float[] x, int from, int to, int d, float scale, float shift, float[] y);

    /** {@code out[oo + j] = x[xo + j] + v[vo + j]} for j in [0, n): one float add each, so every path gives the same bits. */
    abstract void addRun(float[] x, int xo, float[] v, int vo, float[] out, int oo, int n);

    /**
     * {@code out[oo + j] = Math.max(x[xo + j] + v[vo + j], 0f)} for j in [0, n): the sum rounded to
     * float, then the relu's bits (NaN kept, -0 to +0), as the add and relu ops compute them.
     */
    abstract void addReluRun(float[] x, int xo, float[] v, int vo, float[] out, int oo, int n);

    /** {@code y[at + j] += residual[at + j]}, then with {@code relu} {@code Math.max(., 0f)}, for j in [0, n): {@link #addReluRun} or {@link #addRun} in place. */
    final void addResidualRun(float[] y, float[] residual, int at, int n, boolean relu) {
        if (relu) addReluRun(y, at, residual, at, y, at, n);
        else addRun(y, at, residual, at, y, at, n);
    }

    /**
     * {@code sums[j] += x[xo + j]} in double for j in [0, n): each float widened exactly and each
     * add rounded once, so every path gives the same bits.
     */
    abstract void addToSums(float[] x, int xo, double[] sums, int n);

    /**
     * The maximum of x[from, from + n), NaN if any of them is NaN, -0 below +0 (as
     * {@link Math#max}; the order of the comparisons then does not matter).
     */
    abstract float max(float[] x, int from, int n);

    /**
     * ReLU backward: {@code dx[i] = x[i + dxToX] > 0 ? dy[i + dxToDy] : 0} for i in [from, to), a
     * select (no arithmetic, so every path gives the same bits; a NaN x gives 0). As a branch
     * over random signs it mispredicted half the time and ran 7x slower than ReLU forward.
     */
    abstract void reluBackward(float[] x, int dxToX, float[] dy, int dxToDy, float[] dx, int from, int to);

    // ---- convolution packing (CpuConv2d) ----------------------------------------------------

    /**
     * One row of a packed GEMM strip gathered through an offset table:
     * {@code dst[d + l] = src[base + index[at + l]]} for l in [0, {@link CpuGemm#NR}). A copy, so
     * every path gives the same bits. The convolution's gathered panels (backward-filter's col^T,
     * the forward's col where the padded grid does not apply) are built from it; as a hardware
     * gather it packs them faster than the scalar loop (backward-filter 1.1-1.4x).
     */
    abstract void gatherStrip(float[] src, int base, int[] index, int at, float[] dst, int d);

    // ---- recurrent cells (CpuRecurrentCells) ------------------------------------------------

    /** {@code x[i] = CpuFloatExp.sigmoid(x[i])} for i in [from, to), in place. */
    abstract void sigmoidInPlace(float[] x, int from, int to);

    /** {@code x[i] = CpuFloatExp.tanh(x[i])} for i in [from, to), in place. */
    abstract void tanhInPlace(float[] x, int from, int to);

    // ---- max pooling (CpuPool2d) ------------------------------------------------------------

    /**
     * 2x2 max pooling of {@code count} windows of one plane of width {@code w}: window o has its
     * top-left input at {@code x[xo + window[o]]} and the others at +1, +w and +w+1;
     * {@code y[yo + o]} gets the largest and {@code argmax[yo + o]} its in-plane index
     * ({@code windowAt[o]}, which is {@code window[o]} as a float, plus 0, 1, w or w+1). Ties and NaN
     * resolve as the scan in that order where a later value wins if greater or NaN
     * ({@link CpuPool2d#maxWindows2x2}, the plain loop): the vector path takes the winner of the
     * top pair against the winner of the bottom pair, which picks the same element. Values and
     * indices are copies, so every path gives the same bits. The scan's float selects compiled to
     * branches that random data mispredicts half the time (about 18 ns per window).
     */
    abstract void maxPool2x2(float[] x, int xo, int w, int[] window, float[] windowAt, int count, float[] y, float[] argmax, int yo);

    // ---- backward-filter over a channels-last copy (CpuConvFilterChannelsLast) ----------------

    /**
     * Rows of one packed GEMM strip, each two runs of {@link #LANES} floats from row starts in a
     * table: for p in [0, rows) and l in [0, LANES), {@code dst[d + p*NR + l] = src[start[at + p] + runA + l]}
     * and {@code dst[d + p*NR + LANES + l] = runB < 0 ? 0 : src[start[at + p] + runB + l]}. A copy,
     * so every path gives the same bits.
     */
    abstract void copyStripRuns(float[] src, int[] start, int at, int rows, int runA, int runB, float[] dst, int d);

    // ---- batch norm sums (CpuNormalization) -------------------------------------------------

    /** The partial sums of each batch-norm sum: a constant, not the vector width, so that every width gives the same bits. */
    static final int NORM_PARTIALS = 16;

    // ---- Winograd F(2x2, 3x3) transforms (CpuWinogradConv2d) --------------------------------

    /**
     * The Winograd input transform {@code V = B^T d B} of {@code count} tiles: value (k, c) of
     * tile t's 4x4 block is {@code d_kc = src[base + at[4k + c] + t]}. The row pass gives, per
     * row k, {@code r_k0..3 = d_k0 - d_k2, d_k1 + d_k2, d_k2 - d_k1, d_k1 - d_k3}; the column pass
     * writes {@code v[vo + (4a + b) * ps + t]} = {@code r_0b - r_2b}, {@code r_1b + r_2b},
     * {@code r_2b - r_1b}, {@code r_1b - r_3b} for a = 0..3 ({@link CpuWinogradConv2d#inputTiles}).
     * Single float adds: every path gives the same bits.
     */
    abstract void winogradInputTiles(float[] src, int base, int[] at, int count, float[] v, int vo, int ps);

    /**
     * The Winograd output transform {@code A^T M A} (no bias) over {@code count} tile columns:
     * with {@code m_ab = m[mo + (4a + b) * ps + t]}, {@code s0b = m0b + m1b + m2b} and
     * {@code s1b = m1b - m2b - m3b} (left to right), the tile's outputs (0,0), (0,1), (1,0), (1,1)
     * {@code s00 + s01 + s02}, {@code s01 - s02 - s03} and the same of s1 go to
     * {@code out[t]}, {@code out[os + t]}, {@code out[2 os + t]}, {@code out[3 os + t]}
     * ({@link CpuWinogradConv2d#output}). Float adds only: every path gives the same bits.
     */
    abstract void winogradOutput(float[] m, int mo, int ps, int count, float[] out, int os);

    // ---- Winograd F(2x2, 5x5) transforms (CpuWinogradConv2d) --------------------------------

    /**
     * The F(2x2, 5x5) input transform {@code V = B^T d B} of {@code count} tiles: value (k, c) of
     * tile t's 6x6 block is {@code d_kc = src[base + at[6k + c] + t]}. A row pass writes
     * {@code B^T} of row k to positions {@code 6k + b} of v, then a column pass overwrites column
     * b of v, in place, with {@code B^T} of it: both passes are
     * {@link CpuWinogradConv2d#inputTransform6} (to {@code v[vo + (6a + b) * ps + t]}). Single
     * float operations in a fixed order: every path gives the same bits.
     */
    abstract void winograd5InputTiles(float[] src, int base, int[] at, int count, float[] v, int vo, int ps);

    /**
     * The F(2x2, 5x5) output transform {@code A^T M A} (no bias) over {@code count} tile columns,
     * {@code m_ab = m[mo + (6a + b) * ps + t]}, to {@code out[t]}, {@code out[os + t]},
     * {@code out[2 os + t]}, {@code out[3 os + t]} (outputs (0,0), (0,1), (1,0), (1,1)), as
     * {@link CpuWinogradConv2d#output5} computes it. Every path gives the same bits. M's values
     * at t in [0, count) may be overwritten (the vector path keeps its row sums there).
     */
    abstract void winograd5Output(float[] m, int mo, int ps, int count, float[] out, int os);

    /**
     * F(2x2, 5x5)'s transform of the output gradient, {@code A dY A^T} (6x6 from a 2x2 tile of dy),
     * over {@code count} values: {@code dy_rs = d[r * 2 qs + s * qs + t]} to
     * {@code v[(6a + b) * ps + t]}, as {@link CpuWinogradFilter#gradientTiles5} computes it (a row
     * pass into positions 0..5 and 30..35, then a column pass in place). Single float operations
     * in a fixed order: every path gives the same bits.
     */
    abstract void winograd5GradientTiles(float[] d, int qs, int count, float[] v, int ps);

    /**
     * F(4x4, 3x3)'s transform of the output gradient, {@code A dY A^T} (6x6 from a 4x4 tile of dy),
     * over {@code count} values: {@code dy_rs = d[(4r + s) * qs + t]} to {@code v[(6a + b) * ps + t]},
     * as {@link CpuWinogradFilter#gradientTiles4} computes it (a row pass into rows 0, 1, 2 and 5,
     * then a column pass in place). Single float operations in a fixed order: every path gives the
     * same bits.
     */
    abstract void winograd4GradientTiles(float[] d, int qs, int count, float[] v, int ps);

    // ---- Winograd F(4x4, 3x3) output transform (CpuWinogradConv2d) ----------------------------

    /**
     * The F(4x4, 3x3) output transform {@code A^T M A} (no bias) over {@code count} tile columns,
     * {@code m_ab = m[mo + (6a + b) * ps + t]}, output (a, b) of the tile's 4x4 to
     * {@code out[(4a + b) * os + t]}, with {@code A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0;
     * 0 1 -1 8 -8 1]}: a row pass then a column pass, both {@link CpuWinogradConv2d#outputTransform4},
     * as {@link CpuWinogradConv2d#output4} computes it. Every path gives the same bits. M's values
     * at t in [0, count) may be overwritten (the row pass writes its results in place).
     */
    abstract void winograd4Output(float[] m, int mo, int ps, int count, float[] out, int os);

    // ---- Winograd F(4x4, 3x3) over channels-last tiles (CpuChannelWinograd) -----------------

    /** Tiles {@link #winogradChannelsProducts} computes at a time on the vector path. */
    static final int WINOGRAD_TILE_GROUP = 8;

    /**
     * U = G g G^T of F(4x4, 3x3) in float, lane-wise over {@code cout} (a multiple of LANES): the
     * kernel of pair (co, ci) is {@code g_ab = wt[(ci*9 + 3a + b)*cout + co]}, and U's position p
     * goes to {@code u[p][ci*cout + co]}. Per pair, {@link CpuChannelWinograd#filterPair}'s float
     * operations in its order, on every path.
     */
    abstract void winogradChannelsFilters(float[] wt, int cin, int cout, float[][] u);

    /**
     * Y = A dY A^T of one tile of dy, lane-wise over {@code cout} (a multiple of LANES): dY is the
     * 4x4 block whose value (row r, column c, channel co) lies at {@code dyc[at + r*rowStride + c*cout + co]}
     * for r < rows and c < cols, and 0 past them; Y's position {@code 6a + b} goes to
     * {@code m[mo + (6a + b)*cout + co]}. The row pass then the column pass of
     * {@link CpuWinogradFilter#expand4}, in {@link CpuWinogradFilter#gradientTiles4}'s order, on every path.
     */
    abstract void winogradChannelsGradient(float[] dyc, int at, int rowStride, int cout, int rows, int cols, float[] m, int mo);

    /**
     * dU = sum over tiles of V^T Y at position p: {@code du[duo + ci*cout + co]} is the fma chain
     * from +0 over t in [0, tiles), in order, of {@code v[(36t + p)*cin + ci] * m[(36t + p)*cout + co]}.
     * cin a multiple of 8, cout of LANES.
     */
    abstract void winogradChannelsFilterProducts(float[] v, float[] m, int tiles, int cin, int cout, int p, float[] du, int duo);

    /**
     * dg = G^T dU G of F(4x4, 3x3) for input channels [ci0, ci1), lane-wise over {@code cout} (a
     * multiple of LANES): dU's position p of pair (co, ci) at {@code du[(p*cin + ci)*cout + co]}, the
     * kernel gradient's tap k = 3i + j to {@code dwt[(ci*9 + k)*cout + co]}. Per pair,
     * {@link CpuChannelWinogradFilter#pairGradient}'s float operations in its order, on every path.
     */
    abstract void winogradChannelsFilterGradient(float[] du, int cin, int cout, int ci0, int ci1, float[] dwt);

    /**
     * V = B^T d B of one tile, lane-wise over {@code channels} (a multiple of LANES): d is the 6x6
     * block whose value (row a, column b, channel c) lies at {@code xp[at + a*rowStride + b*channels + c]},
     * V's position {@code 6a + b} goes to {@code v[vo + (6a + b)*channels + c]}. The row pass then the
     * column pass of {@link CpuWinogradConv2d#inputTransform6}, in its order, on every path.
     */
    abstract void winogradChannelsInput(float[] xp, int at, int rowStride, int channels, float[] v, int vo);

    /**
     * M = U V at each of the 36 positions p, for tiles t in [0, tiles): {@code m[mo + (36t + p)*cout + co]}
     * is the fma chain from +0 over ci in [0, cin) of {@code v[vo + (36t + p)*cin + ci] * u[p][ci*cout + co]}.
     * cout is a multiple of LANES. The vector path computes whole groups of
     * {@link #WINOGRAD_TILE_GROUP} tiles: v and m must hold {@code roundUp(tiles, WINOGRAD_TILE_GROUP)}
     * tiles, and what it writes for the tiles past {@code tiles} is unspecified.
     */
    abstract void winogradChannelsProducts(float[] v, int vo, int tiles, int cin, float[][] u, int cout, float[] m, int mo);

    /**
     * y = A^T M A of one tile, lane-wise over {@code cout} (a multiple of LANES), M's position p at
     * {@code m[mo + p*cout + co]} (overwritten: the passes run in place); plus {@code bias[co]} (a
     * float add) when bias is not null, then with {@code relu} {@code Math.max(y, 0f)}'s bits; output
     * (row r, column b) into {@code out[oo + r*rowStride + b*cout + co]} for r < rows and b < cols
     * (at most 4 each); writes nothing else of out. The row pass then the column pass of
     * {@link CpuWinogradConv2d#outputTransform4}, in its order, on every path.
     */
    abstract void winogradChannelsOutput(float[] m, int mo, int cout, float[] bias, boolean relu, int rows, int cols,
                                         float[] out, int oo, int rowStride);

    // ---- batch norm backward through a relu (CpuNormalization) ------------------------------

    // ---- backward-data of 3x3 stride-2 convolutions by rows (CpuStridedBackwardData) ---------

    /**
     * One row of dx of a 3x3 convolution at stride 2 with padding 1, all {@code C} of its channels,
     * channels-last: for col in [0, width) and c in [0, C), {@code out[o + col*C + c]} gets the fma
     * chain from zero over co in [0, cout), then over the row's parts (the dy row at
     * {@code first} with the weights at {@code wFirst}; then, when {@code second >= 0}, the one at
     * {@code second} with {@code wSecond}), then over kj in [0, 3), of
     * {@code dy[part + co*plane + j] * w[wPart + co*9*C + kj*C + c]} for the j with
     * {@code 2j + kj - 1 = col} and {@code 0 <= j < (width + 1) / 2} (the dy row's width); taps
     * without such a j are left out (products with zero, which would leave the chain as it is). A
     * part is one kernel row ki of one dy row; {@code w} holds the weights as
     * {@code [co][ki][kj][c]}, so {@code wPart = ki*3*C}. Each dy value is broadcast once for its
     * three taps (columns 2j - 1, 2j, 2j + 1). The same fmas in the same order on every path.
     */
    abstract void stridedBackwardRow(float[] dy, int first, int second, int plane, int cout, float[] w, int wFirst, int wSecond,
                                     int width, int channels, float[] out, int o);

    /**
     * Whether {@link #stridedBackwardRow} has a vector kernel of its own for rows of {@code width}
     * pixels of {@code channels} channels: 14 pixels of one lane group (the small ResNet's 16 -> 32
     * at 512 bits) or 7 of two (its 32 -> 64), 14 accumulator vectors either way.
     */
    static boolean stridedBackwardRowFits(int width, int channels) {
        return width == 14 && channels == LANES || width == 7 && channels == 2 * LANES;
    }

    // ---- direct convolution over output channels (CpuChannelVectorConv2d) ---------------------

    /**
     * One block of {@code P = }{@link CpuChannelVectorConv2d#pixels}{@code (vectors)} output pixels
     * times {@code VL = vectors * LANES} output channels ({@code vectors} 1, 2 or 4), pixels
     * {@code step} (1 or 2) floats apart: for p in [0, P) and c in [0, VL), {@code tile[p*VL + c]}
     * gets the fma chain from zero over r in [0, k) of {@code w[wo + r*VL + c] * xp[at + off[r] + p*step]}.
     * {@code taps3} says that the terms come in kernel rows of three taps at consecutive offsets
     * ({@code off[r+1] = off[r] + 1} and {@code off[r+2] = off[r] + 2} for r a multiple of 3, k too),
     * which lets a kernel reuse each input for three taps. The same fmas in the same order on every
     * path, so the same bits.
     */
    abstract void channelConvBlock(float[] xp, int at, int[] off, int k, float[] w, int wo, int vectors, int step, boolean taps3, float[] tile);

    /**
     * {@link #channelConvBlock} for a whole output row read from the unpadded input, with kernel
     * rows of three taps and one column of padding on each side, in four shapes ({@code vectors}
     * as {@link CpuChannelVectorConv2d#pixels} has them, {@code step}): 1 vector of 14 pixels at
     * step 1; 2 vectors of 7 pixels at step 1 and at step 2; 4 vectors of 4 pixels at step 2.
     * {@code at + off[r]} is the input at column kj of term
     * r = (c, ki, kj)'s row ({@code off[r+1] = off[r] + 1} within a kernel row, as for
     * {@code taps3}), and pixel p's tap kj reads {@code x[at + off[r] + p*step - 1]}, column
     * {@code p*step + kj - 1}. The taps that would read column -1 (the first pixel's first) and,
     * but for 2 vectors at step 2, the column past the row (the last pixel's third: rows of 14, 7
     * and 7 inputs; 7 pixels at step 2 read inside a row of 14) are left out: products with zero,
     * so the bits are {@link #channelConvBlock}'s over a zero-padded copy.
     */
    abstract void channelConvRow(float[] x, int at, int[] off, int k, float[] w, int wo, int vectors, int step, float[] tile);

    /**
     * A block's tile of {@link #channelConvBlock} out, channels-last, with the bias and the relu:
     * for q in [0, count) and c in [0, VL), {@code out[o + q*stride + c]} = {@code tile[q*VL + c]},
     * plus {@code bias[b0 + c]} when bias is not null (a float add), then with {@code relu} 0 where
     * that is {@code <= 0} (the bits of {@code Math.max(v, 0f)}: NaN kept, -0 to +0). Writes nothing
     * else: a pixel's VL channels are contiguous runs, so the vector path stores whole vectors
     * (the transposition into NCHW planes is left to {@link #channelsLastToPlanes}, once per task).
     */
    abstract void channelConvStore(float[] tile, int vectors, int count, float[] bias, int b0, boolean relu, float[] out, int o, int stride);

    /**
     * A channels-last block into planes: {@code dst[d + c*planeStride + q] = src[s + q*cols + c]}
     * for q in [0, rows) and c in [0, cols); writes nothing else ({@link #transpose} with rows
     * {@code cols} apart).
     */
    final void channelsLastToPlanes(float[] src, int s, int rows, int cols, float[] dst, int d, int planeStride) {
        transpose(src, s, cols, rows, cols, dst, d, planeStride);
    }

    /**
     * A transposed copy: {@code dst[d + c*dstStride + q] = src[s + q*srcStride + c]} for q in
     * [0, rows) and c in [0, cols); writes nothing else. Values only move, so every path gives the
     * same bits. The vector path transposes L x L blocks in registers, at either width, the rows
     * and columns past the whole blocks as one more block overlapping the last (the same values
     * written twice), and by scalar loops only where rows or cols is below L.
     */
    abstract void transpose(float[] src, int s, int srcStride, int rows, int cols, float[] dst, int d, int dstStride);

    // ---- batch norm over a channel's rows (CpuNormalization) --------------------------------

    /**
     * A channel's batch-norm statistics over its {@code rows} rows of {@code inner} values, row r
     * at {@code x[base + r*stride ...]}, onto {@link #NORM_PARTIALS} double partial sums: with
     * {@code d = (double) x - shift}, element j of a row adds d to {@code acc[j % 16]} and d*d
     * (rounded, then added) to {@code acc[16 + j % 16]}. Order: first the whole groups of 16 of
     * every row (rows in order, a row's groups in order), then each row's last {@code inner % 16}
     * values as one more group whose missing lanes add +0 (rows in order). shift is a float, so
     * {@code x - shift} of a missing lane is exactly +0. The same roundings in the same order on
     * every path and width. One call per channel: the vector path keeps the partials in registers
     * across rows, where a call per row stored and reloaded them and added its tail serially.
     */
    abstract void normChannelStatistics(float[] x, int base, int rows, int stride, int inner, float shift, double[] acc);

    /**
     * A channel's batch-norm backward sums, rows and order as {@link #normChannelStatistics}: g to
     * {@code acc[j % 16]} and {@code g * (x - mean)} to {@code acc[16 + j % 16]}, the difference
     * rounded in float (the product is exact in double, so fused or not it rounds once, at the
     * add), where g is dy, or with {@code reluOutput} not null {@code reluOutput > 0 ? dy : 0}
     * (the relu's backward); a missing lane of a tail group adds g = +0 times +0.
     */
    abstract void normChannelBackwardSums(float[] x, float[] dy, float[] reluOutput, int base, int rows, int stride, int inner,
                                          float mean, double[] acc);

    /**
     * A channel's batch-norm output, rows as {@link #normChannelStatistics}:
     * {@code y = (x - mean) * scale + shift}, each step rounded in float (no fused multiply-add),
     * then with {@code relu} {@code Math.max(v, 0f)} (NaN kept, -0 to +0). y may be x.
     */
    abstract void normChannelNormalize(float[] x, float[] y, int base, int rows, int stride, int inner, float mean, float scale,
                                       float shift, boolean relu);

    /**
     * A channel's batch-norm dx, rows as {@link #normChannelStatistics}:
     * {@code dx = k * (g - a - (x - mean) * b)}, rounded as written (no fused multiply-add), g as
     * in {@link #normChannelBackwardSums}. dx may be dy.
     */
    abstract void normChannelDx(float[] x, float[] dy, float[] reluOutput, float[] dx, int base, int rows, int stride, int inner,
                                float mean, float k, float a, float b);

    // ---- backward-filter over channels-last input (CpuChannelVectorFilter) ------------------

    /**
     * One register tile of {@link CpuChannelVectorFilter}: for the tile's {@code
     * CpuChannelVectorFilter.rows(groups)} rows r (output channels, whose dy values lie at
     * {@code dyStart[d] + rows[r]}) and {@code groups} (1, 2 or 3) lane groups of dw^T's columns
     * from group {@code g0}, {@code tile[r*groups*LANES + g*LANES + l]} = the sum over d in
     * [d0, d1) of {@code xc[xStart[d] + groupStart[g0 + g] + l] * dy[dyStart[d] + rows[r]]}, one fma
     * chain from zero in order of d per element, so every path gives the same bits.
     */
    abstract void channelFilterTile(float[] xc, int[] xStart, int[] groupStart, int g0, int groups, float[] dy, int[] dyStart, int[] rows, int d0, int d1, float[] tile);

    // ---- direct convolution over gathered taps (CpuStridedDirectConv2d) -----------------------

    /**
     * One sample's backward-filter terms of one output channel into lane partial sums: for r in
     * [0, k) and j in [0, p) in increasing order, {@code acc[accOff + r*LANES + j % LANES] =
     * fma(dy[dyo + j], col[colOff + r*p + j], acc[...])}. The same bits on every path (LANES is the vector
     * path's when it runs).
     */
    abstract void directTapsFilter(float[] dy, int dyo, float[] col, int colOff, int p, int k, float[] acc, int accOff);

}
