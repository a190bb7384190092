package org.neurite.engine;

import org.neurite.diag.SourceSpan;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;
import org.neurite.train.OptimizerFactory;
import org.neurite.train.OptimizerSpec;
import org.neurite.train.Optimizers;
import org.neurite.train.TrainableParameters;

/**
 * One of the core's optimizers ({@link Optimizers#NAMES}) as a contribution to the runtime's
 * optimizer registry: its schema is {@link Optimizers#schema}, and it creates the engine's own
 * class ({@link Sgd}, {@link Adam}, ...) through {@link Optimizer#create}, so a script trains
 * bit-identically whether the optimizer was found in the registry or by name.
 */
record CoreOptimizer(String name) implements OptimizerFactory {
    CoreOptimizer {
        if (Optimizers.schema(name) == null) throw new IllegalArgumentException("not a core optimizer: '" + name + "'");
    }

    @Override public ParamSchema schema() { return Optimizers.schema(name); }

    @Override public Optimizer create(LayerArgs args, TrainableParameters params) {
        if (!(params instanceof ParameterStore store)) {
            throw new IllegalArgumentException("the core's optimizer '" + name + "' updates an engine ParameterStore, not "
                    + params.getClass().getName());
        }
        return Optimizer.create(new OptimizerSpec(name, args, SourceSpan.UNKNOWN), store);
    }
}
