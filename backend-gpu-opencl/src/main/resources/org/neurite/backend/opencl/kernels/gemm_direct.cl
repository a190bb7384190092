// Batched, strided SGEMM without local memory, for devices whose "local memory" is ordinary cache
// (CPU OpenCL such as PoCL): C_b = alpha * op(A_b) * op(B_b) + beta * C_b, the same contract as
// gemm.cl (with beta == 0, C is not read; an optional bias and activation, see gemm_store.cl). Each work-item computes a 4 x 8 block of C, rows
// i0..i0+3 and columns j0..j0+7, as four float8 accumulators updated once per k with a vector
// multiply-add: the compiler maps them onto SIMD registers. Blocks inside the matrices take a
// fast path with vector loads (one of four loops, by transposition); blocks on the right or
// bottom edge take a checked scalar path. Work-items (ceil(n/8), ceil(m/4), batch).

#define DIRECT_M 4
#define DIRECT_N 8

// op(A)[i][kk] and op(B)[kk][j] of the stored matrices.
#define A_AT(i, kk) (transA ? a[(kk) * lda + (i)] : a[(i) * lda + (kk)])
#define B_AT(kk, j) (transB ? b[(j) * ldb + (kk)] : b[(kk) * ldb + (j)])

// One k-step of the interior loop: av = op(A)[i0..i0+3][kk], bv = op(B)[kk][j0..j0+7].
#define DIRECT_STEP(av, bv) \
    s0 += (av).s0 * (bv); s1 += (av).s1 * (bv); s2 += (av).s2 * (bv); s3 += (av).s3 * (bv);

__kernel void sgemm_direct(int transA, int transB, int m, int n, int k, float alpha,
                           __global const float* a, int offA, int lda, int strideA,
                           __global const float* b, int offB, int ldb, int strideB,
                           float beta, __global float* c, int offC, int ldc, int strideC,
                           __global const float* bias, int offBias, int epilogue) {
    int j0 = get_global_id(0) * DIRECT_N, i0 = get_global_id(1) * DIRECT_M, batch = get_global_id(2);
    if (i0 >= m || j0 >= n) return;
    a += offA + batch * strideA;
    b += offB + batch * strideB;
    c += offC + batch * strideC;
    float8 s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    if (i0 + DIRECT_M <= m && j0 + DIRECT_N <= n) {
        if (!transA && !transB) {
            for (int kk = 0; kk < k; kk++) {
                float4 av = (float4) (a[i0 * lda + kk], a[(i0 + 1) * lda + kk], a[(i0 + 2) * lda + kk], a[(i0 + 3) * lda + kk]);
                float8 bv = vload8(0, b + kk * ldb + j0);
                DIRECT_STEP(av, bv)
            }
        } else if (transA && !transB) {
            for (int kk = 0; kk < k; kk++) {
                float4 av = vload4(0, a + kk * lda + i0);
                float8 bv = vload8(0, b + kk * ldb + j0);
                DIRECT_STEP(av, bv)
            }
        } else {
            for (int kk = 0; kk < k; kk++) {
                float4 av = (float4) (A_AT(i0, kk), A_AT(i0 + 1, kk), A_AT(i0 + 2, kk), A_AT(i0 + 3, kk));
                float8 bv = (float8) (B_AT(kk, j0), B_AT(kk, j0 + 1), B_AT(kk, j0 + 2), B_AT(kk, j0 + 3),
                                      B_AT(kk, j0 + 4), B_AT(kk, j0 + 5), B_AT(kk, j0 + 6), B_AT(kk, j0 + 7));
                DIRECT_STEP(av, bv)
            }
        }
    } else {
        // Edge block: rows >= m and columns >= n read as zero.
        for (int kk = 0; kk < k; kk++) {
            float av[DIRECT_M], bv[DIRECT_N];
            for (int r = 0; r < DIRECT_M; r++) av[r] = i0 + r < m ? A_AT(i0 + r, kk) : 0.0f;
            for (int q = 0; q < DIRECT_N; q++) bv[q] = j0 + q < n ? B_AT(kk, j0 + q) : 0.0f;
            float8 bvec = vload8(0, bv);
            float4 avec = vload4(0, av);
            DIRECT_STEP(avec, bvec)
        }
    }
    float8 rows[DIRECT_M] = {s0, s1, s2, s3};
    for (int r = 0; r < DIRECT_M && i0 + r < m; r++) {
        float out[DIRECT_N];
        vstore8(rows[r], 0, out);
        for (int q = 0; q < DIRECT_N && j0 + q < n; q++) {
            gemm_store(c, (i0 + r) * ldc + j0 + q, alpha, out[q], beta, bias, offBias, i0 + r, j0 + q, epilogue);
        }
    }
}

#undef A_AT
#undef B_AT
#undef DIRECT_STEP
