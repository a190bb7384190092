package org.neurite.backend.opencl;

/**
 * The optimiser steps, in place, one work-item per parameter ({@code optimizers.cl}, PyTorch
 * semantics): SGD with momentum, Nesterov and L2 weight decay, and Adam, whose bias corrections
 * the host computes once per step in double, as the CPU reference (and PyTorch) do.
 */
final class ClOptimizers {
    private final ClKernels kernels;

    ClOptimizers(ClKernels kernels) {
        this.kernels = kernels;
    }

    /** velocity is null when momentum is 0 (the kernel then does not read it). */
    void sgd(ClTensor param, ClTensor grad, ClTensor velocity, float lr, float momentum, float weightDecay, boolean nesterov) {
        ClTensor v = velocity == null ? param : velocity; // a stand-in the kernel does not read
        kernels.get("sgd_update").map(param.size(), param, grad, v, lr, momentum, weightDecay, nesterov, param.size());
    }

    void adam(ClTensor param, ClTensor grad, ClTensor m, ClTensor v, float lr, float beta1, float beta2,
              float eps, float weightDecay, int step) {
        float stepSize = (float) (lr / (1.0 - Math.pow(beta1, step)));
        float correction2Sqrt = (float) Math.sqrt(1.0 - Math.pow(beta2, step));
        kernels.get("adam_update").map(param.size(), param, grad, m, v, stepSize, beta1, beta2, eps, weightDecay, correction2Sqrt, param.size());
    }
}
