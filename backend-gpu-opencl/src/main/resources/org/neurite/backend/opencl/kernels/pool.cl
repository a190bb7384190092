// Max and average pooling over x[N, C, H, W] with PyTorch semantics. Forward: one work-item per
// output; a window starts at (oh*sh - ph, ow*sw - pw) and is clipped to the input; max records the
// winner as ih*W + iw (ties keep the first, NaN wins). Backward is a gather, one work-item per
// input element, adding the outputs whose window holds it in (oh, ow) order: no atomics, and the
// same additions in the same order as the CPU's scatter. The average divisor is the window
// clipped to the padded input (countIncludePad) or to the input.


__kernel void max_pool_forward(__global const float* x, __global float* y, __global float* argmax,
                               int h, int w, int ho, int wo, int kh, int kw, int sh, int sw, int ph, int pw, int n) {
    int o = get_global_id(0);
    if (o >= n) return;
    int plane = o / (ho * wo), q = o - plane * ho * wo, oh = q / wo, ow = q - oh * wo;
    int hs = oh * sh - ph, he = min(hs + kh, h), ws = ow * sw - pw, we = min(ws + kw, w);
    hs = max(hs, 0);
    ws = max(ws, 0);
    __global const float* xp = x + plane * h * w;
    float best = -INFINITY;
    int bestIndex = hs * w + ws;
    for (int ih = hs; ih < he; ih++) {
        for (int iw = ws; iw < we; iw++) {
            float v = xp[ih * w + iw];
            if (v > best || isnan(v)) {
                best = v;
                bestIndex = ih * w + iw;
            }
        }
    }
    y[o] = best;
    argmax[o] = (float) bestIndex;
}

// status[2 * slot] = min(itself, o) for every output o whose argmax is not an integer ih*W + iw
// naming an input position inside o's window clipped to the input (what max_pool_forward writes);
// the backward gather, which would otherwise skip such an entry silently, then writes nothing and
// the host refuses the call at its next wait.
__kernel void check_argmax(__global const float* argmax, int h, int w, int ho, int wo, int kh, int kw,
                           int sh, int sw, int ph, int pw, int n, __global int* status, int slot) {
    int o = get_global_id(0);
    if (o >= n) return;
    float v = argmax[o];
    int index = (int) v;
    int q = o % (ho * wo), oh = q / wo, ow = q - oh * wo;
    int hs = oh * sh - ph, ws = ow * sw - pw;
    int ih = index / w, iw = index - ih * w;
    bool ok = (float) index == v && index >= 0 && index < h * w
            && ih >= max(hs, 0) && ih < min(hs + kh, h) && iw >= max(ws, 0) && iw < min(ws + kw, w);
    if (!ok) atomic_min(&status[2 * slot], o);
}

// First and last output index (inclusive, clipped to [0, outs)) whose window of size k, stride s
// and padding p covers input index i.
inline int2 covering_outputs(int i, int k, int s, int p, int outs) {
    int hi = (i + p) / s;
    int t = i + p - k + 1;
    int lo = t <= 0 ? 0 : (t + s - 1) / s;
    return (int2) (lo, min(hi, outs - 1));
}

// Nothing is written when check_argmax found a bad entry (status[2 * slot] set). With activation
// >= 0 (an OP_* code), the backward of the activation that produced x is folded in: dx is the
// scattered sum times the activation's derivative from its output x[i] (apply_unary_backward with
// x[i] for both its input and its output, as unary_backward computes it from the output alone);
// with -1, x is a placeholder and is not read.
__kernel void max_pool_backward(__global const float* dy, __global const float* argmax, __global float* dx,
                                int h, int w, int ho, int wo, int kh, int kw, int sh, int sw, int ph, int pw, int n,
                                __global const int* status, int slot, __global const float* x, int activation) {
    int i = get_global_id(0);
    if (i >= n || status[2 * slot] != INT_MAX) return;
    int plane = i / (h * w), rc = i - plane * h * w, ih = rc / w, iw = rc - ih * w;
    int2 rows = covering_outputs(ih, kh, sh, ph, ho), cols = covering_outputs(iw, kw, sw, pw, wo);
    int yo = plane * ho * wo;
    float target = (float) rc, sum = 0.0f;
    for (int oh = rows.x; oh <= rows.y; oh++)
        for (int ow = cols.x; ow <= cols.y; ow++)
            if (argmax[yo + oh * wo + ow] == target) sum += dy[yo + oh * wo + ow];
    dx[i] = activation < 0 ? sum : apply_unary_backward(activation, x[i], x[i], sum);
}

inline float pool_divisor(int hs, int ws, int h, int w, int kh, int kw, int ph, int pw, int countIncludePad) {
    int he = min(hs + kh, h + ph), we = min(ws + kw, w + pw);
    if (countIncludePad) return (float) ((he - hs) * (we - ws));
    return (float) ((min(he, h) - max(hs, 0)) * (min(we, w) - max(ws, 0)));
}

__kernel void avg_pool_forward(__global const float* x, __global float* y, int h, int w, int ho, int wo,
                               int kh, int kw, int sh, int sw, int ph, int pw, int countIncludePad, int n) {
    int o = get_global_id(0);
    if (o >= n) return;
    int plane = o / (ho * wo), q = o - plane * ho * wo, oh = q / wo, ow = q - oh * wo;
    int hs = oh * sh - ph, ws = ow * sw - pw;
    float divisor = pool_divisor(hs, ws, h, w, kh, kw, ph, pw, countIncludePad);
    int he = min(hs + kh, h), we = min(ws + kw, w);
    __global const float* xp = x + plane * h * w;
    float sum = 0.0f;
    for (int ih = max(hs, 0); ih < he; ih++)
        for (int iw = max(ws, 0); iw < we; iw++) sum += xp[ih * w + iw];
    y[o] = sum / divisor;
}

__kernel void avg_pool_backward(__global const float* dy, __global float* dx, int h, int w, int ho, int wo,
                                int kh, int kw, int sh, int sw, int ph, int pw, int countIncludePad, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    int plane = i / (h * w), rc = i - plane * h * w, ih = rc / w, iw = rc - ih * w;
    int2 rows = covering_outputs(ih, kh, sh, ph, ho), cols = covering_outputs(iw, kw, sw, pw, wo);
    int yo = plane * ho * wo;
    float sum = 0.0f;
    for (int oh = rows.x; oh <= rows.y; oh++)
        for (int ow = cols.x; ow <= cols.y; ow++)
            sum += dy[yo + oh * wo + ow] / pool_divisor(oh * sh - ph, ow * sw - pw, h, w, kh, kw, ph, pw, countIncludePad);
    dx[i] = sum;
}
