package org.neurite.backend.cpu;

import java.util.Arrays;
import org.neurite.backend.Conv2dGeometry;

/**
 * Direct forward convolution vectorised over <em>output channels</em>, for one-group layers whose
 * output channels fill whole lane groups ({@code Cout} a multiple of {@link CpuKernels#LANES}) and
 * whose reduction is too large for {@link CpuDirectConv2d} (the small ResNet's 3x3 layers on 16 to
 * 64 channels, strided or not). On such small maps im2col + GEMM spends as long packing its
 * panels as multiplying them; here nothing is packed but the weights, once per layer while they
 * stay the same ({@link CpuWeightMemo}).
 * <pre>
 *   y[n, co..co+V*L, oh, ow] = sum over r = (c, ki, kj) of wv[co-block][r][..] * xp[n, c, oh*sH + ki, ow*sW + kj]
 * </pre>
 * Per sample, the input is copied zero-padded into {@code xp[Cin][Hp][Wp]} (its border zeroed
 * once per task, the rows copied as runs), except where one kernel call is a whole output row
 * with one column of padding a side ({@link #readsRowsInPlace}: the small ResNet's 16 -> 16,
 * 32 -> 32, 16 -> 32 and 32 -> 64 at 512 bits), whose kernel ({@link CpuKernels#channelConvRow}) reads x
 * itself and leaves the border taps out; the sample is then read ahead once, a float per cache
 * line ({@link #touch}). The copy took 0.24 of 16 -> 16's 2.78 ms at batch 256 (one thread), 0.30
 * of 16 -> 32's 1.60 and 0.20 of 32 -> 64's 1.56; in the model 16 -> 16 went from 3.4-3.8 to
 * 3.1-3.4 ms a call. The weights are packed as {@code [Cout/(V*L)][K][V*L]} ({@code K = Cin*kh*kw}),
 * again only when the layer's weight array no longer holds the values they were packed from. Then for each output row, block of
 * {@link #pixels} output pixels and block of V vectors of output channels,
 * {@link CpuKernels#channelConvBlock} keeps {@code P x V} accumulator vectors in registers over the
 * K terms: per term V weight vectors, P broadcasts of an input value ({@code strideW} floats
 * apart, a constant of the kernel), {@code P*V} fmas. With one vector (16 output channels at 512
 * bits) that is a broadcast per fma; with 3-tap kernel rows and one or two vectors the kernel
 * broadcasts each input once for every tap that reads it (at stride 1, 16 broadcasts for 42
 * fmas a vector: 16 -> 16 went from 1.05-1.19x to 1.24-1.38x of the GEMM path in paired runs,
 * 16 -> 32 at stride 2 from 1.57x to 1.79x). The tile of accumulators goes, with the bias and
 * the relu when asked, channels-last into a per-worker buffer {@code [Ho*Wo][Cout]} (contiguous
 * vector stores, {@link CpuKernels#channelConvStore}), transposed into y's NCHW planes once per
 * task ({@link CpuKernels#channelsLastToPlanes}: 16 x 16 blocks in registers at 512 bits, 8-row
 * gathers at 256). Before, the store gathered each channel's pixels from the tile, per block:
 * about 9% of the small ResNet's training step; the change made 16 -> 16 forward 1.28x and
 * backward-data 1.12x, 16 -> 32 and 32 -> 64 at stride 2 forward 1.07-1.10x at 512 bits (1.09x,
 * 1.01x, 1.13-1.24x at 256; paired, one thread). Pixels of a row's last block past {@code Wo}
 * are computed from whatever lies there (the buffer has slack) and dropped. Output rows whose
 * kernel rows reach into the padding above or below the map leave those terms out ({@link RowVariants}):
 * one kernel row of the first and last output rows of the small ResNet's layers, which took
 * 32 -> 64 at stride 2 (7x7 -> 4x4) from 1.74 to 1.57 ms and 64 -> 64 on 4x4 from 3.14 to 2.78
 * (batch 256, one thread), 16 -> 16 on 14x14 about 1%. Tasks are (sample, block of output rows), claimed; blocks of
 * rows only when there are fewer samples than workers.
 *
 * <p>Bits: each output is the fma chain over r = (c, ki, kj) from zero (less the terms that read
 * padding rows, products with zero that would leave the chain as it is), then {@code + bias} (not
 * added without a bias), then {@code Math.max(y, 0)} with the relu: the GEMM path's order for
 * {@code K <= }{@link CpuGemm#KC} (one k-block), so both give the same bits, as does the plain
 * path. Each output is computed by one task, so the result is the same for any thread count.
 */
final class CpuChannelVectorConv2d {
    /** The system property that turns this kernel off ({@code false}); anything else, or nothing, leaves it on. */
    static final String PROPERTY = "neurite.cpu.channelconv";
    /** Whether backends of this JVM use it where {@link CpuConv2d} takes it (the property, read once). */
    static final boolean ENABLED = CpuSwitch.isOn(PROPERTY, "the channel-vector convolution");
    /** Fewest input channels: below, the reduction is short and the first layers keep their paths. */
    static final int MIN_IN_CHANNELS = 8;
    /** Most input channels {@link CpuConv2d} gives it: the widest of the small ResNet's layers measured (32 -> 64, stride 2). */
    static final int MAX_IN_CHANNELS = 32;
    /** Most output channels {@link CpuConv2d} gives it (the same layer). */
    static final int MAX_OUT_CHANNELS = 64;
    /** Most floats of one sample's padded input and output planes (8 MiB of scratch per worker, as Winograd's). */
    static final int MAX_SAMPLE_FLOATS = 1 << 21;
    private static final long PARALLEL_MIN_FLOPS = 1L << 18;
    /**
     * Layers whose packed weights are remembered ({@link CpuWeightMemo}), least recently used
     * replaced. Each model compiled for inference folds its batch norms into weights of its own,
     * so a server's power-of-two pieces (six up to a batch of 32) need an entry per layer and
     * piece: 30 for the small ResNet. An entry holds at most 64 x 288 x 3 packed floats and a copy
     * of 18,432 (this kernel's largest layer, 32 -> 64), about 9 MiB for all 32.
     */
    static final int MEMO_ENTRIES = 32;

    private final CpuThreads threads;
    private final CpuKernels[] kernels; // per worker
    private final float[][] padded; // per-worker padded sample, grow-only
    private final float[][] tiles; // per-worker accumulator tile, grow-only
    private final float[][] outputs; // per-worker channels-last outputs [Ho*Wo][Cout] of a sample, grow-only
    private float[] packedWeights = new float[0]; // this call's: per row variant [Cout/(V*L)][K'][V*L], one after another
    private final CpuWeightMemo<float[]> packings = new CpuWeightMemo<>(MEMO_ENTRIES, () -> new float[0]); // variant: transposed
    private int[][] termOffsets = new int[0][]; // per row variant: r -> offset of its input in the padded sample from (row, pixel) base, grow-only
    private final RowVariants rows = new RowVariants();
    private final float[] touchedSums; // per worker: what touch read, kept so that the reads stay
    private final ForwardLoop forwardLoop = new ForwardLoop();

    CpuChannelVectorConv2d(CpuThreads threads, CpuKernels.Path path) {
        this.threads = threads;
        this.kernels = path.perWorker(threads.size());
        this.padded = new float[threads.size()][];
        this.tiles = new float[threads.size()][];
        this.outputs = new float[threads.size()][];
        this.touchedSums = new float[threads.size()];
    }

    /**
     * Whether {@link #forward} computes this geometry with the GEMM path's bits: one group,
     * dilation 1, a horizontal stride of 1 or 2 (the kernels' steps), output channels in whole
     * lane groups, at least {@link #MIN_IN_CHANNELS} input channels, a reduction within one GEMM
     * k-block ({@code K <= KC}), a non-empty output, and one sample's padded input and output
     * planes within {@link #MAX_SAMPLE_FLOATS} (a worker's scratch).
     */
    static boolean supports(Conv2dGeometry g) {
        long sample = (long) g.inChannels() * (g.height() + 2 * g.padH()) * (g.width() + 2 * g.padW())
                + (long) g.outChannels() * ((long) g.outHeight() * g.outWidth() + CpuKernels.LANES);
        return g.groups() == 1 && g.dilationH() == 1 && g.dilationW() == 1 && (g.strideW() == 1 || g.strideW() == 2)
                && g.outChannels() % CpuKernels.LANES == 0 && g.inChannels() >= MIN_IN_CHANNELS
                && g.inChannels() * g.kernelH() * g.kernelW() <= CpuGemm.KC
                && g.outHeight() > 0 && g.outWidth() > 0 && g.batch() > 0 && sample <= MAX_SAMPLE_FLOATS;
    }

    /** Vectors of output channels per kernel call: 4, 2 or 1, the most that divides {@code Cout / LANES}. */
    static int vectors(Conv2dGeometry g) {
        int nv = g.outChannels() / CpuKernels.LANES;
        return nv % 4 == 0 ? 4 : nv % 2 == 0 ? 2 : 1;
    }

    /**
     * Output pixels per kernel call with {@code vectors} vectors of channels: 14, 7 or 4, so that
     * the {@code pixels x vectors} accumulators (14 to 16) and the weight vectors fit the 32
     * registers of AVX-512, and a 14-, 7- or 4-wide output row (the small ResNet's) is whole blocks.
     */
    static int pixels(int vectors) {
        return vectors == 1 ? 14 : vectors == 2 ? 7 : 4;
    }

    private static int paddedWidth(Conv2dGeometry g) {
        return g.width() + 2 * g.padW();
    }

    /**
     * Whether the kernel reads x itself, without the padded copy ({@link CpuKernels#channelConvRow}):
     * 3 taps, one column of padding on each side, and a kernel call that is a whole output row in
     * one of that kernel's shapes: one vector of output channels, 14 pixels at stride 1 on a
     * 14-wide input (the small ResNet's 16 -> 16 at 512 bits, and its backward-data); two
     * vectors, 7 pixels at stride 1 on 7 (its 32 -> 32) or at stride 2 on 14 (its 16 -> 32); four
     * vectors, 4 pixels at stride 2 on 7 (its 32 -> 64). Rows of padding above and below are left
     * out by {@link RowVariants} anyway; the border columns by that kernel.
     */
    static boolean readsRowsInPlace(Conv2dGeometry g) {
        if (g.kernelW() != 3 || g.padW() != 1 || g.strideH() != g.strideW()) return false;
        int v = vectors(g), wo = g.outWidth(), w = g.width();
        if (wo != pixels(v)) return false;
        if (v == 1) return g.strideW() == 1 && w == wo;
        if (v == 2) return g.strideW() == 1 ? w == wo : g.strideW() == 2 && w == 2 * wo;
        return g.strideW() == 2 && w == 2 * wo - 1;
    }

    /**
     * Reads one float of each cache line of {@code x[from, from + n)} and returns their sum (kept
     * by the caller so that the loads stay): the sample read in place comes into the cache in one
     * pass of independent loads, before the kernel's broadcasts, which otherwise wait on it row by
     * row (16 -> 16 at batch 256 in the model: 3.5-4.2 ms a call without, 3.1-3.4 with).
     */
    private static float touch(float[] x, int from, int n) {
        float sum = 0;
        for (int j = from, end = from + n; j < end; j += 16) sum += x[j];
        return sum;
    }

    /** Floats read past the padded sample by a row's last block: its dropped pixels and the kernel's reach. */
    private static int slack(Conv2dGeometry g) {
        return 14 * g.strideW() + g.kernelW();
    }

    /** y = conv(x, w) + bias, then with {@code relu} y = max(y, 0); see the class comment. */
    void forward(Conv2dGeometry g, float[] x, float[] w, float[] bias, boolean relu, float[] y) {
        forwardLoop.execute(g, x, w, false, bias, null, relu, y);
    }

    /**
     * y = conv(x, w) + bias + residual, then with {@code relu} y = max(y, 0): the residual (NCHW,
     * y's shape) added to the rows a task has just written into y, while they are in cache
     * ({@link #addResidual}); the bits of {@link #forward} then the add (and relu) op.
     */
    void forward(Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] residual, boolean relu, float[] y) {
        forwardLoop.execute(g, x, w, false, bias, residual, relu, y);
    }

    /**
     * {@code y = y + residual}, then with {@code relu} {@code max(., 0)}, over the runs
     * {@code [at + c*plane, + count)} of the {@code channels} planes: the output rows a task has just
     * written ({@link CpuStridedPointwiseConv2d} too): whole planes as one run (on 4x4 maps a plane's
     * 16 values were too short a run for vectors).
     */
    static void addResidual(CpuKernels kernel, float[] residual, float[] y, int at, int count, int channels, int plane, boolean relu) {
        if (count == plane) {
            count *= channels;
            channels = 1;
        }
        for (int c = 0, o = at; c < channels; c++, o += plane) kernel.addResidualRun(y, residual, o, count, relu);
    }

    /**
     * {@link #forward} (no bias, no relu) with the flipped, transposed kernel of a stride-1
     * backward-data as a convolution ({@link CpuConv2d}) read from the layer's own weights:
     * {@code w'[co, ci, ki, kj] = w[ci, co, kh-1-ki, kw-1-kj]}, w as {@code [Cout of g][Cin of g]...}
     * swapped, gathered by the weight packing instead of a flipped copy first. The same bits.
     */
    void forwardTransposed(Conv2dGeometry g, float[] x, float[] w, float[] y) {
        forwardLoop.execute(g, x, w, true, null, null, false, y);
    }

    /**
     * The terms of kernel rows [lo, lo + kr) in their order (c, ki, kj), from {@code at}:
     * {@code wv[at + (b*K' + r')*VL + c]} = the weight of term r' of output channel {@code b*VL + c},
     * {@code K' = Cin*kr*kw}: each term's VL weights of a channel block contiguous. With
     * {@code transposed}, w is laid out {@code [Cin][Cout][kh][kw]} and flipped (see
     * {@link #forwardTransposed}). Written in
     * that order, a term's VL weights gathered from w (whose lines the next terms read again):
     * written channel by channel, every store of a term fell on a new line of wv, and the packing
     * (serial, once per row variant and call) took about 2% of the caller's time in a
     * two-thread training step of the small ResNet.
     */
    private static void packWeights(float[] w, boolean transposed, int cout, int cin, int kh, int kw, int lo, int kr, int vl,
                                    float[] wv, int at) {
        int k = cin * kr * kw, taps = kh * kw, perChannel = cin * taps;
        int step = transposed ? taps : perChannel; // from output channel co to co + 1 in w
        for (int b = 0; b < cout / vl; b++) {
            int co0 = b * vl, to = at + b * k * vl;
            for (int ci = 0, r = 0; ci < cin; ci++) {
                for (int ki = lo; ki < lo + kr; ki++) {
                    for (int kj = 0; kj < kw; kj++, r++) {
                        int from = transposed ? (ci * cout + co0) * taps + (kh - 1 - ki) * kw + (kw - 1 - kj)
                                : co0 * perChannel + ci * taps + ki * kw + kj;
                        int d = to + r * vl;
                        for (int c = 0; c < vl; c++) wv[d + c] = w[from + c * step];
                    }
                }
            }
        }
    }

    /**
     * Which kernel rows each output row reads inside the input: output row oh reads input rows
     * {@code oh*sH - padH + ki}, so near the border some kernel rows read only padding (for a
     * 3x3 layer with padding 1, the first output row's ki = 0 and, where the map ends there, the
     * last one's ki = 2: a sixth of the 4x4 maps' terms, a twelfth of the 7x7 maps'). Each distinct
     * range [first, last] of kernel rows is a variant with its own terms (the others' in the same
     * order) and weights; the skipped terms are products with zero, which leave an fma chain from
     * +0 as it is (the sum never becomes -0), so for finite weights the bits stay the GEMM path's.
     */
    private static final class RowVariants {
        int count;
        int[] first = new int[4], last = new int[4], weightsAt = new int[4];
        int[] of = new int[0]; // output row -> its variant, grow-only
        private int termsPerRow; // Cin * kw of the geometry found last

        void find(Conv2dGeometry g) {
            int ho = g.outHeight(), kh = g.kernelH(), sh = g.strideH(), ph = g.padH(), h = g.height();
            if (of.length < ho) of = new int[ho];
            termsPerRow = g.inChannels() * g.kernelW();
            count = 0;
            int weights = 0;
            for (int oh = 0; oh < ho; oh++) {
                int lo = Math.max(0, ph - oh * sh), hi = Math.min(kh - 1, h - 1 + ph - oh * sh);
                if (lo > hi) hi = lo - 1; // no input row: no terms
                int v = 0;
                while (v < count && (first[v] != lo || last[v] != hi)) v++;
                if (v == count) {
                    if (count == first.length) {
                        first = Arrays.copyOf(first, 2 * count);
                        last = Arrays.copyOf(last, 2 * count);
                        weightsAt = Arrays.copyOf(weightsAt, 2 * count);
                    }
                    first[v] = lo;
                    last[v] = hi;
                    weightsAt[v] = weights;
                    weights += g.outChannels() * terms(v);
                    count++;
                }
                of[oh] = v;
            }
        }

        /** Terms of variant v: Cin * kw per kernel row it keeps. */
        int terms(int v) {
            return (last[v] - first[v] + 1) * termsPerRow;
        }

        /** Terms of all variants together: what their packed weights take per output channel. */
        int termsInAll() {
            int sum = 0;
            for (int v = 0; v < count; v++) sum += terms(v);
            return sum;
        }
    }

    /**
     * The rows of sample n of x into the interior of {@code xp[Cin][Hp][Wp]}, whose border and
     * slack are zero (see {@link #clear}); one run per input row.
     */
    private static void pad(Conv2dGeometry g, float[] x, int n, float[] xp) {
        int cin = g.inChannels(), h = g.height(), w = g.width(), ph = g.padH(), pw = g.padW(), wp = paddedWidth(g);
        int plane = (h + 2 * ph) * wp;
        for (int c = 0; c < cin; c++) {
            for (int ih = 0; ih < h; ih++) System.arraycopy(x, ((n * cin + c) * h + ih) * w, xp, c * plane + (ih + ph) * wp + pw, w);
        }
    }

    /** Zeroes the padded buffer and its slack; then each sample's {@link #pad} leaves the border zero. */
    private static void clear(Conv2dGeometry g, float[] xp) {
        Arrays.fill(xp, 0, g.inChannels() * (g.height() + 2 * g.padH()) * paddedWidth(g) + slack(g), 0f);
    }

    /** Claimed tasks of (sample, block of output rows); blocks of rows only when samples are fewer than workers. */
    private final class ForwardLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] x, bias, y;
        private float[] residual; // added before the relu, or null
        private boolean relu;
        private boolean unpadded; // readsRowsInPlace(g)
        private int rowBlocks;

        synchronized void execute(Conv2dGeometry g, float[] x, float[] w, boolean transposed, float[] bias, float[] residual, boolean relu,
                                  float[] y) {
            int cin = g.inChannels(), cout = g.outChannels(), kh = g.kernelH(), kw = g.kernelW();
            int vl = vectors(g) * CpuKernels.LANES;
            rows.find(g);
            int weights = cout * rows.termsInAll();
            CpuWeightMemo.Entry<float[]> packing = packings.find(g, transposed ? 1 : 0, w, cin * cout * kh * kw);
            boolean repack = !packing.current();
            if (packing.prepared.length < weights) packing.prepared = new float[weights];
            packedWeights = packing.prepared;
            if (termOffsets.length < rows.count) termOffsets = Arrays.copyOf(termOffsets, rows.count);
            boolean unpadded = this.unpadded = readsRowsInPlace(g);
            int hp = unpadded ? g.height() : g.height() + 2 * g.padH(), wp = unpadded ? g.width() : paddedWidth(g);
            for (int v = 0; v < rows.count; v++) {
                int lo = rows.first[v], kr = rows.last[v] - lo + 1, k = rows.terms(v);
                if (repack) packWeights(w, transposed, cout, cin, kh, kw, lo, kr, vl, packedWeights, rows.weightsAt[v]);
                if (termOffsets[v] == null || termOffsets[v].length < k) termOffsets[v] = new int[Math.max(k, 1)];
                int[] off = termOffsets[v];
                for (int r = 0; r < k; r++) {
                    int c = r / (kr * kw), ki = lo + (r / kw) % kr, kj = r % kw;
                    off[r] = (c * hp + ki) * wp + kj;
                }
            }
            if (repack) packing.remember(w);
            int parts = g.flops() < PARALLEL_MIN_FLOPS ? 1 : threads.size();
            this.rowBlocks = g.batch() >= parts ? 1 : Math.min(g.outHeight(), CpuGemm.ceilDiv(parts, g.batch()));
            this.g = g;
            this.x = x;
            this.bias = bias;
            this.residual = residual;
            this.relu = relu;
            this.y = y;
            try {
                threads.runClaimed(g.batch() * rowBlocks, parts, this);
            } finally {
                this.g = null;
                this.x = this.bias = this.y = this.residual = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            Conv2dGeometry g = this.g;
            int cin = g.inChannels(), cout = g.outChannels(), lanes = CpuKernels.LANES, sample = cin * g.height() * g.width();
            int ho = g.outHeight(), wo = g.outWidth(), p = ho * wo, sh = g.strideH(), sw = g.strideW(), wp = paddedWidth(g);
            int v = vectors(g), vl = v * lanes, pix = pixels(v);
            int size = cin * (g.height() + 2 * g.padH()) * wp;
            boolean unpadded = this.unpadded;
            float touched = 0;
            float[] xp = unpadded ? x : CpuThreads.scratch(padded, worker, size + slack(g));
            if (!unpadded) clear(g, xp);
            float[] tile = CpuThreads.scratch(tiles, worker, pix * vl);
            float[] out = CpuThreads.scratch(outputs, worker, p * cout);
            float[] wv = packedWeights, bias = this.bias, y = this.y;
            RowVariants rows = CpuChannelVectorConv2d.this.rows;
            float[] residual = this.residual;
            boolean relu = this.relu, taps3 = g.kernelW() == 3, storeRelu = relu && residual == null; // with a residual, the relu after it
            CpuKernels kernel = kernels[worker];
            for (int t = begin; t < end; t++) {
                int n = t / rowBlocks, block = t % rowBlocks;
                int oh0 = (int) ((long) block * ho / rowBlocks), oh1 = (int) ((long) (block + 1) * ho / rowBlocks);
                if (!unpadded) pad(g, x, n, xp);
                else touched += touch(x, n * sample, sample);
                for (int oh = oh0; oh < oh1; oh++) {
                    int variant = rows.of[oh], k = rows.terms(variant), w0 = rows.weightsAt[variant];
                    int[] off = termOffsets[variant];
                    for (int ow0 = 0; ow0 < wo; ow0 += pix) {
                        int count = Math.min(pix, wo - ow0);
                        for (int b = 0; b < cout / vl; b++) {
                            if (unpadded) kernel.channelConvRow(x, n * sample + (oh * sh - g.padH()) * g.width(), off, k, wv, w0 + b * k * vl, v, sw, tile);
                            else kernel.channelConvBlock(xp, oh * sh * wp + ow0 * sw, off, k, wv, w0 + b * k * vl, v, sw, taps3, tile);
                            kernel.channelConvStore(tile, v, count, bias, b * vl, storeRelu, out, (oh * wo + ow0) * cout + b * vl, cout);
                        }
                    }
                }
                kernel.channelsLastToPlanes(out, oh0 * wo * cout, (oh1 - oh0) * wo, cout, y, n * cout * p + oh0 * wo, p);
                if (residual != null) addResidual(kernel, residual, y, n * cout * p + oh0 * wo, (oh1 - oh0) * wo, cout, p, relu);
            }
            touchedSums[worker] = touched;
        }
    }
}
