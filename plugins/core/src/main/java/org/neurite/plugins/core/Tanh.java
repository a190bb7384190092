package org.neurite.plugins.core;

import org.neurite.backend.UnaryOp;

/**
 * {@code tanh}: hyperbolic tangent element-wise, any shape. Backward uses the saved output,
 * {@code dx = dy * (1 - y^2)}. Counted as 4 FLOPs per element, like {@code sigmoid}.
 */
final class Tanh extends ElementwiseActivation {
    Tanh() { super(UnaryOp.TANH, 4); }

    @Override public String name() { return "tanh"; }

    @Override public String doc() { return "Hyperbolic tangent, element-wise; output shape = input shape."; }
}
