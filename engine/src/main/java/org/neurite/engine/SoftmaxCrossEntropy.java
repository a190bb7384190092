package org.neurite.engine;

import org.neurite.backend.Slice;
import org.neurite.tensor.Tensor;

/**
 * Softmax followed by the negative log-likelihood of the target class, fused (the backend
 * subtracts the row maximum, so large logits do not overflow). The output is viewed as
 * [rows, classes]: one row per sample, or one per time step for sequence labelling.
 */
public final class SoftmaxCrossEntropy implements Loss {
    @Override public String name() { return "softmax_cross_entropy"; }

    @Override public boolean classification() { return true; }

    @Override public double compute(Tensor output, Tensor targets, Tensor gradOutput, int rows) {
        return compute(output, targets, gradOutput, rows, rows);
    }

    @Override public double compute(Tensor output, Tensor targets, Tensor gradOutput, int rows, int denominator) {
        int classes = output.size() / rows;
        return output.backend().softmaxCrossEntropy(output, targets, gradOutput, rows, classes, 1f / denominator);
    }

    @Override public void compute(Tensor output, Tensor targets, Tensor gradOutput, int rows, int denominator, Slice lossSum) {
        int classes = output.size() / rows;
        output.backend().softmaxCrossEntropy(output, targets, gradOutput, rows, classes, 1f / denominator, lossSum);
    }
}
