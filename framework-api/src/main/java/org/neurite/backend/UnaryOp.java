package org.neurite.backend;

/**
 * Element-wise functions, each with the forward tensor its derivative is computed from: the
 * input x ({@link #derivativeReadsInput()}) or the output y ({@link #derivativeReadsOutput()}).
 * {@link Backend#unaryBackward} needs that tensor and may be given null for the other.
 */
public enum UnaryOp {
    /** max(x, 0); derivative from x (1 where x > 0). */
    RELU,
    /** 1/(1+e^-x); derivative y(1-y) from y. */
    SIGMOID,
    /** tanh(x); derivative 1-y^2 from y. */
    TANH,
    /** -x; derivative -1 (reads neither). */
    NEGATE,
    /** e^x; derivative y. */
    EXP,
    /** x*x; derivative 2x. */
    SQUARE,
    /**
     * log(1 + e^x), as max(x, 0) + log1p(e^-|x|) so that it neither overflows for large x nor
     * rounds small values to 0; derivative σ(x) from x. Mish is x·tanh(softplus(x)).
     */
    SOFTPLUS,
    /** √x (NaN below 0); derivative 1/(2y) from y. */
    SQRT,
    /** ln x (−∞ at 0, NaN below); derivative 1/x from x. */
    LOG;

    /** Whether the derivative is computed from the forward input x. */
    public boolean derivativeReadsInput() {
        return this == RELU || this == SQUARE || this == SOFTPLUS || this == LOG;
    }

    /** Whether the derivative is computed from the forward output y. */
    public boolean derivativeReadsOutput() {
        return this == SIGMOID || this == TANH || this == EXP || this == SQRT;
    }

    /**
     * Whether {@link Backend#unaryBackward} gives the exact gradient from the forward output y
     * alone, passed for whichever tensor the op reads: the ops that read y or neither, and RELU,
     * whose derivative (1 where x > 0) is 1 exactly where y = max(x, 0) > 0. What lets the engine
     * fuse the op into the epilogue of the layer before it and keep no pre-activation value.
     */
    public boolean derivativeFromOutputAlone() {
        return this == RELU || !derivativeReadsInput();
    }

}
