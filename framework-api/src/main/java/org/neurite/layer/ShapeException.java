package org.neurite.layer;

/** A layer cannot accept the shapes it is given; the message says what it expected. */
public class ShapeException extends RuntimeException {
    public ShapeException(String message) { super(message); }
}
