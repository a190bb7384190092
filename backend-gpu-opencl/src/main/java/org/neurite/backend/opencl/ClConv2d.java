package org.neurite.backend.opencl;

import org.jocl.cl_mem;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.Conv2dGeometry;

/**
 * 2-D convolution on the device as im2col + GEMM (PyTorch layouts: x[N, Cin, H, W],
 * w[Cout, Cin/groups, kh, kw], y[N, Cout, Ho, Wo]). With K = Cin/groups*kh*kw rows per group and
 * P = Ho*Wo columns, for a chunk of samples:
 * <pre>
 *   forward          col[s][Cin*kh*kw][P] = im2col(x_s);  y_s,g[Cout/g, P] = w_g[Cout/g, K] * col[s][g*K.., P]
 *                    (one GEMM per group, batched over the chunk's samples with w's stride 0), then + bias
 *   backward data    col[s] = w_g^T * dy_s,g (batched likewise), then col2im (a gather) into dx
 *   backward filter  col laid out [Cin*kh*kw][chunk*P] and dy as [Cout][chunk*P]; then
 *                    dw_g[Cout/g, K] (+)= dy_g * col_g^T, one GEMM per group whose k runs over every
 *                    (sample, pixel) of the chunk, accumulating across chunks (beta 1)
 * </pre>
 * A 1x1, stride-1, unpadded convolution reads x itself as the column matrix (forward and backward
 * data). The column buffer holds at most a budget of floats ({@link #COLUMN_BUDGET} by default) unless a single sample
 * needs more; larger batches run in chunks. Arguments arrive checked.
 */
final class ClConv2d {
    /** Floats of column matrix per chunk by default (64 MiB). */
    static final long COLUMN_BUDGET = 1L << 24;

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
        if (isPointwise(g)) {
            for (int gi = 0; gi < groups; gi++)
                gemm.multiply(false, false, coutG, p, k, 1f, w.mem(), gi * coutG * k, k, x.mem(), gi * k * hw, hw,
                        0f, y.mem(), gi * coutG * p, p, g.batch(), 0, g.inChannels() * hw, cout * p);
        } else {
            int chunk = chunk(g.batch(), (long) rows * p);
            cl_mem col = columns.atLeast((long) chunk * rows * p * Float.BYTES);
            for (int n0 = 0; n0 < g.batch(); n0 += chunk) {
                int nc = Math.min(chunk, g.batch() - n0);
                im2col(g, x, n0, nc, col, rows * p, p);
                for (int gi = 0; gi < groups; gi++)
                    gemm.multiply(false, false, coutG, p, k, 1f, w.mem(), gi * coutG * k, k, col, gi * k * p, p,
                            0f, y.mem(), (n0 * cout + gi * coutG) * p, p, nc, 0, rows * p, cout * p);
            }
        }
        if (bias != null)
            kernels.get("channel_broadcast").map(y.size(), ClOpCodes.code(BinaryOp.ADD), y, bias, y, cout, p, y.size());
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
        // Per sample: its column rows plus its dy rows, both laid out channel-major over the chunk.
        int chunk = chunk(g.batch(), (long) (rows + cout) * p);
        cl_mem work = columns.atLeast((long) chunk * (rows + cout) * p * Float.BYTES);
        for (int n0 = 0; n0 < g.batch(); n0 += chunk) {
            int nc = Math.min(chunk, g.batch() - n0);
            int width = nc * p, dyOff = rows * width;
            im2col(g, x, n0, nc, work, p, width);
            int n = cout * width;
            kernels.get("samples_to_channel_major").map(n, dy, n0, nc, cout, p, work, dyOff, n);
            float beta = n0 == 0 ? 0f : 1f;
            for (int gi = 0; gi < groups; gi++)
                gemm.multiply(false, true, coutG, k, width, 1f, work, dyOff + gi * coutG * width, width, work, gi * k * width, width,
                        beta, dw.mem(), gi * coutG * k, k, 1, 0, 0, 0);
        }
        if (dbias != null) kernels.get("channel_sum").groups(cout, dy, dbias, g.batch(), cout, p, 0f);
    }

    /** Column matrix of samples [first, first + count) at sample stride / row stride into {@code col}. */
    private void im2col(Conv2dGeometry g, ClTensor x, int first, int count, cl_mem col, int sampleStride, int rowStride) {
        int n = count * g.inChannels() * g.kernelH() * g.kernelW() * g.outHeight() * g.outWidth();
        kernels.get("im2col").map(n, x, first, g.inChannels(), g.height(), g.width(), g.kernelH(), g.kernelW(),
                g.strideH(), g.strideW(), g.padH(), g.padW(), g.dilationH(), g.dilationW(), g.outHeight(), g.outWidth(),
                col, 0, sampleStride, rowStride, n);
    }

    /** Samples per chunk so that the chunk's {@code perSample} floats stay within the budget (at least one). */
    private int chunk(int batch, long perSample) {
        return (int) Math.max(1, Math.min(batch, columnBudget / Math.max(1, perSample)));
    }

    static boolean isPointwise(Conv2dGeometry g) {
        return g.kernelH() == 1 && g.kernelW() == 1 && g.strideH() == 1 && g.strideW() == 1 && g.padH() == 0 && g.padW() == 0;
    }
}
