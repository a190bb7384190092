package org.neurite.backend;

import org.neurite.tensor.Tensor;

/**
 * A GEMM operand: row-major matrices stored in a tensor from {@code offset}, rows {@code ld}
 * (leading dimension) elements apart, and, in a batched product, matrix {@code b} starting at
 * {@code offset + b * batchStride}. Its rows and columns come from the {@link Gemm} it is used in.
 */
public record Matrix(Tensor tensor, int offset, int ld, int batchStride) {

    /** One matrix from element 0, rows {@code ld} apart. */
    public static Matrix of(Tensor tensor, int ld) {
        return new Matrix(tensor, 0, ld, 0);
    }

    /** One matrix from {@code offset}, rows {@code ld} apart. */
    public static Matrix at(Tensor tensor, int offset, int ld) {
        return new Matrix(tensor, offset, ld, 0);
    }

    /** A batch of matrices from {@code offset}, rows {@code ld} apart, matrices {@code batchStride} apart. */
    public static Matrix batched(Tensor tensor, int offset, int ld, int batchStride) {
        return new Matrix(tensor, offset, ld, batchStride);
    }
}
