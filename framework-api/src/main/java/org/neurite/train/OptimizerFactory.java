package org.neurite.train;

import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;

/**
 * An optimizer a train section can name, {@code optimizer = name(arg=value, ...)}: its argument
 * schema, which the script checker binds the call against (every optimizer takes {@code lr}, the
 * rate a schedule starts from), and how to create it for a model's parameters. A plugin
 * contributes one with {@code PluginModule.optimizer}; the core's {@code sgd}, {@code adam},
 * {@code adamw} and {@code rmsprop} are contributed the same way.
 */
public interface OptimizerFactory {
    /** The name scripts use, e.g. {@code adagrad}. */
    String name();

    /** The arguments, with defaults and ranges; must include a float {@code lr}. */
    ParamSchema schema();

    /**
     * An optimizer over {@code params}, with state allocated now.
     *
     * @param args arguments bound to {@link #schema()}
     */
    ParameterUpdate create(LayerArgs args, TrainableParameters params);
}
