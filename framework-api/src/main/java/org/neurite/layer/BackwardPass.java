package org.neurite.layer;

import org.neurite.tensor.Tensor;

/** Forward's tensors plus the gradients a layer reads and writes during backward. */
public interface BackwardPass extends ForwardPass {
    /** dL/d(output). */
    Tensor gradOutput();

    /** Where to write dL/d(input i), or null when nothing upstream needs it. */
    Tensor gradInput(int index);

    /** Where to write dL/d(param), or null when the parameter is not trainable. */
    Tensor gradParam(String name);
}
