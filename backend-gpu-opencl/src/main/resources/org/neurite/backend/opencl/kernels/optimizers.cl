// Fused, in-place optimiser steps with PyTorch's semantics (SGD, Adam and RMSprop add L2 weight
// decay to the gradient, AdamW decays the weights apart from it; dampening 0), one work-item per
// parameter element. The bias corrections of Adam and AdamW, and AdamW's decay factor, are
// computed on the host in double, as the CPU backend does, and passed in. Every kernel reads a
// step control (StepControl, control[controlOffset..+2)): nothing changes when its skip flag
// (control[1]) is set, and the gradient is multiplied by its factor (control[0], the clip factor;
// 1 for a plain update, which changes no bit) before anything else.

// g = grad + wd*param; v = momentum*v + g (when momentum != 0); param -= lr * (nesterov ? g + momentum*v : v).
__kernel void sgd_update(__global float* param, __global const float* grad, __global float* velocity,
                         float lr, float momentum, float weightDecay, int nesterov, int n,
                         __global const float* control, int controlOffset) {
    int i = get_global_id(0);
    if (i >= n || control[controlOffset + 1] != 0.0f) return;
    float g = grad[i] * control[controlOffset] + weightDecay * param[i];
    if (momentum != 0.0f) {
        float v = momentum * velocity[i] + g;
        velocity[i] = v;
        g = nesterov ? g + momentum * v : v;
    }
    param[i] -= lr * g;
}

// m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; param -= stepSize * m / (sqrt(v)/correction2Sqrt + eps).
__kernel void adam_update(__global float* param, __global const float* grad, __global float* m, __global float* v,
                          float stepSize, float beta1, float beta2, float eps, float weightDecay, float correction2Sqrt, int n,
                          __global const float* control, int controlOffset) {
    int i = get_global_id(0);
    if (i >= n || control[controlOffset + 1] != 0.0f) return;
    float g = grad[i] * control[controlOffset] + weightDecay * param[i];
    float mi = beta1 * m[i] + (1.0f - beta1) * g;
    float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] -= stepSize * (mi / (sqrt(vi) / correction2Sqrt + eps));
}

// AdamW: param *= decay (1 - lr*wd, from the host); then the Adam step above on the gradient alone.
__kernel void adamw_update(__global float* param, __global const float* grad, __global float* m, __global float* v,
                           float stepSize, float beta1, float beta2, float eps, float decay, float correction2Sqrt, int n,
                           __global const float* control, int controlOffset) {
    int i = get_global_id(0);
    if (i >= n || control[controlOffset + 1] != 0.0f) return;
    float p = param[i] * decay;
    float g = grad[i] * control[controlOffset];
    float mi = beta1 * m[i] + (1.0f - beta1) * g;
    float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = p - stepSize * (mi / (sqrt(vi) / correction2Sqrt + eps));
}

// RMSprop: g = grad + wd*param; sq = alpha*sq + (1-alpha)*g^2; centered: ga = alpha*ga + (1-alpha)*g,
// d = sqrt(sq - ga^2) + eps, else d = sqrt(sq) + eps; momentum != 0: buf = momentum*buf + g/d,
// param -= lr*buf; else param -= lr*g/d. buf and ga are not read unless used.
__kernel void rmsprop_update(__global float* param, __global const float* grad, __global float* sq, __global float* buf,
                             __global float* ga, float lr, float alpha, float eps, float weightDecay, float momentum,
                             int centered, int n, __global const float* control, int controlOffset) {
    int i = get_global_id(0);
    if (i >= n || control[controlOffset + 1] != 0.0f) return;
    float g = grad[i] * control[controlOffset] + weightDecay * param[i];
    float s = alpha * sq[i] + (1.0f - alpha) * g * g;
    sq[i] = s;
    float d;
    if (centered) {
        float a = alpha * ga[i] + (1.0f - alpha) * g;
        ga[i] = a;
        d = sqrt_rn(s - a * a) + eps;
    } else {
        d = sqrt_rn(s) + eps;
    }
    float step = div_rn(g, d);
    if (momentum != 0.0f) {
        float b = momentum * buf[i] + step;
        buf[i] = b;
        param[i] -= lr * b;
    } else {
        param[i] -= lr * step;
    }
}
