// Element-wise maps, one work-item per element: unary ops and their derivatives on slices
// (offsets count floats), binary ops, the sum with an activation after it, the affine map
// scale * x + shift, per-channel broadcasts over x viewed as [outer, channels, inner], axpby,
// inverted dropout with CounterRandom masks, and the counter kernel the tests use to compare
// counter_uniform with the Java implementation.

__kernel void unary_forward(int op, __global const float* x, int xo, __global float* y, int yo, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    y[yo + i] = apply_unary(op, x[xo + i]);
}

// dx = dy * op'(.): RELU, SQUARE, SOFTPLUS and LOG read the forward input x, SIGMOID, TANH, EXP and
// SQRT the output y (UnaryOp.derivativeReadsInput / derivativeReadsOutput).
__kernel void unary_backward(int op, __global const float* x, int xo, __global const float* y, int yo,
                             __global const float* dy, int dyo, __global float* dx, int dxo, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    // Only the tensor the op reads is read (the host passes a placeholder for the other).
    bool readsX = op == OP_RELU || op == OP_SQUARE || op == OP_SOFTPLUS || op == OP_LOG;
    bool readsY = op == OP_SIGMOID || op == OP_TANH || op == OP_EXP || op == OP_SQRT;
    dx[dxo + i] = apply_unary_backward(op, readsX ? x[xo + i] : 0.0f, readsY ? y[yo + i] : 0.0f, dy[dyo + i]);
}

__kernel void binary_map(int op, __global const float* a, int ao, __global const float* b, int bo,
                         __global float* out, int oo, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    out[oo + i] = apply_binary(op, a[ao + i], b[bo + i]);
}

// out = activation(a + b), the forward of an add node with its activation fused (a residual block's
// relu(y + x)): the sum is rounded to a float first, then the activation (act: an OP_* code + 1,
// 0 for none) runs through the apply_unary that unary_forward uses, so each element has the bits
// of binary_map then unary_forward. out may be a or b (each item reads its element before writing).
__kernel void add_activation(int act, __global const float* a, __global const float* b, __global float* out, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    float sum = a[i] + b[i];
    out[i] = act != 0 ? apply_unary(act - 1, sum) : sum;
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
