// Register-tiled SGEMM for GPUs, the contract of gemm.cl (C_b = alpha * op(A_b) * op(B_b) + beta *
// C_b, batched and strided, C not read when beta == 0, optional bias and activation: gemm_store.cl).
// Included once per configuration with GEMM_NAME, TS_M x TS_N (the C tile of a work-group), TS_K
// (the depth of a staged slice) and WPT_M x WPT_N (the block of C each work-item keeps in
// registers: 8 x 8 = 64 accumulators in the largest configuration) defined; the work-group is
// (TS_N/WPT_N, TS_M/WPT_M) items. Against gemm.cl:
//   - double-buffered local memory: while the items multiply slice t out of one pair of tiles they
//     stage slice t+1 into the other, so each slice costs one barrier instead of two and the loads
//     of the next slice overlap the arithmetic of this one;
//   - vector loads: a slice lying wholly inside the matrix is read four floats at a time (vload4)
//     along the stored matrix's contiguous dimension (needs only float alignment); slices on the
//     edges are read element by element, zero outside the matrix;
//   - the staging loops divide only by compile-time constants (powers of two: shifts).
// Item (tx, ty) owns rows ty + r*LY and columns tx + q*LX of the tile, so neighbouring items read
// neighbouring local-memory words (no bank conflicts) and write neighbouring words of C.

#define LX (TS_N / WPT_N)
#define LY (TS_M / WPT_M)
#define THREADS (LX * LY)

// Stages the k-slice starting at K0 of op(A) and op(B) into tile buffer BUF.
#define REG_STAGE(K0, BUF) { \
    int k0_ = (K0); \
    if (row0 + TS_M <= m && k0_ + TS_K <= k) { \
        for (int e = tid; e < TS_M * TS_K / 4; e += THREADS) { \
            if (transA) { int kk = e / (TS_M / 4), i = (e - kk * (TS_M / 4)) * 4; \
                float4 v = vload4(0, a + (k0_ + kk) * lda + row0 + i); \
                tileA[BUF][kk][i] = v.s0; tileA[BUF][kk][i + 1] = v.s1; tileA[BUF][kk][i + 2] = v.s2; tileA[BUF][kk][i + 3] = v.s3; \
            } else { int i = e / (TS_K / 4), kk = (e - i * (TS_K / 4)) * 4; \
                float4 v = vload4(0, a + (row0 + i) * lda + k0_ + kk); \
                tileA[BUF][kk][i] = v.s0; tileA[BUF][kk + 1][i] = v.s1; tileA[BUF][kk + 2][i] = v.s2; tileA[BUF][kk + 3][i] = v.s3; } \
        } \
    } else { \
        for (int e = tid; e < TS_M * TS_K; e += THREADS) { \
            int i, kk; \
            if (transA) { kk = e / TS_M; i = e - kk * TS_M; } else { i = e / TS_K; kk = e - i * TS_K; } \
            int gi = row0 + i, gk = k0_ + kk; \
            tileA[BUF][kk][i] = (gi < m && gk < k) ? a[transA ? gk * lda + gi : gi * lda + gk] : 0.0f; \
        } \
    } \
    if (col0 + TS_N <= n && k0_ + TS_K <= k) { \
        for (int e = tid; e < TS_N * TS_K / 4; e += THREADS) { \
            if (transB) { int j = e / (TS_K / 4), kk = (e - j * (TS_K / 4)) * 4; \
                float4 v = vload4(0, b + (col0 + j) * ldb + k0_ + kk); \
                tileB[BUF][kk][j] = v.s0; tileB[BUF][kk + 1][j] = v.s1; tileB[BUF][kk + 2][j] = v.s2; tileB[BUF][kk + 3][j] = v.s3; \
            } else { int kk = e / (TS_N / 4), j = (e - kk * (TS_N / 4)) * 4; \
                float4 v = vload4(0, b + (k0_ + kk) * ldb + col0 + j); \
                tileB[BUF][kk][j] = v.s0; tileB[BUF][kk][j + 1] = v.s1; tileB[BUF][kk][j + 2] = v.s2; tileB[BUF][kk][j + 3] = v.s3; } \
        } \
    } else { \
        for (int e = tid; e < TS_N * TS_K; e += THREADS) { \
            int j, kk; \
            if (transB) { j = e / TS_K; kk = e - j * TS_K; } else { kk = e / TS_N; j = e - kk * TS_N; } \
            int gj = col0 + j, gk = k0_ + kk; \
            tileB[BUF][kk][j] = (gj < n && gk < k) ? b[transB ? gj * ldb + gk : gk * ldb + gj] : 0.0f; \
        } \
    } \
}

__kernel __attribute__((reqd_work_group_size(LX, LY, 1)))
void GEMM_NAME(int transA, int transB, int m, int n, int k, float alpha,
               __global const float* a, int offA, int lda, int strideA,
               __global const float* b, int offB, int ldb, int strideB,
               float beta, __global float* c, int offC, int ldc, int strideC,
               __global const float* bias, int offBias, int epilogue) {
    __local float tileA[2][TS_K][TS_M];
    __local float tileB[2][TS_K][TS_N];
    int batch = get_group_id(2);
    a += offA + batch * strideA;
    b += offB + batch * strideB;
    c += offC + batch * strideC;
    int tx = get_local_id(0), ty = get_local_id(1), tid = ty * LX + tx;
    int row0 = get_group_id(1) * TS_M, col0 = get_group_id(0) * TS_N;

    float acc[WPT_M][WPT_N];
#pragma unroll
    for (int r = 0; r < WPT_M; r++)
#pragma unroll
        for (int q = 0; q < WPT_N; q++) acc[r][q] = 0.0f;

    int slices = (k + TS_K - 1) / TS_K;
    if (slices > 0) REG_STAGE(0, 0)
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int t = 0; t < slices; t++) {
        int cur = t & 1;
        // The other buffer was last read in slice t-1, which every item finished before the barrier.
        if (t + 1 < slices) REG_STAGE((t + 1) * TS_K, cur ^ 1)
        // Unrolled, so that acc, av and bv live in registers (an array indexed at run time would go to memory).
#pragma unroll
        for (int kk = 0; kk < TS_K; kk++) {
            float av[WPT_M], bv[WPT_N];
#pragma unroll
            for (int r = 0; r < WPT_M; r++) av[r] = tileA[cur][kk][ty + r * LY];
#pragma unroll
            for (int q = 0; q < WPT_N; q++) bv[q] = tileB[cur][kk][tx + q * LX];
#pragma unroll
            for (int r = 0; r < WPT_M; r++)
#pragma unroll
                for (int q = 0; q < WPT_N; q++) acc[r][q] += av[r] * bv[q];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

#pragma unroll
    for (int r = 0; r < WPT_M; r++) {
        int gi = row0 + ty + r * LY;
        if (gi >= m) continue;
#pragma unroll
        for (int q = 0; q < WPT_N; q++) {
            int gj = col0 + tx + q * LX;
            if (gj < n) gemm_store(c, gi * ldc + gj, alpha, acc[r][q], beta, bias, offBias, gi, gj, epilogue);
        }
    }
}

#undef REG_STAGE
#undef LX
#undef LY
#undef THREADS
