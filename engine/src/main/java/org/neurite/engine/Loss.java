package org.neurite.engine;

import org.neurite.backend.Slice;
import org.neurite.tensor.Tensor;
import org.neurite.train.LossFunction;

/**
 * A training objective over the model's first output. {@link #compute} writes dL/d(output) into
 * the model's gradient buffer (for the mean over {@code rows} target rows, as PyTorch's default
 * reduction) and returns the loss <em>summed</em> over those rows; a training step uses the form
 * that leaves that sum on the device instead ({@link #compute(Tensor, Tensor, Tensor, int, int, Slice)}).
 */
public interface Loss extends LossFunction {
    String name();

    /** Whether targets are class indices (true) or real values (false). */
    boolean classification();

    /**
     * @param output the model output [batch, ...]
     * @param targets [rows] class indices (as floats) or real values
     * @param gradOutput receives dL/d(output) of the mean loss
     * @param rows target rows in this batch: batch x targets per sample
     * @return the summed loss over the rows
     */
    double compute(Tensor output, Tensor targets, Tensor gradOutput, int rows);

    /**
     * As {@link #compute(Tensor, Tensor, Tensor, int)}, but the gradient is that of the loss summed
     * over these {@code rows} and divided by {@code denominator} rather than by {@code rows}: a
     * slice of a larger batch of {@code denominator} rows (one worker's share in data-parallel
     * training) then contributes exactly its part of the whole batch's mean-loss gradient, and
     * the slices' gradients add up to the whole batch's.
     *
     * <p>The losses Neurite ships scale by {@code 1/denominator} directly, so each row's gradient
     * is the same float as in a step over the whole batch. This default rescales afterwards, one
     * extra rounding per element.
     *
     * @param denominator rows of the whole batch, {@code >= rows}
     * @return the summed loss over these rows
     */
    default double compute(Tensor output, Tensor targets, Tensor gradOutput, int rows, int denominator) {
        double sum = compute(output, targets, gradOutput, rows);
        if (denominator != rows) output.backend().axpby(0f, gradOutput, (float) rows / denominator, gradOutput);
        return sum;
    }

    /**
     * As {@link #compute(Tensor, Tensor, Tensor, int, int)}, but the summed loss is written to
     * {@code lossSum[0]} (a slice of one float on the output's backend) instead of returned, so a
     * training step does not wait for it. The losses Neurite ships compute it on the device; this
     * default reads it back and uploads it (one host synchronisation).
     */
    default void compute(Tensor output, Tensor targets, Tensor gradOutput, int rows, int denominator, Slice lossSum) {
        double sum = compute(output, targets, gradOutput, rows, denominator);
        output.backend().upload(new float[] {(float) sum}, 0, lossSum);
    }

    static Loss byName(String name) {
        return switch (name) {
            case "softmax_cross_entropy", "cross_entropy" -> new SoftmaxCrossEntropy();
            case "mse" -> new MeanSquaredError();
            default -> throw new IllegalArgumentException("unknown loss '" + name + "'");
        };
    }
}
