package org.neurite.layer;

/**
 * Types of layer arguments. Java representations after binding: INT → Integer, FLOAT → Double,
 * BOOL → Boolean, STRING → String, INTS → int[] (a single int is widened to a one-element
 * array), FLOATS → float[].
 */
public enum ParamType {
    INT("int"), FLOAT("float"), BOOL("bool"), STRING("string"), INTS("int or [int, ...]"), FLOATS("[float, ...]");

    private final String display;

    ParamType(String display) { this.display = display; }

    /** How messages and {@code nn layers} name the type. */
    public String display() { return display; }
}
