package org.neurite.layer;

import org.neurite.backend.Backend;
import org.neurite.tensor.Tensor;

/** The tensors a layer reads and writes during forward. Shapes include the batch dimension. */
public interface ForwardPass {
    Backend backend();

    Tensor input(int index);

    Tensor output();

    /** The parameter declared as {@code name} by {@link LayerType#parameters}. */
    Tensor param(String name);

    /** True while training (dropout active, batchnorm uses batch statistics). */
    boolean training();

    /** A seed unique to this node and this step, for stochastic layers. */
    long stepSeed();
}
