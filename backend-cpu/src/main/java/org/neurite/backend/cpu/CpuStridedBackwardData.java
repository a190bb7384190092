package org.neurite.backend.cpu;

import java.util.Arrays;
import org.neurite.backend.Conv2dGeometry;

/**
 * Backward-data of strided one-group convolutions (the small ResNet's 3x3 stride-2 block entries
 * and its 1x1 stride-2 shortcuts) by the sub-pixel (phase) decomposition, vectorised over the
 * <em>input</em> channels (dx's, in whole lane groups) on the channel-vector kernel
 * ({@link CpuKernels#channelConvBlock}).
 * <pre>
 *   dx[n, ci, ih, iw] = sum over (co, ki, kj) with ih + padH - ki = oh*sH, iw + padW - kj = ow*sW, 0 <= oh < Ho, 0 <= ow < Wo
 *                       of w[co, ci, ki, kj] * dy[n, co, oh, ow]
 * </pre>
 * The pixels of dx fall into {@code sH x sW} phases {@code (ih mod sH, iw mod sW)}. Tap ki reaches
 * exactly the rows of phase {@code (ki - padH) mod sH}, from dy row {@code oh = a + dh(ki)} for the
 * phase's row {@code a = ih div sH}, with {@code dh(ki) = (phase + padH - ki) / sH} (exact, maybe
 * negative); likewise kj for columns. Restricted to one phase, dx is therefore a stride-1
 * correlation of dy with that phase's taps: {@code K = Cout x taps} terms per pixel, each pixel's
 * terms at constant offsets from it, as the forward kernel wants. At stride 2 a 3x3 kernel leaves
 * 1, 2, 2 and 4 taps to the four phases; a 1x1 kernel one tap to phase (0, 0) and none (dx zero)
 * to the others.
 *
 * <p>Per sample, dy is copied once per kernel column kj (columns of equal width and shift share
 * a copy: at stride 2 and padding 1, kj = 1 and 2), shifted by {@code dw(kj)} columns and
 * cropped to the width {@code Wb} of kj's column phase, with zero rows and columns where it
 * reads outside dy ({@code copy[kj][co][row][b] = dy[co][rowLo + row][b + dw(kj)]}). Then a
 * phase's pixels {@code q = a*Wb + b} are consecutive in every copy it reads, so a block of
 * {@link CpuChannelVectorConv2d#pixels} pixels spans rows with no pixel wasted but the last
 * block's (on the 7x7 map of the 32 -> 64 layer, phases of 16, 12, 12 and 9 pixels; a padded
 * grid of dy would have computed 20 or 15 each). The weights are repacked once per call, per
 * phase, as {@code [Cin/VL][K][VL]} with the terms in (co, ki, kj) order. Each block's tile goes
 * through a table of the phase's dx pixels into the sample's dx laid out channels-last
 * ({@code [H*W][Cin]}, a pixel's channels one contiguous run), which is transposed into dx's
 * planes once the sample's phases are done ({@link CpuKernels#channelsLastToPlanes}); storing
 * each pixel's channels straight into the planes, {@code H*W} floats apart, took 16 -> 32 (dx
 * 16 x 14 x 14) 1.09x as long at batch 64 on one and on two threads, 32 -> 64 1.02-1.06x
 * (PairedKernels, paired). A kernel with phases no tap reaches (the 1x1 shortcuts: three of
 * four) zeroes the sample and stores straight into the planes, as a transposition would write
 * the zeros a second time (0.75-0.98x measured). Tasks are samples, claimed, or (sample, phase)
 * when samples are fewer than workers, which also store straight into the planes.
 *
 * <p><b>Rows.</b> A 3x3 kernel at stride 2 with padding 1 whose dx rows are 14 pixels of one lane
 * group or 7 of two (the small ResNet's 16 -> 32 and 32 -> 64 at 512 bits,
 * {@link CpuKernels#stridedBackwardRowFits}) runs instead as whole dx rows
 * ({@link CpuKernels#stridedBackwardRow}, samples claimed): the row's pixels times its channels
 * are 14 accumulator vectors, and per output channel co each dy value of the one or two dy rows
 * that reach the row is broadcast once for its three taps, where the phases broadcast it once
 * per term (14 fmas per weight vector and a broadcast each: some 45% of the fma peak). With
 * dy read where it lies and no copies, PairedKernels at batch 64 on one thread: 16 -> 32 2.06x,
 * 32 -> 64 1.85x. The same terms in the same order, so the same bits.
 *
 * <p>Bits: each dx element is one fma chain from zero over its phase's terms in (co, ki, kj)
 * order (with zeros where the tap falls outside dy), on every path and for any thread count;
 * the GEMM path (dcol = w^T dy, then col2im) adds per-tap chains instead, so the two differ by
 * float rounding. A dx element no tap reaches is +0.
 */
final class CpuStridedBackwardData {
    /** The system property that turns the strided passes off ({@code false}); anything else, or nothing, leaves them on. */
    static final String PROPERTY = "neurite.cpu.stridedconv";
    /** Whether backends of this JVM use them where {@link CpuConv2d} takes them (the property, read once). */
    static final boolean ENABLED = CpuSwitch.isOn(PROPERTY, "the strided convolutions' channel-vector passes");
    /** Most floats of one sample's shifted dy copies (8 MiB of scratch per worker, as the forward kernels'). */
    static final int MAX_SAMPLE_FLOATS = 1 << 21;
    /** Most input channels {@link CpuConv2d} gives it: the widest of the small ResNet's strided layers (32 -> 64). */
    static final int MAX_IN_CHANNELS = 32;
    /** Floats read past the last copy by a phase's last block (its dropped pixels), at most 14. */
    private static final int SLACK = 16;
    private static final long PARALLEL_MIN_FLOPS = 1L << 18;

    private final CpuThreads threads;
    private final CpuKernels[] kernels; // per worker
    private final float[][] copies; // per-worker shifted dy copies of a sample, grow-only
    private final float[][] tiles; // per-worker accumulator tile, grow-only
    private final float[][] channelsLast; // per-worker dx of one sample, channels-last [H*W][Cin], grow-only
    private final Plan plan = new Plan();
    private final BackwardDataLoop loop = new BackwardDataLoop();

    CpuStridedBackwardData(CpuThreads threads, CpuKernels.Path path) {
        this.threads = threads;
        this.kernels = path.perWorker(threads.size());
        this.copies = new float[threads.size()][];
        this.tiles = new float[threads.size()][];
        this.channelsLast = new float[threads.size()][];
    }

    /**
     * Whether {@link #backwardData} computes this geometry: one group, dilation 1, a stride above
     * 1 in some direction, input channels in whole lane groups, non-empty tensors, and one
     * sample's dy copies within {@link #MAX_SAMPLE_FLOATS}.
     */
    static boolean supports(Conv2dGeometry g) {
        if (g.groups() != 1 || g.dilationH() != 1 || g.dilationW() != 1 || (g.strideH() == 1 && g.strideW() == 1)) return false;
        if (g.inChannels() % CpuKernels.LANES != 0 || g.inChannels() == 0 || g.outChannels() == 0 || g.batch() == 0) return false;
        if (g.outHeight() <= 0 || g.outWidth() <= 0 || g.height() == 0 || g.width() == 0) return false;
        long rows = (g.height() - 1L + g.padH()) / g.strideH() + g.kernelH() + 2; // at least hi - lo + 1 (see Plan)
        long columns = (long) g.kernelW() * (CpuGemm.ceilDiv(g.width(), g.strideW()));
        return (long) g.outChannels() * rows * columns + SLACK <= MAX_SAMPLE_FLOATS;
    }

    /**
     * Whether {@link CpuConv2d} gives it a geometry's backward-data: one it {@linkplain #supports supports}
     * of the shapes measured faster than the GEMM path, a square 1x1 or 3x3 kernel at stride 2 with
     * at most {@link #MAX_IN_CHANNELS} input channels (the small ResNet's 3x3 block entries,
     * 1.4-2.1x, and 1x1 shortcuts, 1.1-1.6x, one thread, paired).
     */
    static boolean takes(Conv2dGeometry g) {
        boolean measured = g.kernelH() == g.kernelW() && (g.kernelH() == 1 || g.kernelH() == 3) && g.strideH() == 2 && g.strideW() == 2;
        return supports(g) && measured && g.inChannels() <= MAX_IN_CHANNELS;
    }

    /** dx = the gradient of conv(x, w) with respect to x, given dy; see the class comment. */
    void backwardData(Conv2dGeometry g, float[] dy, float[] w, float[] dx) {
        loop.execute(g, dy, w, dx);
    }

    /**
     * The decomposition of one geometry, computed once per call into grow-only tables: the phases'
     * sizes, term offsets into the copies, packed weights and dx pixel tables, and the copies'
     * placement; or, for a call that runs by rows ({@link #rowPath}), only the rows' weights.
     */
    private static final class Plan {
        int phases, vectors, pixels, rows, rowLo, copySize, copies;
        boolean emptyPhase; // some phase has no tap (its dx is zero)
        int[] phaseHeight = new int[0], phaseWidth = new int[0], terms = new int[0], weightStart = new int[0];
        int[][] offsets = new int[0][], dxPixel = new int[0][];
        int[] copyStart = new int[0], copyWidth = new int[0], copyShift = new int[0]; // per copy
        int[] copyOf = new int[0]; // kj -> its copy (kernel columns of the same width and shift share one)
        int[] gatherTo = new int[0], gatherFrom = new int[0]; // the values of the copies narrower than dy: copy index, dy index in the sample
        int gathers;
        float[] weights = new float[0];
        // This call runs by rows (see runRows): whole samples per task, a 3x3 kernel at stride 2 with
        // padding 1, dx rows that fit a row kernel. The phase tables are then not made.
        boolean rowPath;
        float[] rowWeights = new float[0]; // w as [co][ki][kj][ci], for the row kernel

        /** The plan of a call whose tasks are whole samples ({@code wholeSamples}) or (sample, phase) pairs. */
        void compute(Conv2dGeometry g, float[] w, boolean wholeSamples) {
            int sh = g.strideH(), sw = g.strideW(), kh = g.kernelH(), kw = g.kernelW(), ph = g.padH(), pw = g.padW();
            int h = g.height(), wd = g.width(), ho = g.outHeight(), cin = g.inChannels(), cout = g.outChannels();
            rowPath = wholeSamples && kh == 3 && kw == 3 && sh == 2 && sw == 2 && ph == 1 && pw == 1
                    && CpuKernels.stridedBackwardRowFits(wd, cin);
            if (rowPath) {
                if (rowWeights.length < cout * 9 * cin) rowWeights = new float[cout * 9 * cin];
                for (int co = 0, to = 0; co < cout; co++) {
                    for (int t = 0; t < 9; t++) {
                        for (int ci = 0, from = co * cin * 9 + t; ci < cin; ci++, from += 9) rowWeights[to++] = w[from];
                    }
                }
                return;
            }
            phases = sh * sw;
            vectors = vectors(cin);
            pixels = CpuChannelVectorConv2d.pixels(vectors);
            if (phaseHeight.length < phases) {
                phaseHeight = new int[phases];
                phaseWidth = new int[phases];
                terms = new int[phases];
                weightStart = new int[phases];
                offsets = Arrays.copyOf(offsets, phases);
                dxPixel = Arrays.copyOf(dxPixel, phases);
            }
            if (copyStart.length < kw) {
                copyStart = new int[kw];
                copyWidth = new int[kw];
                copyShift = new int[kw];
                copyOf = new int[kw];
            }
            // The rows of dy the copies hold: from the lowest to the highest dy row any phase reads.
            int lo = Integer.MAX_VALUE, hi = Integer.MIN_VALUE;
            for (int ki = 0; ki < kh; ki++) {
                int fr = Math.floorMod(ki - ph, sh), dh = (fr + ph - ki) / sh, height = CpuGemm.ceilDiv(Math.max(0, h - fr), sh);
                if (height == 0) continue;
                lo = Math.min(lo, dh);
                hi = Math.max(hi, height - 1 + dh);
            }
            rowLo = lo == Integer.MAX_VALUE ? 0 : lo;
            rows = lo == Integer.MAX_VALUE ? 0 : hi - lo + 1;
            int at = 0;
            copies = 0;
            for (int kj = 0; kj < kw; kj++) {
                int fc = Math.floorMod(kj - pw, sw), width = CpuGemm.ceilDiv(Math.max(0, wd - fc), sw), shift = (fc + pw - kj) / sw;
                int c = 0;
                while (c < copies && (copyWidth[c] != width || copyShift[c] != shift)) c++;
                if (c == copies) {
                    copyWidth[c] = width;
                    copyShift[c] = shift;
                    copyStart[c] = at;
                    at += cout * rows * width;
                    copies++;
                }
                copyOf[kj] = c;
            }
            copySize = at;
            // The copies narrower than dy, value by value (see fill).
            int ho0 = Math.max(0, -rowLo), ho1 = Math.min(rows, ho - rowLo), wo = g.outWidth();
            gathers = 0;
            for (int c = 0; c < copies; c++) {
                int width = copyWidth[c], shift = copyShift[c];
                if (width == wo) continue;
                int b0 = Math.min(width, Math.max(0, -shift)), b1 = Math.max(b0, Math.min(width, wo - shift));
                int size = gathers + cout * Math.max(0, ho1 - ho0) * (b1 - b0);
                if (gatherTo.length < size) {
                    gatherTo = Arrays.copyOf(gatherTo, size);
                    gatherFrom = Arrays.copyOf(gatherFrom, size);
                }
                for (int co = 0; co < cout; co++) {
                    for (int row = ho0; row < ho1; row++) {
                        for (int b = b0; b < b1; b++) {
                            gatherTo[gathers] = copyStart[c] + (co * rows + row) * width + b;
                            gatherFrom[gathers++] = (co * ho + rowLo + row) * wo + b + shift;
                        }
                    }
                }
            }
            int weightSize = 0;
            emptyPhase = false;
            for (int f = 0; f < phases; f++) {
                int fr = f / sw, fc = f % sw;
                phaseHeight[f] = CpuGemm.ceilDiv(Math.max(0, h - fr), sh);
                phaseWidth[f] = CpuGemm.ceilDiv(Math.max(0, wd - fc), sw);
                int tapRows = 0, tapColumns = 0;
                for (int ki = 0; ki < kh; ki++) if (Math.floorMod(ki - ph, sh) == fr) tapRows++;
                for (int kj = 0; kj < kw; kj++) if (Math.floorMod(kj - pw, sw) == fc) tapColumns++;
                int k = phaseHeight[f] == 0 || phaseWidth[f] == 0 ? 0 : cout * tapRows * tapColumns;
                terms[f] = k;
                emptyPhase |= k == 0;
                weightStart[f] = weightSize;
                weightSize += k * cin;
                if (offsets[f] == null || offsets[f].length < k) offsets[f] = new int[k];
                int p = phaseHeight[f] * phaseWidth[f];
                if (dxPixel[f] == null || dxPixel[f].length < p) dxPixel[f] = new int[p];
                for (int q = 0; q < p; q++) {
                    int a = q / phaseWidth[f], b = q % phaseWidth[f];
                    dxPixel[f][q] = (a * sh + fr) * wd + b * sw + fc;
                }
            }
            if (weights.length < weightSize) weights = new float[weightSize];
            int vl = vectors * CpuKernels.LANES;
            for (int f = 0; f < phases; f++) {
                if (terms[f] == 0) continue;
                int fr = f / sw, fc = f % sw, k = terms[f], r = 0;
                int[] off = offsets[f];
                for (int co = 0; co < cout; co++) {
                    for (int ki = 0; ki < kh; ki++) {
                        if (Math.floorMod(ki - ph, sh) != fr) continue;
                        int dh = (fr + ph - ki) / sh;
                        for (int kj = 0; kj < kw; kj++) {
                            if (Math.floorMod(kj - pw, sw) != fc) continue;
                            int copy = copyOf[kj];
                            off[r] = copyStart[copy] + (co * rows + dh - rowLo) * copyWidth[copy];
                            // wv[phase][ci block b][term r][lane c] = w[co][b*VL + c][ki][kj], w read kh*kw floats
                            // apart: no ci / VL or ci % VL per weight (VL is not a constant: an integer division
                            // each, on the calling thread while the workers wait)
                            int from = (co * cin * kh + ki) * kw + kj, step = kh * kw;
                            for (int b = 0; b < cin / vl; b++) {
                                int to = weightStart[f] + (b * k + r) * vl;
                                for (int c = 0; c < vl; c++, from += step) weights[to + c] = w[from];
                            }
                            r++;
                        }
                    }
                }
            }
        }

        /**
         * Sample n of dy into the copies, whose other values (rows and columns outside dy, and the
         * slack) are zero from {@link #clear}: {@code copy[kj][co][row][b] = dy[n, co, rowLo + row, b + dw(kj)]}.
         * A copy as wide as dy maps dy linearly, so each channel is one run, after which the few
         * columns that run carried in from the neighbouring rows are zeroed again; the values of
         * narrower copies go one by one through a table made once per call. Runs of single rows
         * (3 or 4 floats on the 32 -> 64 layer) took a third as long as the convolution's fmas.
         */
        void fill(Conv2dGeometry g, float[] dy, int n, float[] copy) {
            int cout = g.outChannels(), ho = g.outHeight(), wo = g.outWidth(), p = ho * wo;
            int rowFrom = Math.max(0, -rowLo), rowTo = Math.min(rows, ho - rowLo);
            if (rowFrom >= rowTo) return;
            for (int c = 0; c < copies; c++) {
                int width = copyWidth[c], shift = copyShift[c];
                int lo = Math.min(width, Math.max(0, -shift)), hi = Math.max(lo, Math.min(width, wo - shift));
                if (lo >= hi || width != wo) continue; // narrower copies: by the table below
                for (int co = 0; co < cout; co++) {
                    int d = copyStart[c] + (co * rows + rowFrom) * width, src = (n * cout + co) * p + (rowLo + rowFrom) * wo + shift;
                    System.arraycopy(dy, src + lo, copy, d + lo, (rowTo - 1 - rowFrom) * width + hi - lo);
                    for (int row = rowFrom; row < rowTo - 1; row++, d += width) {
                        for (int b = hi; b < width; b++) copy[d + b] = 0f;
                        for (int b = 0; b < lo; b++) copy[d + width + b] = 0f;
                    }
                }
            }
            int[] to = gatherTo, from = gatherFrom;
            for (int i = 0, s = n * cout * p; i < gathers; i++) copy[to[i]] = dy[s + from[i]];
        }

        /** Zeroes the copies and the slack; then each sample's {@link #fill} leaves the values outside dy zero. */
        void clear(float[] copy) {
            Arrays.fill(copy, 0, copySize + SLACK, 0f);
        }
    }

    /** Vectors of input channels per kernel call: 4, 2 or 1, the most that divides {@code Cin / LANES}. */
    static int vectors(int inChannels) {
        int nv = inChannels / CpuKernels.LANES;
        return nv % 4 == 0 ? 4 : nv % 2 == 0 ? 2 : 1;
    }

    /** Claimed tasks of samples, or of (sample, phase) when samples are fewer than workers. */
    private final class BackwardDataLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] dy, dx;
        private int split;

        synchronized void execute(Conv2dGeometry g, float[] dy, float[] w, float[] dx) {
            int parts = g.flops() < PARALLEL_MIN_FLOPS ? 1 : threads.size();
            this.split = g.batch() >= parts ? 1 : g.strideH() * g.strideW(); // tasks of (sample, phase) when samples are few
            plan.compute(g, w, split == 1);
            this.g = g;
            this.dy = dy;
            this.dx = dx;
            try {
                threads.runClaimed(g.batch() * split, parts, this);
            } finally {
                this.g = null;
                this.dy = this.dx = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            if (plan.rowPath) {
                runRows(g, dy, dx, worker, begin, end);
                return;
            }
            Conv2dGeometry g = this.g;
            Plan plan = CpuStridedBackwardData.this.plan;
            int cin = g.inChannels(), hw = g.height() * g.width(), lanes = CpuKernels.LANES;
            int v = plan.vectors, vl = v * lanes, pix = plan.pixels, blocks = cin / vl;
            float[] copy = CpuThreads.scratch(copies, worker, plan.copySize + SLACK);
            float[] tile = CpuThreads.scratch(tiles, worker, CpuGemm.roundUp(pix, lanes) * vl);
            float[] wv = plan.weights, dx = this.dx;
            CpuKernels kernel = kernels[worker];
            int phasesPerTask = plan.phases / split;
            plan.clear(copy);
            // A task of a whole sample whose phases all have taps gathers its dx channels-last and
            // transposes it into dx's planes at the end (see storeChannelsLast).
            float[] cl = split == 1 && !plan.emptyPhase ? CpuThreads.scratch(channelsLast, worker, hw * cin) : null;
            for (int t = begin; t < end; t++) {
                int n = t / split, f0 = t % split * phasesPerTask;
                plan.fill(g, dy, n, copy);
                if (cl != null) {
                    for (int f = 0; f < plan.phases; f++) {
                        int k = plan.terms[f], p = plan.phaseHeight[f] * plan.phaseWidth[f];
                        int[] off = plan.offsets[f], pixel = plan.dxPixel[f];
                        for (int b = 0; b < blocks; b++) {
                            int wo = plan.weightStart[f] + b * k * vl;
                            for (int q0 = 0; q0 < p; q0 += pix) {
                                kernel.channelConvBlock(copy, q0, off, k, wv, wo, v, 1, false, tile);
                                storeChannelsLast(tile, vl, Math.min(pix, p - q0), pixel, q0, cl, cin, b * vl);
                            }
                        }
                    }
                    kernel.channelsLastToPlanes(cl, 0, hw, cin, dx, n * cin * hw, hw);
                    continue;
                }
                // A whole sample with a phase no tap reaches: zero it in one pass, then the other phases.
                boolean zeroed = split == 1 && plan.emptyPhase;
                if (zeroed) Arrays.fill(dx, n * cin * hw, (n + 1) * cin * hw, 0f);
                for (int f = f0; f < f0 + phasesPerTask; f++) {
                    int k = plan.terms[f], p = plan.phaseHeight[f] * plan.phaseWidth[f];
                    int[] off = plan.offsets[f], pixel = plan.dxPixel[f];
                    if (k == 0) { // no tap reaches this phase
                        if (zeroed) continue;
                        for (int c = 0; c < cin; c++) {
                            int plane = (n * cin + c) * hw;
                            for (int q = 0; q < p; q++) dx[plane + pixel[q]] = 0f;
                        }
                        continue;
                    }
                    for (int b = 0; b < blocks; b++) {
                        int wo = plan.weightStart[f] + b * k * vl, plane0 = (n * cin + b * vl) * hw;
                        for (int q0 = 0; q0 < p; q0 += pix) {
                            kernel.channelConvBlock(copy, q0, off, k, wv, wo, v, 1, false, tile);
                            store(tile, vl, Math.min(pix, p - q0), pixel, q0, dx, plane0, hw);
                        }
                    }
                }
            }
        }
    }

    /**
     * Samples [begin, end) of a 3x3 stride-2 layer by rows ({@link CpuKernels#stridedBackwardRow}):
     * dx row 2i takes kernel row 1 from dy row i; row 2i + 1 kernel row 0 from dy row i + 1 (where
     * there is one), then kernel row 2 from dy row i. Each row goes channels-last into the
     * sample's buffer, which is transposed into dx's planes at the end. dy is read where it lies.
     */
    private void runRows(Conv2dGeometry g, float[] dy, float[] dx, int worker, int begin, int end) {
        int cin = g.inChannels(), cout = g.outChannels(), h = g.height(), wd = g.width(), ho = g.outHeight(), wo = g.outWidth();
        int p = ho * wo, hw = h * wd;
        float[] cl = CpuThreads.scratch(channelsLast, worker, hw * cin), w = plan.rowWeights;
        CpuKernels kernel = kernels[worker];
        for (int n = begin; n < end; n++) {
            int base = n * cout * p;
            for (int r = 0; r < h; r++) {
                int i = r >> 1, first, wFirst, second = -1, wSecond = 0;
                if ((r & 1) == 0) {               // kernel row 1 from dy row i
                    first = base + i * wo;
                    wFirst = 3 * cin;
                } else if (i + 1 < ho) {          // kernel row 0 from dy row i + 1, then kernel row 2 from dy row i
                    first = base + (i + 1) * wo;
                    wFirst = 0;
                    second = base + i * wo;
                    wSecond = 6 * cin;
                } else {                          // kernel row 2 alone: dy row i + 1 lies past dy
                    first = base + i * wo;
                    wFirst = 6 * cin;
                }
                kernel.stridedBackwardRow(dy, first, second, p, cout, w, wFirst, wSecond, wd, cin, cl, r * wd * cin);
            }
            kernel.channelsLastToPlanes(cl, 0, hw, cin, dx, n * cin * hw, hw);
        }
    }

    /**
     * {@code cl[pixel[q0 + q]*cin + c0 + c] = tile[q*vl + c]}: a block's tile into a sample's
     * channels-last dx, each pixel's {@code vl} channels one contiguous run (a copy).
     */
    private static void storeChannelsLast(float[] tile, int vl, int count, int[] pixel, int q0, float[] cl, int cin, int c0) {
        for (int q = 0; q < count; q++) System.arraycopy(tile, q * vl, cl, pixel[q0 + q] * cin + c0, vl);
    }

    /**
     * {@code dx[plane0 + c*hw + pixel[q0 + q]] = tile[q*vl + c]}: a block's tile into its phase's
     * dx pixels (a copy), pixel by pixel (channel by channel, writing along dx's rows, measured
     * 1.13x slower).
     */
    private static void store(float[] tile, int vl, int count, int[] pixel, int q0, float[] dx, int plane0, int hw) {
        for (int q = 0; q < count; q++) {
            int d = plane0 + pixel[q0 + q], t = q * vl;
            for (int c = 0; c < vl; c++) dx[d + c * hw] = tile[t + c];
        }
    }
}
