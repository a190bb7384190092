package org.neurite.train;

import org.neurite.backend.Slice;
import org.neurite.backend.StepControl;

/**
 * An optimizer bound to one model's {@link TrainableParameters}, as an {@link OptimizerFactory}
 * creates it: each {@link #step} updates every parameter from its gradient.
 *
 * <p>A training step passes its {@link StepControl} (two floats on the device): every gradient
 * is to be multiplied by the control's factor (global-norm clipping) and, when its skip flag is
 * set, nothing may change, neither the weights nor the state. The backend's update ops take the
 * control directly; an update composed from other ops wraps itself in {@link StepControl#apply}.
 */
public interface ParameterUpdate {
    /**
     * Applies one update under {@code control} (a slice of {@link StepControl#SIZE} floats on the
     * parameters' backend), or a plain one when it is null.
     *
     * @param step counts from 1 (bias corrections use it)
     */
    void step(int step, Slice control);

    /** The learning rate now in use. */
    float learningRate();

    /** Sets the learning rate (a schedule does, once per epoch). */
    void setLearningRate(float lr);
}
