package org.neurite.train;

import java.util.List;
import org.neurite.backend.Backend;
import org.neurite.graph.ParamInfo;
import org.neurite.tensor.Tensor;

/**
 * What an optimizer updates: a model's trainable parameters, each with its value and its gradient
 * (same shape), and per-parameter state tensors the optimizer asks for by slot name. State is
 * allocated zeroed on first request and saved with a checkpoint under the parameter and slot
 * name, so a resumed run continues with it.
 */
public interface TrainableParameters {
    /** The backend every tensor here lives on. */
    Backend backend();

    /** The parameters to update, in a fixed order; {@code decl().decay()} says whether weight decay applies. */
    List<ParamInfo> trainable();

    /** The value of parameter {@code fullName}, updated in place. */
    Tensor value(String fullName);

    /** The gradient of the loss with respect to parameter {@code fullName}. */
    Tensor grad(String fullName);

    /** The optimizer state {@code slot} (e.g. {@code momentum}) of parameter {@code fullName}: zeroed when first asked for. */
    Tensor state(String fullName, String slot);
}
