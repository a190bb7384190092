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

    static Loss byName(String name) {
        return switch (name) {
            case "softmax_cross_entropy", "cross_entropy" -> new SoftmaxCrossEntropy();
            case "mse" -> new MeanSquaredError();
            default -> throw new IllegalArgumentException("unknown loss '" + name + "'");
        };
    }
}
