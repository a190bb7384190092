package org.neurite.backend;

import org.neurite.tensor.Tensor;

/**
 * A contiguous run of a tensor's elements, {@code [offset, offset + length)} in the public
 * row-major layout: one time step of a sequence, one gate block of a recurrent cell, a whole
 * tensor ({@link #of(Tensor)}). Element-wise ops, copies and the recurrent cells take slices
 * instead of (tensor, offset) pairs. A slice is only a description: nothing is checked until a
 * backend op receives it ({@link CheckedBackend} then names the argument whose range is outside
 * its tensor).
 */
public record Slice(Tensor tensor, int offset, int length) {

    /** The whole tensor. */
    public static Slice of(Tensor tensor) {
        return new Slice(tensor, 0, tensor == null ? 0 : tensor.size());
    }

    /** {@code length} elements from {@code offset} of {@code tensor}. */
    public static Slice of(Tensor tensor, int offset, int length) {
        return new Slice(tensor, offset, length);
    }

    /** The part of this slice from {@code start} (relative to this slice) of {@code length} elements. */
    public Slice sub(int start, int length) {
        return new Slice(tensor, offset + start, length);
    }

    /** The offset just past the last element. */
    public long end() { return (long) offset + length; }
}
