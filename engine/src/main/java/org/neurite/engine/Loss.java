package org.neurite.engine;

import org.neurite.tensor.Tensor;

/**
 * A training objective over the model's first output. {@link #compute} writes dL/d(output) into
 * the model's gradient buffer (for the mean over {@code rows} target rows, as PyTorch's default
 * reduction) and returns the loss <em>summed</em> over those rows.
 */
public interface Loss {
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

    static Loss byName(String name) {
        return switch (name) {
            case "softmax_cross_entropy", "cross_entropy" -> new SoftmaxCrossEntropy();
            case "mse" -> new MeanSquaredError();
            default -> throw new IllegalArgumentException("unknown loss '" + name + "'");
        };
    }
}
