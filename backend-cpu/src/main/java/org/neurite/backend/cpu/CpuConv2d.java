package org.neurite.backend.cpu;

import java.util.Arrays;
import org.neurite.backend.Conv2dGeometry;

/**
 * 2-D convolution (stride, padding, dilation, groups) as im2col + GEMM, PyTorch layouts:
 * x[N, Cin, H, W], w[Cout, Cin/groups, kh, kw], y[N, Cout, Ho, Wo]. For one sample and group
 * the column matrix is {@code col[K, P]} with {@code K = Cin/groups * kh * kw} rows (channel,
 * kernel row, kernel column) and {@code P = Ho * Wo} columns (output pixels), so
 * <pre>
 *   forward          y_g[Cout/g, P]  = w_g[Cout/g, K] * col[K, P]            (+ bias)
 *   backward data    dcol[K, P]      = w_g^T * dy_g[Cout/g, P], then col2im (scatter-add) into dx
 *   backward filter  dw_g[Cout/g, K] = sum over samples of dy_g * col^T
 * </pre>
 *
 * <p><b>How each pass is computed (the rule):</b>
 * <ul>
 *   <li>1x1, stride 1, no padding: x itself is the column matrix; every pass is a plain GEMM.</li>
 *   <li>Stride 1, dilation 1 and a tiny reduction ({@code K <= }{@link CpuDirectConv2d#MAX_K}, e.g. a
 *       first layer on one-channel images): forward and backward-filter run the direct kernels of
 *       {@link CpuDirectConv2d}; im2col + GEMM would be bound by packing there. Backward-filter
 *       of other strides and dilations of one group with such a reduction (the small ResNet's
 *       stride-2 stem) runs {@link CpuStridedDirectConv2d}.</li>
 *   <li>3x3 or 5x5, stride 1, one group, at least 32 channels in and out: forward (and the
 *       stride-1 backward-data, a forward convolution of dy) by Winograd F(4x4, 3x3) (where
 *       {@link CpuWinogradConv2d#outputTile} picks it: the small ResNet's 4x4 maps, and its 7x7
 *       ones at 256 bits), F(2x2, 3x3) or F(2x2, 5x5), {@link CpuWinogradConv2d}, unless
 *       {@code -Dneurite.cpu.winograd=false}. Layers of 32 to 64 channels in whole lane groups
 *       (the small ResNet's 32 -> 32 and 64 -> 64) compute F(4x4, 3x3) channels-last instead,
 *       {@link CpuChannelWinograd}, and their backward-filter too, {@link CpuChannelWinogradFilter},
 *       unless {@code -Dneurite.cpu.channelwinograd=false}; without it a
 *       layer the channel-vector kernel below reads in place goes to that (32 -> 32 on 7x7 at 512 bits).</li>
 *   <li>Other 3x3 layers of one group, dilation 1, stride 1 or 2, 8 to 32 input channels and at
 *       most 64 output channels in whole lane groups (the small ResNet's 16 -> 16 and its stride-2
 *       block entries): forward, and the stride-1 backward-data run as a forward convolution, by the
 *       direct kernel of {@link CpuChannelVectorConv2d}, vectorised over output channels, with the
 *       GEMM path's bits ({@link #takesChannelVector}), unless {@code -Dneurite.cpu.channelconv=false}.
 *       On those small maps the GEMM spends as long packing as multiplying.</li>
 *   <li>1x1 and 3x3 stride-2 one-group convolutions with input channels in whole lane groups, up
 *       to 32 (the small ResNet's block entries and shortcuts): backward-data by the phase
 *       decomposition of {@link CpuStridedBackwardData#takes}; and the unpadded strided 1x1 forward with
 *       four 16-lane vectors of output channels (its 32 -> 64 shortcut at 512 bits) by
 *       {@link CpuStridedPointwiseConv2d}, reading x without a padded copy, with the GEMM path's
 *       bits ({@link CpuStridedPointwiseConv2d#takes}); unless {@code -Dneurite.cpu.stridedconv=false}.</li>
 *   <li>Backward-filter of one-group layers whose input channels fill whole lane groups, with at
 *       most 64 channels in and out and more than one tap or a stride (the small ResNet's 3x3 layers
 *       and its strided 1x1 shortcuts): register tiles of dW over a channels-last copy of x, dy read
 *       in place, nothing packed ({@link CpuChannelVectorFilter}, {@link #takesChannelVectorFilter}),
 *       unless {@code -Dneurite.cpu.channelfilter=false}; its fma chains run over at most
 *       {@link CpuChannelVectorFilter#CHAIN_DEPTH} pixels, so its bits are not the GEMM path's.</li>
 *   <li>Otherwise the input of a (sample, group) is copied once into a zero-padded buffer, and
 *       every element of col is one load from it through two offset tables ({@link Offsets}).
 *       Forward with at least {@link #IMPLICIT_MIN_ROWS} output channels per group is an
 *       <em>implicit GEMM</em>: a {@link CpuGemm.PanelSource} gathers each {@code KC x NC} panel
 *       of col straight into the packed strips, so col is never built. Backward-filter does the
 *       same with col transposed as its B operand, or, with one group, more than one tap and input
 *       channels in whole lane groups, runs as one GEMM over a channels-last copy
 *       ({@link CpuConvFilterChannelsLast}). Backward-data computes dcol = w^T * dy a block
 *       of rows at a time (L2-sized) and adds it into a padded dx buffer (col2im without bounds
 *       tests; at stride 1 whole output rows), cropped into dx at the end.</li>
 *   <li>The stride-1 "transposed convolution" form of backward-data (a GEMM only Cin/groups rows
 *       tall) was measured before and ran several times slower on first layers; not used.</li>
 * </ul>
 *
 * <p>Parallel work: forward over (sample, group, pixel chunk), backward-data over (sample,
 * group), backward-filter over (group, block of dW columns), all as claimed tasks. Determinism:
 * every output element is computed by one task in a fixed order, whichever worker claims it and
 * whatever the thread count. Backward-filter is parallel over dW columns rather than over
 * samples: each task owns its columns of dW and accumulates the samples in order, so there are
 * no per-thread partials to reduce and the result is identical for any thread count (each task
 * recomputes only its own rows of col).
 */
final class CpuConv2d {
    /** Largest explicit column matrix one worker holds in the backward passes, in floats (4 MiB). */
    static final int COL_BUDGET = 1 << 20;
    /** Floats of dcol produced at a time in backward-data (128 KiB: stays in L2 until col2im reads it). */
    static final int DCOL_BLOCK = 1 << 15;
    private static final long PARALLEL_MIN_FLOPS = 1L << 18;
    /** Pixels (sample, output pixel) per backward-filter GEMM on small maps ({@link #samplesPerFilterBlock}). */
    static final int FILTER_BLOCK_DEPTH = 256;
    /**
     * Output channels per group from which forward runs as an implicit GEMM. With the padded-input
     * gather, single-thread runs at batch 16 (thread CPU time, medians) had implicit 1.25x faster
     * than explicit im2col + GEMM on fashion_cnn's c2 (64 channels) and 1.2-1.5x on a 16-channel
     * layer on 6 input channels. (With the earlier bounds-testing walk, explicit had won below 32
     * channels.) Fewer channels than 16 were not measured and keep the explicit path.
     */
    static final int IMPLICIT_MIN_ROWS = 16;

    private final CpuThreads threads;
    private final CpuGemm gemm;
    private final float[][] cols; // per-worker column panel, grown to the largest size needed
    private final float[][] padded; // per-worker zero-padded copy of one (sample, group) of x or dx
    private final ColumnPanels[] columnPanels; // per-worker im2col panel sources of the forward implicit GEMM
    private final TransposedColumnPanels[] transposedPanels; // per-worker col^T panel sources of backward-filter
    private final RowRunPanels[] rowRunPanels; // per-worker padded-grid panel sources of the stride-1 forward
    private final Offsets offsets = new Offsets();
    private final CpuDirectConv2d direct;
    private final CpuWinogradConv2d winograd; // null when turned off
    private final CpuWinogradFilter winogradFilter; // backward-filter of the layers it applies to; null when turned off
    private final CpuChannelWinograd channelWinograd; // forward and stride-1 backward-data of the 32- to 64-channel layers; null when turned off
    private final CpuChannelWinogradFilter channelWinogradFilter; // their backward-filter; null when turned off
    private final CpuChannelVectorConv2d channelVector; // null when turned off
    private final CpuStridedBackwardData stridedBackwardData; // null when the strided passes are turned off
    private final CpuStridedPointwiseConv2d stridedPointwise; // null when the strided passes are turned off
    private float[] packedWeights = new float[0]; // w (forward) or w^T (backward-data) packed once per call, grow-only
    private float[] flippedWeights = new float[0]; // the kernel of backward-data as a convolution, grow-only
    private final TransposedGeometries transposedGeometries = new TransposedGeometries();
    private final ForwardLoop forwardLoop = new ForwardLoop();
    private final BackwardDataLoop backwardDataLoop = new BackwardDataLoop();
    private final BackwardFilterLoop backwardFilterLoop = new BackwardFilterLoop();
    private final CpuConvFilterChannelsLast channelsLastFilter; // backward-filter when Cin fills whole lane groups
    private final CpuChannelVectorFilter channelVectorFilter; // backward-filter of the small ResNet's layers; null when turned off
    private final BiasGradientLoop biasGradientLoop = new BiasGradientLoop();

    CpuConv2d(CpuThreads threads, CpuGemm gemm, CpuKernels.Path path) {
        this(threads, gemm, path, CpuWinogradConv2d.ENABLED);
    }

    /** With Winograd for the 3x3 and 5x5 stride-1 layers it {@linkplain CpuWinogradConv2d#applies applies} to, or without (the tests compare both). */
    CpuConv2d(CpuThreads threads, CpuGemm gemm, CpuKernels.Path path, boolean withWinograd) {
        this(threads, gemm, path, withWinograd, CpuChannelVectorConv2d.ENABLED);
    }

    /** With or without Winograd and the {@linkplain CpuChannelVectorConv2d channel-vector} direct forward (the tests compare them). */
    CpuConv2d(CpuThreads threads, CpuGemm gemm, CpuKernels.Path path, boolean withWinograd, boolean withChannelVector) {
        this(threads, gemm, path, withWinograd, withChannelVector, CpuStridedBackwardData.ENABLED);
    }

    /**
     * With or without Winograd, the channel-vector forward and the strided passes
     * ({@link CpuStridedBackwardData}, {@link CpuStridedPointwiseConv2d}; the tests compare them).
     */
    CpuConv2d(CpuThreads threads, CpuGemm gemm, CpuKernels.Path path, boolean withWinograd, boolean withChannelVector, boolean withStrided) {
        this.threads = threads;
        this.stridedBackwardData = withStrided ? new CpuStridedBackwardData(threads, path) : null;
        this.stridedPointwise = withStrided ? new CpuStridedPointwiseConv2d(threads, path) : null;
        this.winograd = withWinograd ? new CpuWinogradConv2d(threads, gemm, path) : null;
        this.winogradFilter = withWinograd && CpuWinogradFilter.ENABLED ? new CpuWinogradFilter(threads, gemm, path) : null;
        this.channelWinograd = withWinograd && CpuChannelWinograd.ENABLED ? new CpuChannelWinograd(threads, path) : null;
        this.channelWinogradFilter = withWinograd && CpuChannelWinogradFilter.ENABLED ? new CpuChannelWinogradFilter(threads, path) : null;
        this.channelVector = withChannelVector ? new CpuChannelVectorConv2d(threads, path) : null;
        this.gemm = gemm;
        this.cols = new float[threads.size()][];
        this.padded = new float[threads.size()][];
        this.direct = new CpuDirectConv2d(threads, path);
        this.channelsLastFilter = new CpuConvFilterChannelsLast(threads, gemm, path);
        this.channelVectorFilter = CpuChannelVectorFilter.ENABLED ? new CpuChannelVectorFilter(threads, path) : null;
        this.columnPanels = new ColumnPanels[threads.size()];
        this.transposedPanels = new TransposedColumnPanels[threads.size()];
        this.rowRunPanels = new RowRunPanels[threads.size()];
        CpuKernels[] kernels = path.perWorker(threads.size()); // the panels' gathers
        for (int w = 0; w < columnPanels.length; w++) {
            columnPanels[w] = new ColumnPanels(kernels[w]);
            transposedPanels[w] = new TransposedColumnPanels(kernels[w]);
            rowRunPanels[w] = new RowRunPanels();
        }
    }

    /** y = conv(x, w) + bias; parallel over (sample, group, column chunk). */
    void forward(Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] y) {
        forward(g, x, w, bias, false, y);
    }

    /** {@link #forward(Conv2dGeometry, float[], float[], float[], float[], boolean, float[])} without a residual. */
    boolean forward(Conv2dGeometry g, float[] x, float[] w, float[] bias, boolean relu, float[] y) {
        return forward(g, x, w, bias, null, relu, y);
    }

    /**
     * y = conv(x, w) + bias (+ residual, y's shape, or null), then with {@code relu} y = max(y, 0),
     * the residual and the relu added in the write-back of each task's output while it is in cache
     * (the bits of the plain convolution, then the add and relu ops). Returns whether the relu or
     * the residual was applied: false when neither was asked for, and where the caller must apply
     * them itself (in one pass over y): after the Winograd path without a residual (its relu), and
     * after the direct path with one.
     */
    boolean forward(Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] residual, boolean relu, float[] y) {
        boolean applied = true;
        if (CpuDirectConv2d.applies(g)) {
            direct.forward(g, x, w, bias, relu && residual == null, y);
            applied = residual == null;
        } else if (channelWinograd != null && CpuChannelWinograd.applies(g)) channelWinograd.forward(g, x, w, bias, residual, relu, y);
        else if (channelVector != null && takesChannelVector(g)) channelVector.forward(g, x, w, bias, residual, relu, y);
        else if (winograd != null && CpuWinogradConv2d.applies(g)) {
            winograd.forward(g, x, w, bias, residual, relu, y);
            applied = residual != null;
        } else if (stridedPointwise != null && CpuStridedPointwiseConv2d.takes(g)) stridedPointwise.forward(g, x, w, bias, residual, relu, y);
        else forwardLoop.execute(g, x, w, bias, residual, relu, y);
        return applied && (relu || residual != null);
    }

    /**
     * dx = w^T * dy, scattered back through col2im, parallel over (sample, group); or, for a
     * one-group stride-1 convolution on at least {@link #IMPLICIT_MIN_ROWS} input channels, the
     * forward convolution of dy with the flipped, transposed kernel ({@link #backwardDataAsConvolution}).
     */
    void backwardData(Conv2dGeometry g, float[] dy, float[] w, float[] dx) {
        if (isTransposable(g)) backwardDataAsConvolution(g, dy, w, dx);
        else if (stridedBackwardData != null && CpuStridedBackwardData.takes(g)) stridedBackwardData.backwardData(g, dy, w, dx);
        else backwardDataLoop.execute(g, dy, w, dx);
    }

    /**
     * Stride-1 backward-data as a forward convolution, {@code dx = conv(dy, w')} with
     * {@code w'[ci, co, ki, kj] = w[co, ci, kh-1-ki, kw-1-kj]}, padding {@code d(k-1) - pad} and the
     * same dilation (each dx element gathers the dy elements whose windows cover it): one GEMM
     * {@code Cin x (Cout kh kw)} deep per sample, run by the forward's padded-grid implicit GEMM,
     * instead of {@code dcol = w^T dy} (only Cout deep, so the micro-kernel spends as long writing
     * C as computing it) followed by col2im. Each dx element is one fma chain over (co, ki, kj) from
     * zero, so its rounding differs from the col2im sum (a sum over (ci, ki, kj) rows of dcol), by
     * float rounding only; both are deterministic for any thread count. The channel-vector kernel
     * and F(4x4, 3x3) read w' from w as they pack or transform it; the other paths get a flipped copy.
     */
    private void backwardDataAsConvolution(Conv2dGeometry g, float[] dy, float[] w, float[] dx) {
        Conv2dGeometry t = transposedGeometries.of(g);
        // The channel-vector kernel's weight packing and F(4x4, 3x3)'s filter transforms read w' from w.
        if (channelWinograd != null && CpuChannelWinograd.applies(t)) {
            channelWinograd.forwardTransposed(t, dy, w, dx);
            return;
        }
        if (channelVector != null && takesChannelVector(t)) {
            channelVector.forwardTransposed(t, dy, w, dx);
            return;
        }
        if (winograd != null && CpuWinogradConv2d.applies(t) && CpuWinogradConv2d.readsTransposed(t)) {
            winograd.forwardTransposed(t, dy, w, dx);
            return;
        }
        int cout = g.outChannels(), cin = g.inChannels(), taps = g.kernelH() * g.kernelW(), size = cout * cin * taps;
        if (flippedWeights.length < size) flippedWeights = new float[size];
        float[] flipped = flippedWeights;
        for (int co = 0; co < cout; co++) {
            for (int ci = 0; ci < cin; ci++) {
                int from = (co * cin + ci) * taps, to = (ci * cout + co) * taps + taps - 1;
                for (int tap = 0; tap < taps; tap++) flipped[to - tap] = w[from + tap];
            }
        }
        if (winograd != null && CpuWinogradConv2d.applies(t)) winograd.forward(t, dy, flipped, null, dx);
        else forwardLoop.execute(t, dy, flipped, null, null, false, dx);
    }

    /**
     * Whether forward (or backward-data as a convolution) runs {@link CpuChannelVectorConv2d}: a
     * 3x3 geometry it {@linkplain CpuChannelVectorConv2d#supports supports} (stride 1 or 2) with at
     * most {@link CpuChannelVectorConv2d#MAX_IN_CHANNELS} input and {@link CpuChannelVectorConv2d#MAX_OUT_CHANNELS}
     * output channels, that the channels-last Winograd does not take ({@link CpuChannelWinograd#applies}),
     * and that the tile-wise Winograd does not take, or that it reads in place
     * ({@link CpuChannelVectorConv2d#readsRowsInPlace}: the small ResNet's 32 -> 32 on 7x7 at 512
     * bits, 2.0-2.1 ms at batch 256 on one thread against Winograd F(4x4, 3x3)'s 2.3-2.45): the
     * small ResNet's layers where paired runs measured it faster. Its 1x1 strided shortcuts ran slower (the padded copy reads four times
     * the inputs the kernel uses), so they keep the GEMM.
     */
    static boolean takesChannelVector(Conv2dGeometry g) {
        return CpuChannelVectorConv2d.supports(g) && g.kernelH() == 3 && g.kernelW() == 3
                && g.inChannels() <= CpuChannelVectorConv2d.MAX_IN_CHANNELS && g.outChannels() <= CpuChannelVectorConv2d.MAX_OUT_CHANNELS
                && (!CpuWinogradConv2d.applies(g) || CpuChannelVectorConv2d.readsRowsInPlace(g)) && !CpuChannelWinograd.applies(g);
    }

    /** Whether {@link #backwardDataAsConvolution} applies: one group, stride 1, enough input channels, padding within the dilated kernel. */
    private static boolean isTransposable(Conv2dGeometry g) {
        return g.groups() == 1 && isStrideOne(g) && !isPointwise(g) && g.inChannels() >= IMPLICIT_MIN_ROWS
                && g.padH() <= g.dilationH() * (g.kernelH() - 1) && g.padW() <= g.dilationW() * (g.kernelW() - 1);
    }

    /**
     * The forward geometry of a stride-1 convolution's backward-data ({@link #backwardDataAsConvolution}),
     * for the last few geometries seen, found by identity: layers build their geometry once, and a
     * new record per call would be the only allocation of a training step's convolutions.
     */
    private static final class TransposedGeometries {
        private final Conv2dGeometry[] from = new Conv2dGeometry[32], to = new Conv2dGeometry[32];
        private int next;

        Conv2dGeometry of(Conv2dGeometry g) {
            for (int i = 0; i < from.length; i++) if (from[i] == g) return to[i];
            int dh = g.dilationH(), dw = g.dilationW();
            Conv2dGeometry t = new Conv2dGeometry(g.batch(), g.outChannels(), g.outHeight(), g.outWidth(), g.inChannels(),
                    g.kernelH(), g.kernelW(), 1, 1, dh * (g.kernelH() - 1) - g.padH(), dw * (g.kernelW() - 1) - g.padW(), dh, dw, 1);
            from[next] = g;
            to[next] = t;
            next = (next + 1) % from.length;
            return t;
        }
    }

    /** dw = sum_n dy_n * col_n^T and dbias = sum of dy over samples and pixels; see the class comment for the split. */
    void backwardFilter(Conv2dGeometry g, float[] x, float[] dy, float[] dw, float[] dbias) {
        if (g.batch() == 0) {
            Arrays.fill(dw, 0f);
            if (dbias != null) Arrays.fill(dbias, 0f);
            return;
        }
        if (channelWinogradFilter != null && CpuChannelWinogradFilter.applies(g)) channelWinogradFilter.backwardFilter(g, x, dy, dw);
        else if (winogradFilter != null && CpuWinogradFilter.applies(g)) winogradFilter.backwardFilter(g, x, dy, dw);
        else if (channelVectorFilter != null && takesChannelVectorFilter(g)) channelVectorFilter.backwardFilter(g, x, dy, dw);
        else if (CpuDirectConv2d.appliesToFilter(g)) direct.backwardFilter(g, x, dy, dw);
        else if (CpuConvFilterChannelsLast.applies(g)) channelsLastFilter.backwardFilter(g, x, dy, dw);
        else backwardFilterLoop.execute(g, x, dy, dw);
        if (dbias != null) biasGradientLoop.execute(g, dy, dbias);
    }

    /**
     * Whether backward-filter runs {@link CpuWinogradFilter} in a convolution built with the JVM's
     * defaults: where it {@linkplain CpuWinogradFilter#applies applies}, unless {@code
     * -Dneurite.cpu.winograd=false} or {@code -Dneurite.cpu.winogradfilter=false}. It goes before
     * {@link #takesChannelVectorFilter}: on the small ResNet's 32 -> 32 (7x7) and 64 -> 64 (4x4)
     * layers it ran 1.10-1.36x the channel-vector kernel (BENCHMARKS.md).
     */
    static boolean takesWinogradFilter(Conv2dGeometry g) {
        return CpuWinogradConv2d.ENABLED && CpuWinogradFilter.ENABLED && CpuWinogradFilter.applies(g);
    }

    /**
     * Whether backward-filter runs {@link CpuChannelVectorFilter} (unless {@code
     * -Dneurite.cpu.channelfilter=false}): the geometries it {@linkplain CpuChannelVectorFilter#applies
     * applies} to, the small ResNet's 3x3 layers and strided 1x1 shortcuts, where paired runs
     * measured it faster than the channels-last GEMM and the gathered GEMM, except the stride-1
     * reductions of at most {@link CpuDirectConv2d#MAX_K} terms that the direct kernel keeps.
     */
    static boolean takesChannelVectorFilter(Conv2dGeometry g) {
        boolean unitSteps = g.strideH() == 1 && g.strideW() == 1 && g.dilationH() == 1 && g.dilationW() == 1;
        return CpuChannelVectorFilter.applies(g) && !(unitSteps && g.inChannels() * g.kernelH() * g.kernelW() <= CpuDirectConv2d.MAX_K);
    }

    /**
     * Index tables of the padded-input walk, computed once per call (grow-only arrays, so a
     * steady training step allocates nothing). With the input of one (sample, group) copied into
     * a zero-padded buffer {@code xp[cinG][Hp][Wp]} ({@code Hp = H + 2 padH}, {@code Wp = W + 2 padW}),
     * every element of the column matrix is one load, with no bounds test:
     * <pre>
     *   col[r][q] = xp[row[r] + pixel[q]]
     *   row[r]    = c * Hp * Wp + ki * dilationH * Wp + kj * dilationW     (r = (c, ki, kj))
     *   pixel[q]  = oh * strideH * Wp + ow * strideW                       (q = (oh, ow))
     * </pre>
     * and col2im is the same map read backwards: {@code dxp[row[r] + pixel[q]] += dcol[r][q]}.
     */
    private static final class Offsets {
        int[] row = new int[0], pixel = new int[0];
        int[] blockPixel = new int[0]; // pixel offsets of `samples` padded samples in a row, see computeBlock
        int paddedH, paddedW;

        /** blockPixel[s*P + q] = s * paddedSize + pixel[q] for s < samples: the pixels of consecutive padded samples (after compute). */
        void computeBlock(Conv2dGeometry g, int samples) {
            int p = g.outHeight() * g.outWidth(), size = paddedSize(g);
            if (blockPixel.length < samples * p) blockPixel = new int[samples * p];
            for (int s = 0; s < samples; s++) {
                for (int q = 0; q < p; q++) blockPixel[s * p + q] = s * size + pixel[q];
            }
        }

        void compute(Conv2dGeometry g) {
            int kh = g.kernelH(), kw = g.kernelW(), k = g.inChannelsPerGroup() * kh * kw;
            int wo = g.outWidth(), p = g.outHeight() * wo;
            paddedH = g.height() + 2 * g.padH();
            paddedW = g.width() + 2 * g.padW();
            if (row.length < k) row = new int[k];
            if (pixel.length < p) pixel = new int[p];
            for (int r = 0; r < k; r++) {
                int c = r / (kh * kw), ki = (r / kw) % kh, kj = r % kw;
                row[r] = (c * paddedH + ki * g.dilationH()) * paddedW + kj * g.dilationW();
            }
            for (int q = 0; q < p; q++) pixel[q] = (q / wo) * g.strideH() * paddedW + (q % wo) * g.strideW();
        }

        int paddedSize(Conv2dGeometry g) {
            return g.inChannelsPerGroup() * paddedH * paddedW;
        }
    }

    /** Copies channels [0, cinG) of x from {@code xOff} into {@code xp} with a zero border of padH rows and padW columns. */
    private static void pad(Conv2dGeometry g, Offsets o, float[] x, int xOff, float[] xp) {
        pad(g, o, x, xOff, xp, 0);
    }

    /** {@link #pad} into {@code xp} from {@code at}. */
    private static void pad(Conv2dGeometry g, Offsets o, float[] x, int xOff, float[] xp, int at) {
        int h = g.height(), w = g.width(), hp = o.paddedH, wp = o.paddedW, ph = g.padH(), pw = g.padW();
        int cin = g.inChannelsPerGroup();
        if (ph == 0 && pw == 0) {
            System.arraycopy(x, xOff, xp, at, cin * h * w);
            return;
        }
        for (int c = 0; c < cin; c++) {
            int plane = at + c * hp * wp;
            Arrays.fill(xp, plane, plane + ph * wp + pw, 0f); // top rows and the first row's left border
            for (int ih = 0; ih < h; ih++) {
                int d = plane + (ih + ph) * wp + pw;
                System.arraycopy(x, xOff + (c * h + ih) * w, xp, d, w);
                // right border of this row and left border of the next
                Arrays.fill(xp, d + w, ih + 1 < h ? d + w + 2 * pw : plane + hp * wp, 0f);
            }
        }
    }

    /** dx[channels of one (sample, group) at dxOff] = the interior of the padded gradient {@code dxp}. */
    private static void crop(Conv2dGeometry g, Offsets o, float[] dxp, float[] dx, int dxOff) {
        int h = g.height(), w = g.width(), hp = o.paddedH, wp = o.paddedW, ph = g.padH(), pw = g.padW();
        int cin = g.inChannelsPerGroup();
        if (ph == 0 && pw == 0) {
            System.arraycopy(dxp, 0, dx, dxOff, cin * h * w);
            return;
        }
        for (int c = 0; c < cin; c++) {
            for (int ih = 0; ih < h; ih++) {
                System.arraycopy(dxp, (c * hp + ih + ph) * wp + pw, dx, dxOff + (c * h + ih) * w, w);
            }
        }
    }

    /**
     * The column matrix of one (sample, group) from pixel {@code pixel0} on, as a
     * {@link CpuGemm.PanelSource} over the padded input: one per worker, aimed at its padded
     * sample before each GEMM.
     */
    private static final class ColumnPanels implements CpuGemm.PanelSource {
        private float[] xp;
        private int[] row, pixel;
        private int pixel0;
        private final CpuKernels kernels; // this worker's gatherStrip

        ColumnPanels(CpuKernels kernels) {
            this.kernels = kernels;
        }

        ColumnPanels aim(Offsets o, float[] xp, int pixel0) {
            this.xp = xp;
            this.row = o.row;
            this.pixel = o.pixel;
            this.pixel0 = pixel0;
            return this;
        }

        void release() {
            this.xp = null;
            this.row = this.pixel = null;
        }

        /**
         * Rows [p0, p0+kc) of col, pixels [pixel0+j0, pixel0+j0+nc): strip s, depth p, lane l
         * gets {@code xp[row[p0+p] + pixel[pixel0+j0+s*NR+l]]}; lanes past nc are zero.
         */
        @Override
        public void packPanel(int p0, int kc, int j0, int nc, float[] dst) {
            float[] xp = this.xp;
            int[] pixel = this.pixel;
            int nr = CpuGemm.NR, full = nc / nr * nr, q0 = pixel0 + j0, stripStride = kc * nr;
            CpuKernels kernels = this.kernels;
            for (int p = 0; p < kc; p++) {
                int base = row[p0 + p], d = p * nr;
                for (int j = 0; j < full; j += nr, d += stripStride) kernels.gatherStrip(xp, base, pixel, q0 + j, dst, d);
                if (full < nc) {
                    int q = q0 + full, rest = nc - full;
                    for (int l = 0; l < rest; l++) dst[d + l] = xp[base + pixel[q + l]];
                    for (int l = rest; l < nr; l++) dst[d + l] = 0f;
                }
            }
        }
    }

    /**
     * The column matrix of one (sample, group) of a stride-1 convolution over the <em>padded
     * grid</em>: pixel {@code q' = oh * Wp + ow} for every ow in [0, Wp), not only [0, Wo). Then
     * {@code col[r][q'] = xp[row[r] + q']}, so each row of a packed strip is one contiguous run of
     * the padded input, copied instead of gathered through the pixel table. The columns with
     * {@code ow >= Wo} straddle the right border (or the next channel's plane); they cost
     * {@code (Wp - Wo) / Wo} more GEMM columns (14% on a 14x14 map with pad 1, and as many 32-wide
     * strips as the gathered form: 224 columns vs 196) and are dropped when the result is copied
     * into y. Every kept column is the same fma sequence as in the gathered form, so the bits are
     * the same. The last rows read up to {@code (kw - 1) * dilationW} floats past the padded
     * input: {@link #rowRunSlack} of zeros.
     */
    private static final class RowRunPanels implements CpuGemm.PanelSource {
        private float[] xp;
        private int[] row;

        RowRunPanels aim(Offsets o, float[] xp) {
            this.xp = xp;
            this.row = o.row;
            return this;
        }

        void release() {
            this.xp = null;
            this.row = null;
        }

        /** Strip s, depth p, lane l gets {@code xp[row[p0+p] + j0 + s*NR + l]}; lanes past nc are zero. */
        @Override
        public void packPanel(int p0, int kc, int j0, int nc, float[] dst) {
            float[] xp = this.xp;
            int nr = CpuGemm.NR, full = nc / nr * nr, stripStride = kc * nr;
            for (int p = 0; p < kc; p++) {
                int base = row[p0 + p] + j0, d = p * nr;
                for (int j = 0; j < full; j += nr, d += stripStride) System.arraycopy(xp, base + j, dst, d, nr);
                if (full < nc) {
                    int rest = nc - full;
                    System.arraycopy(xp, base + full, dst, d, rest);
                    Arrays.fill(dst, d + rest, d + nr, 0f);
                }
            }
        }
    }

    /**
     * The transposed column matrix of one (sample, group), {@code colT[P, K]}, as the B operand
     * of backward-filter ({@code dw[Cout, K] += dy[Cout, P] * colT}): depth is pixels, columns
     * are rows of col. Packed straight from the padded input, so col is never built and then
     * transposed while packing.
     */
    private static final class TransposedColumnPanels implements CpuGemm.PanelSource {
        private float[] xp;
        private int[] row, pixel;
        private int row0, pixel0;
        private final CpuKernels kernels; // this worker's gatherStrip

        TransposedColumnPanels(CpuKernels kernels) {
            this.kernels = kernels;
        }

        TransposedColumnPanels aim(Offsets o, float[] xp, int row0, int pixel0) {
            return aim(o, o.pixel, xp, row0, pixel0);
        }

        /** Aimed at a pixel table of its own (the samples of a block, {@link Offsets#computeBlock}). */
        TransposedColumnPanels aim(Offsets o, int[] pixel, float[] xp, int row0, int pixel0) {
            this.xp = xp;
            this.row = o.row;
            this.pixel = pixel;
            this.row0 = row0;
            this.pixel0 = pixel0;
            return this;
        }

        void release() {
            this.xp = null;
            this.row = this.pixel = null;
        }

        /**
         * Pixels [pixel0+p0, pixel0+p0+kc) x col rows [row0+j0, row0+j0+nc): lane l of strip s at
         * depth p is {@code xp[pixel[pixel0+p0+p] + row[row0+j0+s*NR+l]]}; lanes past nc are zero.
         */
        @Override
        public void packPanel(int p0, int kc, int j0, int nc, float[] dst) {
            float[] xp = this.xp;
            int[] row = this.row;
            int nr = CpuGemm.NR;
            CpuKernels kernels = this.kernels;
            for (int j = 0, d = 0; j < nc; j += nr) {
                int r = row0 + j0 + j, lanes = Math.min(nr, nc - j);
                for (int p = 0; p < kc; p++, d += nr) {
                    int base = pixel[pixel0 + p0 + p];
                    if (lanes == nr) {
                        kernels.gatherStrip(xp, base, row, r, dst, d);
                    } else {
                        for (int l = 0; l < lanes; l++) dst[d + l] = xp[base + row[r + l]];
                        for (int l = lanes; l < nr; l++) dst[d + l] = 0f;
                    }
                }
            }
        }
    }

    /**
     * y = conv(x, w) + bias (+ residual) over (sample, group, pixel chunk) tasks; chunks only when
     * samples are fewer than workers.
     */
    private final class ForwardLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] x, w, bias, y, packedW;
        private float[] residual; // y's shape, added before the relu; or null
        private int chunkWidth, chunks;
        private boolean rowRuns, relu;

        synchronized void execute(Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] residual, boolean relu, float[] y) {
            int p = g.outHeight() * g.outWidth();
            int units = g.batch() * g.groups();
            int split = CpuGemm.ceilDiv(threads.size(), Math.max(1, units));
            int width = split > 1 ? CpuGemm.roundUp(CpuGemm.ceilDiv(p, split), CpuGemm.NR) : p;
            // The explicit column matrix of a chunk must fit the per-worker budget.
            if (!isPointwise(g) && !isImplicit(g)) width = Math.min(width, Math.max(1, COL_BUDGET / (g.inChannelsPerGroup() * g.kernelH() * g.kernelW())));
            this.chunkWidth = width;
            this.chunks = CpuGemm.ceilDiv(p, chunkWidth);
            // Whole samples of a stride-1 implicit GEMM over the padded grid (RowRunPanels); with
            // groups the weights are not packed once, and chunks would cut the grid. Its output
            // goes through per-worker scratch, held to the column budget.
            this.rowRuns = !isPointwise(g) && isImplicit(g) && isStrideOne(g) && chunks == 1 && g.groups() == 1
                    && (long) g.outChannels() * g.outHeight() * (g.width() + 2 * g.padW()) <= COL_BUDGET;
            if (!isPointwise(g) && isImplicit(g)) offsets.compute(g);
            this.packedW = isPointwise(g) ? null : packWeights(g, w, false);
            this.g = g;
            this.x = x;
            this.w = w;
            this.bias = bias;
            this.residual = residual;
            this.relu = relu;
            this.y = y;
            try {
                threads.runClaimed(units * chunks, parallelism(g), this);
            } finally {
                this.g = null;
                this.x = this.w = this.bias = this.y = this.packedW = this.residual = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            Conv2dGeometry g = this.g;
            int groups = g.groups(), cinG = g.inChannelsPerGroup(), coutG = g.outChannelsPerGroup();
            int k = cinG * g.kernelH() * g.kernelW();
            int hw = g.height() * g.width(), p = g.outHeight() * g.outWidth();
            boolean pointwise = isPointwise(g), implicit = isImplicit(g);
            if (rowRuns) {
                forwardRowRuns(worker, begin, end);
                return;
            }
            for (int t = begin; t < end; t++) {
                int unit = t / chunks, n = unit / groups, gi = unit % groups;
                int p0 = (t % chunks) * chunkWidth, p1 = Math.min(p, p0 + chunkWidth);
                int xOff = (n * g.inChannels() + gi * cinG) * hw;
                int yOff = (n * g.outChannels() + gi * coutG) * p;
                int wOff = gi * coutG * k;
                if (pointwise) {
                    gemm.multiply(worker, false, false, coutG, p1 - p0, k, 1f, w, wOff, k, x, xOff + p0, hw, 0f, y, yOff + p0, p);
                } else if (implicit) {
                    float[] xp = padded(worker, offsets.paddedSize(g));
                    pad(g, offsets, x, xOff, xp);
                    ColumnPanels col = columnPanels[worker].aim(offsets, xp, p0);
                    if (packedW != null) gemm.multiplyPacked(worker, packedW, 0, coutG, coutG, p1 - p0, k, 1f, col, false, null, 0, 0, 0f, y, yOff + p0, p);
                    else gemm.multiply(worker, false, coutG, p1 - p0, k, 1f, w, wOff, k, col, 0f, y, yOff + p0, p);
                    col.release();
                } else {
                    float[] col = cols(worker, k * (p1 - p0));
                    im2col(g, x, xOff, 0, k, p0, p1, col);
                    if (packedW != null) gemm.multiplyPacked(worker, packedW, 0, coutG, coutG, p1 - p0, k, 1f, null, false, col, 0, p1 - p0, 0f, y, yOff + p0, p);
                    else gemm.multiply(worker, false, false, coutG, p1 - p0, k, 1f, w, wOff, k, col, 0, p1 - p0, 0f, y, yOff + p0, p);
                }
                if (residual != null) residualEpilogue(bias, gi * coutG, coutG, relu, residual, y, yOff, p, p0, p1);
                else epilogue(bias, gi * coutG, coutG, relu, y, yOff, p, p0, p1);
            }
        }

        /** Samples [begin, end) of a one-group stride-1 convolution: GEMM over the padded grid into scratch, then the valid columns into y. */
        private void forwardRowRuns(int worker, int begin, int end) {
            Conv2dGeometry g = this.g;
            int cout = g.outChannels(), k = g.inChannels() * g.kernelH() * g.kernelW();
            int hw = g.height() * g.width(), ho = g.outHeight(), wo = g.outWidth(), p = ho * wo;
            int wp = offsets.paddedW, grid = ho * wp, size = offsets.paddedSize(g), slack = rowRunSlack(g);
            for (int n = begin; n < end; n++) {
                float[] xp = padded(worker, size + slack);
                pad(g, offsets, x, n * g.inChannels() * hw, xp);
                Arrays.fill(xp, size, size + slack, 0f);
                float[] out = cols(worker, cout * grid);
                RowRunPanels col = rowRunPanels[worker].aim(offsets, xp);
                gemm.multiplyPacked(worker, packedW, 0, cout, cout, grid, k, 1f, col, false, null, 0, 0, 0f, out, 0, grid);
                col.release();
                int yOff = n * cout * p;
                for (int oc = 0; oc < cout; oc++) {
                    float b = bias == null ? 0f : bias[oc];
                    for (int oh = 0; oh < ho; oh++) {
                        int from = oc * grid + oh * wp, to = yOff + oc * p + oh * wo;
                        // The bias and the relu in the copy-out: y = out (+ b), then max(y, 0), the bits of the separate passes.
                        if (residual != null) copyOutResidual(out, from, bias != null, b, residual, relu, y, to, wo);
                        else if (relu && bias != null) for (int j = 0; j < wo; j++) y[to + j] = Math.max(out[from + j] + b, 0f);
                        else if (relu) for (int j = 0; j < wo; j++) y[to + j] = Math.max(out[from + j], 0f);
                        else if (bias != null) for (int j = 0; j < wo; j++) y[to + j] = out[from + j] + b;
                        else System.arraycopy(out, from, y, to, wo);
                    }
                }
            }
        }
    }

    /**
     * The bias add and, with {@code relu}, {@code y = Math.max(y, 0f)} (NaN kept, -0 to +0, as the
     * relu op) over the channels [0, channels) and pixels [p0, p1), one pass: each value rounded
     * after the add, then the max, the bits of the two passes.
     */
    private static void epilogue(float[] bias, int b0, int channels, boolean relu, float[] y, int yOff, int p, int p0, int p1) {
        if (!relu) {
            if (bias != null) addBias(bias, b0, channels, y, yOff, p, p0, p1);
            return;
        }
        for (int oc = 0; oc < channels; oc++) {
            float b = bias == null ? 0f : bias[b0 + oc];
            int row = yOff + oc * p;
            if (bias == null) for (int q = p0; q < p1; q++) y[row + q] = Math.max(y[row + q], 0f);
            else for (int q = p0; q < p1; q++) y[row + q] = Math.max(y[row + q] + b, 0f);
        }
    }

    /**
     * {@link #epilogue} with a residual: y = (y + bias) + residual, then with {@code relu}
     * {@code Math.max(., 0f)}, each step rounded as the separate passes round it (no bias: no add of
     * zero, which would turn -0 into +0).
     */
    private static void residualEpilogue(float[] bias, int b0, int channels, boolean relu, float[] residual, float[] y, int yOff, int p,
                                         int p0, int p1) {
        for (int oc = 0; oc < channels; oc++) {
            int row = yOff + oc * p;
            copyOutResidual(y, row + p0, bias != null, bias == null ? 0f : bias[b0 + oc], residual, relu, y, row + p0, p1 - p0);
        }
    }

    /** {@code y[to + j] = out[from + j] (+ b) + residual[to + j]}, then with {@code relu} {@code Math.max(., 0f)}, for j in [0, n). */
    private static void copyOutResidual(float[] out, int from, boolean withBias, float b, float[] residual, boolean relu, float[] y, int to,
                                        int n) {
        if (withBias && relu) for (int j = 0; j < n; j++) y[to + j] = Math.max((out[from + j] + b) + residual[to + j], 0f);
        else if (withBias) for (int j = 0; j < n; j++) y[to + j] = (out[from + j] + b) + residual[to + j];
        else if (relu) for (int j = 0; j < n; j++) y[to + j] = Math.max(out[from + j] + residual[to + j], 0f);
        else for (int j = 0; j < n; j++) y[to + j] = out[from + j] + residual[to + j];
    }

    /** y[yOff + oc*p + q] += bias[b0 + oc] for the channels [0, channels) and pixels [p0, p1). */
    private static void addBias(float[] bias, int b0, int channels, float[] y, int yOff, int p, int p0, int p1) {
        for (int oc = 0; oc < channels; oc++) {
            float b = bias[b0 + oc];
            int row = yOff + oc * p;
            for (int q = p0; q < p1; q++) y[row + q] += b;
        }
    }

    /** Floats past the padded input that the last rows of {@link RowRunPanels} read: (kw - 1) * dilationW. */
    private static int rowRunSlack(Conv2dGeometry g) {
        return (g.kernelW() - 1) * g.dilationW();
    }

    private static boolean isStrideOne(Conv2dGeometry g) {
        return g.strideH() == 1 && g.strideW() == 1;
    }

    /**
     * Overlapping windows scatter into the same dx elements, so one task owns a whole (sample,
     * group) slice. Its gradient is gathered in a zero-padded buffer (col2im then needs no
     * bounds tests and, at stride 1, adds whole output rows), and dcol is produced a block of
     * rows at a time, small enough to stay in L2 between the GEMM that writes it and the col2im
     * that reads it. Each dx element still receives its terms in row order, so the result does
     * not depend on the block size.
     */
    private final class BackwardDataLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] dy, w, dx, packedWT;

        synchronized void execute(Conv2dGeometry g, float[] dy, float[] w, float[] dx) {
            if (!isPointwise(g)) offsets.compute(g);
            this.packedWT = isPointwise(g) ? null : packWeights(g, w, true);
            this.g = g;
            this.dy = dy;
            this.w = w;
            this.dx = dx;
            try {
                threads.runClaimed(g.batch() * g.groups(), parallelism(g), this);
            } finally {
                this.g = null;
                this.dy = this.w = this.dx = this.packedWT = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            Conv2dGeometry g = this.g;
            int groups = g.groups(), cinG = g.inChannelsPerGroup(), coutG = g.outChannelsPerGroup();
            int k = cinG * g.kernelH() * g.kernelW();
            int hw = g.height() * g.width(), p = g.outHeight() * g.outWidth();
            boolean pointwise = isPointwise(g);
            int rowsPerBlock = Math.min(k, Math.max(CpuGemm.MR, DCOL_BLOCK / p / CpuGemm.MR * CpuGemm.MR));
            for (int unit = begin; unit < end; unit++) {
                int n = unit / groups, gi = unit % groups;
                int xOff = (n * g.inChannels() + gi * cinG) * hw;
                int yOff = (n * g.outChannels() + gi * coutG) * p;
                int wOff = gi * coutG * k;
                if (pointwise) {
                    gemm.multiply(worker, true, false, k, p, coutG, 1f, w, wOff, k, dy, yOff, p, 0f, dx, xOff, hw);
                    continue;
                }
                float[] dxp = padded(worker, offsets.paddedSize(g));
                Arrays.fill(dxp, 0, offsets.paddedSize(g), 0f);
                float[] col = cols(worker, rowsPerBlock * p);
                for (int r0 = 0; r0 < k; r0 += rowsPerBlock) {
                    int r1 = Math.min(k, r0 + rowsPerBlock);
                    if (packedWT != null) gemm.multiplyPacked(worker, packedWT, r0, k, r1 - r0, p, coutG, 1f, null, false, dy, yOff, p, 0f, col, 0, p);
                    else gemm.multiply(worker, true, false, r1 - r0, p, coutG, 1f, w, wOff + r0, k, dy, yOff, p, 0f, col, 0, p);
                    col2imPadded(g, offsets, col, r0, r1, dxp);
                }
                crop(g, offsets, dxp, dx, xOff);
            }
        }
    }

    /** Parallel over (group, block of dW columns), claimed; each task adds the samples in order into its own columns. */
    private final class BackwardFilterLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] x, dy, dw;
        private int colWidth, colChunks, samplesPerBlock;

        synchronized void execute(Conv2dGeometry g, float[] x, float[] dy, float[] dw) {
            int k = g.inChannelsPerGroup() * g.kernelH() * g.kernelW();
            // About two column blocks per worker, so claiming evens out the load, each a whole
            // number of micro-tile columns (a narrower block would pad every tile with zeros).
            int colSplit = Math.min(k, CpuGemm.ceilDiv(2 * threads.size(), g.groups()));
            this.colWidth = Math.min(k, CpuGemm.roundUp(CpuGemm.ceilDiv(k, colSplit), CpuGemm.NR));
            this.colChunks = CpuGemm.ceilDiv(k, colWidth);
            this.samplesPerBlock = samplesPerFilterBlock(g);
            if (!isPointwise(g)) offsets.compute(g);
            if (samplesPerBlock > 1) offsets.computeBlock(g, samplesPerBlock);
            this.g = g;
            this.x = x;
            this.dy = dy;
            this.dw = dw;
            try {
                threads.runClaimed(g.groups() * colChunks, parallelism(g), this);
            } finally {
                this.g = null;
                this.x = this.dy = this.dw = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            Conv2dGeometry g = this.g;
            int cinG = g.inChannelsPerGroup(), coutG = g.outChannelsPerGroup();
            int k = cinG * g.kernelH() * g.kernelW();
            int hw = g.height() * g.width(), p = g.outHeight() * g.outWidth();
            boolean pointwise = isPointwise(g);
            if (samplesPerBlock > 1) {
                filterBlocks(worker, begin, end);
                return;
            }
            // Column chunk depends only on the geometry, so the order of the sum over pixels never depends on threads.
            int pw = Math.min(p, Math.max(1, COL_BUDGET / k));
            float[] xp = pointwise ? null : padded(worker, offsets.paddedSize(g));
            for (int t = begin; t < end; t++) {
                int gi = t / colChunks;
                int k0 = (t % colChunks) * colWidth, k1 = Math.min(k, k0 + colWidth);
                int dwOff = gi * coutG * k + k0;
                for (int n = 0; n < g.batch(); n++) {
                    int xOff = (n * g.inChannels() + gi * cinG) * hw;
                    int yOff = (n * g.outChannels() + gi * coutG) * p;
                    for (int p0 = 0; p0 < p; p0 += pw) {
                        int p1 = Math.min(p, p0 + pw);
                        float beta = n == 0 && p0 == 0 ? 0f : 1f;
                        if (pointwise) {
                            // Rows of col are the input channels themselves.
                            gemm.multiply(worker, false, true, coutG, k1 - k0, p1 - p0, 1f, dy, yOff + p0, p,
                                    x, xOff + k0 * hw + p0, hw, beta, dw, dwOff, k);
                        } else {
                            if (p0 == 0) pad(g, offsets, x, xOff, xp);
                            TransposedColumnPanels colT = transposedPanels[worker].aim(offsets, xp, k0, p0);
                            gemm.multiply(worker, false, coutG, k1 - k0, p1 - p0, 1f, dy, yOff + p0, p,
                                    colT, beta, dw, dwOff, k);
                            colT.release();
                        }
                    }
                }
            }
        }

        /**
         * The tasks [begin, end) a block of {@link #samplesPerBlock} samples per GEMM: their padded
         * inputs one after another (the block pixel table reaches each), their dy rows side by side
         * ({@code dyBlock[co][s*P + q]}), one GEMM {@code nb * P} deep per block, blocks in order.
         */
        private void filterBlocks(int worker, int begin, int end) {
            Conv2dGeometry g = this.g;
            int cinG = g.inChannelsPerGroup(), coutG = g.outChannelsPerGroup();
            int k = cinG * g.kernelH() * g.kernelW();
            int hw = g.height() * g.width(), p = g.outHeight() * g.outWidth(), size = offsets.paddedSize(g);
            int block = samplesPerBlock;
            float[] xp = padded(worker, block * size);
            float[] dyBlock = cols(worker, coutG * block * p);
            for (int t = begin; t < end; t++) {
                int gi = t / colChunks;
                int k0 = (t % colChunks) * colWidth, k1 = Math.min(k, k0 + colWidth);
                int dwOff = gi * coutG * k + k0;
                for (int n0 = 0; n0 < g.batch(); n0 += block) {
                    int nb = Math.min(block, g.batch() - n0), depth = nb * p;
                    for (int s = 0; s < nb; s++) {
                        int n = n0 + s;
                        pad(g, offsets, x, (n * g.inChannels() + gi * cinG) * hw, xp, s * size);
                        for (int co = 0; co < coutG; co++) {
                            System.arraycopy(dy, (n * g.outChannels() + gi * coutG + co) * p, dyBlock, co * depth + s * p, p);
                        }
                    }
                    TransposedColumnPanels colT = transposedPanels[worker].aim(offsets, offsets.blockPixel, xp, k0, 0);
                    gemm.multiply(worker, false, coutG, k1 - k0, depth, 1f, dyBlock, 0, depth, colT, n0 == 0 ? 0f : 1f, dw, dwOff, k);
                    colT.release();
                }
            }
        }
    }

    /**
     * Samples per GEMM of backward-filter: on small maps (fewer than {@link #FILTER_BLOCK_DEPTH}
     * output pixels) several samples make one GEMM {@code FILTER_BLOCK_DEPTH} deep, their dy rows
     * copied side by side and their padded inputs one after another, instead of one GEMM per
     * sample only P deep (16 on a 4x4 map), whose micro-kernel spent about as long reading and
     * writing its tile of dW as multiplying. A function of the geometry alone, so the sums over
     * (sample, pixel) run in the same blocks for any thread count.
     */
    private static int samplesPerFilterBlock(Conv2dGeometry g) {
        int k = g.inChannelsPerGroup() * g.kernelH() * g.kernelW(), p = g.outHeight() * g.outWidth();
        if (isPointwise(g) || p >= FILTER_BLOCK_DEPTH || (long) p * k > COL_BUDGET) return 1;
        return Math.max(1, Math.min(g.batch(), FILTER_BLOCK_DEPTH / p));
    }

    /** dbias[c] = sum over samples and pixels of dy[n, c, :], in double, one channel per task. */
    private final class BiasGradientLoop implements CpuThreads.RangeTask {
        private float[] dy, dbias;
        private int channels, p, batch;

        synchronized void execute(Conv2dGeometry g, float[] dy, float[] dbias) {
            this.dy = dy;
            this.dbias = dbias;
            this.channels = g.outChannels();
            this.p = g.outHeight() * g.outWidth();
            this.batch = g.batch();
            long work = (long) batch * channels * p;
            try {
                threads.run(channels, work < (1 << 16) ? 1 : threads.size(), this);
            } finally {
                this.dy = this.dbias = null;
            }
        }

        /**
         * Four interleaved accumulators (element q of a row into accumulator q mod 4, a row's last
         * few into the first), added in a fixed order at the end: one accumulator is one chain of
         * dependent double adds (4 cycles each), which took 0.25 ms on the small ResNet's 16x14x14
         * layer at batch 64, as long as a tenth of its backward-filter GEMM.
         */
        @Override
        public void run(int worker, int begin, int end) {
            float[] dy = this.dy;
            for (int c = begin; c < end; c++) {
                double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                for (int n = 0; n < batch; n++) {
                    int i = (n * channels + c) * p, rowEnd = i + p;
                    for (; i <= rowEnd - 4; i += 4) {
                        s0 += dy[i];
                        s1 += dy[i + 1];
                        s2 += dy[i + 2];
                        s3 += dy[i + 3];
                    }
                    for (; i < rowEnd; i++) s0 += dy[i];
                }
                dbias[c] = (float) ((s0 + s1) + (s2 + s3));
            }
        }
    }

    private int parallelism(Conv2dGeometry g) {
        return g.flops() < PARALLEL_MIN_FLOPS ? 1 : threads.size();
    }

    /** Forward as an implicit GEMM when each packed column value feeds at least {@link #IMPLICIT_MIN_ROWS} output channels. */
    private static boolean isImplicit(Conv2dGeometry g) {
        return g.outChannelsPerGroup() >= IMPLICIT_MIN_ROWS;
    }

    private static boolean isPointwise(Conv2dGeometry g) {
        return g.kernelH() == 1 && g.kernelW() == 1 && g.strideH() == 1 && g.strideW() == 1 && g.padH() == 0 && g.padW() == 0;
    }

    /**
     * op(w) of a one-group convolution packed once for all samples ({@link CpuGemm#packWhole}):
     * {@code w [Cout, K]} for forward, {@code w^T [K, Cout]} for backward-data. Null with groups,
     * whose products pack per call as before.
     */
    private float[] packWeights(Conv2dGeometry g, float[] w, boolean transposed) {
        if (g.groups() != 1) return null;
        int k = g.inChannels() * g.kernelH() * g.kernelW(), cout = g.outChannels();
        int rows = transposed ? k : cout, depth = transposed ? cout : k;
        int size = CpuGemm.roundUp(rows, CpuGemm.MR) * depth;
        if (packedWeights.length < size) packedWeights = new float[size];
        CpuGemm.packWhole(transposed, w, 0, k, rows, depth, packedWeights);
        return packedWeights;
    }

    private float[] padded(int worker, int size) {
        float[] p = padded[worker];
        if (p == null || p.length < size) padded[worker] = p = new float[size];
        return p;
    }

    /**
     * The adjoint of the padded im2col for rows [r0, r1) of dcol ({@code col[(r-r0)*P + q]}):
     * {@code dxp[row[r] + pixel[q]] += col[r][q]}, rows in order, pixels in order. At stride 1
     * the pixels of one output row are consecutive in dxp, so that loop is a plain vector add.
     */
    private static void col2imPadded(Conv2dGeometry g, Offsets o, float[] col, int r0, int r1, float[] dxp) {
        int p = g.outHeight() * g.outWidth(), wo = g.outWidth(), ho = g.outHeight();
        int[] row = o.row, pixel = o.pixel;
        if (g.strideW() == 1) {
            int rowStep = g.strideH() * o.paddedW;
            for (int r = r0; r < r1; r++) {
                int d = (r - r0) * p;
                for (int oh = 0, base = row[r]; oh < ho; oh++, base += rowStep, d += wo) {
                    for (int ow = 0; ow < wo; ow++) dxp[base + ow] += col[d + ow];
                }
            }
            return;
        }
        for (int r = r0; r < r1; r++) {
            int d = (r - r0) * p, base = row[r];
            for (int q = 0; q < p; q++) dxp[base + pixel[q]] += col[d + q];
        }
    }

    private float[] cols(int worker, int size) {
        float[] c = cols[worker];
        if (c == null || c.length < size) cols[worker] = c = new float[size];
        return c;
    }

    /**
     * Fills rows [r0, r1) and pixel columns [p0, p1) of the column matrix of one (sample, group)
     * whose first input channel starts at {@code xOff}: {@code col[(r-r0)*(p1-p0) + (q-p0)]}.
     * Each row is walked one output row at a time: a zero run for left padding, a copy of the
     * input row (strided when strideW > 1), a zero run for right padding.
     */
    static void im2col(Conv2dGeometry g, float[] x, int xOff, int r0, int r1, int p0, int p1, float[] col) {
        int kh = g.kernelH(), kw = g.kernelW(), h = g.height(), w = g.width(), wo = g.outWidth(), sw = g.strideW();
        for (int r = r0; r < r1; r++) {
            int c = r / (kh * kw), ki = (r / kw) % kh, kj = r % kw;
            int colOffset = kj * g.dilationW() - g.padW(); // input column of output column ow: ow * sw + colOffset
            int validLo = validLo(colOffset, sw), validHi = validHi(colOffset, sw, w);
            int plane = xOff + c * h * w;
            int d = (r - r0) * (p1 - p0); // col index of pixel q
            for (int q = p0; q < p1; ) {
                int oh = q / wo, owLo = q - oh * wo, owHi = Math.min(wo, owLo + (p1 - q)), run = owHi - owLo;
                int ih = oh * g.strideH() - g.padH() + ki * g.dilationH();
                if (ih < 0 || ih >= h) {
                    Arrays.fill(col, d, d + run, 0f);
                } else {
                    int lo = Math.min(Math.max(validLo, owLo), owHi), hi = Math.max(lo, Math.min(validHi, owHi));
                    int base = d - owLo; // col index of output column ow
                    int src = plane + ih * w + colOffset; // x index of output column ow: src + ow * sw
                    Arrays.fill(col, d, base + lo, 0f);
                    if (sw == 1 && hi > lo) System.arraycopy(x, src + lo, col, base + lo, hi - lo);
                    else for (int ow = lo; ow < hi; ow++) col[base + ow] = x[src + ow * sw];
                    Arrays.fill(col, base + hi, base + owHi, 0f);
                }
                q += run;
                d += run;
            }
        }
    }

    /** First output column whose input column {@code ow * sw + colOffset} is >= 0. */
    private static int validLo(int colOffset, int sw) {
        return colOffset >= 0 ? 0 : CpuGemm.ceilDiv(-colOffset, sw);
    }

    /** One past the last output column whose input column is < w (0 when there is none). */
    private static int validHi(int colOffset, int sw, int w) {
        return w - 1 - colOffset < 0 ? 0 : (w - 1 - colOffset) / sw + 1;
    }
}
