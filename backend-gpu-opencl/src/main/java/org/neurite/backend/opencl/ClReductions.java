package org.neurite.backend.opencl;

import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clReleaseMemObject;
import static org.neurite.backend.OpChecks.badLabel;

import java.util.List;
import org.jocl.Pointer;
import org.jocl.cl_mem;
import org.neurite.backend.Slice;
import org.neurite.tensor.Tensor;

/**
 * Reductions in a fixed order ({@code reduce.cl}, {@code softmax.cl}, {@code step.cl}): per-channel
 * sums and maxima, sums of squares (of one tensor, or of many at once for a gradient norm),
 * row-wise softmax and its backward, the fused softmax cross-entropy, and a training step's
 * correct count and control. Each channel or row is one work-group of {@link ClKernels#REDUCE_WG}
 * items combining in a fixed tree, in double where the device has it, so results are the same run
 * to run on one device. The ops that return a number reduce to one small result on the device and
 * read back only that (blocking); their {@code Slice} forms write it into a device float instead
 * and do not wait. Labels are checked on the device first ({@link ClIndexCheck}).
 */
final class ClReductions implements AutoCloseable {
    /** Work-groups of the first pass of {@link #sumOfSquares}: enough to fill a device, few enough to add in one group. */
    private static final int SUM_GROUPS = 256;

    private final ClQueue queue;
    private final ClKernels kernels;
    private final ClIndexCheck indexCheck;
    private final int accBytes;
    /** Per-work-group partial sums, and per-row losses of the cross-entropy. */
    private final ClWorkspace partials;
    /** The accumulator value a reduction reads back. */
    private final cl_mem result;
    private ClIndexCheck.Refusal labelRefusal;
    /** Where {@link #readResult} reads {@link #result} to, as the device's accumulator type. */
    private final double[] resultDouble = new double[1];
    private final Pointer resultDoublePointer = Pointer.to(resultDouble);
    private final float[] resultFloat = new float[1];
    private final Pointer resultFloatPointer = Pointer.to(resultFloat);
    private int labelRefusalClasses;

    ClReductions(ClContext device, ClIndexCheck indexCheck) {
        this.queue = device.queue;
        this.kernels = device.kernels;
        this.indexCheck = indexCheck;
        this.accBytes = device.accumulatorBytes();
        this.partials = new ClWorkspace(device, "reduction partials");
        this.result = clCreateBuffer(device.context, CL_MEM_READ_WRITE, Double.BYTES, null, null);
    }

    /** out[c] = beta * out[c] + sum over (o, i) of x[o, c, i]. */
    void channelSum(ClTensor x, ClTensor out, int outer, int channels, int inner, float beta) {
        kernels.get("channel_sum").args().mem(x).mem(out).i(outer).i(channels).i(inner).f(beta).groups(channels);
    }

    /** out[c] = max over (o, i) of x[o, c, i], NaN when one of them is. */
    void channelMax(ClTensor x, ClTensor out, int outer, int channels, int inner) {
        kernels.get("channel_max").args().mem(x).mem(out).i(outer).i(channels).i(inner).groups(channels);
    }

    double sumOfSquares(ClTensor x) {
        int n = x.size();
        if (n == 0) return 0;
        int groups = partialsOf(x.size());
        cl_mem part = partials.atLeast((long) groups * accBytes);
        squaresInto(x, part, 0, groups);
        kernels.get("sum_partials").args().mem(part).i(groups).mem(result).groups(1);
        return readResult();
    }

    /**
     * out = the sum of squares of every element of every tensor: each tensor's partials side by
     * side in one buffer, then one work-group adds them all in order and writes the float.
     */
    void sumOfSquares(List<Tensor> xs, Slice out) {
        int total = 0;
        for (int i = 0, n = xs.size(); i < n; i++) total += partialsOf(xs.get(i).size());
        cl_mem part = partials.atLeast((long) Math.max(1, total) * accBytes);
        int at = 0;
        for (int i = 0, n = xs.size(); i < n; i++) {
            ClTensor x = ClTensor.of(xs.get(i));
            int groups = partialsOf(x.size());
            squaresInto(x, part, at, groups);
            at += groups;
        }
        kernels.get("sum_partials_into").args().mem(part).i(total).slice(out).groups(1);
    }

    /** Partial sums of squares of x (groups of them, 0 for an empty x) into part[at..]. */
    private void squaresInto(ClTensor x, cl_mem part, int at, int groups) {
        if (groups == 0) return;
        int chunk = (int) ((x.size() + (long) groups - 1) / groups);
        kernels.get("sum_squares_partial").args().mem(x).i(x.size()).i(chunk).mem(part).i(at).groups(groups);
    }

    /** How many partials the sum of squares of n elements takes (at most {@link #SUM_GROUPS}, 4 work-groups' worth each). */
    private static int partialsOf(int n) {
        return (int) Math.min(SUM_GROUPS, (n + 4L * ClKernels.REDUCE_WG - 1) / (4L * ClKernels.REDUCE_WG));
    }

    void softmax(ClTensor x, ClTensor y, int rows, int cols) {
        kernels.get("softmax_rows").args().mem(x).mem(y).i(cols).groups(cols == 0 ? 0 : rows);
    }

    void softmaxBackward(ClTensor y, ClTensor dy, ClTensor dx, int rows, int cols) {
        kernels.get("softmax_backward_rows").args().mem(y).mem(dy).mem(dx).i(cols).groups(cols == 0 ? 0 : rows);
    }

    /**
     * The summed loss; a label that is not a class index is refused with {@code OpChecks.badLabel}
     * (first bad row) at the read-back and dLogits is left untouched: the labels are checked on
     * the device first and the rows kernel writes nothing when the check failed.
     */
    double softmaxCrossEntropy(ClTensor logits, ClTensor labels, ClTensor dLogits, int rows, int classes, float gradScale) {
        if (rows == 0) return 0;
        cl_mem rowLoss = crossEntropyRows(logits, labels, dLogits, rows, classes, gradScale);
        kernels.get("sum_partials").args().mem(rowLoss).i(rows).mem(result).groups(1);
        return readResult();
    }

    /** As {@link #softmaxCrossEntropy(ClTensor, ClTensor, ClTensor, int, int, float)}, the summed loss written to loss[0]. */
    void softmaxCrossEntropy(ClTensor logits, ClTensor labels, ClTensor dLogits, int rows, int classes, float gradScale, Slice loss) {
        if (rows == 0) {
            queue.fill(ClTensor.of(loss.tensor()).mem(), Pointer.to(new float[] {0f}), Float.BYTES, (long) loss.offset() * Float.BYTES,
                    Float.BYTES);
            return;
        }
        cl_mem rowLoss = crossEntropyRows(logits, labels, dLogits, rows, classes, gradScale);
        kernels.get("sum_partials_into").args().mem(rowLoss).i(rows).slice(loss).groups(1);
    }

    /**
     * The checked labels, then each row's loss (into the partials workspace, returned: the sum
     * kernels add the rows' losses as they add partial sums) and its dLogits.
     */
    private cl_mem crossEntropyRows(ClTensor logits, ClTensor labels, ClTensor dLogits, int rows, int classes, float gradScale) {
        cl_mem rowLoss = partials.atLeast((long) rows * accBytes);
        int slot = indexCheck.check(kernels.get("check_indices").args().mem(labels).i(rows).i(classes), rows, labels, labelRefusal(classes));
        kernels.get("cross_entropy_rows").args().mem(logits).mem(labels).mem(dLogits).i(classes).f(gradScale).mem(rowLoss)
                .mem(indexCheck.buffer()).i(slot).groups(rows);
        return rowLoss;
    }

    /** out[0] = the rows of logits [rows, classes] whose first arg-max is their label. */
    void countCorrect(ClTensor logits, ClTensor labels, int rows, int classes, Slice out) {
        kernels.get("count_correct").args().mem(logits).mem(labels).i(rows).i(classes).slice(out).groups(1);
    }

    /**
     * The step's control from its squared norm and loss, one work-item; {@code loss} null: only
     * the norm counts (the control's own slice stands in for the argument the kernel then ignores).
     */
    void stepControl(Slice squaredNorm, Slice loss, float maxNorm, Slice control) {
        kernels.get("step_control").args().slice(squaredNorm).slice(loss != null ? loss : control).bool(loss != null).f(maxNorm)
                .slice(control).map(1);
    }

    /**
     * How a bad label of a {@code classes}-class cross-entropy is refused: one refusal kept per
     * class count, so that a training step does not make one per call.
     */
    private ClIndexCheck.Refusal labelRefusal(int classes) {
        if (labelRefusal == null || labelRefusalClasses != classes) {
            labelRefusal = (row, value) -> badLabel(value, row, classes);
            labelRefusalClasses = classes;
        }
        return labelRefusal;
    }

    /** Reads the accumulator value of {@link #result} (blocking). */
    private double readResult() {
        if (accBytes == Double.BYTES) {
            queue.read(result, 0, Double.BYTES, resultDoublePointer);
            return resultDouble[0];
        }
        queue.read(result, 0, Float.BYTES, resultFloatPointer);
        return resultFloat[0];
    }

    @Override public void close() {
        partials.close();
        clReleaseMemObject(result);
    }
}
