package org.neurite.backend.opencl;

import org.jocl.cl_mem;
import org.neurite.backend.Conv2dGeometry;

/**
 * 2-D convolution on the device as im2col + GEMM (PyTorch layouts: x[N, Cin, H, W],
 * w[Cout, Cin/groups, kh, kw], y[N, Cout, Ho, Wo]). With K = Cin/groups*kh*kw rows per group and
 * P = Ho*Wo columns, for a chunk of samples:
 * <pre>
 *   forward          col[s][Cin*kh*kw][P] = im2col(x_s);  y_s,g[Cout/g, P] = w_g[Cout/g, K] * col[s][g*K.., P]
 *                    (one GEMM per group, batched over the chunk's samples with w's stride 0), + bias[channel]
 *                    in the GEMM's store
 *   backward data    col[s] = w_g^T * dy_s,g (batched likewise), then col2im (a gather) into dx
 *   backward filter  col laid out [Cin*kh*kw][chunk*P] and dy as [Cout][chunk*P] (one launch); then
 *                    dw_g[Cout/g, K] (+)= dy_g * col_g^T, one GEMM per group whose k runs over every
 *                    (sample, pixel) of the chunk, accumulating across chunks (beta 1)
 * </pre>
 * The filter gradient's product is small (Cout/g x K) and its k (chunk * P) grows with the batch,
 * so as one GEMM it runs on the few work-groups that cover dw, each walking the whole batch in
 * turn: its time per sample does not fall with the batch, whatever the device. It is therefore
 * split over the samples ("split-K"): the chunk's columns are cut into S slices of whole samples,
 * one batched GEMM writes each slice's partial dw (S times the work-groups, each 1/S of the walk),
 * {@code conv_bias_slices} each slice's partial bias gradient (one work-group per slice and
 * channel, where a single channel sum would walk the batch on Cout work-groups; when every chunk
 * splits), and {@code conv_sum_slices} adds the S partials in slice order (fixed, so results are
 * reproducible) into dw and dbias. S is the largest divisor of the chunk's samples with slices of at least
 * {@link #MIN_SLICE_COLUMNS} columns, at most {@link #MAX_SLICES}, and partials within a quarter of
 * the column budget; S = 1 is the single GEMM.
 * A 1x1, stride-1, unpadded convolution reads x itself as the column matrix (forward and backward
 * data). The column buffer holds at most a budget of floats ({@link #COLUMN_BUDGET} by default) unless a single sample
 * needs more; larger batches run in chunks. Arguments arrive checked.
 */
final class ClConv2d {
    /** Floats of column matrix per chunk by default (64 MiB). */
    static final long COLUMN_BUDGET = 1L << 24;
    /** The fewest columns (sample pixels) a slice of the filter gradient's reduction walks: below, the partials cost more than they save. */
    static final int MIN_SLICE_COLUMNS = 512;
    /** The most slices the filter gradient's reduction is split into (the partials' sum is one work-item per weight walking them all). */
    static final int MAX_SLICES = 256;

    private final ClKernels kernels;
    private final ClGemm gemm;
    private final ClWorkspace columns;
    private final ClCopies copies;
    private final long columnBudget;

    ClConv2d(ClKernels kernels, ClGemm gemm, ClWorkspace columns, ClCopies copies, long columnBudget) {
        this.kernels = kernels;
        this.gemm = gemm;
        this.columns = columns;
        this.copies = copies;
        this.columnBudget = columnBudget;
    }

    void forward(Conv2dGeometry g, ClTensor x, ClTensor w, ClTensor bias, ClTensor y) {
        int groups = g.groups(), cinG = g.inChannelsPerGroup(), coutG = g.outChannelsPerGroup();
        int k = cinG * g.kernelH() * g.kernelW(), rows = g.inChannels() * g.kernelH() * g.kernelW();
        int hw = g.height() * g.width(), p = g.outHeight() * g.outWidth();
        int cout = g.outChannels();
        // The bias is added in the GEMM's store (rows of y_s,g are output channels): no separate launch.
        cl_mem b = bias == null ? null : bias.mem();
        if (isPointwise(g)) {
            for (int gi = 0; gi < groups; gi++)
                gemm.multiplyWithRowBias(false, false, coutG, p, k, 1f, w.mem(), gi * coutG * k, k, x.mem(), gi * k * hw, hw,
                        0f, y.mem(), gi * coutG * p, p, g.batch(), 0, g.inChannels() * hw, cout * p, b, gi * coutG);
        } else {
            int chunk = chunk(g.batch(), (long) rows * p);
            cl_mem col = columns.atLeast((long) chunk * rows * p * Float.BYTES);
            for (int n0 = 0; n0 < g.batch(); n0 += chunk) {
                int nc = Math.min(chunk, g.batch() - n0);
                im2col(g, x, n0, nc, col, rows * p, p);
                for (int gi = 0; gi < groups; gi++)
                    gemm.multiplyWithRowBias(false, false, coutG, p, k, 1f, w.mem(), gi * coutG * k, k, col, gi * k * p, p,
                            0f, y.mem(), (n0 * cout + gi * coutG) * p, p, nc, 0, rows * p, cout * p, b, gi * coutG);
            }
        }
    }

    void backwardData(Conv2dGeometry g, ClTensor dy, ClTensor w, ClTensor dx) {
        int groups = g.groups(), cinG = g.inChannelsPerGroup(), coutG = g.outChannelsPerGroup();
        int k = cinG * g.kernelH() * g.kernelW(), rows = g.inChannels() * g.kernelH() * g.kernelW();
        int hw = g.height() * g.width(), p = g.outHeight() * g.outWidth();
        int cout = g.outChannels();
        if (isPointwise(g)) {
            for (int gi = 0; gi < groups; gi++)
                gemm.multiply(true, false, k, hw, coutG, 1f, w.mem(), gi * coutG * k, k, dy.mem(), gi * coutG * p, p,
                        0f, dx.mem(), gi * k * hw, hw, g.batch(), 0, cout * p, g.inChannels() * hw);
            return;
        }
        int chunk = chunk(g.batch(), (long) rows * p);
        cl_mem col = columns.atLeast((long) chunk * rows * p * Float.BYTES);
        for (int n0 = 0; n0 < g.batch(); n0 += chunk) {
            int nc = Math.min(chunk, g.batch() - n0);
            for (int gi = 0; gi < groups; gi++)
                gemm.multiply(true, false, k, p, coutG, 1f, w.mem(), gi * coutG * k, k, dy.mem(), (n0 * cout + gi * coutG) * p, p,
                        0f, col, gi * k * p, p, nc, 0, cout * p, rows * p);
            int n = nc * g.inChannels() * hw;
            kernels.get("col2im").map(n, col, 0, rows * p, p, dx, n0, g.inChannels(), g.height(), g.width(),
                    g.kernelH(), g.kernelW(), g.strideH(), g.strideW(), g.padH(), g.padW(), g.dilationH(), g.dilationW(),
                    g.outHeight(), g.outWidth(), n);
        }
    }

    /** dw and dbias (may be null) overwritten; an empty batch gives zeros. */
    void backwardFilter(Conv2dGeometry g, ClTensor x, ClTensor dy, ClTensor dw, ClTensor dbias) {
        if (g.batch() == 0) {
            copies.fill(dw, 0f);
            if (dbias != null) copies.fill(dbias, 0f);
            return;
        }
        int groups = g.groups(), coutG = g.outChannelsPerGroup();
        int k = g.inChannelsPerGroup() * g.kernelH() * g.kernelW(), rows = g.inChannels() * g.kernelH() * g.kernelW();
        int p = g.outHeight() * g.outWidth(), cout = g.outChannels();
        // Per sample: its column rows plus its dy rows, both laid out channel-major over the chunk;
        // after them, the partial filter gradients of the slices.
        int chunk = chunk(g.batch(), (long) (rows + cout) * p);
        int dwSize = cout * k, last = g.batch() % chunk;
        // The bias gradient joins the split when every chunk splits; else one channel sum over the batch.
        boolean biasInSlices = dbias != null && slices(chunk, p, dwSize + cout, columnBudget / 4) > 1
                && (last == 0 || slices(last, p, dwSize + cout, columnBudget / 4) > 1);
        int nBias = biasInSlices ? cout : 0, sliceStride = dwSize + nBias;
        for (int n0 = 0; n0 < g.batch(); n0 += chunk) {
            int nc = Math.min(chunk, g.batch() - n0);
            int width = nc * p, dyOff = rows * width, partOff = (rows + cout) * width;
            int slices = slices(nc, p, sliceStride, columnBudget / 4);
            cl_mem work = columns.atLeast(((long) partOff + (slices > 1 ? (long) slices * sliceStride : 0)) * Float.BYTES);
            int nCol = rows * width, n = nCol + cout * width;
            kernels.get("filter_gradient_operands").map(n, x, n0, g.inChannels(), g.height(), g.width(), g.kernelH(), g.kernelW(),
                    g.strideH(), g.strideW(), g.padH(), g.padW(), g.dilationH(), g.dilationW(), g.outHeight(), g.outWidth(),
                    work, nCol, dy, nc, cout, dyOff, n);
            float beta = n0 == 0 ? 0f : 1f;
            if (slices == 1) {
                for (int gi = 0; gi < groups; gi++)
                    gemm.multiply(false, true, coutG, k, width, 1f, work, dyOff + gi * coutG * width, width, work, gi * k * width, width,
                            beta, dw.mem(), gi * coutG * k, k, 1, 0, 0, 0);
                continue;
            }
            int slice = width / slices; // whole samples: slices divides nc
            for (int gi = 0; gi < groups; gi++)
                gemm.multiply(false, true, coutG, k, slice, 1f, work, dyOff + gi * coutG * width, width, work, gi * k * width, width,
                        0f, work, partOff + gi * coutG * k, k, slices, slice, slice, sliceStride);
            if (biasInSlices)
                kernels.get("conv_bias_slices").groups(slices * cout, work, dyOff, width, slice, cout, work, partOff, sliceStride, dwSize);
            kernels.get("conv_sum_slices").map(dwSize + nBias, work, partOff, slices, sliceStride, dw, dwSize,
                    biasInSlices ? dbias : dw, nBias, beta);
        }
        if (dbias != null && !biasInSlices) kernels.get("channel_sum").groups(cout, dy, dbias, g.batch(), cout, p, 0f);
    }

    /** Column matrix of samples [first, first + count) at sample stride / row stride into {@code col}. */
    private void im2col(Conv2dGeometry g, ClTensor x, int first, int count, cl_mem col, int sampleStride, int rowStride) {
        int n = count * g.inChannels() * g.kernelH() * g.kernelW() * g.outHeight() * g.outWidth();
        kernels.get("im2col").map(n, x, first, g.inChannels(), g.height(), g.width(), g.kernelH(), g.kernelW(),
                g.strideH(), g.strideW(), g.padH(), g.padW(), g.dilationH(), g.dilationW(), g.outHeight(), g.outWidth(),
                col, 0, sampleStride, rowStride, n);
    }

    /**
     * Slices the filter gradient's reduction over {@code samples} samples of {@code pixels} output
     * pixels is split into: the largest divisor of {@code samples} (slices of whole samples, all of
     * one length, so one batched GEMM computes them) whose slices walk at least
     * {@link #MIN_SLICE_COLUMNS} columns, at most {@link #MAX_SLICES}, with {@code slices * dwSize}
     * partial floats within {@code partialBudget}; 1 when none is.
     */
    static int slices(int samples, int pixels, int dwSize, long partialBudget) {
        int best = 1;
        for (int s = 2; s <= Math.min(samples, MAX_SLICES); s++) {
            if ((long) (samples / s) * pixels < MIN_SLICE_COLUMNS || (long) s * dwSize > partialBudget) break;
            if (samples % s == 0) best = s;
        }
        return best;
    }

    /** Samples per chunk so that the chunk's {@code perSample} floats stay within the budget (at least one). */
    private int chunk(int batch, long perSample) {
        return (int) Math.max(1, Math.min(batch, columnBudget / Math.max(1, perSample)));
    }

    static boolean isPointwise(Conv2dGeometry g) {
        return g.kernelH() == 1 && g.kernelW() == 1 && g.strideH() == 1 && g.strideW() == 1 && g.padH() == 0 && g.padW() == 0;
    }
}
