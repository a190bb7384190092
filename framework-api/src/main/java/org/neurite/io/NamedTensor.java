package org.neurite.io;

import org.neurite.tensor.Shape;

/** A tensor held on the Java heap, as read from or written to a file. */
public record NamedTensor(String name, Shape shape, float[] data) {
    public NamedTensor {
        if (shape.elementCount() != data.length)
            throw new IllegalArgumentException(name + ": shape " + shape + " does not match " + data.length + " values");
    }
}
