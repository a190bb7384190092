package org.neurite.plugins.core;

import org.neurite.backend.UnaryOp;

/**
 * {@code relu}: {@code y = max(x, 0)} element-wise, any shape. The gradient passes where the
 * forward input was positive (at exactly 0 it is taken as 0, as in PyTorch). One FLOP per element.
 */
final class Relu extends ElementwiseActivation {
    Relu() { super(UnaryOp.RELU, 1); }

    @Override public String name() { return "relu"; }

    @Override public String doc() { return "Rectified linear unit, y = max(x, 0), element-wise; output shape = input shape."; }
}
