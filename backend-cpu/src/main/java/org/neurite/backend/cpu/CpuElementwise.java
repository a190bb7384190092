package org.neurite.backend.cpu;

import org.neurite.backend.BinaryOp;
import org.neurite.backend.CounterRandom;
import org.neurite.backend.UnaryOp;

/**
 * Element-wise ops, per-channel broadcasts and reductions over flat float arrays (element-wise
 * ops on slices given by offsets, so one time step of a sequence is one call). Maps are split
 * into contiguous element ranges (one per worker; below {@link #PARALLEL_MIN} elements they run
 * on the caller), with the operator switch hoisted out of the loops so each loop body is one
 * simple expression. Reductions are deterministic for any thread count: {@link #sumOfSquares}
 * sums fixed {@link #CHUNK}-sized partials in index order, {@link #channelSum} gives each channel
 * to one task that adds in (outer, inner) order, both in double.
 */
final class CpuElementwise {
    static final int PARALLEL_MIN = 1 << 15;
    static final int CHUNK = 1 << 14;

    private final CpuThreads threads;
    private double[] partials = new double[0]; // one per CHUNK of sumOfSquares, grown on demand

    CpuElementwise(CpuThreads threads) {
        this.threads = threads;
    }

    private int parts(long elements) {
        return elements < PARALLEL_MIN ? 1 : threads.size();
    }

    /** y[yo + i] = op(x[xo + i]) for i in [0, n); the ranges may coincide (in place) but not partly overlap. */
    void unary(UnaryOp op, float[] x, int xo, float[] y, int yo, int n) {
        threads.run(n, parts(n), (worker, begin, end) -> {
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
            }
        });
    }

    /** log(1 + e^x) in double, rounded once; the max/log1p form never overflows and keeps e^x for x << 0. */
    static float softplus(float x) {
        return (float) (Math.max(x, 0.0) + Math.log1p(Math.exp(-Math.abs((double) x))));
    }

    /** The logistic function as every CPU op computes it (in double, rounded once). */
    static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    /**
     * dx = dy * op'(.) over n elements from the given offsets, reading x or y as {@link UnaryOp}
     * says (the other may be null); dx may be dy's range.
     */
    void unaryBackward(UnaryOp op, float[] x, int xo, float[] y, int yo, float[] dy, int dyo, float[] dx, int dxo, int n) {
        threads.run(n, parts(n), (worker, begin, end) -> {
            // Loop over dx indices; the inputs are read at the same position of their own ranges.
            int from = dxo + begin, to = dxo + end;
            int dxToDy = dyo - dxo, dxToX = xo - dxo, dxToY = yo - dxo;
            switch (op) {
                case RELU -> { for (int i = from; i < to; i++) dx[i] = x[i + dxToX] > 0f ? dy[i + dxToDy] : 0f; }
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
            }
        });
    }

    /** out[oo + i] = a[ao + i] op b[bo + i] over n elements; out's range may coincide with a's or b's. */
    void binary(BinaryOp op, float[] a, int ao, float[] b, int bo, float[] out, int oo, int n) {
        threads.run(n, parts(n), (worker, begin, end) -> {
            int from = oo + begin, to = oo + end;
            int da = ao - oo, db = bo - oo;
            switch (op) {
                case ADD -> { for (int i = from; i < to; i++) out[i] = a[i + da] + b[i + db]; }
                case SUB -> { for (int i = from; i < to; i++) out[i] = a[i + da] - b[i + db]; }
                case MUL -> { for (int i = from; i < to; i++) out[i] = a[i + da] * b[i + db]; }
                case DIV -> { for (int i = from; i < to; i++) out[i] = a[i + da] / b[i + db]; }
                case MAX -> { for (int i = from; i < to; i++) out[i] = Math.max(a[i + da], b[i + db]); }
                case MIN -> { for (int i = from; i < to; i++) out[i] = Math.min(a[i + da], b[i + db]); }
            }
        });
    }

    /** out[o, c, i] = x[o, c, i] op v[c]; one task per (o, c) row of {@code inner} elements. */
    void channelBroadcast(BinaryOp op, float[] x, float[] v, float[] out, int outer, int channels, int inner) {
        int rows = outer * channels;
        threads.run(rows, parts((long) rows * inner), (worker, begin, end) -> {
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
        });
    }

    /** out[c] = beta*out[c] + sum over (o, i) of x[o, c, i]; out is not read when beta == 0. */
    void channelSum(float[] x, float[] out, int outer, int channels, int inner, float beta) {
        threads.run(channels, parts((long) outer * channels * inner), (worker, begin, end) -> {
            for (int c = begin; c < end; c++) {
                double sum = 0;
                for (int o = 0; o < outer; o++) {
                    int from = (o * channels + c) * inner;
                    for (int i = from; i < from + inner; i++) sum += x[i];
                }
                out[c] = beta == 0f ? (float) sum : (float) (beta * (double) out[c] + sum);
            }
        });
    }

    /** y = alpha*x + beta*y; y is not read when beta == 0. */
    void axpby(float alpha, float[] x, float beta, float[] y, int n) {
        threads.run(n, parts(n), (worker, begin, end) -> {
            if (beta == 0f) for (int i = begin; i < end; i++) y[i] = alpha * x[i];
            else for (int i = begin; i < end; i++) y[i] = alpha * x[i] + beta * y[i];
        });
    }

    /** Sum of x[i]^2 in double: fixed-size chunk partials added in index order. */
    double sumOfSquares(float[] x, int n) {
        int chunks = CpuGemm.ceilDiv(n, CHUNK);
        if (partials.length < chunks) partials = new double[chunks];
        double[] part = partials;
        threads.run(chunks, parts(n), (worker, begin, end) -> {
            for (int ch = begin; ch < end; ch++) {
                double s = 0;
                for (int i = ch * CHUNK, to = Math.min(n, i + CHUNK); i < to; i++) s += (double) x[i] * x[i];
                part[ch] = s;
            }
        });
        double total = 0;
        for (int ch = 0; ch < chunks; ch++) total += part[ch];
        return total;
    }

    /** mask[i] = keep(i) ? 1/(1-p) : 0 with keep(i) = uniform(seed, i) >= p; y = x * mask (y may be x). */
    void dropout(float[] x, float[] mask, float[] y, float p, long seed, int n) {
        float scale = p < 1f ? 1f / (1f - p) : 0f;
        threads.run(n, parts(n), (worker, begin, end) -> {
            for (int i = begin; i < end; i++) {
                float m = CounterRandom.uniform(seed, i) >= p ? scale : 0f;
                mask[i] = m;
                y[i] = x[i] * m;
            }
        });
    }
}
