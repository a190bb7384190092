package org.neurite.backend.cpu;

import java.util.Arrays;
import org.neurite.backend.Conv2dGeometry;

/**
 * Winograd F(4x4, 3x3) for 3x3, stride-1 layers on 32 to 64 channels (the small ResNet's 32 -> 32
 * on 7x7 and 64 -> 64 on 4x4), computed channels-last: the same transforms as
 * {@link CpuWinogradConv2d}'s F(4x4, 3x3) (its {@code inputTransform6}, {@code outputTransform4}),
 * lane-wise over channels instead of over tiles, its filter transform in float over vectors of
 * output channels ({@link #filterPair}), and the 36 per-position products as register tiles
 * instead of GEMM calls.
 * <pre>
 *   xp[Hp][Wp][Cin]          one sample, zero-padded, channels-last (Hp = 4 tilesH + 2, Wp = 4 tilesW + 2)
 *   V[tile][36][Cin]         = B^T d B of each tile's 6x6 block, a vector of channels at a time
 *   M[tile][36][Cout]        = U[p] V[tile][p] for each position p, U[p] = [Cin][Cout] (once per weights)
 *   out[Ho*Wo][Cout]         = A^T M A (+ bias, relu), the tile's 4x4 outputs clipped to the map
 *   y[n][Cout][Ho][Wo]       the sample's outputs transposed into planes (+ residual, relu)
 * </pre>
 * Why: on maps of one to four tiles a sample the tile-wise F(4x4, 3x3) multiplies [Cout x Cin]
 * by [Cin x tiles] matrices only a few tiles wide, and the direct kernel of
 * {@link CpuChannelVectorConv2d} runs all 144 multiplies per 16 outputs and channel pair that
 * Winograd does in 36. Here each position's products are register tiles of
 * {@link CpuKernels#WINOGRAD_TILE_GROUP} tiles by one or two vectors of output channels over the
 * input channels (a broadcast of V per one or two fmas), the transforms vector adds over
 * channels, with no transposition between them; the NCHW input is transposed once per sample
 * ({@link CpuKernels#transpose}) and the output once ({@link CpuKernels#channelsLastToPlanes}), as
 * the direct kernel does. Measured (one thread, AMD EPYC Zen 4, forward with relu, ms a call):
 * 32 -> 32 on 7x7 1.41-1.47 against the channel-vector kernel's 1.92 at batch 256, 0.18 against
 * 0.24 at 32; 64 -> 64 on 4x4 1.05 against the tile-wise F(4x4, 3x3)'s 1.58 at 256, 0.14 against
 * 0.18 at 32; at 256 bits 1.16-1.56x. On 16 -> 16 (14x14) it ran even with the channel-vector
 * kernel at 512 bits and 0.95x at 256: with one vector of output channels every fma needs a
 * broadcast of its own, and the two transpositions cost as much as the multiplies saved; the rule
 * leaves that layer to the direct kernel.
 *
 * <p>Tasks are blocks of whole samples ({@link #samplesPerTask}: enough tiles for a group),
 * claimed by the workers; U is transformed once per weights and remembered
 * ({@link CpuWeightMemo}). Bits: each output is the same float operations in the same order
 * whatever the task, worker or kernel path (the transforms are fixed sequences of float
 * operations, each M element one fma chain over ci from +0), so the result does not depend on
 * the thread count or the path. It differs from the direct convolution by F(4x4, 3x3)'s
 * rounding, bounded as {@link CpuWinogradConv2d}'s ({@code CpuChannelWinogradTest}).
 */
final class CpuChannelWinograd {
    /** The system property that turns this kernel off ({@code false}); anything else, or nothing, leaves it on. */
    static final String PROPERTY = "neurite.cpu.channelwinograd";
    /** Whether backends of this JVM use it where {@link #applies} (the property, read once, and Winograd's). */
    static final boolean ENABLED = CpuWinogradConv2d.ENABLED && CpuSwitch.isOn(PROPERTY, "the channels-last Winograd convolution");
    /** Fewest channels in and out {@link #applies} takes (16 -> 16 ran even with the direct kernel: see the class comment). */
    static final int MIN_CHANNELS = 32;
    /** Most channels in and out {@link #applies} takes, the widest measured: wider layers keep the tile-wise F(4x4, 3x3) and its GEMMs. */
    static final int MAX_CHANNELS = 64;
    /** Most floats of one sample's padded input, transformed tiles and outputs (8 MiB per worker). */
    static final int MAX_SAMPLE_FLOATS = 1 << 21;
    /** Layers whose transformed filters are remembered, as {@link CpuChannelVectorConv2d#MEMO_ENTRIES} (inference folds batch norms per piece). */
    static final int MEMO_ENTRIES = 32;
    private static final long PARALLEL_MIN_FLOPS = 1L << 18;
    private static final int GROUP = CpuKernels.WINOGRAD_TILE_GROUP;

    private final CpuThreads threads;
    private final CpuKernels[] kernels; // per worker
    // Per worker, grow-only (CpuThreads.scratch): one sample padded channels-last (xp), the sample
    // channels-last unpadded [H*W][Cin], V and M of a task's tiles (whole groups), one sample's
    // outputs channels-last [Ho*Wo][Cout].
    private final float[][] padded, samples, transformed, products, outputs;
    private final CpuWeightMemo<float[][]> filters = new CpuWeightMemo<>(MEMO_ENTRIES, CpuChannelWinograd::emptyPositions);
    private float[][] u; // the current call's U[36][Cin*Cout]
    private float[] rearranged = new float[0]; // the kernels as wt[Cin][9][Cout] while U is transformed, grow-only
    private final ForwardLoop forwardLoop = new ForwardLoop();

    CpuChannelWinograd(CpuThreads threads, CpuKernels.Path path) {
        this.threads = threads;
        this.kernels = path.perWorker(threads.size());
        int workers = threads.size();
        this.padded = new float[workers][];
        this.samples = new float[workers][];
        this.transformed = new float[workers][];
        this.products = new float[workers][];
        this.outputs = new float[workers][];
    }

    private static float[][] emptyPositions() {
        float[][] positions = new float[36][];
        Arrays.fill(positions, new float[0]);
        return positions;
    }

    /**
     * Whether {@link #forward} computes this geometry: a 3x3 kernel, stride and dilation 1, one
     * group, channels in and out in whole lane groups, a non-empty output, and one sample's
     * scratch within {@link #MAX_SAMPLE_FLOATS}.
     */
    static boolean supports(Conv2dGeometry g) {
        if (g.kernelH() != 3 || g.kernelW() != 3 || g.strideH() != 1 || g.strideW() != 1 || g.dilationH() != 1 || g.dilationW() != 1
                || g.groups() != 1 || g.inChannels() % CpuKernels.LANES != 0 || g.outChannels() % CpuKernels.LANES != 0
                || g.outHeight() <= 0 || g.outWidth() <= 0 || g.batch() <= 0) {
            return false;
        }
        return taskFloats(g) <= MAX_SAMPLE_FLOATS;
    }

    /**
     * Whether {@link CpuConv2d} takes this kernel for the geometry: one it {@linkplain #supports
     * supports} with {@link #MIN_CHANNELS} to {@link #MAX_CHANNELS} channels in and out, unless
     * turned off ({@link #ENABLED}).
     */
    static boolean applies(Conv2dGeometry g) {
        return ENABLED && supports(g) && g.inChannels() >= MIN_CHANNELS && g.outChannels() >= MIN_CHANNELS
                && g.inChannels() <= MAX_CHANNELS && g.outChannels() <= MAX_CHANNELS;
    }

    static int tilesH(Conv2dGeometry g) {
        return CpuGemm.ceilDiv(g.outHeight(), 4);
    }

    static int tilesW(Conv2dGeometry g) {
        return CpuGemm.ceilDiv(g.outWidth(), 4);
    }

    /** Floats of the padded channels-last sample: {@code (4 tilesH + 2) x (4 tilesW + 2) x Cin}. */
    static int paddedFloats(Conv2dGeometry g) {
        return (4 * tilesH(g) + 2) * (4 * tilesW(g) + 2) * g.inChannels();
    }

    /** Samples per task: enough for a group of tiles, so the products' register tiles are full. */
    static int samplesPerTask(Conv2dGeometry g) {
        return Math.max(1, CpuGemm.ceilDiv(GROUP, tilesH(g) * tilesW(g)));
    }

    /** The tiles of a task's V and M: its samples' tiles in whole groups. */
    private static int taskTiles(Conv2dGeometry g) {
        return CpuGemm.roundUp(samplesPerTask(g) * tilesH(g) * tilesW(g), GROUP);
    }

    /** A worker's floats for a task of {@link #samplesPerTask} samples (padded input, its transposed copy, V, M, outputs). */
    private static long taskFloats(Conv2dGeometry g) {
        long tiles = taskTiles(g);
        return paddedFloats(g) + (long) g.inChannels() * g.height() * g.width() + tiles * 36 * (g.inChannels() + g.outChannels())
                + (long) g.outHeight() * g.outWidth() * g.outChannels();
    }

    /** y = conv(x, w) + bias (+ residual, y's shape, or null), then with {@code relu} y = max(y, 0). */
    void forward(Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] residual, boolean relu, float[] y) {
        prepareFilters(g, w, false);
        forwardLoop.execute(g, x, bias, residual, relu, y);
    }

    /**
     * The forward convolution of a stride-1 backward-data ({@link CpuConv2d}): {@code g} is the
     * transposed geometry and the kernel {@code w[ci, co]} of the layer turned by half a turn, read
     * by the filter transform from the layer's own weights.
     */
    void forwardTransposed(Conv2dGeometry g, float[] dy, float[] w, float[] dx) {
        prepareFilters(g, w, true);
        forwardLoop.execute(g, dy, null, null, false, dx);
    }

    /**
     * Points {@link #u} at U for these weights: remembered while w holds the values it came from,
     * else transformed now: the kernels rearranged output channels innermost ({@code wt[ci][3a + b][co]},
     * turned by half a turn when {@code transposed}), then {@link CpuKernels#winogradChannelsFilters}
     * a vector of output channels at a time. In training the weights change every step, so each
     * layer's forward and backward-data transform them once a step: 64 -> 64 pair by pair in
     * double (as the tile-wise F(4x4, 3x3) does) took 0.09 ms a call, as long as a third of the
     * layer's forward at batch 32.
     */
    private void prepareFilters(Conv2dGeometry g, float[] w, boolean transposed) {
        int cin = g.inChannels(), cout = g.outChannels();
        CpuWeightMemo.Entry<float[][]> memo = filters.find(g, transposed ? 1 : 0, w, cout * cin * 9);
        u = memo.prepared;
        if (memo.current()) return;
        for (int p = 0; p < 36; p++) {
            if (u[p].length < cin * cout) u[p] = new float[cin * cout];
        }
        if (rearranged.length < cin * 9 * cout) rearranged = new float[cin * 9 * cout];
        float[] wt = rearranged;
        CpuKernels kernel = kernels[0]; // no worker runs while the filters are prepared
        if (transposed) {
            // the layer's w[Cout][Cin][3][3] is w'[ci][co] here: g'_ab = w[ci][co][2 - a][2 - b]
            for (int ci = 0; ci < cin; ci++) {
                for (int co = 0; co < cout; co++) {
                    int from = (ci * cout + co) * 9 + 8, to = ci * 9 * cout + co;
                    for (int ab = 0; ab < 9; ab++) wt[to + ab * cout] = w[from - ab];
                }
            }
        } else {
            kernel.transpose(w, 0, cin * 9, cout, cin * 9, wt, 0, cout);
        }
        kernel.winogradChannelsFilters(wt, cin, cout, u);
        memo.remember(w);
    }

    /**
     * F(4x4, 3x3)'s {@code f_a f_b} ({@link CpuWinogradConv2d}'s filter scales, {@code f = 1/4,
     * -1/6, -1/6, 1/24, 1/24, 1}) at {@code 6a + b}, rounded to float.
     */
    static final float[] FILTER_SCALES = filterScales();

    private static float[] filterScales() {
        double[] f = {1.0 / 4, -1.0 / 6, -1.0 / 6, 1.0 / 24, 1.0 / 24, 1};
        float[] scales = new float[36];
        for (int a = 0; a < 6; a++) {
            for (int b = 0; b < 6; b++) scales[6 * a + b] = (float) (f[a] * f[b]);
        }
        return scales;
    }

    /**
     * U = G g G^T (6x6) of one (co, ci) pair in float, for {@link CpuKernels#winogradChannelsFilters}:
     * {@code g_ab = wt[at + (3a + b)*stride]}, U's position p to {@code u[p][o]}. V g column by
     * column (rows {@code g0}, {@code (g0 + g2) + g1}, {@code (g0 + g2) - g1}, {@code (g0 + 4 g2) + 2 g1},
     * {@code (g0 + 4 g2) - 2 g1}, {@code g2}), then each row {@code (c0, c1, c2)} of it through V the
     * same way, times {@link #FILTER_SCALES}. The multiplies by 2 and 4 are exact; each sum and
     * the scale round once, a few float roundings per value where the tile-wise F(4x4, 3x3)
     * computes in double and rounds once (its bits therefore differ from this kernel's).
     */
    static void filterPair(float[] wt, int at, int stride, float[][] u, int o) {
        float g00 = wt[at], g01 = wt[at + stride], g02 = wt[at + 2 * stride];
        float g10 = wt[at + 3 * stride], g11 = wt[at + 4 * stride], g12 = wt[at + 5 * stride];
        float g20 = wt[at + 6 * stride], g21 = wt[at + 7 * stride], g22 = wt[at + 8 * stride];
        float e0 = g00 + g20, e1 = g01 + g21, e2 = g02 + g22;
        float q0 = g00 + g20 * 4f, q1 = g01 + g21 * 4f, q2 = g02 + g22 * 4f;
        float d0 = g10 * 2f, d1 = g11 * 2f, d2 = g12 * 2f;
        filterRow(u, o, 0, g00, g01, g02);
        filterRow(u, o, 1, e0 + g10, e1 + g11, e2 + g12);
        filterRow(u, o, 2, e0 - g10, e1 - g11, e2 - g12);
        filterRow(u, o, 3, q0 + d0, q1 + d1, q2 + d2);
        filterRow(u, o, 4, q0 - d0, q1 - d1, q2 - d2);
        filterRow(u, o, 5, g20, g21, g22);
    }

    private static void filterRow(float[][] u, int o, int a, float c0, float c1, float c2) {
        float even = c0 + c2, quadruple = c0 + c2 * 4f, odd = c1 * 2f;
        float[] f = FILTER_SCALES;
        int p = 6 * a;
        u[p][o] = c0 * f[p];
        u[p + 1][o] = (even + c1) * f[p + 1];
        u[p + 2][o] = (even - c1) * f[p + 2];
        u[p + 3][o] = (quadruple + odd) * f[p + 3];
        u[p + 4][o] = (quadruple - odd) * f[p + 4];
        u[p + 5][o] = c2 * f[p + 5];
    }

    /**
     * {@link CpuKernels#winogradChannelsInput} for the plain path: per channel, the row pass and
     * then the column pass of {@link CpuWinogradConv2d#inputTransform6}.
     */
    static void inputTile(float[] xp, int at, int rowStride, int channels, float[] v, int vo) {
        int c = channels, s = 6 * c;
        for (int a = 0; a < 6; a++) {
            int r = at + a * rowStride;
            CpuWinogradConv2d.inputTransform6(xp, r, r + c, r + 2 * c, r + 3 * c, r + 4 * c, r + 5 * c, 0, c, v, vo + a * s, c);
        }
        for (int b = 0; b < 6; b++) {
            int o = vo + b * c;
            CpuWinogradConv2d.inputTransform6(v, o, o + s, o + 2 * s, o + 3 * s, o + 4 * s, o + 5 * s, 0, c, v, o, s);
        }
    }

    /**
     * The two passes of {@link CpuKernels#winogradChannelsOutput} for the plain path, in place:
     * per row of M, {@link CpuWinogradConv2d#outputTransform4} into its first four positions; then
     * per column b in [0, cols), the same down the column, output row r to position {@code 6r + b}.
     */
    static void outputTile(float[] m, int mo, int cout, int cols) {
        int c = cout, s = 6 * c;
        for (int k = 0; k < 6; k++) {
            int r = mo + k * s;
            CpuWinogradConv2d.outputTransform4(m, r, r + c, r + 2 * c, r + 3 * c, r + 4 * c, r + 5 * c, 0, c, m, r, r + c, r + 2 * c, r + 3 * c);
        }
        for (int b = 0; b < cols; b++) {
            int o = mo + b * c;
            CpuWinogradConv2d.outputTransform4(m, o, o + s, o + 2 * s, o + 3 * s, o + 4 * s, o + 5 * s, 0, c, m, o, o + s, o + 2 * s, o + 3 * s);
        }
    }

    /**
     * V of sample n's tiles into {@code v} from tile {@code firstTile} on ({@code [tile][36][Cin]}):
     * the sample transposed to {@code [H*W][Cin]} in {@code sample}, its rows copied into the
     * interior of the padded channels-last {@code xp} (whose border must be zero: nothing else is
     * written there), then {@link CpuKernels#winogradChannelsInput} per tile.
     */
    static void transformSample(CpuKernels kernel, Conv2dGeometry g, float[] x, int n, float[] sample, float[] xp, float[] v, int firstTile) {
        int cin = g.inChannels(), h = g.height(), w = g.width(), plane = h * w, ph = g.padH(), pw = g.padW();
        int th = tilesH(g), tw = tilesW(g), wp = 4 * tw + 2, rowStride = wp * cin;
        kernel.transpose(x, n * cin * plane, plane, cin, plane, sample, 0, cin);
        // the padded rows and columns (4 tiles + 2 >= Ho + 2 = H + 2 pad) hold every input row and column
        for (int ih = 0; ih < h; ih++) System.arraycopy(sample, ih * w * cin, xp, ((ih + ph) * wp + pw) * cin, w * cin);
        for (int a = 0; a < th; a++) {
            for (int b = 0; b < tw; b++) kernel.winogradChannelsInput(xp, (4 * a * wp + 4 * b) * cin, rowStride, cin, v, (firstTile + a * tw + b) * 36 * cin);
        }
    }

    /** Claimed tasks of {@link #samplesPerTask} samples: transform, products, output per task. */
    private final class ForwardLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] x, bias, residual, y;
        private boolean relu;
        private int perTask;

        synchronized void execute(Conv2dGeometry g, float[] x, float[] bias, float[] residual, boolean relu, float[] y) {
            int perTask = this.perTask = samplesPerTask(g);
            int parts = g.flops() < PARALLEL_MIN_FLOPS ? 1 : threads.size();
            this.g = g;
            this.x = x;
            this.bias = bias;
            this.residual = residual;
            this.relu = relu;
            this.y = y;
            try {
                threads.runClaimed(CpuGemm.ceilDiv(g.batch(), perTask), parts, this);
            } finally {
                this.g = null;
                this.x = this.bias = this.residual = this.y = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            Conv2dGeometry g = this.g;
            int cin = g.inChannels(), cout = g.outChannels(), ho = g.outHeight(), wo = g.outWidth();
            int th = tilesH(g), tw = tilesW(g), tilesPerSample = th * tw, plane = g.height() * g.width(), outPlane = ho * wo;
            int size = paddedFloats(g), tiles = taskTiles(g);
            float[] xp = CpuThreads.scratch(padded, worker, size);
            float[] sample = CpuThreads.scratch(samples, worker, cin * plane);
            float[] v = CpuThreads.scratch(transformed, worker, tiles * 36 * cin);
            float[] m = CpuThreads.scratch(products, worker, tiles * 36 * cout);
            float[] out = CpuThreads.scratch(outputs, worker, outPlane * cout);
            Arrays.fill(xp, 0, size, 0f); // the border stays zero: each sample writes the interior only
            CpuKernels kernel = kernels[worker];
            float[][] u = CpuChannelWinograd.this.u;
            boolean storeRelu = relu && residual == null; // with a residual, the relu after it
            for (int task = begin; task < end; task++) {
                int n0 = task * perTask, samples = Math.min(perTask, g.batch() - n0);
                for (int i = 0; i < samples; i++) transformSample(kernel, g, x, n0 + i, sample, xp, v, i * tilesPerSample);
                kernel.winogradChannelsProducts(v, 0, samples * tilesPerSample, cin, u, cout, m, 0);
                for (int i = 0; i < samples; i++) {
                    int n = n0 + i;
                    for (int a = 0; a < th; a++) {
                        for (int b = 0; b < tw; b++) {
                            int rows = Math.min(4, ho - 4 * a), cols = Math.min(4, wo - 4 * b);
                            kernel.winogradChannelsOutput(m, ((i * tilesPerSample) + a * tw + b) * 36 * cout, cout, bias, storeRelu, rows, cols,
                                    out, (4 * a * wo + 4 * b) * cout, wo * cout);
                        }
                    }
                    kernel.channelsLastToPlanes(out, 0, outPlane, cout, y, n * cout * outPlane, outPlane);
                    if (residual != null) CpuChannelVectorConv2d.addResidual(kernel, residual, y, n * cout * outPlane, outPlane, cout, outPlane, relu);
                }
            }
        }
    }
}
