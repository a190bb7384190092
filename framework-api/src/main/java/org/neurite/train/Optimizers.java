package org.neurite.train;

import static org.neurite.layer.ParamSpec.optional;

import java.util.List;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ParamType;

/**
 * The core's optimizers, with their argument schemas (PyTorch's names and defaults); the engine
 * contributes them to the runtime's optimizer registry, where plugins add theirs
 * ({@link OptimizerFactory}): {@code sgd} and {@code adam} add {@code weight_decay} to the gradient (L2), as
 * PyTorch's SGD and Adam do; {@code adamw} decays the weights apart from the gradient
 * (Loshchilov &amp; Hutter 2019, PyTorch's AdamW); {@code rmsprop} divides by a running root mean
 * square of the gradients (PyTorch's RMSprop, {@code alpha} the decay of that mean).
 */
public final class Optimizers {
    private Optimizers() {}

    public static final List<String> NAMES = List.of("sgd", "adam", "adamw", "rmsprop");

    /** The schema of optimizer {@code name}, or null if there is no such optimizer. */
    public static ParamSchema schema(String name) {
        return switch (name) {
            case "sgd" -> ParamSchema.of(
                    optional("lr", ParamType.FLOAT, 0.01, "learning rate").range(0, 1e3),
                    optional("momentum", ParamType.FLOAT, 0.0, "momentum factor").range(0, 1),
                    optional("weight_decay", ParamType.FLOAT, 0.0, "L2 penalty added to the gradient").range(0, 1e3),
                    optional("nesterov", ParamType.BOOL, false, "Nesterov momentum"));
            case "adam" -> ParamSchema.of(
                    optional("lr", ParamType.FLOAT, 0.001, "learning rate").range(0, 1e3),
                    optional("beta1", ParamType.FLOAT, 0.9, "decay of the first moment").range(0, 1),
                    optional("beta2", ParamType.FLOAT, 0.999, "decay of the second moment").range(0, 1),
                    optional("eps", ParamType.FLOAT, 1e-8, "added to the denominator").range(0, 1),
                    optional("weight_decay", ParamType.FLOAT, 0.0, "L2 penalty added to the gradient").range(0, 1e3));
            case "adamw" -> ParamSchema.of(
                    optional("lr", ParamType.FLOAT, 0.001, "learning rate").range(0, 1e3),
                    optional("beta1", ParamType.FLOAT, 0.9, "decay of the first moment").range(0, 1),
                    optional("beta2", ParamType.FLOAT, 0.999, "decay of the second moment").range(0, 1),
                    optional("eps", ParamType.FLOAT, 1e-8, "added to the denominator").range(0, 1),
                    optional("weight_decay", ParamType.FLOAT, 0.01, "decoupled decay: weights shrink by lr * weight_decay each step")
                            .range(0, 1e3));
            case "rmsprop" -> ParamSchema.of(
                    optional("lr", ParamType.FLOAT, 0.01, "learning rate").range(0, 1e3),
                    optional("alpha", ParamType.FLOAT, 0.99, "decay of the running mean of squared gradients").range(0, 1),
                    optional("eps", ParamType.FLOAT, 1e-8, "added to the denominator").range(0, 1),
                    optional("weight_decay", ParamType.FLOAT, 0.0, "L2 penalty added to the gradient").range(0, 1e3),
                    optional("momentum", ParamType.FLOAT, 0.0, "momentum factor").range(0, 1),
                    optional("centered", ParamType.BOOL, false, "divide by the variance estimate (mean of squares minus squared mean)"));
            default -> null;
        };
    }
}
