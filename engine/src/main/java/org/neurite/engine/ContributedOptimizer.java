package org.neurite.engine;

import org.neurite.backend.Slice;
import org.neurite.train.ParameterUpdate;

/** A plugin's {@link ParameterUpdate} as the engine's {@link Optimizer}, which extends it. */
final class ContributedOptimizer implements Optimizer {
    private final ParameterUpdate update;

    private ContributedOptimizer(ParameterUpdate update) { this.update = update; }

    /** {@code update} itself when it already is an engine {@link Optimizer} (the core's), else wrapped. */
    static Optimizer of(ParameterUpdate update) {
        return update instanceof Optimizer o ? o : new ContributedOptimizer(update);
    }

    @Override public void step(int step, Slice control) { update.step(step, control); }

    @Override public float learningRate() { return update.learningRate(); }

    @Override public void setLearningRate(float lr) { update.setLearningRate(lr); }
}
