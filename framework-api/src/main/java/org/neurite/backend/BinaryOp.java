package org.neurite.backend;

/** Element-wise binary operators. */
public enum BinaryOp {
    ADD, SUB, MUL, DIV, MAX, MIN;

    public float apply(float a, float b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
        };
    }
}
