package org.neurite.backend.opencl;

import org.jocl.cl_mem;

/**
 * Host side of the tiled SGEMM ({@code gemm.cl}): picks a tile configuration for the matrix
 * shape and launches one work-group per tile of C, the batch on the third dimension. The large
 * tile (64 x 64, 4 x 4 per work-item) needs both m and n of about 48 or more to keep most
 * work-items busy; thinner products (recurrent steps, small dense layers) take the 16 x 16 tile.
 * Arguments are buffers and element offsets, already checked by the caller.
 */
final class ClGemm {
    /** Below this many rows or columns the 64 x 64 tile would leave most of its work-items idle. */
    static final int LARGE_TILE_MIN = 48;

    private final ClKernels kernels;

    ClGemm(ClKernels kernels) {
        this.kernels = kernels;
    }

    void multiply(boolean transA, boolean transB, int m, int n, int k, float alpha,
                  cl_mem a, int offA, int lda, cl_mem b, int offB, int ldb,
                  float beta, cl_mem c, int offC, int ldc, int batch, int strideA, int strideB, int strideC) {
        if (m == 0 || n == 0 || batch == 0) return;
        ClKernels.GemmTile tile = m >= LARGE_TILE_MIN && n >= LARGE_TILE_MIN ? ClKernels.LARGE : ClKernels.SMALL;
        long groupsX = (n + tile.tileN() - 1) / tile.tileN(), groupsY = (m + tile.tileM() - 1) / tile.tileM();
        long[] global = {groupsX * tile.localX(), groupsY * tile.localY(), batch};
        long[] local = {tile.localX(), tile.localY(), 1};
        kernels.get(tile.kernel()).run(global, local, transA, transB, m, n, k, alpha, a, offA, lda, strideA,
                b, offB, ldb, strideB, beta, c, offC, ldc, strideC);
    }
}
