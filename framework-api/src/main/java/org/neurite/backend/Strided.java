package org.neurite.backend;

import org.neurite.tensor.Tensor;

/**
 * Equal blocks of a tensor, {@code stride} elements apart from {@code offset}: one side of
 * {@link Backend#copyBlocks}. Concatenation and splitting along an axis, and batch-major ↔
 * time-major transposes of sequences, are one strided copy.
 */
public record Strided(Tensor tensor, int offset, int stride) {

    public static Strided of(Tensor tensor, int offset, int stride) {
        return new Strided(tensor, offset, stride);
    }
}
