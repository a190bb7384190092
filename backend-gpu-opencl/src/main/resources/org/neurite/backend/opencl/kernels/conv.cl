// The data movement of convolution as im2col + GEMM (PyTorch layouts x[N, Cin, H, W],
// w[Cout, Cin/groups, kh, kw]). For a chunk of samples, im2col writes the column matrix: row
// r = (c, ki, kj) over all input channels (group g owns rows [g*K, (g+1)*K), K = Cin/groups*kh*kw),
// column q = (oh, ow), with a caller-chosen layout: element (s, r, q) of sample s of the chunk at
// colOff + s*sampleStride + r*rowStride + q. col2im is its adjoint as a gather: one work-item per
// input element adds, in (ki, kj) order, the column entries that read it (no atomics).

__kernel void im2col(__global const float* x, int first, int channels, int h, int w,
                     int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int ho, int wo,
                     __global float* col, int colOff, int sampleStride, int rowStride, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    int p = ho * wo, rows = channels * kh * kw;
    int q = i % p, sr = i / p, r = sr % rows, s = sr / rows;
    int c = r / (kh * kw), ki = (r / kw) % kh, kj = r % kw;
    int oh = q / wo, ow = q - oh * wo;
    int ih = oh * sh - ph + ki * dh, iw = ow * sw - pw + kj * dw;
    float v = 0.0f;
    if (ih >= 0 && ih < h && iw >= 0 && iw < w) v = x[((first + s) * channels + c) * h * w + ih * w + iw];
    col[colOff + s * sampleStride + r * rowStride + q] = v;
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
