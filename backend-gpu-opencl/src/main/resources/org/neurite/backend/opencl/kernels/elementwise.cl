// Element-wise maps, one work-item per element: unary ops and their derivatives on slices
// (offsets count floats), binary ops, the affine map scale * x + shift, per-channel broadcasts
// over x viewed as [outer, channels, inner], axpby, inverted dropout with CounterRandom masks, and
// the counter kernel the tests use to compare counter_uniform with the Java implementation.

__kernel void unary_forward(int op, __global const float* x, int xo, __global float* y, int yo, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    float v = x[xo + i], r;
    switch (op) {
        case OP_RELU:    r = v > 0.0f ? v : (isnan(v) ? v : 0.0f); break;
        case OP_SIGMOID: r = sigmoidf(v); break;
        case OP_TANH:    r = tanh(v); break;
        case OP_NEGATE:  r = -v; break;
        case OP_EXP:     r = exp(v); break;
        case OP_SQUARE:  r = v * v; break;
        // log(1 + e^x) as max(x, 0) + log1p(e^-|x|): no overflow for large x, no loss for small values.
        case OP_SOFTPLUS: r = fmax(v, 0.0f) + log1p(exp(-fabs(v))); break;
        case OP_SQRT:    r = sqrt_rn(v); break;
        case OP_LOG:     r = log(v); break;
        default:         r = NAN; break;
    }
    y[yo + i] = r;
}

// dx = dy * op'(.): RELU, SQUARE, SOFTPLUS and LOG read the forward input x, SIGMOID, TANH, EXP and
// SQRT the output y (UnaryOp.derivativeReadsInput / derivativeReadsOutput).
__kernel void unary_backward(int op, __global const float* x, int xo, __global const float* y, int yo,
                             __global const float* dy, int dyo, __global float* dx, int dxo, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    float g = dy[dyo + i], r;
    switch (op) {
        case OP_RELU:    r = x[xo + i] > 0.0f ? g : 0.0f; break;
        case OP_SIGMOID: { float v = y[yo + i]; r = g * v * (1.0f - v); break; }
        case OP_TANH:    { float v = y[yo + i]; r = g * (1.0f - v * v); break; }
        case OP_NEGATE:  r = -g; break;
        case OP_EXP:     r = g * y[yo + i]; break;
        case OP_SQUARE:  r = 2.0f * x[xo + i] * g; break;
        case OP_SOFTPLUS: r = g * sigmoidf(x[xo + i]); break;
        case OP_SQRT:    r = div_rn(g, 2.0f * y[yo + i]); break;   // d sqrt(x) = dx / (2 sqrt(x))
        case OP_LOG:     r = div_rn(g, x[xo + i]); break;          // d log(x) = dx / x
        default:         r = NAN; break;
    }
    dx[dxo + i] = r;
}

__kernel void binary_map(int op, __global const float* a, int ao, __global const float* b, int bo,
                         __global float* out, int oo, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    out[oo + i] = apply_binary(op, a[ao + i], b[bo + i]);
}

// y = scale * x + shift on slices, rounded as Java rounds it: the product, then the sum (no fused
// multiply-add, which the compiler may otherwise contract the expression into).
__kernel void affine(__global const float* x, int xo, float scale, float shift, __global float* y, int yo, int n) {
#pragma OPENCL FP_CONTRACT OFF
    int i = get_global_id(0);
    if (i >= n) return;
    y[yo + i] = scale * x[xo + i] + shift;
}

// out[o, c, i] = x[o, c, i] op v[c] over n = outer * channels * inner elements.
__kernel void channel_broadcast(int op, __global const float* x, __global const float* v, __global float* out,
                                int channels, int inner, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    out[i] = apply_binary(op, x[i], v[(i / inner) % channels]);
}

// y = alpha * x + beta * y; y is not read when beta == 0 (it may hold NaN).
__kernel void axpby(float alpha, __global const float* x, float beta, __global float* y, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    y[i] = beta == 0.0f ? alpha * x[i] : alpha * x[i] + beta * y[i];
}

// mask = uniform(seed, i) >= p ? scale : 0 with scale = 1/(1-p) (0 when p == 1); y = x * mask.
__kernel void dropout_forward(__global const float* x, __global float* mask, __global float* y,
                              float p, float scale, ulong seed, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    float m = counter_uniform(seed, (ulong) i) >= p ? scale : 0.0f;
    mask[i] = m;
    y[i] = x[i] * m;
}

// out[i] = counter_uniform(seed, first + i): lets tests check the port against CounterRandom.
__kernel void counter_uniform_values(ulong seed, ulong first, __global float* out, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    out[i] = counter_uniform(seed, first + (ulong) i);
}
