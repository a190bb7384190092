package org.neurite.train;

import static org.neurite.layer.ParamSpec.optional;

import java.util.List;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ParamType;

/** The optimizers a train section can name, with their argument schemas (PyTorch names and defaults). */
public final class Optimizers {
    private Optimizers() {}

    public static final List<String> NAMES = List.of("sgd", "adam");

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
            default -> null;
        };
    }
}
