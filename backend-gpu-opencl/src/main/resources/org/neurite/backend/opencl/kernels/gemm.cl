// Batched, strided SGEMM on row-major matrices: C_b = alpha * op(A_b) * op(B_b) + beta * C_b,
// op(A) m x k, op(B) k x n, X_b at offX + b*strideX (b = get_group_id(2)); with beta == 0, C is
// not read; a bias and an activation may follow in the store (gemm_store.cl). Included once per
// tile configuration with GEMM_NAME, TS_M, TS_N (the C tile of a
// work-group), TS_K (the k-slice staged in local memory) and WPT_M x WPT_N (the register block of
// C each work-item accumulates) defined; the work-group is (TS_N/WPT_N, TS_M/WPT_M) items.
//
// Each k-slice of op(A) [TS_M x TS_K] and op(B) [TS_K x TS_N] is loaded once into local memory,
// zero-filled outside the matrices, with consecutive items reading consecutive addresses of the
// stored (possibly transposed) matrix. Item (tx, ty) owns rows ty + r*LY and columns tx + c*LX of
// the tile, so neighbouring items read neighbouring local-memory words.

#define LX (TS_N / WPT_N)
#define LY (TS_M / WPT_M)
#define THREADS (LX * LY)

__kernel __attribute__((reqd_work_group_size(LX, LY, 1)))
void GEMM_NAME(int transA, int transB, int m, int n, int k, float alpha,
               __global const float* a, int offA, int lda, int strideA,
               __global const float* b, int offB, int ldb, int strideB,
               float beta, __global float* c, int offC, int ldc, int strideC,
               __global const float* bias, int offBias, int epilogue) {
    __local float tileA[TS_K][TS_M];
    __local float tileB[TS_K][TS_N];
    int batch = get_group_id(2);
    a += offA + batch * strideA;
    b += offB + batch * strideB;
    c += offC + batch * strideC;
    int tx = get_local_id(0), ty = get_local_id(1), tid = ty * LX + tx;
    int row0 = get_group_id(1) * TS_M, col0 = get_group_id(0) * TS_N;

    float acc[WPT_M][WPT_N];
    for (int r = 0; r < WPT_M; r++)
        for (int q = 0; q < WPT_N; q++) acc[r][q] = 0.0f;

    for (int k0 = 0; k0 < k; k0 += TS_K) {
        for (int e = tid; e < TS_M * TS_K; e += THREADS) {
            // Stored A is [m][k] (element (i, kk) at i*lda + kk), or [k][m] when transposed.
            int i, kk;
            if (transA) { kk = e / TS_M; i = e - kk * TS_M; } else { i = e / TS_K; kk = e - i * TS_K; }
            int gi = row0 + i, gk = k0 + kk;
            tileA[kk][i] = (gi < m && gk < k) ? a[transA ? gk * lda + gi : gi * lda + gk] : 0.0f;
        }
        for (int e = tid; e < TS_K * TS_N; e += THREADS) {
            // Stored B is [k][n] (element (kk, j) at kk*ldb + j), or [n][k] when transposed.
            int j, kk;
            if (transB) { j = e / TS_K; kk = e - j * TS_K; } else { kk = e / TS_N; j = e - kk * TS_N; }
            int gj = col0 + j, gk = k0 + kk;
            tileB[kk][j] = (gj < n && gk < k) ? b[transB ? gj * ldb + gk : gk * ldb + gj] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < TS_K; kk++) {
            float av[WPT_M], bv[WPT_N];
            for (int r = 0; r < WPT_M; r++) av[r] = tileA[kk][ty + r * LY];
            for (int q = 0; q < WPT_N; q++) bv[q] = tileB[kk][tx + q * LX];
            for (int r = 0; r < WPT_M; r++)
                for (int q = 0; q < WPT_N; q++) acc[r][q] += av[r] * bv[q];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    for (int r = 0; r < WPT_M; r++) {
        int gi = row0 + ty + r * LY;
        if (gi >= m) continue;
        for (int q = 0; q < WPT_N; q++) {
            int gj = col0 + tx + q * LX;
            if (gj >= n) continue;
            gemm_store(c, gi * ldc + gj, alpha, acc[r][q], beta, bias, offBias, gi, gj, epilogue);
        }
    }
}

#undef LX
#undef LY
#undef THREADS
