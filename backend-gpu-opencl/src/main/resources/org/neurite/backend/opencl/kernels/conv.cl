// The data movement of convolution as im2col + GEMM (PyTorch layouts x[N, Cin, H, W],
// w[Cout, Cin/groups, kh, kw]). For a chunk of samples, im2col writes the column matrix: row
// r = (c, ki, kj) over all input channels (group g owns rows [g*K, (g+1)*K), K = Cin/groups*kh*kw),
// column q = (oh, ow), with a caller-chosen layout: element (s, r, q) of sample s of the chunk at
// colOff + s*sampleStride + r*rowStride + q. col2im is its adjoint as a gather: one work-item per
// input element adds, in (ki, kj) order, the column entries that read it (no atomics).

inline void im2col_item(int i, __global const float* x, int first, int channels, int h, int w,
                        int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int ho, int wo,
                        __global float* col, int colOff, int sampleStride, int rowStride) {
    int p = ho * wo, rows = channels * kh * kw;
    int q = i % p, sr = i / p, r = sr % rows, s = sr / rows;
    int c = r / (kh * kw), ki = (r / kw) % kh, kj = r % kw;
    int oh = q / wo, ow = q - oh * wo;
    int ih = oh * sh - ph + ki * dh, iw = ow * sw - pw + kj * dw;
    float v = 0.0f;
    if (ih >= 0 && ih < h && iw >= 0 && iw < w) v = x[((first + s) * channels + c) * h * w + ih * w + iw];
    col[colOff + s * sampleStride + r * rowStride + q] = v;
}

__kernel void im2col(__global const float* x, int first, int channels, int h, int w,
                     int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int ho, int wo,
                     __global float* col, int colOff, int sampleStride, int rowStride, int n) {
    int i = get_global_id(0);
    if (i < n) im2col_item(i, x, first, channels, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, col, colOff, sampleStride, rowStride);
}

// Both operands of the filter gradient of a chunk of `count` samples in one launch: items
// [0, nCol) write the column matrix as im2col does (sample stride P, row stride count * P, from
// work[0]), items [nCol, n) the chunk's dy [count, cout, P] channel-major, work[dyOff + (c * count + s) * P + q].
__kernel void filter_gradient_operands(__global const float* x, int first, int channels, int h, int w,
                                       int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int ho, int wo,
                                       __global float* work, int nCol, __global const float* dy, int count, int cout,
                                       int dyOff, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    int p = ho * wo;
    if (i < nCol) {
        im2col_item(i, x, first, channels, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, work, 0, p, count * p);
        return;
    }
    int j = i - nCol, q = j % p, cs = j / p, s = cs % count, c = cs / count;
    work[dyOff + j] = dy[((first + s) * cout + c) * p + q];
}

// dx[first + s, c, ih, iw] = sum over (ki, kj) of the col entries that im2col took from it.
__kernel void col2im(__global const float* col, int colOff, int sampleStride, int rowStride,
                     __global float* dx, int first, int channels, int h, int w,
                     int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int ho, int wo, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    int hw = h * w, s = i / (channels * hw), rest = i - s * channels * hw;
    int c = rest / hw, ih = (rest - c * hw) / w, iw = rest % w;
    __global const float* cs = col + colOff + s * sampleStride;
    float sum = 0.0f;
    for (int ki = 0; ki < kh; ki++) {
        int th = ih + ph - ki * dh; // = oh * sh
        if (th < 0 || th % sh != 0) continue;
        int oh = th / sh;
        if (oh >= ho) continue;
        for (int kj = 0; kj < kw; kj++) {
            int tw = iw + pw - kj * dw;
            if (tw < 0 || tw % sw != 0) continue;
            int ow = tw / sw;
            if (ow >= wo) continue;
            int r = (c * kh + ki) * kw + kj;
            sum += cs[r * rowStride + oh * wo + ow];
        }
    }
    dx[(first + s) * channels * hw + rest] = sum;
}

// The split filter gradient's partial bias gradients: work-group (s, c) sums row c of the chunk's
// channel-major dy (work[dyOff + c * width ..]) over slice s's columns [s * slice, (s + 1) * slice),
// in a fixed tree, into part[partOff + s * sliceStride + biasOff + c].
__kernel __attribute__((reqd_work_group_size(REDUCE_WG, 1, 1)))
void conv_bias_slices(__global const float* work, int dyOff, int width, int slice, int cout,
                      __global float* part, int partOff, int sliceStride, int biasOff) {
    __local acc_t scratch[REDUCE_WG];
    int g = get_group_id(0), s = g / cout, c = g - s * cout, l = get_local_id(0);
    __global const float* row = work + dyOff + c * width + s * slice;
    acc_t sum = 0;
    for (int e = l; e < slice; e += REDUCE_WG) sum += row[e];
    sum = group_sum(sum, scratch);
    if (l == 0) part[partOff + s * sliceStride + biasOff + c] = (float) sum;
}

// The split filter gradient's last step: for i in [0, dwSize + nBias), the slices' partials
// part[partOff + s * sliceStride + i] added in slice order (reproducible), in acc_t, into dw[i]
// (i < dwSize) or dbias[i - dwSize]; with beta 1 onto what is there, with beta 0 over it.
__kernel void conv_sum_slices(__global const float* part, int partOff, int slices, int sliceStride,
                              __global float* dw, int dwSize, __global float* dbias, int nBias, float beta) {
    int i = get_global_id(0);
    if (i >= dwSize + nBias) return;
    __global const float* p = part + partOff + i;
    acc_t sum = 0;
    for (int s = 0; s < slices; s++) sum += p[s * sliceStride];
    __global float* out = i < dwSize ? dw + i : dbias + (i - dwSize);
    *out = beta == 0.0f ? (float) sum : (float) (beta * *out + sum);
}
