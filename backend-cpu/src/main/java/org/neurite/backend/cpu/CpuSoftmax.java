package org.neurite.backend.cpu;

import org.neurite.backend.OpChecks;

/**
 * Row-wise softmax, its Jacobian-vector product and the fused softmax cross-entropy over
 * x[rows, cols], one row per task. Every row subtracts its maximum before exponentiating, so
 * large logits neither overflow nor lose the small probabilities; row sums are taken in double.
 * The summed loss adds per-row losses in row order, so it does not depend on the thread count.
 * Each op is a reusable {@link CpuThreads.RangeTask} holding its arguments, so a call allocates nothing.
 */
final class CpuSoftmax {
    private static final long PARALLEL_MIN = 1L << 14;

    private final CpuThreads threads;
    private final SoftmaxLoop softmaxLoop = new SoftmaxLoop();
    private final SoftmaxBackwardLoop softmaxBackwardLoop = new SoftmaxBackwardLoop();
    private final CrossEntropyLoop crossEntropyLoop = new CrossEntropyLoop();

    CpuSoftmax(CpuThreads threads) {
        this.threads = threads;
    }

    private int parts(int rows, int cols) {
        return (long) rows * cols < PARALLEL_MIN ? 1 : threads.size();
    }

    /** y = exp(x - max) / sum(exp(x - max)) per row; y may be x. */
    void softmax(float[] x, float[] y, int rows, int cols) {
        softmaxLoop.execute(x, y, rows, cols);
    }

    /** dx = y * (dy - sum(dy * y)) per row; dx may alias dy. */
    void softmaxBackward(float[] y, float[] dy, float[] dx, int rows, int cols) {
        softmaxBackwardLoop.execute(y, dy, dx, rows, cols);
    }

    /**
     * Per row: loss = log(sum(exp(x - max))) + max - x[label], dLogits = (softmax - onehot) *
     * gradScale. Returns the summed loss. dLogits may alias logits (each row is read before it is
     * written). A label that is not a class index is refused (the first such row) before any row is
     * written.
     */
    double crossEntropy(float[] logits, float[] labels, float[] dLogits, int rows, int classes, float gradScale) {
        for (int r = 0; r < rows; r++) {
            float labelValue = labels[r];
            int label = (int) labelValue;
            if (label != labelValue || label < 0 || label >= classes) throw OpChecks.badLabel(labelValue, r, classes);
        }
        return crossEntropyLoop.execute(logits, labels, dLogits, rows, classes, gradScale);
    }

    private static float rowMax(float[] x, int from, int to) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = from; i < to; i++) max = Math.max(max, x[i]);
        return max;
    }

    private final class SoftmaxLoop implements CpuThreads.RangeTask {
        private float[] x, y;
        private int cols;

        synchronized void execute(float[] x, float[] y, int rows, int cols) {
            this.x = x;
            this.y = y;
            this.cols = cols;
            try {
                threads.run(rows, parts(rows, cols), this);
            } finally {
                this.x = this.y = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] x = this.x, y = this.y;
            for (int r = begin; r < end; r++) {
                int from = r * cols, to = from + cols;
                float max = rowMax(x, from, to);
                double sum = 0;
                for (int i = from; i < to; i++) {
                    float e = (float) Math.exp(x[i] - max);
                    y[i] = e;
                    sum += e;
                }
                float inv = (float) (1.0 / sum);
                for (int i = from; i < to; i++) y[i] *= inv;
            }
        }
    }

    private final class SoftmaxBackwardLoop implements CpuThreads.RangeTask {
        private float[] y, dy, dx;
        private int cols;

        synchronized void execute(float[] y, float[] dy, float[] dx, int rows, int cols) {
            this.y = y;
            this.dy = dy;
            this.dx = dx;
            this.cols = cols;
            try {
                threads.run(rows, parts(rows, cols), this);
            } finally {
                this.y = this.dy = this.dx = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] y = this.y, dy = this.dy, dx = this.dx;
            for (int r = begin; r < end; r++) {
                int from = r * cols, to = from + cols;
                double dot = 0;
                for (int i = from; i < to; i++) dot += (double) dy[i] * y[i];
                float d = (float) dot;
                for (int i = from; i < to; i++) dx[i] = y[i] * (dy[i] - d);
            }
        }
    }

    private final class CrossEntropyLoop implements CpuThreads.RangeTask {
        private double[] rowLoss = new double[0]; // per-row losses, grown on demand
        private float[] logits, labels, dLogits;
        private int classes;
        private float gradScale;

        synchronized double execute(float[] logits, float[] labels, float[] dLogits, int rows, int classes, float gradScale) {
            if (rowLoss.length < rows) rowLoss = new double[rows];
            this.logits = logits;
            this.labels = labels;
            this.dLogits = dLogits;
            this.classes = classes;
            this.gradScale = gradScale;
            try {
                threads.run(rows, parts(rows, classes), this);
            } finally {
                this.logits = this.labels = this.dLogits = null;
            }
            double total = 0;
            for (int r = 0; r < rows; r++) total += rowLoss[r];
            return total;
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] logits = this.logits, dLogits = this.dLogits;
            for (int r = begin; r < end; r++) {
                float labelValue = labels[r];
                int label = (int) labelValue;
                int from = r * classes, to = from + classes;
                float max = rowMax(logits, from, to);
                double sum = 0;
                for (int i = from; i < to; i++) sum += Math.exp(logits[i] - max);
                rowLoss[r] = Math.log(sum) + max - logits[from + label];
                float inv = (float) (1.0 / sum);
                for (int i = from; i < to; i++) dLogits[i] = (float) Math.exp(logits[i] - max) * inv * gradScale;
                dLogits[from + label] -= gradScale;
            }
        }
    }
}
