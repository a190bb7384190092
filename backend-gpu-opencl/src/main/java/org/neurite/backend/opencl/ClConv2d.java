package org.neurite.backend.opencl;

import org.jocl.cl_mem;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.backend.UnaryOp;

/**
 * 2-D convolution on the device (PyTorch layouts: x[N, Cin, H, W], w[Cout, Cin/groups, kh, kw],
 * y[N, Cout, Ho, Wo]), each direction by the {@link Path} of the current {@link Choice} (tuned per
 * device by {@link ClConvTuning}): as implicit GEMM, one launch of {@code conv_implicit} per
 * direction that reads x (dy) through the im2col (col2im) index arithmetic in its tile loads and
 * allocates no column matrix (the filter gradient keeps only its slices' partials), or as
 * im2col + GEMM, described here. With K = Cin/groups*kh*kw rows per group and
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
    private volatile Choice choice = Choice.IM2COL;

    /**
     * How a direction of the convolution runs: {@link #IM2COL} writes the column matrix to the
     * workspace and multiplies it with the tuned SGEMM kernel; {@link #IMPLICIT} is one launch of
     * {@code conv_implicit} ({@code conv_implicit.cl}), whose tile loads read x (or dy) through the
     * im2col (col2im) index arithmetic, so no column matrix is allocated or written.
     */
    enum Path { IM2COL, IMPLICIT }

    /** The path of each direction: the forward pass, the data gradient and the filter gradient. */
    record Choice(Path forward, Path backwardData, Path backwardFilter) {
        static final Choice IM2COL = new Choice(Path.IM2COL, Path.IM2COL, Path.IM2COL);
        static final Choice IMPLICIT = new Choice(Path.IMPLICIT, Path.IMPLICIT, Path.IMPLICIT);

        @Override public String toString() {
            return "forward " + name(forward) + ", backward data " + name(backwardData) + ", backward filter " + name(backwardFilter);
        }

        private static String name(Path p) { return p == Path.IMPLICIT ? "implicit GEMM" : "im2col + GEMM"; }
    }

    /** Columns of C per work-group of {@code conv_implicit.cl}; must match CONV_TS_N. */
    static final int IMPLICIT_TILE_N = 64;
    /** Work-group edge of every {@code conv_implicit.cl} configuration (CONV_LX = CONV_LY = 16 items). */
    static final int IMPLICIT_LOCAL = 16;

    ClConv2d(ClKernels kernels, ClGemm gemm, ClWorkspace columns, ClCopies copies, long columnBudget) {
        this.kernels = kernels;
        this.gemm = gemm;
        this.columns = columns;
        this.copies = copies;
        this.columnBudget = columnBudget;
    }

    /**
     * One launch of {@code conv_implicit}: mode 0 the forward product (C = y_s,g, Cout/g x Ho*Wo),
     * mode 1 the data gradient (C = dx_s,g, Cin/g x H*W); one work-group per 32 x 64 or 64 x 64 tile
     * of C (by its rows) of every (sample, group).
     */
    private void implicit(int mode, Conv2dGeometry g, cl_mem src, cl_mem other, cl_mem bias, int epilogue, cl_mem dst) {
        int m = mode == 0 ? g.outChannelsPerGroup() : g.inChannelsPerGroup();
        int n = mode == 0 ? g.outHeight() * g.outWidth() : g.height() * g.width();
        launchImplicit(mode, g, m, n, (long) g.batch() * g.groups(), src, other, bias, epilogue, dst, 0, 0, 0);
    }

    /** {@code epilogue}: {@link ClGemm#epilogue}'s word (the forward pass's activation; 0 otherwise). */
    private void launchImplicit(int mode, Conv2dGeometry g, int m, int n, long z, cl_mem src, cl_mem other, cl_mem bias,
                                int epilogue, cl_mem dst, int perSlice, int outOff, int sliceStride) {
        if (m == 0 || n == 0 || z == 0) return;
        ClKernels.ConvTile tile = m <= ClKernels.CONV_32.tileM() ? ClKernels.CONV_32 : ClKernels.CONV_64;
        // Without a bias the kernel gets dst as a placeholder it never reads.
        kernels.get(tile.kernel()).args().i(mode).mem(src).mem(other).mem(dst)
                .mem(bias == null ? dst : bias).bool(bias != null).i(epilogue).i(g.inChannels()).i(g.height()).i(g.width()).i(g.outChannels())
                .i(g.kernelH()).i(g.kernelW()).i(g.strideH()).i(g.strideW()).i(g.padH()).i(g.padW()).i(g.dilationH()).i(g.dilationW())
                .i(g.outHeight()).i(g.outWidth()).i(g.groups()).i(perSlice).i(outOff).i(sliceStride)
                .run(ceilDiv(n, IMPLICIT_TILE_N) * IMPLICIT_LOCAL, ceilDiv(m, tile.tileM()) * IMPLICIT_LOCAL, z, IMPLICIT_LOCAL, IMPLICIT_LOCAL, 1);
    }

    /**
     * The filter gradient as implicit GEMM over the whole batch (no chunks: nothing is staged):
     * S slices of whole samples ({@link #slices}) each give a partial dw in one launch (mode 2),
     * added in slice order by {@code conv_sum_slices}; with S = 1 the launch writes dw. The bias
     * gradient is one channel sum over dy.
     */
    private void implicitFilter(Conv2dGeometry g, cl_mem x, cl_mem dy, cl_mem dw, cl_mem dbias) {
        int coutG = g.outChannelsPerGroup(), k = g.inChannelsPerGroup() * g.kernelH() * g.kernelW();
        int p = g.outHeight() * g.outWidth(), cout = g.outChannels(), dwSize = cout * k;
        int slices = slices(g.batch(), p, dwSize, columnBudget / 4);
        int perSlice = g.batch() / slices;
        long z = (long) slices * g.groups();
        if (slices == 1) {
            launchImplicit(2, g, coutG, k, z, dy, x, null, 0, dw, perSlice, 0, 0);
        } else {
            cl_mem part = columns.atLeast((long) slices * dwSize * Float.BYTES);
            launchImplicit(2, g, coutG, k, z, dy, x, null, 0, part, perSlice, 0, dwSize);
            kernels.get("conv_sum_slices").args().mem(part).i(0).i(slices).i(dwSize).mem(dw).i(dwSize).mem(dw).i(0).f(0f).map(dwSize);
        }
        if (dbias != null) kernels.get("channel_sum").args().mem(dy).mem(dbias).i(g.batch()).i(cout).i(p).f(0f).groups(cout);
    }

    private static long ceilDiv(long a, long b) { return (a + b - 1) / b; }

    /** Which path each direction takes now (the tuned choice, or what a test set). */
    Choice choice() { return choice; }

    /** Replaces the choice (the tuning sets it once; tests run both paths this way). */
    void use(Choice choice) { this.choice = choice; }

    /** y = activation(conv(x, w) + bias): {@code bias} and {@code activation} may be null. */
    void forward(Conv2dGeometry g, ClTensor x, ClTensor w, ClTensor bias, UnaryOp activation, ClTensor y) {
        kernels.ensureOpen(); // a closed backend's message, before its closed tensors' own
        forward(choice.forward(), g, x.mem(), w.mem(), bias == null ? null : bias.mem(), activation, y.mem());
    }

    void backwardData(Conv2dGeometry g, ClTensor dy, ClTensor w, ClTensor dx) {
        kernels.ensureOpen();
        backwardData(choice.backwardData(), g, dy.mem(), w.mem(), dx.mem());
    }

    /**
     * y = activation(conv(x, w) (+ bias per channel; {@code b} null for none)) through {@code path},
     * the bias and the activation (null for none) in the store of the product's kernel.
     */
    void forward(Path path, Conv2dGeometry g, cl_mem x, cl_mem w, cl_mem b, UnaryOp activation, cl_mem y) {
        int epilogue = ClGemm.epilogue(activation, false);
        if (path == Path.IMPLICIT) {
            implicit(0, g, x, w, b, epilogue, y);
            return;
        }
        int groups = g.groups(), cinG = g.inChannelsPerGroup(), coutG = g.outChannelsPerGroup();
        int k = cinG * g.kernelH() * g.kernelW(), rows = g.inChannels() * g.kernelH() * g.kernelW();
        int hw = g.height() * g.width(), p = g.outHeight() * g.outWidth();
        int cout = g.outChannels();
        // The bias (rows of y_s,g are output channels) and the activation are applied in the GEMM's store: no separate launch.
        if (isPointwise(g)) {
            for (int gi = 0; gi < groups; gi++)
                gemm.multiplyWithEpilogue(false, false, coutG, p, k, 1f, w, gi * coutG * k, k, x, gi * k * hw, hw,
                        0f, y, gi * coutG * p, p, g.batch(), 0, g.inChannels() * hw, cout * p, b, gi * coutG, epilogue);
        } else {
            int chunk = chunk(g.batch(), (long) rows * p);
            cl_mem col = columns.atLeast((long) chunk * rows * p * Float.BYTES);
            for (int n0 = 0; n0 < g.batch(); n0 += chunk) {
                int nc = Math.min(chunk, g.batch() - n0);
                im2col(g, x, n0, nc, col, rows * p, p);
                for (int gi = 0; gi < groups; gi++)
                    gemm.multiplyWithEpilogue(false, false, coutG, p, k, 1f, w, gi * coutG * k, k, col, gi * k * p, p,
                            0f, y, (n0 * cout + gi * coutG) * p, p, nc, 0, rows * p, cout * p, b, gi * coutG, epilogue);
            }
        }
    }

    /** dx = the adjoint of the convolution applied to dy, through {@code path}. */
    void backwardData(Path path, Conv2dGeometry g, cl_mem dy, cl_mem w, cl_mem dx) {
        if (path == Path.IMPLICIT) {
            implicit(1, g, dy, w, null, 0, dx);
            return;
        }
        int groups = g.groups(), cinG = g.inChannelsPerGroup(), coutG = g.outChannelsPerGroup();
        int k = cinG * g.kernelH() * g.kernelW(), rows = g.inChannels() * g.kernelH() * g.kernelW();
        int hw = g.height() * g.width(), p = g.outHeight() * g.outWidth();
        int cout = g.outChannels();
        if (isPointwise(g)) {
            for (int gi = 0; gi < groups; gi++)
                gemm.multiply(true, false, k, hw, coutG, 1f, w, gi * coutG * k, k, dy, gi * coutG * p, p,
                        0f, dx, gi * k * hw, hw, g.batch(), 0, cout * p, g.inChannels() * hw);
            return;
        }
        int chunk = chunk(g.batch(), (long) rows * p);
        cl_mem col = columns.atLeast((long) chunk * rows * p * Float.BYTES);
        for (int n0 = 0; n0 < g.batch(); n0 += chunk) {
            int nc = Math.min(chunk, g.batch() - n0);
            for (int gi = 0; gi < groups; gi++)
                gemm.multiply(true, false, k, p, coutG, 1f, w, gi * coutG * k, k, dy, (n0 * cout + gi * coutG) * p, p,
                        0f, col, gi * k * p, p, nc, 0, cout * p, rows * p);
            int n = nc * g.inChannels() * hw;
            kernels.get("col2im").args().mem(col).i(0).i(rows * p).i(p).mem(dx).i(n0).i(g.inChannels()).i(g.height()).i(g.width())
                    .i(g.kernelH()).i(g.kernelW()).i(g.strideH()).i(g.strideW()).i(g.padH()).i(g.padW()).i(g.dilationH()).i(g.dilationW())
                    .i(g.outHeight()).i(g.outWidth()).i(n).map(n);
        }
    }

    /** dw and dbias (may be null) overwritten; an empty batch gives zeros. */
    void backwardFilter(Conv2dGeometry g, ClTensor x, ClTensor dy, ClTensor dw, ClTensor dbias) {
        kernels.ensureOpen();
        if (g.batch() == 0) {
            copies.fill(dw, 0f);
            if (dbias != null) copies.fill(dbias, 0f);
            return;
        }
        backwardFilter(choice.backwardFilter(), g, x.mem(), dy.mem(), dw.mem(), dbias == null ? null : dbias.mem());
    }

    /** dw and dbias (may be null) overwritten, through {@code path}; a batch of at least one sample. */
    void backwardFilter(Path path, Conv2dGeometry g, cl_mem x, cl_mem dy, cl_mem dw, cl_mem dbias) {
        if (path == Path.IMPLICIT) {
            implicitFilter(g, x, dy, dw, dbias);
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
            kernels.get("filter_gradient_operands").args().mem(x).i(n0).i(g.inChannels()).i(g.height()).i(g.width()).i(g.kernelH())
                    .i(g.kernelW()).i(g.strideH()).i(g.strideW()).i(g.padH()).i(g.padW()).i(g.dilationH()).i(g.dilationW())
                    .i(g.outHeight()).i(g.outWidth()).mem(work).i(nCol).mem(dy).i(nc).i(cout).i(dyOff).i(n).map(n);
            float beta = n0 == 0 ? 0f : 1f;
            if (slices == 1) {
                for (int gi = 0; gi < groups; gi++)
                    gemm.multiply(false, true, coutG, k, width, 1f, work, dyOff + gi * coutG * width, width, work, gi * k * width, width,
                            beta, dw, gi * coutG * k, k, 1, 0, 0, 0);
                continue;
            }
            int slice = width / slices; // whole samples: slices divides nc
            for (int gi = 0; gi < groups; gi++)
                gemm.multiply(false, true, coutG, k, slice, 1f, work, dyOff + gi * coutG * width, width, work, gi * k * width, width,
                        0f, work, partOff + gi * coutG * k, k, slices, slice, slice, sliceStride);
            if (biasInSlices)
                kernels.get("conv_bias_slices").args().mem(work).i(dyOff).i(width).i(slice).i(cout).mem(work).i(partOff).i(sliceStride)
                        .i(dwSize).groups(slices * cout);
            kernels.get("conv_sum_slices").args().mem(work).i(partOff).i(slices).i(sliceStride).mem(dw).i(dwSize)
                    .mem(biasInSlices ? dbias : dw).i(nBias).f(beta).map(dwSize + nBias);
        }
        if (dbias != null && !biasInSlices) kernels.get("channel_sum").args().mem(dy).mem(dbias).i(g.batch()).i(cout).i(p).f(0f).groups(cout);
    }

    /** Column matrix of samples [first, first + count) at sample stride / row stride into {@code col}. */
    private void im2col(Conv2dGeometry g, cl_mem x, int first, int count, cl_mem col, int sampleStride, int rowStride) {
        int n = count * g.inChannels() * g.kernelH() * g.kernelW() * g.outHeight() * g.outWidth();
        kernels.get("im2col").args().mem(x).i(first).i(g.inChannels()).i(g.height()).i(g.width()).i(g.kernelH()).i(g.kernelW())
                .i(g.strideH()).i(g.strideW()).i(g.padH()).i(g.padW()).i(g.dilationH()).i(g.dilationW()).i(g.outHeight()).i(g.outWidth())
                .mem(col).i(0).i(sampleStride).i(rowStride).i(n).map(n);
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
