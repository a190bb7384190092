// Convolution as implicit GEMM (PyTorch layouts x[N, Cin, H, W], w[Cout, Cin/groups, kh, kw],
// y[N, Cout, Ho, Wo]): the product of im2col + GEMM without the column matrix. The tile loads of
// op(B) compute, per element, where im2col would have read it, so nothing but the operands and
// the result lives in global memory. Work-group (x, y, z): a CONV_TS_M x CONV_TS_N tile of one
// sample's (mode 2: one slice's) C, z = sample * groups + group.
//   mode 0, forward:       C[Cout/g, Ho*Wo] = w_g[Cout/g, K] * col(x_s)_g[K, Ho*Wo],  K = Cin/g*kh*kw,
//                          row r of col = (c, ki, kj), column q = (oh, ow); + bias[channel], then an activation, in the store
//   mode 1, backward data: C[Cin/g, H*W] = w_g^T[Cin/g, K'] * B[K', H*W],  K' = Cout/g*kh*kw,
//                          row r of B = (co, ki, kj), column (ih, iw): dy[co, oh, ow] where
//                          ih = oh*sh - ph + ki*dh and iw likewise for a whole (oh, ow) in range, else 0
//                          (the col2im gather, read inside the product)
//   mode 2, filter grad.:  C[Cout/g, K] = dy_g[Cout/g, S*Ho*Wo] * col(x)_g^T[S*Ho*Wo, K] over the S samples
//                          of one slice of the batch (z = slice * groups + group); the host adds the
//                          slices' partials in order (conv_sum_slices), or C is dw when there is one
// The main loop is gemm_register.cl's: slices CONV_TS_K deep staged in double-buffered local memory
// (slice t+1 loaded while slice t is multiplied, one barrier per slice), a CONV_WPT_M x CONV_WPT_N
// block of C per work-item in registers, item (tx, ty) owning rows ty + r*LY and columns tx + q*LX.
// Every element of C ends in gemm_store (alpha 1, beta 0), so the bias and the activation round as separate ops would.

// Included once per configuration (ClKernels.CONV_TILES) with CONV_NAME, CONV_TS_M (rows of C per
// work-group: 32 for convolutions with few channels, 64) and CONV_WPT_M (rows per work-item)
// defined; 64 columns, 16-deep slices and 4 columns per work-item in every configuration, so the
// work-group is always 16 x 16 items.
#define CONV_TS_N 64
#define CONV_TS_K 16
#define CONV_WPT_N 4
#define CONV_LX (CONV_TS_N / CONV_WPT_N)
#define CONV_LY (CONV_TS_M / CONV_WPT_M)
#define CONV_THREADS (CONV_LX * CONV_LY)

#ifndef CONV_IMPLICIT_OPERANDS
#define CONV_IMPLICIT_OPERANDS
// op(A)[i][r] of the product, zero outside [0, m) x [0, k). a points at w_g (modes 0, 1) or at
// dy of the slice's first sample, channel g*Cout/g (mode 2, row i = channel, r = (sample, pixel)).
inline float conv_a_at(int mode, __global const float* a, int i, int r, int m, int k, int khw, int kFwd, int cout, int p) {
    if (i >= m || r >= k) return 0.0f;
    if (mode == 0) return a[i * k + r];
    if (mode == 1) {
        int co = r / khw;
        return a[co * kFwd + i * khw + (r - co * khw)];
    }
    int sl = r / p;
    return a[(sl * cout + i) * p + (r - sl * p)];
}

// x[sample sl (relative), channel c of the group] at output pixel (oh, ow) and kernel tap (ki, kj), 0 in the padding.
inline float conv_x_at(__global const float* x, int sl, int c, int ki, int kj, int oh, int ow, int cin,
                       int h, int wd, int sh, int sw, int ph, int pw, int dh, int dw) {
    int ih = oh * sh - ph + ki * dh, iw = ow * sw - pw + kj * dw;
    return (ih >= 0 && ih < h && iw >= 0 && iw < wd) ? x[((sl * cin + c) * h + ih) * wd + iw] : 0.0f;
}

// op(B)[r][q] of the product: the column-matrix element the implicit im2col (or col2im) reads.
// b points at x of sample s, channel g*Cin/g (modes 0, 2) or at dy of sample s, channel g*Cout/g (mode 1).
inline float conv_b_at(int mode, __global const float* b, int r, int q, int n, int k, int cin,
                       int h, int wd, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int ho, int wo) {
    if (q >= n || r >= k) return 0.0f;
    int p = ho * wo, khw = kh * kw;
    if (mode == 2) { // row r = (sample, pixel) of the slice, column q = (c, ki, kj)
        int sl = r / p, px = r - sl * p, c = q / khw, kk = q - c * khw, ki = kk / kw, oh = px / wo;
        return conv_x_at(b, sl, c, ki, kk - ki * kw, oh, px - oh * wo, cin, h, wd, sh, sw, ph, pw, dh, dw);
    }
    int c = r / khw, kk = r - c * khw, ki = kk / kw, kj = kk - ki * kw;
    if (mode == 0) {
        int oh = q / wo;
        return conv_x_at(b, 0, c, ki, kj, oh, q - oh * wo, cin, h, wd, sh, sw, ph, pw, dh, dw);
    }
    int ih = q / wd, iw = q - ih * wd;
    int th = ih + ph - ki * dh, tw = iw + pw - kj * dw;
    if (th < 0 || tw < 0 || th % sh != 0 || tw % sw != 0) return 0.0f;
    int oh = th / sh, ow = tw / sw;
    return (oh < ho && ow < wo) ? b[(c * ho + oh) * wo + ow] : 0.0f;
}

#endif

#define CONV_STAGE(K0, BUF) { \
    int k0_ = (K0); \
    for (int e = tid; e < CONV_TS_M * CONV_TS_K; e += CONV_THREADS) { \
        int i = e / CONV_TS_K, kk = e - i * CONV_TS_K; \
        tileA[BUF][kk][i] = conv_a_at(mode, a, row0 + i, k0_ + kk, m, k, khw, kFwd, cout, p); \
    } \
    for (int e = tid; e < CONV_TS_N * CONV_TS_K; e += CONV_THREADS) { \
        int kk = e / CONV_TS_N, j = e - kk * CONV_TS_N; \
        tileB[BUF][kk][j] = conv_b_at(mode, b, k0_ + kk, col0 + j, n, k, cin, h, wd, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo); \
    } \
}

// mode 0: x, w -> y (+ bias when hasBias, then the epilogue's activation; epilogue 0 in the other modes); mode 1: dy, w -> dx; mode 2: dy, x -> the filter
// gradient of slice z / groups (samples [slice * perSlice, + perSlice)) at
// dst[outOff + slice * sliceStride + (g * Cout/g + i) * K + j] (dw itself when there is one slice).
__kernel __attribute__((reqd_work_group_size(CONV_LX, CONV_LY, 1)))
void CONV_NAME(int mode, __global const float* src, __global const float* other, __global float* dst,
                   __global const float* bias, int hasBias, int epilogue, int cin, int h, int wd, int cout,
                   int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int ho, int wo, int groups,
                   int perSlice, int outOff, int sliceStride) {
    __local float tileA[2][CONV_TS_K][CONV_TS_M];
    __local float tileB[2][CONV_TS_K][CONV_TS_N];
    int z = get_group_id(2), s = z / groups, g = z - s * groups;
    int cinG = cin / groups, coutG = cout / groups, khw = kh * kw, kFwd = cinG * khw;
    int hw = h * wd, p = ho * wo;
    int m, n, k;
    __global const float* a;
    __global const float* b;
    __global float* c;
    if (mode == 0) {
        m = coutG; n = p; k = kFwd;
        a = other + (long) g * coutG * kFwd;
        b = src + ((long) s * cin + g * cinG) * hw;
        c = dst + ((long) s * cout + g * coutG) * p;
    } else if (mode == 1) {
        m = cinG; n = hw; k = coutG * khw;
        a = other + (long) g * coutG * kFwd;
        b = src + ((long) s * cout + g * coutG) * p;
        c = dst + ((long) s * cin + g * cinG) * hw;
    } else {
        m = coutG; n = kFwd; k = perSlice * p;
        long first = (long) s * perSlice;
        a = src + (first * cout + g * coutG) * p;
        b = other + (first * cin + g * cinG) * hw;
        c = dst + outOff + (long) s * sliceStride + (long) g * coutG * kFwd;
    }
    int offBias = mode == 0 && hasBias ? g * coutG : -1;
    int tx = get_local_id(0), ty = get_local_id(1), tid = ty * CONV_LX + tx;
    int row0 = get_group_id(1) * CONV_TS_M, col0 = get_group_id(0) * CONV_TS_N;

    float acc[CONV_WPT_M][CONV_WPT_N];
#pragma unroll
    for (int r = 0; r < CONV_WPT_M; r++)
#pragma unroll
        for (int q = 0; q < CONV_WPT_N; q++) acc[r][q] = 0.0f;

    int slices = (k + CONV_TS_K - 1) / CONV_TS_K;
    if (slices > 0) CONV_STAGE(0, 0)
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int t = 0; t < slices; t++) {
        int cur = t & 1;
        // The other buffer was last read in slice t-1, which every item finished before the barrier.
        if (t + 1 < slices) CONV_STAGE((t + 1) * CONV_TS_K, cur ^ 1)
#pragma unroll
        for (int kk = 0; kk < CONV_TS_K; kk++) {
            float av[CONV_WPT_M], bv[CONV_WPT_N];
#pragma unroll
            for (int r = 0; r < CONV_WPT_M; r++) av[r] = tileA[cur][kk][ty + r * CONV_LY];
#pragma unroll
            for (int q = 0; q < CONV_WPT_N; q++) bv[q] = tileB[cur][kk][tx + q * CONV_LX];
#pragma unroll
            for (int r = 0; r < CONV_WPT_M; r++)
#pragma unroll
                for (int q = 0; q < CONV_WPT_N; q++) acc[r][q] += av[r] * bv[q];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

#pragma unroll
    for (int r = 0; r < CONV_WPT_M; r++) {
        int gi = row0 + ty + r * CONV_LY;
        if (gi >= m) continue;
#pragma unroll
        for (int q = 0; q < CONV_WPT_N; q++) {
            int gj = col0 + tx + q * CONV_LX;
            if (gj < n) gemm_store(c, gi * n + gj, 1.0f, acc[r][q], 0.0f, bias, offBias, gi, gj, epilogue);
        }
    }
}

#undef CONV_STAGE
#undef CONV_TS_N
#undef CONV_TS_K
#undef CONV_WPT_N
#undef CONV_LX
#undef CONV_LY
#undef CONV_THREADS
