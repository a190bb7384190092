package org.neurite.backend;

/**
 * The shape of a (batched) matrix product {@code C_b = alpha * op(A_b) * op(B_b) + beta * C_b}
 * for b in [0, batch): {@code op(A)} is m x k, {@code op(B)} is k x n, C is m x n; {@code transA}
 * means A is stored k x m (and {@code op(A) = A^T}), {@code transB} that B is stored n x k.
 * Layers build one per product when they compile and pass it with the operands
 * ({@link Backend#gemm(Gemm, float, Matrix, Matrix, float, Matrix)}).
 */
public record Gemm(boolean transA, boolean transB, int m, int n, int k, int batch) {

    /** {@code A * B}, one product. */
    public static Gemm of(int m, int n, int k) { return new Gemm(false, false, m, n, k, 1); }

    /** The same product with A stored transposed (k x m). */
    public Gemm transposeA() { return new Gemm(true, transB, m, n, k, batch); }

    /** The same product with B stored transposed (n x k). */
    public Gemm transposeB() { return new Gemm(transA, true, m, n, k, batch); }

    /** The same product {@code batch} times (operands advance by their {@link Matrix#batchStride()}). */
    public Gemm batched(int batch) { return new Gemm(transA, transB, m, n, k, batch); }

    /** Rows of A as stored. */
    public int rowsA() { return transA ? k : m; }

    /** Columns of A as stored. */
    public int colsA() { return transA ? m : k; }

    /** Rows of B as stored. */
    public int rowsB() { return transB ? n : k; }

    /** Columns of B as stored. */
    public int colsB() { return transB ? k : n; }

    /** {@code 2 * m * n * k * batch}, for throughput figures. */
    public double flops() { return 2.0 * m * n * k * batch; }
}
