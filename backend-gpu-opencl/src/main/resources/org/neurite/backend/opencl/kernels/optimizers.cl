// Fused, in-place optimiser steps with PyTorch's semantics (L2 weight decay added to the
// gradient, dampening 0), one work-item per parameter element. The bias corrections of Adam are
// computed on the host in double, as the CPU backend does, and passed in.

// g = grad + wd*param; v = momentum*v + g (when momentum != 0); param -= lr * (nesterov ? g + momentum*v : v).
__kernel void sgd_update(__global float* param, __global const float* grad, __global float* velocity,
                         float lr, float momentum, float weightDecay, int nesterov, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    float g = grad[i] + weightDecay * param[i];
    if (momentum != 0.0f) {
        float v = momentum * velocity[i] + g;
        velocity[i] = v;
        g = nesterov ? g + momentum * v : v;
    }
    param[i] -= lr * g;
}

// m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; param -= stepSize * m / (sqrt(v)/correction2Sqrt + eps).
__kernel void adam_update(__global float* param, __global const float* grad, __global float* m, __global float* v,
                          float stepSize, float beta1, float beta2, float eps, float weightDecay, float correction2Sqrt, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    float g = grad[i] + weightDecay * param[i];
    float mi = beta1 * m[i] + (1.0f - beta1) * g;
    float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] -= stepSize * (mi / (sqrt(vi) / correction2Sqrt + eps));
}
