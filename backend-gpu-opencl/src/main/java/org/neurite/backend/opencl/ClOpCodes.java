package org.neurite.backend.opencl;

import org.neurite.backend.BinaryOp;
import org.neurite.backend.UnaryOp;

/**
 * The op codes the kernels switch on: each {@link UnaryOp} and {@link BinaryOp} constant and its
 * {@code OP_*} define of {@code common.cl}. The switches have no default, so a new constant fails
 * to compile here until it has a code (and a case in the kernels).
 */
final class ClOpCodes {
    private ClOpCodes() {}

    /** The OP_* code of common.cl for a unary function ({@code unary_forward}, {@code unary_backward}). */
    static int code(UnaryOp op) {
        return switch (op) {
            case RELU -> 0;
            case SIGMOID -> 1;
            case TANH -> 2;
            case NEGATE -> 3;
            case EXP -> 4;
            case SQUARE -> 5;
            case SOFTPLUS -> 6;
            case SQRT -> 7;
            case LOG -> 8;
        };
    }

    /** The OP_* code of common.cl for a binary operator ({@code binary_map}, {@code channel_broadcast}). */
    static int code(BinaryOp op) {
        return switch (op) {
            case ADD -> 0;
            case SUB -> 1;
            case MUL -> 2;
            case DIV -> 3;
            case MAX -> 4;
            case MIN -> 5;
        };
    }
}
