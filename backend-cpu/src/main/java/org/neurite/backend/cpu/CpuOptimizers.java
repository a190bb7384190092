package org.neurite.backend.cpu;

/**
 * Fused, in-place optimiser steps with PyTorch's semantics (SGD, Adam and RMSprop add L2 weight
 * decay to the gradient, AdamW decays the weights apart from it; dampening 0), split over
 * contiguous element ranges. Each element is updated
 * independently, so results never depend on the thread count. Every step multiplies the gradient
 * by {@code gradScale} first (a training step's clip factor; multiplying by 1 changes no bit). Each step is a reusable
 * {@link CpuThreads.RangeTask} holding its arguments in fields, so a call allocates nothing.
 */
final class CpuOptimizers {
    private final CpuThreads threads;
    private final SgdLoop sgdLoop = new SgdLoop();
    private final AdamLoop adamLoop = new AdamLoop();
    private final RmspropLoop rmspropLoop = new RmspropLoop();

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
    void sgd(float[] param, float[] grad, float[] velocity, float lr, float momentum, float weightDecay, boolean nesterov,
             float gradScale, int n) {
        sgdLoop.execute(param, grad, velocity, lr, momentum, weightDecay, nesterov, gradScale, n);
    }

    /**
     * Adam, step t counted from 1: m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
     * param -= (lr / (1-b1^t)) * m / (sqrt(v) / sqrt(1-b2^t) + eps), the bias corrections
     * computed in double as PyTorch does.
     */
    void adam(float[] param, float[] grad, float[] m, float[] v, float lr, float beta1, float beta2,
              float eps, float weightDecay, int step, float gradScale, int n) {
        adamLoop.execute(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, 1f, step, gradScale, n);
    }

    /**
     * AdamW, step t counted from 1: param *= 1 - lr*wd (the factor computed in double), then the
     * Adam step above on the gradient alone.
     */
    void adamw(float[] param, float[] grad, float[] m, float[] v, float lr, float beta1, float beta2,
               float eps, float weightDecay, int step, float gradScale, int n) {
        float decay = (float) (1.0 - (double) lr * weightDecay);
        adamLoop.execute(param, grad, m, v, lr, beta1, beta2, eps, 0f, decay, step, gradScale, n);
    }

    /**
     * RMSprop: g = grad + wd*param; sq = alpha*sq + (1-alpha)*g^2; centered: ga = alpha*ga +
     * (1-alpha)*g and d = sqrt(sq - ga^2) + eps, else d = sqrt(sq) + eps; with momentum
     * buf = momentum*buf + g/d and param -= lr*buf, else param -= lr*g/d. {@code momentumBuffer}
     * is null when momentum is 0, {@code gradAverage} when not centered.
     */
    void rmsprop(float[] param, float[] grad, float[] squareAverage, float[] momentumBuffer, float[] gradAverage, float lr,
                 float alpha, float eps, float weightDecay, float momentum, boolean centered, float gradScale, int n) {
        rmspropLoop.execute(param, grad, squareAverage, momentumBuffer, gradAverage, lr, alpha, eps, weightDecay, momentum, centered,
                gradScale, n);
    }

    private final class SgdLoop implements CpuThreads.RangeTask {
        private float[] param, grad, velocity;
        private float lr, momentum, weightDecay, gradScale;
        private boolean nesterov;

        synchronized void execute(float[] param, float[] grad, float[] velocity, float lr, float momentum, float weightDecay,
                                  boolean nesterov, float gradScale, int n) {
            this.gradScale = gradScale;
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
            float lr = this.lr, momentum = this.momentum, weightDecay = this.weightDecay, gradScale = this.gradScale;
            // One loop per form, each without a branch, so that C2 vectorises it; the float
            // operations are those of the per-element definition, in its order (same bits).
            if (momentum == 0f) {
                for (int i = begin; i < end; i++) param[i] -= lr * (grad[i] * gradScale + weightDecay * param[i]);
            } else if (!nesterov) {
                for (int i = begin; i < end; i++) {
                    float v = momentum * velocity[i] + (grad[i] * gradScale + weightDecay * param[i]);
                    velocity[i] = v;
                    param[i] -= lr * v;
                }
            } else {
                for (int i = begin; i < end; i++) {
                    float g = grad[i] * gradScale + weightDecay * param[i];
                    float v = momentum * velocity[i] + g;
                    velocity[i] = v;
                    param[i] -= lr * (g + momentum * v);
                }
            }
        }
    }

    /** Adam, and AdamW when {@code decay} (the weights' factor before the step) is not 1. */
    private final class AdamLoop implements CpuThreads.RangeTask {
        private float[] param, grad, m, v;
        private float beta1, beta2, eps, weightDecay, decay, stepSize, correction2Sqrt, gradScale;

        synchronized void execute(float[] param, float[] grad, float[] m, float[] v, float lr, float beta1, float beta2,
                                  float eps, float weightDecay, float decay, int step, float gradScale, int n) {
            this.gradScale = gradScale;
            this.param = param;
            this.grad = grad;
            this.m = m;
            this.v = v;
            this.beta1 = beta1;
            this.beta2 = beta2;
            this.eps = eps;
            this.weightDecay = weightDecay;
            this.decay = decay;
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
            float beta1 = this.beta1, beta2 = this.beta2, eps = this.eps, weightDecay = this.weightDecay, decay = this.decay;
            float stepSize = this.stepSize, correction2Sqrt = this.correction2Sqrt, gradScale = this.gradScale;
            for (int i = begin; i < end; i++) {
                float p = param[i] * decay;   // exactly param[i] for Adam (decay 1)
                float g = grad[i] * gradScale + weightDecay * p;
                float mi = beta1 * m[i] + (1f - beta1) * g;
                float vi = beta2 * v[i] + (1f - beta2) * g * g;
                m[i] = mi;
                v[i] = vi;
                param[i] = p - stepSize * (mi / ((float) Math.sqrt(vi) / correction2Sqrt + eps));
            }
        }
    }

    private final class RmspropLoop implements CpuThreads.RangeTask {
        private float[] param, grad, squareAverage, momentumBuffer, gradAverage;
        private float lr, alpha, eps, weightDecay, momentum, gradScale;
        private boolean centered;

        synchronized void execute(float[] param, float[] grad, float[] squareAverage, float[] momentumBuffer, float[] gradAverage,
                                  float lr, float alpha, float eps, float weightDecay, float momentum, boolean centered, float gradScale,
                                  int n) {
            this.gradScale = gradScale;
            this.param = param;
            this.grad = grad;
            this.squareAverage = squareAverage;
            this.momentumBuffer = momentumBuffer;
            this.gradAverage = gradAverage;
            this.lr = lr;
            this.alpha = alpha;
            this.eps = eps;
            this.weightDecay = weightDecay;
            this.momentum = momentum;
            this.centered = centered;
            try {
                threads.run(n, parts(n), this);
            } finally {
                this.param = this.grad = this.squareAverage = this.momentumBuffer = this.gradAverage = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] param = this.param, grad = this.grad, sq = this.squareAverage, buf = this.momentumBuffer, ga = this.gradAverage;
            float lr = this.lr, alpha = this.alpha, eps = this.eps, weightDecay = this.weightDecay, momentum = this.momentum;
            boolean centered = this.centered;
            float gradScale = this.gradScale;
            for (int i = begin; i < end; i++) {
                float g = grad[i] * gradScale + weightDecay * param[i];
                float s = alpha * sq[i] + (1f - alpha) * g * g;
                sq[i] = s;
                float d;
                if (centered) {
                    float a = alpha * ga[i] + (1f - alpha) * g;
                    ga[i] = a;
                    d = (float) Math.sqrt(s - a * a) + eps;
                } else {
                    d = (float) Math.sqrt(s) + eps;
                }
                if (momentum != 0f) {
                    float b = momentum * buf[i] + g / d;
                    buf[i] = b;
                    param[i] -= lr * b;
                } else {
                    param[i] -= lr * (g / d);
                }
            }
        }
    }
}
