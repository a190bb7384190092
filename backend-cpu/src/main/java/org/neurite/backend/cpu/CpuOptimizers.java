package org.neurite.backend.cpu;

/**
 * Fused, in-place optimiser steps with PyTorch's semantics (L2 weight decay added to the
 * gradient, dampening 0), split over contiguous element ranges. Each element is updated
 * independently, so results never depend on the thread count. Each step is a reusable
 * {@link CpuThreads.RangeTask} holding its arguments in fields, so a call allocates nothing.
 */
final class CpuOptimizers {
    private final CpuThreads threads;
    private final SgdLoop sgdLoop = new SgdLoop();
    private final AdamLoop adamLoop = new AdamLoop();

    CpuOptimizers(CpuThreads threads) {
        this.threads = threads;
    }

    private int parts(int n) {
        return n < CpuElementwise.PARALLEL_MIN ? 1 : threads.size();
    }

    /**
     * g = grad + wd*param; v = momentum*v + g; param -= lr * (nesterov ? g + momentum*v : v).
     * With momentum 0 this is plain SGD and {@code velocity} may be null.
     */
    void sgd(float[] param, float[] grad, float[] velocity, float lr, float momentum, float weightDecay, boolean nesterov, int n) {
        sgdLoop.execute(param, grad, velocity, lr, momentum, weightDecay, nesterov, n);
    }

    /**
     * Adam, step t counted from 1: m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
     * param -= (lr / (1-b1^t)) * m / (sqrt(v) / sqrt(1-b2^t) + eps), the bias corrections
     * computed in double as PyTorch does.
     */
    void adam(float[] param, float[] grad, float[] m, float[] v, float lr, float beta1, float beta2,
              float eps, float weightDecay, int step, int n) {
        adamLoop.execute(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step, n);
    }

    private final class SgdLoop implements CpuThreads.RangeTask {
        private float[] param, grad, velocity;
        private float lr, momentum, weightDecay;
        private boolean nesterov;

        synchronized void execute(float[] param, float[] grad, float[] velocity, float lr, float momentum, float weightDecay,
                                  boolean nesterov, int n) {
            this.param = param;
            this.grad = grad;
            this.velocity = velocity;
            this.lr = lr;
            this.momentum = momentum;
            this.weightDecay = weightDecay;
            this.nesterov = nesterov;
            try {
                threads.run(n, parts(n), this);
            } finally {
                this.param = this.grad = this.velocity = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] param = this.param, grad = this.grad, velocity = this.velocity;
            float lr = this.lr, momentum = this.momentum, weightDecay = this.weightDecay;
            for (int i = begin; i < end; i++) {
                float g = grad[i] + weightDecay * param[i];
                if (momentum != 0f) {
                    float v = momentum * velocity[i] + g;
                    velocity[i] = v;
                    g = nesterov ? g + momentum * v : v;
                }
                param[i] -= lr * g;
            }
        }
    }

    private final class AdamLoop implements CpuThreads.RangeTask {
        private float[] param, grad, m, v;
        private float beta1, beta2, eps, weightDecay, stepSize, correction2Sqrt;

        synchronized void execute(float[] param, float[] grad, float[] m, float[] v, float lr, float beta1, float beta2,
                                  float eps, float weightDecay, int step, int n) {
            this.param = param;
            this.grad = grad;
            this.m = m;
            this.v = v;
            this.beta1 = beta1;
            this.beta2 = beta2;
            this.eps = eps;
            this.weightDecay = weightDecay;
            this.stepSize = (float) (lr / (1.0 - Math.pow(beta1, step)));
            this.correction2Sqrt = (float) Math.sqrt(1.0 - Math.pow(beta2, step));
            try {
                threads.run(n, parts(n), this);
            } finally {
                this.param = this.grad = this.m = this.v = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] param = this.param, grad = this.grad, m = this.m, v = this.v;
            float beta1 = this.beta1, beta2 = this.beta2, eps = this.eps, weightDecay = this.weightDecay;
            float stepSize = this.stepSize, correction2Sqrt = this.correction2Sqrt;
            for (int i = begin; i < end; i++) {
                float g = grad[i] + weightDecay * param[i];
                float mi = beta1 * m[i] + (1f - beta1) * g;
                float vi = beta2 * v[i] + (1f - beta2) * g * g;
                m[i] = mi;
                v[i] = vi;
                param[i] -= stepSize * (mi / ((float) Math.sqrt(vi) / correction2Sqrt + eps));
            }
        }
    }
}
