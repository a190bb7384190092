package org.neurite.engine;

import org.neurite.backend.Slice;
import org.neurite.tensor.Tensor;
import org.neurite.train.LossFunction;

/**
 * A plugin's {@link LossFunction} as the engine's {@link Loss}: every call goes to the plugin's
 * loss, which the engine's interface extends; only the whole-batch form is added here.
 */
final class ContributedLoss implements Loss {
    private final LossFunction loss;

    private ContributedLoss(LossFunction loss) { this.loss = loss; }

    /** {@code loss} itself when it already is an engine {@link Loss} (the core's), else wrapped. */
    static Loss of(LossFunction loss) {
        return loss instanceof Loss l ? l : new ContributedLoss(loss);
    }

    @Override public String name() { return loss.name(); }

    @Override public boolean classification() { return loss.classification(); }

    @Override public double compute(Tensor output, Tensor targets, Tensor gradOutput, int rows) {
        return loss.compute(output, targets, gradOutput, rows, rows);
    }

    @Override public double compute(Tensor output, Tensor targets, Tensor gradOutput, int rows, int denominator) {
        return loss.compute(output, targets, gradOutput, rows, denominator);
    }

    @Override public void compute(Tensor output, Tensor targets, Tensor gradOutput, int rows, int denominator, Slice lossSum) {
        loss.compute(output, targets, gradOutput, rows, denominator, lossSum);
    }
}
