package org.neurite.layer;

/**
 * A layer argument that does not fit the schema. {@code argument} names the argument
 * (null for positional-count errors); {@code position} is the index of the offending
 * argument in the call as written (positional first, then named), or -1.
 */
public class ArgumentException extends RuntimeException {
    private final String argument;
    private final int position;

    public ArgumentException(String argument, int position, String message) {
        super(message);
        this.argument = argument;
        this.position = position;
    }

    public String argument() { return argument; }

    public int position() { return position; }
}
