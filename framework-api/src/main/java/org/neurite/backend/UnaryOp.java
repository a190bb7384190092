package org.neurite.backend;

/** Element-wise functions with the input their derivative is computed from. */
public enum UnaryOp {
    /** max(x, 0); derivative from x (1 where x > 0). */
    RELU,
    /** 1/(1+e^-x); derivative y(1-y) from y. */
    SIGMOID,
    /** tanh(x); derivative 1-y^2 from y. */
    TANH,
    /** -x. */
    NEGATE,
    /** e^x; derivative y. */
    EXP,
    /** x*x; derivative 2x. */
    SQUARE,
    /**
     * log(1 + e^x), as max(x, 0) + log1p(e^-|x|) so that it neither overflows for large x nor
     * rounds small values to 0; derivative σ(x) from x. Mish is x·tanh(softplus(x)).
     */
    SOFTPLUS
}
