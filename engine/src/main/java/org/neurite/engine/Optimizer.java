package org.neurite.engine;

import org.neurite.backend.Slice;
import org.neurite.backend.StepControl;
import org.neurite.train.OptimizerSpec;
import org.neurite.train.ParameterUpdate;

/**
 * Updates every trainable parameter of a {@link ParameterStore} from its gradient, with fused
 * backend ops. State (momentum, moments) is allocated when the optimiser is created.
 *
 * <p>A training step hands the optimiser its {@link StepControl}, two floats on the device that
 * the step decided there: every gradient is multiplied by the control's factor (global-norm
 * clipping) and, when its skip flag is set (a NaN or infinity in the step), nothing changes,
 * neither the weights nor the optimiser's state. An optimiser passes the control to the backend's
 * update op and never reads it on the host, so a step does not wait for the device.
 */
public interface Optimizer extends ParameterUpdate {
    /** Applies one plain update (no clipping, never skipped); {@code step} counts from 1. */
    default void step(int step) { step(step, null); }

    /**
     * Applies one update under a training step's {@code control} ({@link StepControl}, a slice of
     * two floats on the store's backend), or a plain one when it is null; {@code step} counts from 1.
     */
    void step(int step, Slice control);

    /** The learning rate now in use. */
    float learningRate();

    void setLearningRate(float lr);

    static Optimizer create(OptimizerSpec spec, ParameterStore store) {
        var a = spec.args();
        return switch (spec.name()) {
            case "sgd" -> new Sgd(store, a.getFloat("lr"), a.getFloat("momentum"), a.getFloat("weight_decay"), a.getBool("nesterov"));
            case "adam" -> new Adam(store, a.getFloat("lr"), a.getFloat("beta1"), a.getFloat("beta2"), a.getFloat("eps"),
                    a.getFloat("weight_decay"));
            case "adamw" -> new Adam(store, a.getFloat("lr"), a.getFloat("beta1"), a.getFloat("beta2"), a.getFloat("eps"),
                    a.getFloat("weight_decay"), true);
            case "rmsprop" -> new RmsProp(store, a.getFloat("lr"), a.getFloat("alpha"), a.getFloat("eps"), a.getFloat("weight_decay"),
                    a.getFloat("momentum"), a.getBool("centered"));
            default -> throw new IllegalArgumentException("unknown optimizer '" + spec.name() + "'");
        };
    }
}
