// Swish and mish on an OpenCL device, one work item per element, for ClActivations.
// Swish: y = x * s with s = sigmoid(beta * x); forward keeps s for backward, where
//   dx = dy * (s + beta * x * s * (1 - s))  and  t = dy * x * x * s * (1 - s)  (summed to dbeta).
// Mish: y = x * tanh(softplus(x)); with e = exp(x) and n = e * (e + 2), tanh(softplus(x)) = n / (n + 2)
//   and sigmoid(x) = e / (1 + e); forward keeps dy/dx = t + x * sigmoid(x) * (1 - t * t), so backward
//   is one multiplication. Above x = 20 mish is x (and dy/dx 1) in float, and e * e would overflow.

__kernel void swish_forward(__global const float* x, __global const float* beta, __global float* s,
                            __global float* y, const int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    float si = 1.0f / (1.0f + exp(-beta[0] * x[i]));
    s[i] = si;
    y[i] = x[i] * si;
}

__kernel void swish_backward(__global const float* x, __global const float* beta, __global const float* s,
                             __global const float* dy, __global float* dx, __global float* t, const int n,
                             const int wantDx, const int wantBeta) {
    int i = get_global_id(0);
    if (i >= n) return;
    float si = s[i];
    float g = dy[i] * x[i] * si * (1.0f - si);   // dL/d(beta * x)
    if (wantDx) dx[i] = dy[i] * si + beta[0] * g;
    if (wantBeta) t[i] = g * x[i];
}

__kernel void mish_forward(__global const float* x, __global float* y, __global float* derivative,
                           const int n, const int keepDerivative) {
    int i = get_global_id(0);
    if (i >= n) return;
    float xi = x[i];
    if (xi > 20.0f) {
        y[i] = xi;
        if (keepDerivative) derivative[i] = 1.0f;
        return;
    }
    float e = exp(xi);
    float nn = e * (e + 2.0f);
    float t = nn / (nn + 2.0f);
    y[i] = xi * t;
    if (keepDerivative) derivative[i] = t + xi * (e / (1.0f + e)) * (1.0f - t * t);
}

__kernel void mish_backward(__global const float* dy, __global const float* derivative, __global float* dx, const int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    dx[i] = dy[i] * derivative[i];
}
