// Batch normalisation and local response normalisation (PyTorch semantics) over x viewed as
// [outer, channels, inner]. Batch norm training and backward give each channel to one
// work-group: mean, then the variance around it (two passes), or sum(dy) and sum(dy*(x-mean)),
// in acc_t, then the channel's outputs; y may be x and dx may be dy, because every read of the
// sums happens before the group's barrier and each item rewrites only what it reads. Evaluation
// and LRN are one work-item per element; LRN sums its channel window in channel order.

__kernel __attribute__((reqd_work_group_size(REDUCE_WG, 1, 1)))
void batch_norm_train(__global const float* x, __global float* y, __global const float* gamma, __global const float* beta,
                      __global float* runningMean, __global float* runningVar, __global float* saveMean, __global float* saveInvStd,
                      int outer, int channels, int inner, float eps, float momentum, int act) {
    __local acc_t scratch[REDUCE_WG];
    int c = get_group_id(0), l = get_local_id(0);
    int count = outer * inner;
    acc_t s = 0;
    for (int e = l; e < count; e += REDUCE_WG) {
        int o = e / inner;
        s += x[(o * channels + c) * inner + e - o * inner];
    }
    acc_t mean = group_sum(s, scratch) / count;
    acc_t sq = 0;
    for (int e = l; e < count; e += REDUCE_WG) {
        int o = e / inner;
        acc_t d = x[(o * channels + c) * inner + e - o * inner] - mean;
        sq += d * d;
    }
    acc_t var = group_sum(sq, scratch) / count;
    acc_t invStd = 1 / sqrt(var + eps);
    if (l == 0) {
        saveMean[c] = (float) mean;
        saveInvStd[c] = (float) invStd;
        runningMean[c] = (float) ((1 - (acc_t) momentum) * runningMean[c] + momentum * mean);
        runningVar[c] = (float) ((1 - (acc_t) momentum) * runningVar[c] + momentum * var * count / (count - 1));
    }
    float m = (float) mean, scale = (float) (invStd * gamma[c]), shift = beta[c];
    for (int e = l; e < count; e += REDUCE_WG) {
        int o = e / inner, i = (o * channels + c) * inner + e - o * inner;
        float v = (x[i] - m) * scale + shift;
        y[i] = act != 0 ? apply_unary(act - 1, v) : v;
    }
}

// y = (x - runningMean) / sqrt(runningVar + eps) * gamma + beta, then the activation of code act - 1
// (act 0: none), as unary_forward applies it; y may be x.
__kernel void batch_norm_infer(__global const float* x, __global float* y, __global const float* gamma, __global const float* beta,
                               __global const float* runningMean, __global const float* runningVar,
                               int channels, int inner, float eps, int n, int act) {
    int i = get_global_id(0);
    if (i >= n) return;
    int c = (i / inner) % channels;
    acc_t invStd = 1 / sqrt((acc_t) runningVar[c] + eps);
    float scale = (float) (invStd * gamma[c]);
    float v = (x[i] - runningMean[c]) * scale + beta[c];
    y[i] = act != 0 ? apply_unary(act - 1, v) : v;
}

// dbeta = sum(dy), dgamma = sum(dy * xhat), dx = gamma*invStd * (dy - dbeta/m - (x - mean) * dgamma*invStd/m);
// dgamma and dbeta are written only when hasDgamma / hasDbeta. With act != 0, dy is the gradient of
// y = activation(batchnorm(x)) (code act - 1, its derivative from y alone): every read of dy takes it
// through apply_unary_backward, the value unary_backward would have stored, so the same bits.
__kernel __attribute__((reqd_work_group_size(REDUCE_WG, 1, 1)))
void batch_norm_backward(__global const float* x, __global const float* dy, __global const float* gamma,
                         __global const float* saveMean, __global const float* saveInvStd, __global float* dx,
                         __global float* dgamma, __global float* dbeta, int hasDgamma, int hasDbeta,
                         int outer, int channels, int inner, __global const float* y, int act) {
    __local acc_t scratch[REDUCE_WG];
    int c = get_group_id(0), l = get_local_id(0);
    int count = outer * inner;
    float mean = saveMean[c], invStd = saveInvStd[c];
    acc_t sumDy = 0, sumDyCentred = 0;
    for (int e = l; e < count; e += REDUCE_WG) {
        int o = e / inner, i = (o * channels + c) * inner + e - o * inner;
        float g = act != 0 ? apply_unary_backward(act - 1, y[i], y[i], dy[i]) : dy[i];
        sumDy += g;
        sumDyCentred += (acc_t) g * (x[i] - mean);
    }
    sumDy = group_sum(sumDy, scratch);
    acc_t sumDyXhat = group_sum(sumDyCentred, scratch) * invStd;
    if (l == 0) {
        if (hasDbeta) dbeta[c] = (float) sumDy;
        if (hasDgamma) dgamma[c] = (float) sumDyXhat;
    }
    float k = gamma[c] * invStd;
    float a = (float) (sumDy / count);
    float b = (float) (sumDyXhat / count * invStd);
    for (int e = l; e < count; e += REDUCE_WG) {
        int o = e / inner, i = (o * channels + c) * inner + e - o * inner;
        float g = act != 0 ? apply_unary_backward(act - 1, y[i], y[i], dy[i]) : dy[i];
        dx[i] = k * (g - a - (x[i] - mean) * b);
    }
}

// s^-beta; AlexNet's 0.75 (and 0.5, 1) through square roots, as the CPU backend computes it.
inline float pow_neg(float s, float beta) {
    acc_t v = s;
    if (beta == 0.75f) return (float) (1 / (sqrt(v) * sqrt(sqrt(v))));
    if (beta == 0.5f) return (float) (1 / sqrt(v));
    if (beta == 1.0f) return (float) (1 / v);
    return (float) pow(v, (acc_t) -beta);
}

// scale = k + alpha/size * sum of x^2 over channels [c - size/2, c + (size-1)/2]; y = x * scale^-beta.
__kernel void lrn_forward(__global const float* x, __global float* y, __global float* scale, int channels, int inner,
                          int size, float alphaOverSize, float beta, float k, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    int plane = i / inner, q = i - plane * inner, b = plane / channels, c = plane - b * channels;
    int lo = max(0, c - size / 2), hi = min(channels - 1, c + (size - 1) / 2);
    float sum = 0.0f;
    for (int cc = lo; cc <= hi; cc++) {
        float v = x[(b * channels + cc) * inner + q];
        sum += v * v;
    }
    float s = k + alphaOverSize * sum;
    scale[i] = s;
    y[i] = x[i] * pow_neg(s, beta);
}

// dx_j = dy_j * s_j^-beta - coefficient * x_j * sum over channels c whose window holds j of dy_c * y_c / s_c.
__kernel void lrn_backward(__global const float* x, __global const float* y, __global const float* scale,
                           __global const float* dy, __global float* dx, int channels, int inner,
                           int size, float beta, float coefficient, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    int plane = i / inner, q = i - plane * inner, b = plane / channels, j = plane - b * channels;
    // j lies in window(c) iff c - size/2 <= j <= c + (size-1)/2: the mirrored window.
    int lo = max(0, j - (size - 1) / 2), hi = min(channels - 1, j + size / 2);
    float sum = 0.0f;
    for (int c = lo; c <= hi; c++) {
        int e = (b * channels + c) * inner + q;
        sum += dy[e] * y[e] / scale[e];
    }
    dx[i] = dy[i] * pow_neg(scale[i], beta) - coefficient * x[i] * sum;
}
