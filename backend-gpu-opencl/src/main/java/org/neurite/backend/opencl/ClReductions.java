package org.neurite.backend.opencl;

import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clEnqueueFillBuffer;
import static org.jocl.CL.clEnqueueReadBuffer;
import static org.jocl.CL.clReleaseMemObject;
import static org.neurite.backend.OpChecks.badLabel;

import org.jocl.Pointer;
import org.jocl.cl_command_queue;
import org.jocl.cl_mem;

/**
 * Reductions in a fixed order ({@code reduce.cl}, {@code softmax.cl}): per-channel sums and maxima,
 * the sum of squares, row-wise softmax and its backward, and the fused softmax cross-entropy. Each
 * channel or row is one work-group of {@link ClKernels#REDUCE_WG} items combining in a fixed tree,
 * in double where the device has it, so results are the same run to run on one device. The ops
 * that return a number reduce to one small result on the device ({@code {sum, first bad row}}) and
 * read back only that (blocking).
 */
final class ClReductions implements AutoCloseable {
    /** Work-groups of the first pass of {@link #sumOfSquares}: enough to fill a device, few enough to add in one group. */
    private static final int SUM_GROUPS = 256;

    private final cl_command_queue queue;
    private final ClKernels kernels;
    private final int accBytes;
    /** Per-work-group partial sums, and per-row losses of the cross-entropy. */
    private final ClWorkspace partials;
    /** Per-row label status of the cross-entropy. */
    private final ClWorkspace rowStatus;
    /** The two accumulator values a reduction reads back. */
    private final cl_mem result;
    /** The first row of the cross-entropy whose label is not a class (INT_MAX: none), found before any row is written. */
    private final cl_mem firstBadLabel;

    ClReductions(ClContext device) {
        this.queue = device.queue;
        this.kernels = device.kernels;
        this.accBytes = device.accumulatorBytes();
        this.partials = new ClWorkspace(device.context, "reduction partials");
        this.rowStatus = new ClWorkspace(device.context, "per-row status");
        this.result = clCreateBuffer(device.context, CL_MEM_READ_WRITE, 2L * Double.BYTES, null, null);
        this.firstBadLabel = clCreateBuffer(device.context, CL_MEM_READ_WRITE, Integer.BYTES, null, null);
    }

    /** out[c] = beta * out[c] + sum over (o, i) of x[o, c, i]. */
    void channelSum(ClTensor x, ClTensor out, int outer, int channels, int inner, float beta) {
        kernels.get("channel_sum").groups(channels, x, out, outer, channels, inner, beta);
    }

    /** out[c] = max over (o, i) of x[o, c, i], NaN when one of them is. */
    void channelMax(ClTensor x, ClTensor out, int outer, int channels, int inner) {
        kernels.get("channel_max").groups(channels, x, out, outer, channels, inner);
    }

    double sumOfSquares(ClTensor x) {
        int n = x.size();
        if (n == 0) return 0;
        int groups = (int) Math.min(SUM_GROUPS, (n + 4L * ClKernels.REDUCE_WG - 1) / (4L * ClKernels.REDUCE_WG));
        int chunk = (int) ((n + (long) groups - 1) / groups);
        cl_mem part = partials.atLeast((long) groups * accBytes);
        kernels.get("sum_squares_partial").groups(groups, x, n, chunk, part);
        kernels.get("sum_partials").groups(1, part, groups, result);
        return readResult()[0];
    }

    void softmax(ClTensor x, ClTensor y, int rows, int cols) {
        kernels.get("softmax_rows").groups(cols == 0 ? 0 : rows, x, y, cols);
    }

    void softmaxBackward(ClTensor y, ClTensor dy, ClTensor dx, int rows, int cols) {
        kernels.get("softmax_backward_rows").groups(cols == 0 ? 0 : rows, y, dy, dx, cols);
    }

    /**
     * The summed loss; a label that is not a class index is refused with {@code OpChecks.badLabel}
     * (first bad row) and dLogits is left untouched: the labels are checked on the device first
     * (check_indices, as embedding rows are) and the rows kernel writes nothing when one failed,
     * so the op still reads back once.
     */
    double softmaxCrossEntropy(ClTensor logits, ClTensor labels, ClTensor dLogits, int rows, int classes, float gradScale) {
        if (rows == 0) return 0;
        cl_mem rowLoss = partials.atLeast((long) rows * accBytes), status = rowStatus.atLeast((long) rows * Integer.BYTES);
        clEnqueueFillBuffer(queue, firstBadLabel, Pointer.to(new int[] {Integer.MAX_VALUE}), Integer.BYTES, 0, Integer.BYTES, 0, null, null);
        kernels.get("check_indices").map(rows, labels, rows, classes, firstBadLabel);
        kernels.get("cross_entropy_rows").groups(rows, logits, labels, dLogits, classes, gradScale, rowLoss, status, firstBadLabel);
        kernels.get("loss_total").groups(1, rowLoss, status, rows, result);
        double[] r = readResult();
        if (r[1] >= 0) {
            int row = (int) r[1];
            float[] label = new float[1];
            clEnqueueReadBuffer(queue, labels.mem(), true, (long) row * Float.BYTES, Float.BYTES, Pointer.to(label), 0, null, null);
            throw badLabel(label[0], row, classes);
        }
        return r[0];
    }

    /** Reads the two accumulator values of {@link #result} (blocking). */
    private double[] readResult() {
        double[] out = new double[2];
        if (accBytes == Double.BYTES) {
            clEnqueueReadBuffer(queue, result, true, 0, 2L * Double.BYTES, Pointer.to(out), 0, null, null);
        } else {
            float[] f = new float[2];
            clEnqueueReadBuffer(queue, result, true, 0, 2L * Float.BYTES, Pointer.to(f), 0, null, null);
            out[0] = f[0];
            out[1] = f[1];
        }
        return out;
    }

    @Override public void close() {
        partials.close();
        rowStatus.close();
        clReleaseMemObject(result);
        clReleaseMemObject(firstBadLabel);
    }
}
