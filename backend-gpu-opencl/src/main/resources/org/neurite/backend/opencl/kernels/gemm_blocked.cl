// Batched, strided SGEMM blocked over K, for CPU OpenCL (PoCL): C_b = alpha * op(A_b) * op(B_b)
// + beta * C_b, the contract of gemm.cl and gemm_direct.cl (with beta == 0, C is not read).
// Each work-item owns a tall block of C, BLK_ROWS rows x 16 columns, kept in a private array of
// float8 sums (8 KiB). K is walked in slices of BLK_K: the item first copies its 16 columns of the
// slice of op(B) into a private, contiguous BLK_K x 16 buffer (8 KiB, zero past n), then every
// 4-row piece of its block passes over that buffer with a 4 x 16 step (eight float8 multiply-adds
// per k). So the B slice is read from L1 BLK_ROWS / 4 times instead of once per piece from memory,
// and its rows no longer alias in the cache when ldb is a power of two (the direct kernel's slump at
// 1024 and beyond); the A slice (BLK_ROWS x BLK_K, 64 KiB) stays in L2 for the group's next items,
// which have the same rows and the next 16 columns. Every output still adds its products in k
// order, one multiply-add per k, like gemm_direct. Transposed B and the right edge are handled by
// the copy; A is read with vector loads when transposed, four row pointers when not, and checked
// loads on the bottom edge. Sizes tuned on PoCL (2-core EPYC: 32 KiB L1, 512 KiB L2); the timed
// search in ClGemmTuning decides per device whether this kernel is used at all.
// Work-items (ceil(n/16), ceil(m/BLK_ROWS), batch).

#define BLK_ROWS 128
#define BLK_K 128

#define A_AT(i, kk) (transA ? a[(kk) * lda + (i)] : a[(i) * lda + (kk)])
#define B_AT(kk, j) (transB ? b[(j) * ldb + (kk)] : b[(kk) * ldb + (j)])
// One k-step of a 4 x 16 piece: av = op(A)[i0..i0+3][kk], (bl, bh) = op(B)[kk][j0..j0+15].
#define BLK_STEP(av, bl, bh) \
    l0 += (av).s0 * (bl); h0 += (av).s0 * (bh); l1 += (av).s1 * (bl); h1 += (av).s1 * (bh); \
    l2 += (av).s2 * (bl); h2 += (av).s2 * (bh); l3 += (av).s3 * (bl); h3 += (av).s3 * (bh);

__kernel void sgemm_blocked(int transA, int transB, int m, int n, int k, float alpha,
                            __global const float* a, int offA, int lda, int strideA,
                            __global const float* b, int offB, int ldb, int strideB,
                            float beta, __global float* c, int offC, int ldc, int strideC,
                            __global const float* bias, int offBias, int epilogue) {
    int j0 = get_global_id(0) * 16, first = get_global_id(1) * BLK_ROWS, batch = get_global_id(2);
    if (first >= m || j0 >= n) return;
    a += offA + batch * strideA;
    b += offB + batch * strideB;
    c += offC + batch * strideC;
    int rows = min(BLK_ROWS, m - first);
    float8 acc[2 * BLK_ROWS]; // row r: columns j0..j0+7 in acc[2r], j0+8..j0+15 in acc[2r+1]
    for (int r = 0; r < 2 * BLK_ROWS; r++) acc[r] = 0.0f;
    // The item's 16 columns of the current K slice of op(B), copied contiguously (zero past n):
    // whatever ldb is, the rows of the slice then share no cache sets, and transposition and the
    // right edge are dealt with once per slice instead of once per 4-row piece.
    float bs[BLK_K * 16];
    for (int k0 = 0; k0 < k; k0 += BLK_K) {
        int depth = min(BLK_K, k - k0);
        if (!transB && j0 + 16 <= n) {
            for (int t = 0; t < depth; t++) {
                __global const float* bk = b + (k0 + t) * ldb + j0;
                vstore8(vload8(0, bk), 2 * t, bs);
                vstore8(vload8(1, bk), 2 * t + 1, bs);
            }
        } else {
            for (int t = 0; t < depth; t++)
                for (int q = 0; q < 16; q++) bs[t * 16 + q] = j0 + q < n ? B_AT(k0 + t, j0 + q) : 0.0f;
        }
        for (int r = 0; r < rows; r += 4) {
            int i0 = first + r;
            float8 l0 = acc[2 * r], h0 = acc[2 * r + 1], l1 = acc[2 * r + 2], h1 = acc[2 * r + 3];
            float8 l2 = acc[2 * r + 4], h2 = acc[2 * r + 5], l3 = acc[2 * r + 6], h3 = acc[2 * r + 7];
            if (r + 4 <= rows && !transA) {
                __global const float* a0 = a + i0 * lda + k0;
                for (int t = 0; t < depth; t++) {
                    float4 av = (float4) (a0[t], a0[lda + t], a0[2 * lda + t], a0[3 * lda + t]);
                    float8 bl = vload8(2 * t, bs), bh = vload8(2 * t + 1, bs);
                    BLK_STEP(av, bl, bh)
                }
            } else if (r + 4 <= rows) {
                for (int t = 0; t < depth; t++) {
                    float4 av = vload4(0, a + (k0 + t) * lda + i0);
                    float8 bl = vload8(2 * t, bs), bh = vload8(2 * t + 1, bs);
                    BLK_STEP(av, bl, bh)
                }
            } else {
                // Bottom edge: rows >= m read as zero.
                for (int t = 0; t < depth; t++) {
                    float av[4];
                    for (int q = 0; q < 4; q++) av[q] = i0 + q < m ? A_AT(i0 + q, k0 + t) : 0.0f;
                    float4 avec = vload4(0, av);
                    float8 bl = vload8(2 * t, bs), bh = vload8(2 * t + 1, bs);
                    BLK_STEP(avec, bl, bh)
                }
            }
            acc[2 * r] = l0; acc[2 * r + 1] = h0; acc[2 * r + 2] = l1; acc[2 * r + 3] = h1;
            acc[2 * r + 4] = l2; acc[2 * r + 5] = h2; acc[2 * r + 6] = l3; acc[2 * r + 7] = h3;
        }
    }
    for (int r = 0; r < rows; r++) {
        float out[16];
        vstore8(acc[2 * r], 0, out);
        vstore8(acc[2 * r + 1], 1, out);
        for (int q = 0; q < 16 && j0 + q < n; q++) {
            gemm_store(c, (first + r) * ldc + j0 + q, alpha, out[q], beta, bias, offBias, first + r, j0 + q, epilogue);
        }
    }
}

#undef A_AT
#undef B_AT
#undef BLK_STEP
#undef BLK_ROWS
#undef BLK_K
