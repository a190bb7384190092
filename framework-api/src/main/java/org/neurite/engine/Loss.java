package org.neurite.engine;

import org.neurite.tensor.Tensor;

/**
 * A training objective over the model's first output. {@link #compute} writes dL/d(output) into
 * the model's gradient buffer and returns the loss summed over the batch.
 */
public interface Loss {
    String name();

    /**
     * @param output the model output [batch, ...]
     * @param targets target tensor (class indices as floats for classification) [batch]
     * @param gradOutput receives dL/d(output) for the mean loss over {@code meanOver} samples
     * @return the summed (not averaged) loss over the batch
     */
    double compute(Tensor output, Tensor targets, Tensor gradOutput, int meanOver);

    static Loss byName(String name) {
        return switch (name) {
            case "softmax_cross_entropy", "cross_entropy" -> new SoftmaxCrossEntropy();
            default -> throw new IllegalArgumentException("unknown loss '" + name + "'");
        };
    }
}
