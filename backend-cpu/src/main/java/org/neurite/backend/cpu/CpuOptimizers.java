package org.neurite.backend.cpu;

/**
 * Fused, in-place optimiser steps with PyTorch's semantics (L2 weight decay added to the
 * gradient, dampening 0), split over contiguous element ranges. Each element is updated
 * independently, so results never depend on the thread count.
 */
final class CpuOptimizers {
    private final CpuThreads threads;

    CpuOptimizers(CpuThreads threads) {
        this.threads = threads;
    }

    /**
     * g = grad + wd*param; v = momentum*v + g; param -= lr * (nesterov ? g + momentum*v : v).
     * With momentum 0 this is plain SGD and {@code velocity} may be null.
     */
    void sgd(float[] param, float[] grad, float[] velocity, float lr, float momentum, float weightDecay, boolean nesterov, int n) {
        threads.run(n, n < CpuElementwise.PARALLEL_MIN ? 1 : threads.size(), (worker, begin, end) -> {
            for (int i = begin; i < end; i++) {
                float g = grad[i] + weightDecay * param[i];
                if (momentum != 0f) {
                    float v = momentum * velocity[i] + g;
                    velocity[i] = v;
                    g = nesterov ? g + momentum * v : v;
                }
                param[i] -= lr * g;
            }
        });
    }

    /**
     * Adam, step t counted from 1: m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
     * param -= (lr / (1-b1^t)) * m / (sqrt(v) / sqrt(1-b2^t) + eps), the bias corrections
     * computed in double as PyTorch does.
     */
    void adam(float[] param, float[] grad, float[] m, float[] v, float lr, float beta1, float beta2,
              float eps, float weightDecay, int step, int n) {
        float stepSize = (float) (lr / (1.0 - Math.pow(beta1, step)));
        float correction2Sqrt = (float) Math.sqrt(1.0 - Math.pow(beta2, step));
        threads.run(n, n < CpuElementwise.PARALLEL_MIN ? 1 : threads.size(), (worker, begin, end) -> {
            for (int i = begin; i < end; i++) {
                float g = grad[i] + weightDecay * param[i];
                float mi = beta1 * m[i] + (1f - beta1) * g;
                float vi = beta2 * v[i] + (1f - beta2) * g * g;
                m[i] = mi;
                v[i] = vi;
                param[i] -= stepSize * (mi / ((float) Math.sqrt(vi) / correction2Sqrt + eps));
            }
        });
    }
}
