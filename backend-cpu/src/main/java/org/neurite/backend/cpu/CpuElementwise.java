package org.neurite.backend.cpu;

import org.neurite.backend.BinaryOp;
import org.neurite.backend.CounterRandom;
import org.neurite.backend.UnaryOp;

/**
 * Element-wise ops, per-channel broadcasts and reductions over flat float arrays. Maps are split
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

    /** y = op(x) over n elements; y may be x. */
    void unary(UnaryOp op, float[] x, float[] y, int n) {
        threads.run(n, parts(n), (worker, begin, end) -> {
            switch (op) {
                case RELU -> { for (int i = begin; i < end; i++) y[i] = Math.max(x[i], 0f); }
                case SIGMOID -> { for (int i = begin; i < end; i++) y[i] = (float) (1.0 / (1.0 + Math.exp(-x[i]))); }
                case TANH -> { for (int i = begin; i < end; i++) y[i] = (float) Math.tanh(x[i]); }
                case NEGATE -> { for (int i = begin; i < end; i++) y[i] = -x[i]; }
                case EXP -> { for (int i = begin; i < end; i++) y[i] = (float) Math.exp(x[i]); }
                case SQUARE -> { for (int i = begin; i < end; i++) y[i] = x[i] * x[i]; }
            }
        });
    }

    /** dx = dy * op'(.), reading x or y as {@link UnaryOp} says (the other may be null); dx may alias dy. */
    void unaryBackward(UnaryOp op, float[] x, float[] y, float[] dy, float[] dx, int n) {
        threads.run(n, parts(n), (worker, begin, end) -> {
            switch (op) {
                case RELU -> { for (int i = begin; i < end; i++) dx[i] = x[i] > 0f ? dy[i] : 0f; }
                case SIGMOID -> { for (int i = begin; i < end; i++) dx[i] = dy[i] * y[i] * (1f - y[i]); }
                case TANH -> { for (int i = begin; i < end; i++) dx[i] = dy[i] * (1f - y[i] * y[i]); }
                case NEGATE -> { for (int i = begin; i < end; i++) dx[i] = -dy[i]; }
                case EXP -> { for (int i = begin; i < end; i++) dx[i] = dy[i] * y[i]; }
                case SQUARE -> { for (int i = begin; i < end; i++) dx[i] = 2f * x[i] * dy[i]; }
            }
        });
    }

    /** out = a op b over n elements; out may alias a or b. */
    void binary(BinaryOp op, float[] a, float[] b, float[] out, int n) {
        threads.run(n, parts(n), (worker, begin, end) -> {
            switch (op) {
                case ADD -> { for (int i = begin; i < end; i++) out[i] = a[i] + b[i]; }
                case SUB -> { for (int i = begin; i < end; i++) out[i] = a[i] - b[i]; }
                case MUL -> { for (int i = begin; i < end; i++) out[i] = a[i] * b[i]; }
                case DIV -> { for (int i = begin; i < end; i++) out[i] = a[i] / b[i]; }
                case MAX -> { for (int i = begin; i < end; i++) out[i] = Math.max(a[i], b[i]); }
                case MIN -> { for (int i = begin; i < end; i++) out[i] = Math.min(a[i], b[i]); }
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
