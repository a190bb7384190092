package org.neurite.backend;

import org.neurite.tensor.Tensor;

/**
 * One call site's GEMM operand over a whole tensor, rows {@code ld} apart ({@link Matrix#of}),
 * made again only when the tensor changes. A layer's kernel meets the same tensors at every step
 * of a compiled model, and a {@link Matrix} made per call escapes into the backend (it is called
 * through an interface), garbage at every training step; see also {@link TensorCopy}.
 */
public final class MatrixOperand {
    private final int ld;
    private Matrix matrix;

    /** Operands whose rows are {@code ld} elements apart. */
    public MatrixOperand(int ld) {
        this.ld = ld;
    }

    /** {@code t} as a matrix from element 0, rows {@code ld} apart. */
    public Matrix of(Tensor t) {
        if (matrix == null || matrix.tensor() != t) matrix = Matrix.of(t, ld);
        return matrix;
    }
}
