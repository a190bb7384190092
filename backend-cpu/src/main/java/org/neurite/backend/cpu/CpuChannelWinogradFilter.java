package org.neurite.backend.cpu;

import java.util.Arrays;
import org.neurite.backend.Conv2dGeometry;

/**
 * The filter gradient of the layers {@link CpuChannelWinograd} runs (3x3, stride 1, 32 to 64
 * channels: the small ResNet's 32 -> 32 and 64 -> 64), by F(4x4, 3x3) computed channels-last,
 * the transpose of that forward:
 * <pre>
 *   V[tile][36][Cin]    = B^T d B of x's tiles, as the forward ({@link CpuChannelWinograd#transformSample})
 *   Y[tile][36][Cout]   = A dY A^T of dy's 4x4 tiles (0 past the output), dy transposed channels-last per sample
 *   dU[36][Cin][Cout]   = sum over all tiles of V[tile][p]^T Y[tile][p], per position p
 *   dw[Cout][Cin][3][3] = G^T dU G per (co, ci), in float over vectors of output channels, then transposed
 * </pre>
 * Three passes, each split over the workers: the samples' V and Y (each sample's tiles are its
 * own), the 36 positions' dU (each position's sums one task's: a register tile of 8 input
 * channels by one or two vectors of output channels, its fma chains over every tile of the
 * batch in order), and the input channels' dw. So the bits do not depend on the thread count.
 * Why: the tile-wise filter gradient of {@link CpuWinogradFilter} multiplies per block of
 * samples and adds the blocks' partial dU, and transforms dU pair by pair in double (a quarter
 * of the 64 -> 64 layer's gradient at batch 32); here the products are the only large part.
 * The error is F(4x4, 3x3)'s, against the definition in double ({@code CpuChannelWinogradFilterTest}).
 */
final class CpuChannelWinogradFilter {
    /** The system property that turns this path off ({@code false}); anything else, or nothing, leaves it on. */
    static final String PROPERTY = "neurite.cpu.channelwinogradfilter";
    /** Whether backends of this JVM take it where {@link #applies} (the property, read once, and the forward's). */
    static final boolean ENABLED = CpuChannelWinograd.ENABLED && CpuSwitch.isOn(PROPERTY, "the channels-last Winograd filter gradient");
    /** Most floats of the batch's V and Y together (32 MiB): larger batches keep the other paths. */
    static final long MAX_FLOATS = 1L << 23;
    private static final long PARALLEL_MIN_FLOPS = 1L << 18;

    private final CpuThreads threads;
    private final CpuKernels[] kernels; // per worker
    private final float[][] padded, samples, gradients; // per worker: xp, x's sample channels-last, dy's sample channels-last
    private float[] transformed = new float[0], expanded = new float[0], du = new float[0], dwt = new float[0]; // V, Y, dU, dw as [ci][9][co]
    private final TileLoop tileLoop = new TileLoop();
    private final PositionLoop positionLoop = new PositionLoop();
    private final GradientLoop gradientLoop = new GradientLoop();

    CpuChannelWinogradFilter(CpuThreads threads, CpuKernels.Path path) {
        this.threads = threads;
        this.kernels = path.perWorker(threads.size());
        this.padded = new float[threads.size()][];
        this.samples = new float[threads.size()][];
        this.gradients = new float[threads.size()][];
    }

    /** Where the forward takes {@link CpuChannelWinograd}, with input channels in groups of 8 and the batch's V and Y within {@link #MAX_FLOATS}. */
    static boolean applies(Conv2dGeometry g) {
        long tiles = (long) g.batch() * CpuChannelWinograd.tilesH(g) * CpuChannelWinograd.tilesW(g);
        return ENABLED && CpuChannelWinograd.applies(g) && g.inChannels() % 8 == 0
                && tiles * 36 * (g.inChannels() + g.outChannels()) <= MAX_FLOATS;
    }

    /** dw = the gradient of conv(x, w) with respect to w, given dy; {@link #applies} must hold. */
    void backwardFilter(Conv2dGeometry g, float[] x, float[] dy, float[] dw) {
        int cin = g.inChannels(), cout = g.outChannels(), tiles = g.batch() * CpuChannelWinograd.tilesH(g) * CpuChannelWinograd.tilesW(g);
        if (transformed.length < tiles * 36 * cin) transformed = new float[tiles * 36 * cin];
        if (expanded.length < tiles * 36 * cout) expanded = new float[tiles * 36 * cout];
        if (du.length < 36 * cin * cout) du = new float[36 * cin * cout];
        if (dwt.length < 9 * cin * cout) dwt = new float[9 * cin * cout];
        int parts = g.flops() < PARALLEL_MIN_FLOPS ? 1 : threads.size();
        tileLoop.execute(g, x, dy, parts);
        positionLoop.execute(g, tiles, parts);
        gradientLoop.execute(g, parts);
        kernels[0].transpose(dwt, 0, cout, cin * 9, cout, dw, 0, cin * 9); // [ci][9][co] -> [co][ci][3][3]
    }

    /** Per sample, claimed: V of x's tiles and Y of dy's. */
    private final class TileLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] x, dy;

        synchronized void execute(Conv2dGeometry g, float[] x, float[] dy, int parts) {
            this.g = g;
            this.x = x;
            this.dy = dy;
            try {
                threads.runClaimed(g.batch(), parts, this);
            } finally {
                this.g = null;
                this.x = this.dy = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            Conv2dGeometry g = this.g;
            int cin = g.inChannels(), cout = g.outChannels(), ho = g.outHeight(), wo = g.outWidth(), outPlane = ho * wo;
            int th = CpuChannelWinograd.tilesH(g), tw = CpuChannelWinograd.tilesW(g), perSample = th * tw;
            int size = CpuChannelWinograd.paddedFloats(g);
            float[] xp = CpuThreads.scratch(padded, worker, size);
            float[] sample = CpuThreads.scratch(samples, worker, cin * g.height() * g.width());
            float[] dyc = CpuThreads.scratch(gradients, worker, cout * outPlane);
            Arrays.fill(xp, 0, size, 0f); // the border stays zero: each sample writes the interior only
            CpuKernels kernel = kernels[worker];
            float[] v = transformed, m = expanded;
            for (int n = begin; n < end; n++) {
                CpuChannelWinograd.transformSample(kernel, g, x, n, sample, xp, v, n * perSample);
                kernel.transpose(dy, n * cout * outPlane, outPlane, cout, outPlane, dyc, 0, cout);
                for (int a = 0; a < th; a++) {
                    for (int b = 0; b < tw; b++) {
                        kernel.winogradChannelsGradient(dyc, (4 * a * wo + 4 * b) * cout, wo * cout, cout, Math.min(4, ho - 4 * a),
                                Math.min(4, wo - 4 * b), m, (n * perSample + a * tw + b) * 36 * cout);
                    }
                }
            }
        }
    }

    /** Per position, claimed: dU[p] over every tile. */
    private final class PositionLoop implements CpuThreads.RangeTask {
        private int cin, cout, tiles;

        synchronized void execute(Conv2dGeometry g, int tiles, int parts) {
            this.cin = g.inChannels();
            this.cout = g.outChannels();
            this.tiles = tiles;
            threads.runClaimed(36, parts, this);
        }

        @Override
        public void run(int worker, int begin, int end) {
            for (int p = begin; p < end; p++) {
                kernels[worker].winogradChannelsFilterProducts(transformed, expanded, tiles, cin, cout, p, du, p * cin * cout);
            }
        }
    }

    /** Per range of input channels: dw's taps from dU. */
    private final class GradientLoop implements CpuThreads.RangeTask {
        private int cin, cout;

        synchronized void execute(Conv2dGeometry g, int parts) {
            this.cin = g.inChannels();
            this.cout = g.outChannels();
            threads.run(cin, parts, this);
        }

        @Override
        public void run(int worker, int begin, int end) {
            kernels[worker].winogradChannelsFilterGradient(du, cin, cout, begin, end, dwt);
        }
    }

    /**
     * {@link CpuKernels#winogradChannelsGradient} of one channel for the plain path: {@code d} the
     * 4x4 block (row-major, zeros past the output), Y's position p to {@code m[mo + p*stride]}. Per
     * row, {@link CpuWinogradFilter#expand4} into Y's rows 0, 1, 2 and 5 at that row's columns;
     * then per column, the same down rows 0, 1, 2, 5 into rows 0 to 5, as
     * {@link CpuWinogradFilter#gradientTiles4} does lane-wise over tiles.
     */
    static void gradientTile(float[] d, float[] m, int mo, int stride) {
        for (int r = 0; r < 4; r++) {
            int row = r == 3 ? 5 : r;
            CpuWinogradFilter.expand4(d, 4 * r, 4 * r + 1, 4 * r + 2, 4 * r + 3, 0, 1, m, mo + 6 * row * stride, stride);
        }
        for (int c = 0; c < 6; c++) {
            int o = mo + c * stride, s = 6 * stride;
            CpuWinogradFilter.expand4(m, o, o + s, o + 2 * s, o + 5 * s, 0, 1, m, o, s);
        }
    }

    /** 1/6 and 1/24 as floats: multiplies, as the tile-wise path's doubles. */
    static final float SIXTH = 1f / 6, TWENTY_FOURTH = 1f / 24;

    /**
     * dg = G^T dU G of one (co, ci) pair in float: dU's position p at {@code du[at + p*ps]}, tap
     * {@code 3i + j} to {@code dwt[o + (3i + j)*os]}. As {@link CpuWinogradFilter#pairG4} (G the
     * 6x3 {@code diag(f) V}): each row of dU scaled by f and times V (the r values), then each
     * column of that the same way (the v values), in float, each operation rounded; {@code r}
     * holds the 18 r values.
     */
    static void pairGradient(float[] du, int at, int ps, float[] dwt, int o, int os, float[] r) {
        for (int a = 0; a < 6; a++) {
            int i = at + 6 * a * ps;
            float w0 = du[i] * 0.25f, w1 = -du[i + ps] * SIXTH, w2 = -du[i + 2 * ps] * SIXTH;
            float w3 = du[i + 3 * ps] * TWENTY_FOURTH, w4 = du[i + 4 * ps] * TWENTY_FOURTH, w5 = du[i + 5 * ps];
            r[3 * a] = w0 + w1 + w2 + w3 + w4;
            r[3 * a + 1] = w1 - w2 + 2f * (w3 - w4);
            r[3 * a + 2] = w1 + w2 + 4f * (w3 + w4) + w5;
        }
        for (int j = 0; j < 3; j++) {
            float v0 = r[j] * 0.25f, v1 = -r[3 + j] * SIXTH, v2 = -r[6 + j] * SIXTH;
            float v3 = r[9 + j] * TWENTY_FOURTH, v4 = r[12 + j] * TWENTY_FOURTH, v5 = r[15 + j];
            dwt[o + j * os] = v0 + v1 + v2 + v3 + v4;
            dwt[o + (3 + j) * os] = v1 - v2 + 2f * (v3 - v4);
            dwt[o + (6 + j) * os] = v1 + v2 + 4f * (v3 + v4) + v5;
        }
    }
}
