package org.neurite.backend.opencl;

import org.jocl.cl_mem;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.backend.UnaryOp;

/**
 * Host side of SGEMM: six kernels for the same contract, and the launch geometry of each. Every
 * kernel ends in the same store ({@code gemm_store.cl}), which can add a bias per row of C (a
 * convolution's output channels) or per column (a dense layer's units) and then apply an
 * activation, or multiply by an activation's derivative ({@link #multiplyWithEpilogue}): the
 * epilogues the convolution and dense passes ask for, which then need no broadcast or
 * element-wise launch.
 * <ul>
 *   <li>{@link Variant#TILED_64} ({@code gemm.cl}, 64 x 64 tiles staged in local memory, 4 x 4
 *       outputs per work-item): what GPUs need for large products;</li>
 *   <li>{@link Variant#TILED_16} (the same kernel with 16 x 16 tiles): thin products on GPUs,
 *       where a 64 x 64 tile would leave most work-items idle;</li>
 *   <li>{@link Variant#REGISTER_128} and {@link Variant#REGISTER_64} ({@code gemm_register.cl},
 *       128 x 128 and 64 x 128 tiles, 8 x 8 and 4 x 8 outputs per work-item, local memory double
 *       buffered, vector loads): large products on GPUs, where more outputs per item means fewer
 *       local-memory reads per multiply-add;</li>
 *   <li>{@link Variant#DIRECT} ({@code gemm_direct.cl}, no local memory, 4 x 8 outputs per
 *       work-item in SIMD registers): CPU devices such as PoCL, where barriers are costly and the
 *       caches already do what local memory does on a GPU;</li>
 *   <li>{@link Variant#BLOCKED} ({@code gemm_blocked.cl}, a 4 x 16 step (eight float8 sums) over a
 *       128 x 16 block per work-item, K walked in slices of 128, each slice of B copied to a
 *       private contiguous buffer and reused from L1 by all 128 rows): CPU devices again, for products whose K no longer fits the caches.</li>
 * </ul>
 * Which variant serves "large" products (m and n both at least {@link #LARGE_MIN}) and which
 * serves thin ones is decided per device by {@link ClGemmTuning}, a short timed search on first
 * use whose result is cached on disk. Arguments are buffers and element offsets, already checked.
 */
final class ClGemm {
    /** From this many rows and columns on, a product counts as large. */
    static final int LARGE_MIN = 48;

    /** The SGEMM kernels. */
    enum Variant {
        TILED_64(ClKernels.LARGE),
        TILED_16(ClKernels.SMALL),
        REGISTER_128(ClKernels.REGISTER_128),
        REGISTER_64(ClKernels.REGISTER_64),
        DIRECT(null, "sgemm_direct", 4, 8),
        BLOCKED(null, "sgemm_blocked", BLOCKED_ROWS, 16);

        private final ClKernels.GemmTile tile;
        private final String direct;
        private final int rowsPerItem;
        private final int columnsPerItem;

        Variant(ClKernels.GemmTile tile) {
            this(tile, null, 0, 0);
        }

        Variant(ClKernels.GemmTile tile, String direct, int rowsPerItem, int columnsPerItem) {
            this.tile = tile;
            this.direct = direct;
            this.rowsPerItem = rowsPerItem;
            this.columnsPerItem = columnsPerItem;
        }

        String kernel() { return tile == null ? direct : tile.kernel(); }

        /** Work-items along x (columns of C) for a product with n columns. */
        long globalX(int n) {
            return tile == null ? roundUp(ceilDiv(n, columnsPerItem), DIRECT_GROUP) : ceilDiv(n, tile.tileN()) * tile.localX();
        }

        /** Work-items along y (rows of C) for a product with m rows. */
        long globalY(int m) {
            return tile == null ? ceilDiv(m, rowsPerItem) : ceilDiv(m, tile.tileM()) * tile.localY();
        }

        long localX() { return tile == null ? DIRECT_GROUP : tile.localX(); }

        long localY() { return tile == null ? 1 : tile.localY(); }
    }

    /** Work-group width of the direct and blocked kernels: a fixed size, so drivers compile them once. */
    static final int DIRECT_GROUP = 16;

    /** Rows of C per work-item of the blocked kernel; must match BLK_ROWS in gemm_blocked.cl. */
    static final int BLOCKED_ROWS = 128;

    /** The variants a device uses for large and for thin products. */
    record Choice(Variant large, Variant thin) {
        @Override public String toString() { return "large " + large.kernel() + ", thin " + thin.kernel(); }
    }

    private final ClKernels kernels;
    private volatile Choice choice;

    ClGemm(ClKernels kernels, Choice choice) {
        this.kernels = kernels;
        this.choice = choice;
    }

    Choice choice() { return choice; }

    /** Replaces the tuned choice (tests run every variant through the backend's ops this way). */
    void use(Choice choice) { this.choice = choice; }

    /** {@code C = alpha * op(A) * op(B) + beta * C} for the backend's {@code gemm}: operands in tensors of this backend. */
    void multiply(Gemm g, float alpha, Matrix a, Matrix b, float beta, Matrix c) {
        multiply(g.transA(), g.transB(), g.m(), g.n(), g.k(), alpha, ClTensor.of(a.tensor()).mem(), a.offset(), a.ld(),
                ClTensor.of(b.tensor()).mem(), b.offset(), b.ld(), beta, ClTensor.of(c.tensor()).mem(), c.offset(), c.ld(),
                g.batch(), a.batchStride(), b.batchStride(), c.batchStride());
    }

    void multiply(boolean transA, boolean transB, int m, int n, int k, float alpha,
                  cl_mem a, int offA, int lda, cl_mem b, int offB, int ldb,
                  float beta, cl_mem c, int offC, int ldc, int batch, int strideA, int strideB, int strideC) {
        multiplyWithEpilogue(transA, transB, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc, batch,
                strideA, strideB, strideC, null, 0, 0);
    }

    /**
     * As {@link #multiply}, then in the same launch, element by element of each C_b and each step
     * rounded on its own: {@code + bias[offBias + i]} (row i) or {@code + bias[offBias + j]}
     * (column j) as {@code epilogue} says ({@link #epilogue}; {@code bias} null for none), then
     * the epilogue's activation; or, with a {@link #derivativeEpilogue}, times the activation's
     * derivative from {@code bias[offBias + at]} (the activation's output, laid out as C).
     */
    void multiplyWithEpilogue(boolean transA, boolean transB, int m, int n, int k, float alpha,
                              cl_mem a, int offA, int lda, cl_mem b, int offB, int ldb,
                              float beta, cl_mem c, int offC, int ldc, int batch, int strideA, int strideB, int strideC,
                              cl_mem bias, int offBias, int epilogue) {
        Choice ch = choice;
        multiply(m >= LARGE_MIN && n >= LARGE_MIN ? ch.large() : ch.thin(), transA, transB, m, n, k, alpha, a, offA, lda,
                b, offB, ldb, beta, c, offC, ldc, batch, strideA, strideB, strideC, bias, offBias, epilogue);
    }

    /**
     * The epilogue word of {@code gemm_store.cl}: the activation's op code + 1 (0: none), and
     * whether the bias follows the columns of C (else its rows).
     */
    static int epilogue(UnaryOp activation, boolean biasByColumn) {
        return (activation == null ? 0 : ClOpCodes.code(activation) + 1) | (biasByColumn ? 0x100 : 0);
    }

    /**
     * The epilogue word that multiplies each element of C by {@code activation}'s derivative, taken
     * from the activation's output passed where the bias goes, laid out as C (one product).
     */
    static int derivativeEpilogue(UnaryOp activation) {
        return ClOpCodes.code(activation) + 1 | 0x200;
    }

    void multiply(Variant variant, boolean transA, boolean transB, int m, int n, int k, float alpha,
                  cl_mem a, int offA, int lda, cl_mem b, int offB, int ldb,
                  float beta, cl_mem c, int offC, int ldc, int batch, int strideA, int strideB, int strideC) {
        multiply(variant, transA, transB, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc, batch,
                strideA, strideB, strideC, null, 0, 0);
    }

    private void multiply(Variant variant, boolean transA, boolean transB, int m, int n, int k, float alpha,
                          cl_mem a, int offA, int lda, cl_mem b, int offB, int ldb,
                          float beta, cl_mem c, int offC, int ldc, int batch, int strideA, int strideB, int strideC,
                          cl_mem bias, int offBias, int epilogue) {
        if (m == 0 || n == 0 || batch == 0) return;
        // Without a bias the kernel gets C's buffer as a placeholder it never reads (offset -1).
        kernels.get(variant.kernel()).args().bool(transA).bool(transB).i(m).i(n).i(k).f(alpha)
                .mem(a).i(offA).i(lda).i(strideA).mem(b).i(offB).i(ldb).i(strideB).f(beta).mem(c).i(offC).i(ldc).i(strideC)
                .mem(bias == null ? c : bias).i(bias == null ? -1 : offBias).i(epilogue)
                .run(variant.globalX(n), variant.globalY(m), batch, variant.localX(), variant.localY(), 1);
    }

    private static long ceilDiv(long a, long b) { return (a + b - 1) / b; }

    private static long roundUp(long a, long multiple) { return ceilDiv(a, multiple) * multiple; }
}
