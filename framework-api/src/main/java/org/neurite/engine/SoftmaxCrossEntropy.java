package org.neurite.engine;

import org.neurite.tensor.Tensor;

/**
 * Softmax followed by the negative log-likelihood of the target class, fused (the backend
 * subtracts the row maximum, so large logits do not overflow). Output [batch, classes],
 * targets [batch] of class indices.
 */
public final class SoftmaxCrossEntropy implements Loss {
    @Override public String name() { return "softmax_cross_entropy"; }

    @Override public double compute(Tensor output, Tensor targets, Tensor gradOutput, int meanOver) {
        int rows = output.shape().dim(0);
        int classes = output.shape().sizeFrom(1);
        return output.backend().softmaxCrossEntropy(output, targets, gradOutput, rows, classes, 1f / meanOver);
    }
}
