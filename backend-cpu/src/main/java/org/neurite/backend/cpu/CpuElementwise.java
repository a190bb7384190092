package org.neurite.backend.cpu;

import java.util.Arrays;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.CounterRandom;
import org.neurite.backend.UnaryOp;

/**
 * Element-wise ops, per-channel broadcasts and reductions over flat float arrays (element-wise
 * ops on slices given by offsets, so one time step of a sequence is one call). Maps are split
 * into contiguous element ranges (one per worker; below {@link #PARALLEL_MIN} elements they run
 * on the caller), with the operator switch hoisted out of the loops so each loop body is one
 * simple expression. Reductions are deterministic for any thread count: {@link #sumOfSquares}
 * sums fixed {@link #CHUNK}-sized partials in index order (each chunk in
 * 16 lane partials, see {@link #sumOfSquares(float[], int, int)}), {@link #channelSum} gives each channel
 * to one task that adds in (outer, inner) order, both in double; {@link #channelMax} gives each
 * channel to one task too (a maximum does not depend on the order anyway, NaN included).
 *
 * <p>Each op is a reusable {@link CpuThreads.RangeTask} whose arguments live in its fields
 * (set and cleared around the parallel region, under the task's own monitor), so a call
 * allocates nothing.
 */
final class CpuElementwise {
    static final int PARALLEL_MIN = 1 << 15;
    static final int CHUNK = 1 << 14;

    private final CpuThreads threads;
    private final CpuKernels[] kernels; // affine's, channelMax's, ReLU backward's and the row bias's loops, per worker
    private final UnaryLoop unaryLoop = new UnaryLoop();
    private final UnaryBackwardLoop unaryBackwardLoop = new UnaryBackwardLoop();
    private final BinaryLoop binaryLoop = new BinaryLoop();
    private final AffineLoop affineLoop = new AffineLoop();
    private final ChannelBroadcastLoop channelBroadcastLoop = new ChannelBroadcastLoop();
    private final ChannelSumLoop channelSumLoop = new ChannelSumLoop();
    private final ChannelMaxLoop channelMaxLoop = new ChannelMaxLoop();
    private final AxpbyLoop axpbyLoop = new AxpbyLoop();
    private final SumOfSquaresLoop sumOfSquaresLoop = new SumOfSquaresLoop();
    private final DropoutLoop dropoutLoop = new DropoutLoop();

    CpuElementwise(CpuThreads threads, CpuKernels.Path path) {
        this.threads = threads;
        this.kernels = path.perWorker(threads.size());
    }

    private int parts(long elements) {
        return elements < PARALLEL_MIN ? 1 : threads.size();
    }

    /** log(1 + e^x) in double, rounded once; the max/log1p form never overflows and keeps e^x for x << 0. */
    static float softplus(float x) {
        return (float) (Math.max(x, 0.0) + Math.log1p(Math.exp(-Math.abs((double) x))));
    }

    /** The logistic function as every CPU op computes it (in double, rounded once). */
    static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    /** y[yo + i] = op(x[xo + i]) for i in [0, n); the ranges may coincide (in place) but not partly overlap. */
    void unary(UnaryOp op, float[] x, int xo, float[] y, int yo, int n) {
        unaryLoop.execute(op, x, xo, y, yo, n);
    }

    /**
     * dx = dy * op'(.) over n elements from the given offsets, reading x or y as {@link UnaryOp}
     * says (the other may be null); dx may be dy's range.
     */
    void unaryBackward(UnaryOp op, float[] x, int xo, float[] y, int yo, float[] dy, int dyo, float[] dx, int dxo, int n) {
        unaryBackwardLoop.execute(op, x, xo, y, yo, dy, dyo, dx, dxo, n);
    }

    /** out[oo + i] = a[ao + i] op b[bo + i] over n elements; out's range may coincide with a's or b's. */
    void binary(BinaryOp op, float[] a, int ao, float[] b, int bo, float[] out, int oo, int n) {
        binaryLoop.execute(op, a, ao, b, bo, out, oo, n, false);
    }

    /**
     * out[oo + i] = max(a[ao + i] + b[bo + i], 0) over n elements in one pass: the bits of the sum
     * then the relu op (the sum rounded to float, then {@code Math.max(., 0f)}, as the relu op
     * computes it); out's range may coincide with a's or b's.
     */
    void addRelu(float[] a, int ao, float[] b, int bo, float[] out, int oo, int n) {
        binaryLoop.execute(BinaryOp.ADD, a, ao, b, bo, out, oo, n, true);
    }

    /**
     * y[yo + i] = scale * x[xo + i] + shift over n elements, a float multiply then a float add
     * (never fused, so the vector and scalar lanes round alike); the ranges may coincide.
     */
    void affine(float[] x, int xo, float scale, float shift, float[] y, int yo, int n) {
        affineLoop.execute(x, xo, scale, shift, y, yo, n);
    }

    /** out[o, c, i] = x[o, c, i] op v[c]; one task per (o, c) row of {@code inner} elements. */
    void channelBroadcast(BinaryOp op, float[] x, float[] v, float[] out, int outer, int channels, int inner) {
        channelBroadcastLoop.execute(op, x, v, out, outer, channels, inner);
    }

    /** out[c] = beta*out[c] + sum over (o, i) of x[o, c, i]; out is not read when beta == 0. */
    void channelSum(float[] x, float[] out, int outer, int channels, int inner, float beta) {
        channelSumLoop.execute(x, out, outer, channels, inner, beta);
    }

    /** out[c] = max over (o, i) of x[o, c, i] (outer * inner >= 1); NaN if any of them is NaN, as {@link Math#max}. */
    void channelMax(float[] x, float[] out, int outer, int channels, int inner) {
        channelMaxLoop.execute(x, out, outer, channels, inner);
    }

    /** y = alpha*x + beta*y; y is not read when beta == 0. */
    void axpby(float alpha, float[] x, float beta, float[] y, int n) {
        axpbyLoop.execute(alpha, x, beta, y, n);
    }

    /** Sum of x[i]^2 in double: fixed-size chunk partials (see {@link #sumOfSquares(float[], int, int)}) added in index order. */
    double sumOfSquares(float[] x, int n) {
        return sumOfSquaresLoop.execute(x, n);
    }

    /** mask[i] = keep(i) ? 1/(1-p) : 0 with keep(i) = uniform(seed, i) >= p; y = x * mask (y may be x). */
    void dropout(float[] x, float[] mask, float[] y, float p, long seed, int n) {
        dropoutLoop.execute(x, mask, y, p, seed, n);
    }

    private final class UnaryLoop implements CpuThreads.RangeTask {
        private UnaryOp op;
        private float[] x, y;
        private int xo, yo;

        synchronized void execute(UnaryOp op, float[] x, int xo, float[] y, int yo, int n) {
            this.op = op;
            this.x = x;
            this.xo = xo;
            this.y = y;
            this.yo = yo;
            try {
                threads.run(n, parts(n), this);
            } finally {
                this.x = this.y = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] x = this.x, y = this.y;
            int d = yo - xo; // y index = x index + d
            int from = xo + begin, to = xo + end;
            switch (op) {
                case RELU -> { for (int i = from; i < to; i++) y[i + d] = Math.max(x[i], 0f); }
                case SIGMOID -> { for (int i = from; i < to; i++) y[i + d] = sigmoid(x[i]); }
                case TANH -> { for (int i = from; i < to; i++) y[i + d] = (float) Math.tanh(x[i]); }
                case NEGATE -> { for (int i = from; i < to; i++) y[i + d] = -x[i]; }
                case EXP -> { for (int i = from; i < to; i++) y[i + d] = (float) Math.exp(x[i]); }
                case SQUARE -> { for (int i = from; i < to; i++) y[i + d] = x[i] * x[i]; }
                case SOFTPLUS -> { for (int i = from; i < to; i++) y[i + d] = softplus(x[i]); }
                case SQRT -> { for (int i = from; i < to; i++) y[i + d] = (float) Math.sqrt(x[i]); }
                case LOG -> { for (int i = from; i < to; i++) y[i + d] = (float) Math.log(x[i]); }
            }
        }
    }

    private final class UnaryBackwardLoop implements CpuThreads.RangeTask {
        private UnaryOp op;
        private float[] x, y, dy, dx;
        private int xo, yo, dyo, dxo;

        synchronized void execute(UnaryOp op, float[] x, int xo, float[] y, int yo, float[] dy, int dyo, float[] dx, int dxo, int n) {
            this.op = op;
            this.x = x;
            this.xo = xo;
            this.y = y;
            this.yo = yo;
            this.dy = dy;
            this.dyo = dyo;
            this.dx = dx;
            this.dxo = dxo;
            try {
                threads.run(n, parts(n), this);
            } finally {
                this.x = this.y = this.dy = this.dx = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] x = this.x, y = this.y, dy = this.dy, dx = this.dx;
            // Loop over dx indices; the inputs are read at the same position of their own ranges.
            int from = dxo + begin, to = dxo + end;
            int dxToDy = dyo - dxo, dxToX = xo - dxo, dxToY = yo - dxo;
            switch (op) {
                case RELU -> kernels[worker].reluBackward(x, dxToX, dy, dxToDy, dx, from, to);
                case SIGMOID -> {
                    for (int i = from; i < to; i++) {
                        float v = y[i + dxToY];
                        dx[i] = dy[i + dxToDy] * v * (1f - v);
                    }
                }
                case TANH -> {
                    for (int i = from; i < to; i++) {
                        float v = y[i + dxToY];
                        dx[i] = dy[i + dxToDy] * (1f - v * v);
                    }
                }
                case NEGATE -> { for (int i = from; i < to; i++) dx[i] = -dy[i + dxToDy]; }
                case EXP -> { for (int i = from; i < to; i++) dx[i] = dy[i + dxToDy] * y[i + dxToY]; }
                case SQUARE -> { for (int i = from; i < to; i++) dx[i] = 2f * x[i + dxToX] * dy[i + dxToDy]; }
                // d softplus / dx = σ(x)
                case SOFTPLUS -> { for (int i = from; i < to; i++) dx[i] = dy[i + dxToDy] * sigmoid(x[i + dxToX]); }
                // d sqrt(x) / dx = 1 / (2 sqrt(x)) = 1 / (2y)
                case SQRT -> { for (int i = from; i < to; i++) dx[i] = dy[i + dxToDy] / (2f * y[i + dxToY]); }
                // d ln(x) / dx = 1 / x
                case LOG -> { for (int i = from; i < to; i++) dx[i] = dy[i + dxToDy] / x[i + dxToX]; }
            }
        }
    }

    private final class BinaryLoop implements CpuThreads.RangeTask {
        private BinaryOp op;
        private boolean relu; // ADD only: the relu in the same pass
        private float[] a, b, out;
        private int ao, bo, oo;

        synchronized void execute(BinaryOp op, float[] a, int ao, float[] b, int bo, float[] out, int oo, int n, boolean relu) {
            this.op = op;
            this.relu = relu;
            this.a = a;
            this.ao = ao;
            this.b = b;
            this.bo = bo;
            this.out = out;
            this.oo = oo;
            try {
                threads.run(n, parts(n), this);
            } finally {
                this.a = this.b = this.out = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] a = this.a, b = this.b, out = this.out;
            int from = oo + begin, to = oo + end;
            int da = ao - oo, db = bo - oo;
            if (relu) {
                for (int i = from; i < to; i++) out[i] = Math.max(a[i + da] + b[i + db], 0f);
                return;
            }
            switch (op) {
                case ADD -> { for (int i = from; i < to; i++) out[i] = a[i + da] + b[i + db]; }
                case SUB -> { for (int i = from; i < to; i++) out[i] = a[i + da] - b[i + db]; }
                case MUL -> { for (int i = from; i < to; i++) out[i] = a[i + da] * b[i + db]; }
                case DIV -> { for (int i = from; i < to; i++) out[i] = a[i + da] / b[i + db]; }
                case MAX -> { for (int i = from; i < to; i++) out[i] = Math.max(a[i + da], b[i + db]); }
                case MIN -> { for (int i = from; i < to; i++) out[i] = Math.min(a[i + da], b[i + db]); }
            }
        }
    }

    private final class AffineLoop implements CpuThreads.RangeTask {
        private float[] x, y;
        private int xo, yo;
        private float scale, shift;

        synchronized void execute(float[] x, int xo, float scale, float shift, float[] y, int yo, int n) {
            this.x = x;
            this.xo = xo;
            this.scale = scale;
            this.shift = shift;
            this.y = y;
            this.yo = yo;
            try {
                threads.run(n, parts(n), this);
            } finally {
                this.x = this.y = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            kernels[worker].affine(x, xo + begin, xo + end, yo - xo, scale, shift, y);
        }
    }

    private final class ChannelBroadcastLoop implements CpuThreads.RangeTask {
        private BinaryOp op;
        private float[] x, v, out;
        private int channels, inner;

        synchronized void execute(BinaryOp op, float[] x, float[] v, float[] out, int outer, int channels, int inner) {
            this.op = op;
            this.x = x;
            this.v = v;
            this.out = out;
            this.channels = channels;
            this.inner = inner;
            int rows = outer * channels;
            try {
                threads.run(rows, parts((long) rows * inner), this);
            } finally {
                this.x = this.v = this.out = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] x = this.x, out = this.out;
            if (inner == 1 && op == BinaryOp.ADD) {
                addToRows(kernels[worker], x, v, out, begin, end);
                return;
            }
            for (int r = begin; r < end; r++) {
                float s = v[r % channels];
                int from = r * inner, to = from + inner;
                switch (op) {
                    case ADD -> { for (int i = from; i < to; i++) out[i] = x[i] + s; }
                    case SUB -> { for (int i = from; i < to; i++) out[i] = x[i] - s; }
                    case MUL -> { for (int i = from; i < to; i++) out[i] = x[i] * s; }
                    case DIV -> { for (int i = from; i < to; i++) out[i] = x[i] / s; }
                    case MAX -> { for (int i = from; i < to; i++) out[i] = Math.max(x[i], s); }
                    case MIN -> { for (int i = from; i < to; i++) out[i] = Math.min(x[i], s); }
                }
            }
        }

        /**
         * The bias of a dense or recurrent layer, out[o, c] = x[o, c] + v[c] for the elements
         * [begin, end) of [outer, channels]: by runs of whole rows, each one vector loop
         * ({@link CpuKernels#addRun}). Element by element, with a division and a switch per float,
         * it took 3 ns each (12 ms on the row LSTM's [7168, 512] gates); as a plain loop per run,
         * which C2 did not vectorise, 0.29 ms on [1792, 512], by vectors 0.08 ms (one thread, in
         * cache); the sums are the same.
         */
        private void addToRows(CpuKernels kernels, float[] x, float[] v, float[] out, int begin, int end) {
            int channels = this.channels;
            for (int r = begin; r < end; ) {
                int c0 = r % channels, n = Math.min(channels - c0, end - r);
                kernels.addRun(x, r, v, c0, out, r, n);
                r += n;
            }
        }
    }

    private final class ChannelSumLoop implements CpuThreads.RangeTask {
        private float[] x, out;
        private int outer, channels, inner;
        private float beta;

        synchronized void execute(float[] x, float[] out, int outer, int channels, int inner, float beta) {
            this.x = x;
            this.out = out;
            this.outer = outer;
            this.channels = channels;
            this.inner = inner;
            this.beta = beta;
            if (rowSums == null) rowSums = new double[threads.size()][0];
            try {
                threads.run(channels, parts((long) outer * channels * inner), this);
            } finally {
                this.x = this.out = null;
            }
        }

        /** Per worker, grow-only (created on first use, after the pool exists): the running sums of its channels when inner == 1. */
        private double[][] rowSums;

        @Override
        public void run(int worker, int begin, int end) {
            float[] x = this.x;
            if (inner == 1) {
                sumColumns(worker, x, begin, end);
                return;
            }
            for (int c = begin; c < end; c++) {
                double sum = 0;
                for (int o = 0; o < outer; o++) {
                    int from = (o * channels + c) * inner;
                    for (int i = from; i < from + inner; i++) sum += x[i];
                }
                out[c] = beta == 0f ? (float) sum : (float) (beta * (double) out[c] + sum);
            }
        }

        /**
         * A bias gradient, the column sums of x [outer, channels] for channels [begin, end): row
         * by row into this worker's running sums, each channel still adding its rows in order in
         * double (the same bits as a column walk). A column walk strides a whole row per float
         * and took 2 ms on the row LSTM's [1792, 512] gate gradients; each row is added by
         * vectors widened to double ({@link CpuKernels#addToSums}: 0.28 ms as a plain loop, 0.10 ms
         * so, one thread, in cache).
         */
        private void sumColumns(int worker, float[] x, int begin, int end) {
            int n = end - begin, channels = this.channels;
            if (rowSums[worker].length < n) rowSums[worker] = new double[n];
            double[] sums = rowSums[worker];
            Arrays.fill(sums, 0, n, 0.0);
            CpuKernels kernels = CpuElementwise.this.kernels[worker];
            for (int o = 0, row = begin; o < outer; o++, row += channels) kernels.addToSums(x, row, sums, n);
            for (int j = 0; j < n; j++) {
                int c = begin + j;
                out[c] = beta == 0f ? (float) sums[j] : (float) (beta * (double) out[c] + sums[j]);
            }
        }
    }

    private final class ChannelMaxLoop implements CpuThreads.RangeTask {
        private float[] x, out;
        private int outer, channels, inner;

        synchronized void execute(float[] x, float[] out, int outer, int channels, int inner) {
            this.x = x;
            this.out = out;
            this.outer = outer;
            this.channels = channels;
            this.inner = inner;
            try {
                threads.run(channels, parts((long) outer * channels * inner), this);
            } finally {
                this.x = this.out = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] x = this.x;
            CpuKernels kernels = CpuElementwise.this.kernels[worker];
            for (int c = begin; c < end; c++) {
                // One row at a time: the kernel's vector accumulator must not be carried through these loops (see CpuVectorKernels.max).
                float max = Float.NEGATIVE_INFINITY;
                for (int o = 0; o < outer; o++) max = Math.max(max, kernels.max(x, (o * channels + c) * inner, inner));
                out[c] = max;
            }
        }
    }

    private final class AxpbyLoop implements CpuThreads.RangeTask {
        private float alpha, beta;
        private float[] x, y;

        synchronized void execute(float alpha, float[] x, float beta, float[] y, int n) {
            this.alpha = alpha;
            this.x = x;
            this.beta = beta;
            this.y = y;
            try {
                threads.run(n, parts(n), this);
            } finally {
                this.x = this.y = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] x = this.x, y = this.y;
            float alpha = this.alpha, beta = this.beta;
            if (beta == 0f) for (int i = begin; i < end; i++) y[i] = alpha * x[i];
            else for (int i = begin; i < end; i++) y[i] = alpha * x[i] + beta * y[i];
        }
    }

    private final class SumOfSquaresLoop implements CpuThreads.RangeTask {
        private double[] partials = new double[0]; // one per CHUNK, grown on demand
        private float[] x;
        private int n;

        synchronized double execute(float[] x, int n) {
            int chunks = CpuGemm.ceilDiv(n, CHUNK);
            if (partials.length < chunks) partials = new double[chunks];
            this.x = x;
            this.n = n;
            try {
                threads.run(chunks, parts(n), this);
            } finally {
                this.x = null;
            }
            double total = 0;
            for (int ch = 0; ch < chunks; ch++) total += partials[ch];
            return total;
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] x = this.x;
            for (int ch = begin; ch < end; ch++) partials[ch] = sumOfSquares(x, ch * CHUNK, Math.min(n, ch * CHUNK + CHUNK));
        }
    }

    /**
     * The sum of {@code x[i]^2} over [from, to) in double: 16 partial sums from 0, partial l
     * adding the squares of x[from + l], x[from + l + 16], ... over the whole groups of 16 in
     * index order; then the partials added in order l = 0..15, then the squares of the last
     * {@code (to - from) % 16} elements in index order. A float's square is exact in double, so
     * only these adds round, the same on every path and vector width. One chain of adds (the
     * loop this replaced) waits for the previous add at every element; 16 chains in registers
     * ran 3x faster. Vector API code was about 3x faster again, but widening floats to doubles
     * (convertShape) boxed its vectors once another kernel in the JVM had converted or
     * reinterpreted a vector (the LSTM cell's e^x; CpuAllocationTest saw 276 KB a step).
     */
    static double sumOfSquares(float[] x, int from, int to) {
        double p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0;
        double p8 = 0, p9 = 0, p10 = 0, p11 = 0, p12 = 0, p13 = 0, p14 = 0, p15 = 0;
        int i = from;
        for (int end = from + (to - from) / 16 * 16; i < end; i += 16) {
            double v;
            v = x[i]; p0 += v * v;
            v = x[i + 1]; p1 += v * v;
            v = x[i + 2]; p2 += v * v;
            v = x[i + 3]; p3 += v * v;
            v = x[i + 4]; p4 += v * v;
            v = x[i + 5]; p5 += v * v;
            v = x[i + 6]; p6 += v * v;
            v = x[i + 7]; p7 += v * v;
            v = x[i + 8]; p8 += v * v;
            v = x[i + 9]; p9 += v * v;
            v = x[i + 10]; p10 += v * v;
            v = x[i + 11]; p11 += v * v;
            v = x[i + 12]; p12 += v * v;
            v = x[i + 13]; p13 += v * v;
            v = x[i + 14]; p14 += v * v;
            v = x[i + 15]; p15 += v * v;
        }
        double sum = p0 + p1 + p2 + p3 + p4 + p5 + p6 + p7 + p8 + p9 + p10 + p11 + p12 + p13 + p14 + p15;
        for (; i < to; i++) sum += (double) x[i] * x[i];
        return sum;
    }

    private final class DropoutLoop implements CpuThreads.RangeTask {
        private float[] x, mask, y;
        private float p, scale;
        private long seed;

        synchronized void execute(float[] x, float[] mask, float[] y, float p, long seed, int n) {
            this.x = x;
            this.mask = mask;
            this.y = y;
            this.p = p;
            this.scale = p < 1f ? 1f / (1f - p) : 0f;
            this.seed = seed;
            try {
                threads.run(n, parts(n), this);
            } finally {
                this.x = this.mask = this.y = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] x = this.x, mask = this.mask, y = this.y;
            for (int i = begin; i < end; i++) {
                float m = CounterRandom.uniform(seed, i) >= p ? scale : 0f;
                mask[i] = m;
                y[i] = x[i] * m;
            }
        }
    }
}
