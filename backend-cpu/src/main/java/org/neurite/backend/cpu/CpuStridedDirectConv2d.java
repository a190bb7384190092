package org.neurite.backend.cpu;

import java.util.Arrays;
import org.neurite.backend.Conv2dGeometry;

/**
 * Direct backward-filter for one-group layers with a tiny reduction
 * ({@code K = Cin * kh * kw <= }{@link CpuDirectConv2d#MAX_K}) that are not stride 1 and dilation 1,
 * e.g. the small ResNet's stem (1 -> 16, 3x3, stride 2, padding 1, on 28x28: K = 9). Each sample's
 * K taps are gathered once into {@code col[r * P + j]} (tap r = (c, ki, kj) of output pixel j,
 * zero where the tap falls on padding), laid out as an output plane, so that
 * <pre>
 *   dw[co, r] = sum over n of dot(dy[n, co, :], col_n[r, :])
 * </pre>
 * runs as contiguous vector dot products, three taps at a time sharing each dy vector. The GEMM
 * path (col^T gathered into packed panels) spent its time packing values that each feed only
 * Cout fmas.
 *
 * <p>Bits: per (co, r), {@link CpuKernels#LANES} partial sums (pixel j of a plane into lane j mod
 * LANES, samples in order, pixels in order), added in index order in double at the end, as the
 * stride-1 direct filter does; not the GEMM path's order. One task owns one output channel's row
 * of dW, so the result is the same for any thread count; the plain and vector kernels do the same
 * fmas in the same order ({@link CpuKernels#directTapsFilter}).
 *
 * <p>The taps of a block of samples (at most {@link CpuConv2d#COL_BUDGET} floats) are gathered
 * one sample per task, then each task, a range of output channels, adds that block's samples
 * into its lane sums (which live in a grow-only array across blocks) sample by sample: a
 * sample's taps (K x P floats) stay in L1 for all the range's channels, where one task per
 * channel streamed the whole block's taps from L2 once per channel (the stem 1.09x at batch 32,
 * 1.13x at 64, one thread, paired).
 *
 * <p>Forward stays on the GEMM path: the same gathered taps as 4 channels x 3 vectors of fma
 * chains (the GEMM path's bits) measured 1.00x at batch 64 and 0.88x at batch 256 against the
 * implicit GEMM (one thread, paired), the gather costing about as much as the fmas. Faster
 * gathers at stride 2 did not change that (the stem, batch 32, one thread, paired, with 8
 * channels x 1 vector of fma chains): every other float picked by a two-vector rearrange 0.78x,
 * by the Vector API's gather 0.92x, by plain loops from zero-padded rows 1.00-1.07x, from the
 * rows' column phases 0.85-1.00x; nor did nine-chain filter sums with a blended tail for the
 * plain loop over a plane's last pixels (0.98-1.04x).
 */
final class CpuStridedDirectConv2d {
    private static final int L = CpuKernels.LANES;
    private static final long PARALLEL_MIN_FLOPS = 1L << 18;

    private final CpuThreads threads;
    private final CpuKernels[] kernels; // per worker
    private float[] blockCols = new float[0]; // gathered taps of a block of samples (backward filter), grow-only
    private float[] laneSums = new float[0]; // Cout x K x LANES partial sums of dW (backward filter), grow-only
    private final FilterLoop filterLoop = new FilterLoop();

    CpuStridedDirectConv2d(CpuThreads threads, CpuKernels.Path path) {
        this.threads = threads;
        this.kernels = path.perWorker(threads.size());
    }

    /**
     * One group, a reduction of at most {@link CpuDirectConv2d#MAX_K}, not the stride-1 dilation-1
     * geometry {@link CpuDirectConv2d} runs itself, and one sample's taps within
     * {@link CpuConv2d#COL_BUDGET} (a block holds at least one sample).
     */
    static boolean applies(Conv2dGeometry g) {
        boolean unitStep = g.strideH() == 1 && g.strideW() == 1 && g.dilationH() == 1 && g.dilationW() == 1;
        long k = (long) g.inChannels() * g.kernelH() * g.kernelW();
        return !unitStep && g.groups() == 1 && k <= CpuDirectConv2d.MAX_K
                && k * g.outHeight() * g.outWidth() <= CpuConv2d.COL_BUDGET;
    }

    private int parallelism(Conv2dGeometry g) {
        return g.flops() < PARALLEL_MIN_FLOPS ? 1 : threads.size();
    }

    /**
     * col[at + r * p + j] for sample n: x[n, c, oh*sh - ph + ki*dh, ow*sw - pw + kj*dw] for tap r = (c, ki, kj)
     * and output pixel j = oh * wo + ow, 0 where that falls outside the input. Element by element,
     * one tap's output row at a time: splitting each input row into its column phases first (so
     * that a tap's row became one contiguous copy) and writing all kw taps in one pass over the
     * output columns were tried on the stem and measured no faster (single runs on a loaded machine).
     */
    static void gather(Conv2dGeometry g, float[] x, int n, float[] col, int at) {
        int cin = g.inChannels(), h = g.height(), w = g.width(), kh = g.kernelH(), kw = g.kernelW();
        int ho = g.outHeight(), wo = g.outWidth(), p = ho * wo;
        int sh = g.strideH(), sw = g.strideW(), ph = g.padH(), pw = g.padW(), dh = g.dilationH(), dw = g.dilationW();
        for (int c = 0, r = 0; c < cin; c++) {
            int plane = (n * cin + c) * h * w;
            for (int ki = 0; ki < kh; ki++) {
                for (int kj = 0; kj < kw; kj++, r++) {
                    int row0 = at + r * p, colShift = kj * dw - pw;
                    // Output columns whose input column ow*sw + colShift lies in [0, w).
                    int owLo = colShift >= 0 ? 0 : Math.min(wo, (-colShift + sw - 1) / sw);
                    int owHi = Math.max(owLo, Math.min(wo, w - colShift <= 0 ? 0 : (w - colShift - 1) / sw + 1));
                    // Loops rather than Arrays.fill: the runs are a few floats, and the calls cost more than the copy.
                    for (int oh = 0; oh < ho; oh++) {
                        int ih = oh * sh - ph + ki * dh, d = row0 + oh * wo;
                        if (ih < 0 || ih >= h) {
                            for (int ow = 0; ow < wo; ow++) col[d + ow] = 0f;
                            continue;
                        }
                        for (int ow = 0; ow < owLo; ow++) col[d + ow] = 0f;
                        for (int ow = owLo, s = plane + ih * w + owLo * sw + colShift; ow < owHi; ow++, s += sw) col[d + ow] = x[s];
                        for (int ow = owHi; ow < wo; ow++) col[d + ow] = 0f;
                    }
                }
            }
        }
    }

    // ---- backward filter ----------------------------------------------------------------------

    /** dw only; the caller computes dbias. */
    void backwardFilter(Conv2dGeometry g, float[] x, float[] dy, float[] dw) {
        filterLoop.execute(g, x, dy, dw);
    }

    /**
     * Per block of samples two regions: the block's taps gathered (one sample per task), then each
     * task, a range of output channels, adds the block's samples in order into their lane sums.
     */
    private final class FilterLoop implements CpuThreads.RangeTask {
        private Conv2dGeometry g;
        private float[] x, dy;
        private boolean gathering;
        private int first, samples; // the block's first sample and its size

        synchronized void execute(Conv2dGeometry g, float[] x, float[] dy, float[] dw) {
            int k = g.inChannels() * g.kernelH() * g.kernelW(), p = g.outHeight() * g.outWidth(), cout = g.outChannels();
            int block = Math.max(1, Math.min(g.batch(), CpuConv2d.COL_BUDGET / (k * p)));
            if (blockCols.length < block * k * p) blockCols = new float[block * k * p];
            if (laneSums.length < cout * k * L) laneSums = new float[cout * k * L];
            Arrays.fill(laneSums, 0, cout * k * L, 0f);
            this.g = g;
            this.x = x;
            this.dy = dy;
            try {
                for (first = 0; first < g.batch(); first += block) {
                    samples = Math.min(block, g.batch() - first);
                    gathering = true;
                    threads.run(samples, parallelism(g), this);
                    gathering = false;
                    threads.run(cout, parallelism(g), this);
                }
            } finally {
                this.g = null;
                this.x = this.dy = null;
            }
            // Each dW element: its lanes added in index order, in double.
            for (int e = 0; e < cout * k; e++) {
                double s = 0;
                for (int l = 0; l < L; l++) s += laneSums[e * L + l];
                dw[e] = (float) s;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            Conv2dGeometry g = this.g;
            int k = g.inChannels() * g.kernelH() * g.kernelW(), p = g.outHeight() * g.outWidth(), cout = g.outChannels();
            if (gathering) {
                for (int s = begin; s < end; s++) gather(g, x, first + s, blockCols, s * k * p);
                return;
            }
            CpuKernels kernel = kernels[worker];
            for (int s = 0; s < samples; s++) {
                for (int co = begin; co < end; co++) {
                    kernel.directTapsFilter(dy, ((first + s) * cout + co) * p, blockCols, s * k * p, p, k, laneSums, co * k * L);
                }
            }
        }
    }
}
