package org.neurite.backend.cpu;

import org.neurite.backend.Conv2dGeometry;

/**
 * Forward of unpadded 1x1 convolutions with a stride (the small ResNet's stride-2 shortcuts,
 * 16 -> 32 on 14x14 and 32 -> 64 on 7x7), vectorised over output channels on the channel-vector
 * kernel ({@link CpuKernels#channelConvBlock}) reading x itself:
 * <pre>
 *   y[n, co, oh, ow] = sum over ci of w[co, ci] * x[n, ci, oh*sH, ow*sW]   (+ bias, then relu when asked)
 * </pre>
 * The term offsets are the input planes ({@code ci * H * W}) and the kernel's pixel step is the
 * horizontal stride, so nothing is copied: the GEMM path gathered each packed panel from a padded
 * copy of the sample and ran one GEMM of 49 or 16 columns per sample (about 20 GFLOP/s), and the
 * channel-vector forward with its padded copy read four times the inputs it used (0.72x). The
 * weights are repacked once per call as {@code [Cout/VL][Cin][VL]}. A block of output pixels that
 * is not whole (the last of a row narrower than {@link CpuChannelVectorConv2d#pixels}) reads its
 * inputs from a per-worker copy with zeros past the row, so no read leaves x. Tiles go, with the
 * bias and the relu, channels-last into a per-worker buffer ({@link CpuKernels#channelConvStore}),
 * transposed into y's planes once per task ({@link CpuKernels#channelsLastToPlanes}; the 32 -> 64
 * shortcut's forward ran 1.60x as fast as with the per-block gathers this replaced, paired,
 * one thread). Tasks are (sample, block of output rows), claimed; blocks of rows only when there
 * are fewer samples than workers.
 *
 * <p>Bits: each output is the fma chain over ci from zero, then {@code + bias}, then
 * {@code Math.max(y, 0)} with the relu: the GEMM path's order for {@code Cin <= }{@link CpuGemm#KC},
 * so both give the same bits, as does the plain path, for any thread count.
 */
final class CpuStridedPointwiseConv2d {
    private static final long PARALLEL_MIN_FLOPS = 1L << 18;

    private final CpuThreads threads;
    private final CpuKernels[] kernels; // per worker
    private final float[][] tiles; // per-worker accumulator tile, grow-only
    private final float[][] outputs; // per-worker channels-last outputs [Ho*Wo][Cout] of a sample, grow-only
    private final float[][] edges; // per-worker inputs of a partial pixel block [Cin][pixels], grow-only
    private float[] packedWeights = new float[0]; // [Cout/VL][Cin][VL], grow-only
    private int[] planeOffsets = new int[0]; // ci -> ci * H * W, grow-only
    private int[] edgeOffsets = new int[0]; // ci -> ci * pixels, grow-only
    private final ForwardLoop forwardLoop = new ForwardLoop();

    CpuStridedPointwiseConv2d(CpuThreads threads, CpuKernels.Path path) {
        this.threads = threads;
        this.kernels = path.perWorker(threads.size());
        this.tiles = new float[threads.size()][];
        this.outputs = new float[threads.size()][];
        this.edges = new float[threads.size()][];
    }

    /**
     * Whether {@link #forward} computes this geometry with the GEMM path's bits: a 1x1 kernel, no
     * padding, one group, a stride above 1 in some direction with a horizontal stride of 1 or 2
     * (the kernels' pixel steps), output channels in whole lane groups, {@code 0 < Cin <= KC},
     * non-empty tensors, and one sample's output planes within
     * {@link CpuChannelVectorConv2d#MAX_SAMPLE_FLOATS}.
     */
    static boolean supports(Conv2dGeometry g) {
        return g.kernelH() == 1 && g.kernelW() == 1 && g.padH() == 0 && g.padW() == 0 && g.groups() == 1
                && (g.strideH() > 1 || g.strideW() > 1) && (g.strideW() == 1 || g.strideW() == 2)
                && g.outChannels() % CpuKernels.LANES == 0 && g.outChannels() > 0 && g.inChannels() > 0 && g.inChannels() <= CpuGemm.KC
                && g.batch() > 0 && g.outHeight() > 0 && g.outWidth() > 0
                && (long) g.outChannels() * ((long) g.outHeight() * g.outWidth() + CpuKernels.LANES) <= CpuChannelVectorConv2d.MAX_SAMPLE_FLOATS;
    }

    /**
     * Whether {@link CpuConv2d} gives it a geometry's forward: one it {@linkplain #supports supports}
     * with at most 64 output channels in a multiple of four 16-lane groups (512-bit vectors, four
     * of them times 4 pixels a call: the 32 -> 64 shortcut, 1.35x of the GEMM path, one thread,
     * paired). With two vectors (16 -> 32: 7 pixels, 16 terms) the transposing store cost as much
     * as the fmas (0.78x); at 256 bits both shortcuts ran slower (0.51x and 0.66x).
     */
    static boolean takes(Conv2dGeometry g) {
        return supports(g) && CpuKernels.LANES == 16 && g.outChannels() <= 64 && vectors(g) == 4;
    }

    /** Vectors of output channels per kernel call: 4, 2 or 1, the most that divides {@code Cout / LANES}. */
    static int vectors(Conv2dGeometry g) {
        return CpuStridedBackwardData.vectors(g.outChannels());
    }

    /** y = conv(x, w) + bias, then with {@code relu} y = max(y, 0); see the class comment. */
    void forward(Conv2dGeometry g, float[] x, float[] w, float[] bias, boolean relu, float[] y) {
        forwardLoop.execute(g, x, w, bias, null, relu, y);
    }

    /**
     * y = conv(x, w) + bias + residual, then with {@code relu} y = max(y, 0), the residual added to
     * each task's rows of y as it writes them ({@link CpuChannelVectorConv2d#addResidual}): the bits
     * of {@link #forward} then the add (and relu) op.
     */
    void forward(Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] residual, boolean relu, float[] y) {
        forwardLoop.execute(g, x, w, bias, residual, relu, y);
    }

    private final class ForwardLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] x, bias, y;
        private float[] residual; // added before the relu, or null
        private boolean relu;
        private int rowBlocks;

        synchronized void execute(Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] residual, boolean relu, float[] y) {
            int cin = g.inChannels(), cout = g.outChannels(), hw = g.height() * g.width();
            int v = vectors(g), vl = v * CpuKernels.LANES, pix = CpuChannelVectorConv2d.pixels(v);
            if (packedWeights.length < cout * cin) packedWeights = new float[cout * cin];
            float[] wv = packedWeights;
            // wv[(b*Cin + ci)*VL + c] = w[(b*VL + c)*Cin + ci]
            for (int b = 0; b < cout / vl; b++) {
                for (int c = 0; c < vl; c++) {
                    int from = (b * vl + c) * cin, to = b * cin * vl + c;
                    for (int ci = 0; ci < cin; ci++) wv[to + ci * vl] = w[from + ci];
                }
            }
            if (planeOffsets.length < cin) {
                planeOffsets = new int[cin];
                edgeOffsets = new int[cin];
            }
            for (int ci = 0; ci < cin; ci++) {
                planeOffsets[ci] = ci * hw;
                edgeOffsets[ci] = ci * pix;
            }
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
            int cin = g.inChannels(), cout = g.outChannels(), lanes = CpuKernels.LANES, w = g.width(), hw = g.height() * w;
            int ho = g.outHeight(), wo = g.outWidth(), p = ho * wo, sh = g.strideH(), sw = g.strideW();
            int v = vectors(g), vl = v * lanes, pix = CpuChannelVectorConv2d.pixels(v);
            float[] tile = CpuThreads.scratch(tiles, worker, pix * vl);
            float[] out = CpuThreads.scratch(outputs, worker, p * cout);
            float[] edge = wo % pix == 0 ? null : CpuThreads.scratch(edges, worker, cin * pix);
            float[] x = this.x, wv = packedWeights, bias = this.bias, y = this.y;
            int[] planes = planeOffsets, edgePlanes = edgeOffsets;
            float[] residual = this.residual;
            boolean relu = this.relu, storeRelu = relu && residual == null; // with a residual, the relu after it
            CpuKernels kernel = kernels[worker];
            for (int t = begin; t < end; t++) {
                int n = t / rowBlocks, block = t % rowBlocks;
                int oh0 = (int) ((long) block * ho / rowBlocks), oh1 = (int) ((long) (block + 1) * ho / rowBlocks);
                for (int oh = oh0; oh < oh1; oh++) {
                    for (int ow0 = 0; ow0 < wo; ow0 += pix) {
                        int count = Math.min(pix, wo - ow0), at = n * cin * hw + oh * sh * w + ow0 * sw;
                        if (count < pix) gatherEdge(x, at, hw, sw, cin, count, pix, edge);
                        for (int b = 0; b < cout / vl; b++) {
                            if (count == pix) kernel.channelConvBlock(x, at, planes, cin, wv, b * cin * vl, v, sw, false, tile);
                            else kernel.channelConvBlock(edge, 0, edgePlanes, cin, wv, b * cin * vl, v, 1, false, tile);
                            kernel.channelConvStore(tile, v, count, bias, b * vl, storeRelu, out, (oh * wo + ow0) * cout + b * vl, cout);
                        }
                    }
                }
                kernel.channelsLastToPlanes(out, oh0 * wo * cout, (oh1 - oh0) * wo, cout, y, n * cout * p + oh0 * wo, p);
                if (residual != null) CpuChannelVectorConv2d.addResidual(kernel, residual, y, n * cout * p + oh0 * wo, (oh1 - oh0) * wo, cout, p, relu);
            }
        }
    }

    /** {@code edge[ci*pix + q] = x[at + ci*hw + q*sw]} for q < count, 0 for the rest of the block. */
    private static void gatherEdge(float[] x, int at, int hw, int sw, int cin, int count, int pix, float[] edge) {
        for (int ci = 0; ci < cin; ci++) {
            int src = at + ci * hw, d = ci * pix;
            for (int q = 0; q < count; q++) edge[d + q] = x[src + q * sw];
            for (int q = count; q < pix; q++) edge[d + q] = 0f;
        }
    }
}
