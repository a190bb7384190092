package org.neurite.plugins.core;

import org.neurite.backend.UnaryOp;

/**
 * {@code sigmoid}: {@code y = 1 / (1 + e^-x)} element-wise, any shape. Backward uses the saved
 * output, {@code dx = dy * y (1 - y)}. Counted as 4 FLOPs per element (negate, exp, add, divide).
 */
final class Sigmoid extends ElementwiseActivation {
    Sigmoid() { super(UnaryOp.SIGMOID, 4); }

    @Override public String name() { return "sigmoid"; }

    @Override public String doc() { return "Logistic sigmoid, y = 1 / (1 + exp(-x)), element-wise; output shape = input shape."; }
}
