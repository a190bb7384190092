// Data movement without arithmetic, one work-item per destination element: strided block copies
// (concatenation and splitting along an axis, batch-major <-> time-major transposes), a plain
// range copy, and zero padding of [planes, h, w] into [planes, outH, outW] at (top, left) and its
// adjoint (the crop).

__kernel void copy_blocks(__global const float* src, int srcOff, int srcStride,
                          __global float* dst, int dstOff, int dstStride, int length, int total) {
    int i = get_global_id(0);
    if (i >= total) return;
    int block = i / length, e = i - block * length;
    dst[dstOff + block * dstStride + e] = src[srcOff + block * srcStride + e];
}

__kernel void copy_range(__global const float* src, int srcOff, __global float* dst, int dstOff, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    dst[dstOff + i] = src[srcOff + i];
}

// y[p, r, c] = x[p, r - top, c - left] inside the placed plane, 0 elsewhere.
__kernel void pad2d(__global const float* x, __global float* y, int h, int w, int top, int left,
                    int outH, int outW, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    int plane = outH * outW, p = i / plane, rc = i - p * plane;
    int r = rc / outW - top, c = rc % outW - left;
    y[i] = (r >= 0 && r < h && c >= 0 && c < w) ? x[(p * h + r) * w + c] : 0.0f;
}

// dx[p, r, c] = dy[p, top + r, left + c].
__kernel void crop2d(__global const float* dy, __global float* dx, int h, int w, int top, int left,
                     int outH, int outW, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    int p = i / (h * w), rc = i - p * h * w, r = rc / w, c = rc - r * w;
    dx[i] = dy[(p * outH + top + r) * outW + left + c];
}
