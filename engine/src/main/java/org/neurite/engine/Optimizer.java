package org.neurite.engine;

import org.neurite.train.OptimizerSpec;

/**
 * Updates every trainable parameter of a {@link ParameterStore} from its gradient, with fused
 * backend ops. State (momentum, moments) is allocated when the optimiser is created.
 */
public interface Optimizer {
    /** Applies one update; {@code step} counts from 1. */
    void step(int step);

    /** The learning rate now in use. */
    float learningRate();

    void setLearningRate(float lr);

    static Optimizer create(OptimizerSpec spec, ParameterStore store) {
        var a = spec.args();
        return switch (spec.name()) {
            case "sgd" -> new Sgd(store, a.getFloat("lr"), a.getFloat("momentum"), a.getFloat("weight_decay"), a.getBool("nesterov"));
            case "adam" -> new Adam(store, a.getFloat("lr"), a.getFloat("beta1"), a.getFloat("beta2"), a.getFloat("eps"),
                    a.getFloat("weight_decay"));
            default -> throw new IllegalArgumentException("unknown optimizer '" + spec.name() + "'");
        };
    }
}
