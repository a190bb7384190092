package org.neurite.backend;

import static org.neurite.backend.BinaryOp.ADD;
import static org.neurite.backend.BinaryOp.DIV;
import static org.neurite.backend.BinaryOp.MUL;
import static org.neurite.backend.BinaryOp.SUB;
import static org.neurite.backend.UnaryOp.EXP;
import static org.neurite.backend.UnaryOp.LOG;
import static org.neurite.backend.UnaryOp.SIGMOID;
import static org.neurite.backend.UnaryOp.SQRT;
import static org.neurite.backend.UnaryOp.SQUARE;
import static org.neurite.backend.UnaryOp.TANH;

import java.util.List;
import java.util.function.Consumer;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The default compositions of {@link Backend}'s derived ops over its primitives: what a backend
 * that implements only the primitives runs. Arguments arrive checked ({@link CheckedBackend});
 * {@code b} is the raw backend, so every primitive call here must itself be a valid one (no
 * output aliasing an input where the primitive forbids it). Temporaries are allocated from the
 * backend for the call and closed after it. Each composition reads all its inputs before it
 * writes an output that the op allows to alias one.
 */
final class DerivedOps {
    private DerivedOps() {}

    /** A zero-filled scratch vector of {@code n} floats on {@code b}. */
    private static Tensor temp(Backend b, int n) { return b.allocate(Shape.of(n)); }

    private static Slice all(Tensor t) { return Slice.of(t); }

    static void copy(Backend b, Slice src, Slice dst) {
        if (src.length() == 0) return;
        b.copyBlocks(Strided.of(src.tensor(), src.offset(), src.length()), Strided.of(dst.tensor(), dst.offset(), dst.length()), src.length(), 1);
    }

    // ---- fused epilogues ----------------------------------------------------------------

    /** y = x · w^T (one GEMM), + bias broadcast over the rows, then the activation in place. */
    static void denseForward(Backend b, Tensor x, Tensor w, Tensor bias, UnaryOp activation, Tensor y, int rows, int in, int out) {
        b.gemm(new Gemm(false, true, rows, out, in, 1), 1f, Matrix.of(x, in), Matrix.of(w, in), 0f, Matrix.of(y, out));
        if (bias != null) b.channelBroadcast(ADD, y, bias, y, rows, out, 1);
        if (activation != null) b.unary(activation, y, y);
    }

    /** The plain convolution, then the activation in place. */
    static void conv2dForward(Backend b, Conv2dGeometry g, Tensor x, Tensor w, Tensor bias, UnaryOp activation, Tensor y) {
        b.conv2dForward(g, x, w, bias, y);
        if (activation != null) b.unary(activation, y, y);
    }

    /** The plain convolution, then the residual added and the activation applied in place. */
    static void conv2dResidualForward(Backend b, Conv2dGeometry g, Tensor x, Tensor w, Tensor bias, Tensor residual, UnaryOp activation,
                                      Tensor y) {
        b.conv2dForward(g, x, w, bias, y);
        b.addForward(y, residual, activation, y);
    }

    /** out = a + b, then the activation in place. */
    static void addForward(Backend b, Tensor a, Tensor addend, UnaryOp activation, Tensor out) {
        b.binary(ADD, a, addend, out);
        if (activation != null) b.unary(activation, out, out);
    }

    /** dx = dy · w (one GEMM), then the activation's derivative from its output x, in place. */
    static void denseBackwardData(Backend b, Tensor dy, Tensor w, Tensor x, UnaryOp activation, Tensor dx, int rows, int in, int out) {
        b.gemm(new Gemm(false, false, rows, in, out, 1), 1f, Matrix.of(dy, out), Matrix.of(w, in), 0f, Matrix.of(dx, in));
        if (activation != null) b.unaryBackward(activation, x, x, dx, dx);
    }

    /** The plain max-pooling backward, then the activation's derivative from its output x, in place. */
    static void maxPool2dBackward(Backend b, Pool2dGeometry g, Tensor dy, Tensor argmax, Tensor x, UnaryOp activation, Tensor dx) {
        b.maxPool2dBackward(g, dy, argmax, dx);
        if (activation != null) b.unaryBackward(activation, x, x, dx, dx);
    }

    /** The plain batch-norm forward, then the activation in place. */
    static void batchNormForward(Backend b, Tensor x, Tensor y, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                 Tensor saveMean, Tensor saveInvStd, int outer, int channels, int inner, float eps, float momentum,
                                 boolean training, UnaryOp activation) {
        b.batchNormForward(x, y, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, outer, channels, inner, eps, momentum, training);
        if (activation != null) b.unary(activation, y, y);
    }

    /** The activation's derivative from its output y into dx, then the plain batch-norm backward from dx, in place. */
    static void batchNormBackward(Backend b, Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, UnaryOp activation,
                                  Tensor y, Tensor dx, Tensor dgamma, Tensor dbeta, int outer, int channels, int inner) {
        if (activation == null) {
            b.batchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, outer, channels, inner);
            return;
        }
        b.unaryBackward(activation, y, y, dy, dx);
        b.batchNormBackward(x, dx, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, outer, channels, inner);
    }

    // ---- padding ------------------------------------------------------------------------

    /** y[p, outH, outW] = 0, then the h rows of plane p of x[p, h, w] copied to (top, left): one strided copy per plane. */
    static void pad2d(Backend b, Tensor x, Tensor y, int planes, int h, int w, int top, int left, int outH, int outW) {
        b.fill(all(y), 0f);
        if (h == 0 || w == 0) return;
        for (int p = 0; p < planes; p++)
            b.copyBlocks(Strided.of(x, p * h * w, w), Strided.of(y, p * outH * outW + top * outW + left, outW), w, h);
    }

    /** dx[p, h, w] = the h x w window of dy[p, outH, outW] at (top, left): one strided copy per plane. */
    static void crop2d(Backend b, Tensor dy, Tensor dx, int planes, int h, int w, int top, int left, int outH, int outW) {
        if (h == 0 || w == 0) return;
        for (int p = 0; p < planes; p++)
            b.copyBlocks(Strided.of(dy, p * outH * outW + top * outW + left, outW), Strided.of(dx, p * h * w, w), w, h);
    }

    // ---- axpby and softmax --------------------------------------------------------------

    static void axpby(Backend b, float alpha, Tensor x, float beta, Tensor y) {
        if (beta == 0f) {
            b.affine(all(x), alpha, 0f, all(y));   // y is not read
            return;
        }
        // alpha*x first, into a temporary: x may be y.
        try (Tensor ax = temp(b, x.size())) {
            b.affine(all(x), alpha, 0f, all(ax));
            b.affine(all(y), beta, 0f, all(y));
            b.binary(ADD, all(y), all(ax), all(y));
        }
    }

    /** y = exp(x - rowmax) / rowsum over x[rows, cols], as [outer 1, channels rows, inner cols] broadcasts. */
    static void softmax(Backend b, Tensor x, Tensor y, int rows, int cols) {
        if ((long) rows * cols == 0) return;
        try (Tensor rowMax = temp(b, rows); Tensor rowSum = temp(b, rows)) {
            b.channelMax(x, rowMax, 1, rows, cols);
            b.channelBroadcast(SUB, x, rowMax, y, 1, rows, cols);    // y may be x
            b.unary(EXP, all(y), all(y));
            b.channelSum(y, rowSum, 1, rows, cols, 0f);
            b.channelBroadcast(DIV, y, rowSum, y, 1, rows, cols);
        }
    }

    /** dx = y * (dy - rowsum(dy * y)); dx may be dy. */
    static void softmaxBackward(Backend b, Tensor y, Tensor dy, Tensor dx, int rows, int cols) {
        if ((long) rows * cols == 0) return;
        try (Tensor prod = temp(b, rows * cols); Tensor dot = temp(b, rows)) {
            b.binary(MUL, all(dy), all(y), all(prod));           // [rows, cols]
            b.channelSum(prod, dot, 1, rows, cols, 0f);          // [rows]
            b.channelBroadcast(SUB, dy, dot, dx, 1, rows, cols);
            b.binary(MUL, all(dx), all(y), all(dx));
        }
    }

    /**
     * Labels are downloaded and checked before anything is written. The loss per row is
     * {@code max + log(sum exp(x - max)) - x[label]}, summed on the host in double from the row
     * maxima, the row sums of exps and the logits at the labels (gathered from logits viewed as a
     * [rows*classes, 1] table at {@code label + r*classes}). dLogits (may be logits) is then
     * {@code (exp(x - max)/sum - onehot) * gradScale}, the one-hot subtracted by a scatter-add of -1s.
     * Float indices are exact up to 2^24, which bounds rows * classes here.
     */
    static double softmaxCrossEntropy(Backend b, Tensor logits, Tensor labels, Tensor dLogits, int rows, int classes, float gradScale) {
        float[] label = b.download(labels);
        float[] flatIndex = new float[rows];
        for (int r = 0; r < rows; r++) {
            if (!OpChecks.isRowIndex(label[r], classes)) throw OpChecks.badLabel(label[r], r, classes);
            flatIndex[r] = (float) ((int) label[r] + (long) r * classes);
        }
        if (rows == 0) return 0;
        if ((long) rows * classes > 1 << 24)
            throw new UnsupportedOperationException("softmaxCrossEntropy over " + rows + " x " + classes + " logits: the default"
                    + " composition indexes them as floats, exact only up to 2^24 elements; the backend must override it");
        try (Tensor rowMax = temp(b, rows); Tensor rowSum = temp(b, rows); Tensor picked = temp(b, rows);
             Tensor index = temp(b, rows); Tensor exps = temp(b, rows * classes)) {
            b.upload(flatIndex, 0, all(index));
            b.gatherRows(logits, index, picked, rows, 1);                // picked[r] = x[r, label_r]
            b.channelMax(logits, rowMax, 1, rows, classes);
            b.channelBroadcast(SUB, logits, rowMax, exps, 1, rows, classes);
            b.unary(EXP, all(exps), all(exps));
            b.channelSum(exps, rowSum, 1, rows, classes, 0f);
            float[] max = b.download(rowMax), sum = b.download(rowSum), atLabel = b.download(picked);
            double loss = 0;
            for (int r = 0; r < rows; r++) loss += max[r] + Math.log(sum[r]) - atLabel[r];

            // Everything read from logits: now dLogits, which may be the same tensor.
            b.channelBroadcast(DIV, exps, rowSum, dLogits, 1, rows, classes);
            b.fill(all(picked), -1f);
            b.scatterAddRows(picked, index, dLogits, rows, 1);           // - onehot
            b.affine(all(dLogits), gradScale, 0f, all(dLogits));
            return loss;
        }
    }

    // ---- batch normalisation ------------------------------------------------------------

    /**
     * Over x[outer, channels, inner], m = outer * inner values per channel. Training: mean =
     * sum(x)/m, var = sum((x - mean)^2)/m (two passes), invStd = 1/sqrt(var + eps), running
     * statistics moved towards mean and the unbiased var*m/(m-1). Evaluation takes the running
     * statistics instead. Then y = (x - mean) * (invStd * gamma) + beta.
     */
    static void batchNormForward(Backend b, Tensor x, Tensor y, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                 Tensor saveMean, Tensor saveInvStd, int outer, int channels, int inner,
                                 float eps, float momentum, boolean training) {
        if (x.size() == 0) return;
        try (Tensor invStd = temp(b, channels); Tensor scale = temp(b, channels)) {
            if (training) {
                long m = (long) outer * inner;
                try (Tensor mean = temp(b, channels); Tensor var = temp(b, channels); Tensor moved = temp(b, channels)) {
                    b.channelSum(x, mean, outer, channels, inner, 0f);
                    b.affine(all(mean), 1f / m, 0f, all(mean));                               // [C]
                    b.channelBroadcast(SUB, x, mean, y, outer, channels, inner);             // y = x - mean; y may be x
                    try (Tensor squares = temp(b, x.size())) {
                        b.unary(SQUARE, all(y), all(squares));
                        b.channelSum(squares, var, outer, channels, inner, 0f);
                    }
                    b.affine(all(var), 1f / m, 0f, all(var));                                 // biased, [C]
                    reciprocalSqrt(b, var, eps, invStd);
                    b.copy(all(mean), all(saveMean));
                    b.copy(all(invStd), all(saveInvStd));
                    // running = (1 - momentum) * running + momentum * batch statistic
                    b.affine(all(mean), momentum, 0f, all(moved));
                    b.affine(all(runningMean), 1f - momentum, 0f, all(runningMean));
                    b.binary(ADD, all(runningMean), all(moved), all(runningMean));
                    b.affine(all(var), (float) (momentum * (double) m / (m - 1)), 0f, all(moved));
                    b.affine(all(runningVar), 1f - momentum, 0f, all(runningVar));
                    b.binary(ADD, all(runningVar), all(moved), all(runningVar));
                }
            } else {
                reciprocalSqrt(b, runningVar, eps, invStd);
                b.channelBroadcast(SUB, x, runningMean, y, outer, channels, inner);
            }
            b.binary(MUL, all(invStd), all(gamma), all(scale));
            b.channelBroadcast(MUL, y, scale, y, outer, channels, inner);
            b.channelBroadcast(ADD, y, beta, y, outer, channels, inner);
        }
    }

    /** out[C] = 1 / sqrt(v + eps); out is not v. */
    private static void reciprocalSqrt(Backend b, Tensor v, float eps, Tensor out) {
        try (Tensor ones = temp(b, v.size())) {
            b.affine(all(v), 1f, eps, all(out));
            b.unary(SQRT, all(out), all(out));
            b.fill(all(ones), 1f);
            b.binary(DIV, all(ones), all(out), all(out));
        }
    }

    /**
     * With xhat = (x - mean) * invStd: dbeta = sum(dy), dgamma = sum(dy * xhat) per channel, and
     * dx = gamma * invStd * (dy - dbeta/m - xhat * dgamma/m). dx may be dy: it is written last.
     */
    static void batchNormBackward(Backend b, Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                  Tensor dx, Tensor dgamma, Tensor dbeta, int outer, int channels, int inner) {
        int n = x.size();
        if (n == 0) return;
        float m = (float) ((long) outer * inner);
        try (Tensor xhat = temp(b, n); Tensor prod = temp(b, n);
             Tensor sumDy = temp(b, channels); Tensor sumDyXhat = temp(b, channels); Tensor k = temp(b, channels)) {
            b.channelBroadcast(SUB, x, saveMean, xhat, outer, channels, inner);
            b.channelBroadcast(MUL, xhat, saveInvStd, xhat, outer, channels, inner);     // [n]
            b.binary(MUL, all(dy), all(xhat), all(prod));
            b.channelSum(dy, sumDy, outer, channels, inner, 0f);                        // [C]
            b.channelSum(prod, sumDyXhat, outer, channels, inner, 0f);                  // [C]
            if (dbeta != null) b.copy(all(sumDy), all(dbeta));
            if (dgamma != null) b.copy(all(sumDyXhat), all(dgamma));

            b.affine(all(sumDy), 1f / m, 0f, all(sumDy));
            b.affine(all(sumDyXhat), 1f / m, 0f, all(sumDyXhat));
            b.channelBroadcast(MUL, xhat, sumDyXhat, prod, outer, channels, inner);     // xhat * mean(dy * xhat)
            b.channelBroadcast(SUB, dy, sumDy, dx, outer, channels, inner);            // dy - mean(dy)
            b.binary(SUB, all(dx), all(prod), all(dx));
            b.binary(MUL, all(gamma), all(saveInvStd), all(k));
            b.channelBroadcast(MUL, dx, k, dx, outer, channels, inner);
        }
    }

    // ---- local response normalisation ---------------------------------------------------

    /**
     * Over x[batch, channels, inner]: scale = k + alpha/size * (window sum of x^2 over channels
     * [c - size/2, c + (size-1)/2]), y = x * scale^-beta with the power as exp(-beta * log(scale)).
     */
    static void lrnForward(Backend b, Tensor x, Tensor y, Tensor scale, int batch, int channels, int inner,
                           int size, float alpha, float beta, float k) {
        if (x.size() == 0) return;
        try (Tensor t = temp(b, x.size())) {
            b.unary(SQUARE, all(x), all(t));
            channelWindowSum(b, t, scale, batch, channels, inner, -(size / 2), (size - 1) / 2);
            b.affine(all(scale), alpha / size, k, all(scale));
            powerOf(b, scale, -beta, t);
            b.binary(MUL, all(x), all(t), all(y));
        }
    }

    /**
     * dx_j = dy_j * s_j^-beta - (2 alpha beta / size) * x_j * sum_c dy_c y_c / s_c, the sum over the
     * channels c whose window holds j: c in [j - (size-1)/2, j + size/2], the window transposed.
     */
    static void lrnBackward(Backend b, Tensor x, Tensor y, Tensor scale, Tensor dy, Tensor dx, int batch, int channels, int inner,
                            int size, float alpha, float beta, float k) {
        if (x.size() == 0) return;
        try (Tensor p = temp(b, x.size()); Tensor q = temp(b, x.size())) {
            b.binary(MUL, all(dy), all(y), all(p));
            b.binary(DIV, all(p), all(scale), all(p));                                   // dy * y / s
            channelWindowSum(b, p, q, batch, channels, inner, -((size - 1) / 2), size / 2);
            b.binary(MUL, all(q), all(x), all(q));
            b.affine(all(q), -2f * alpha * beta / size, 0f, all(q));
            powerOf(b, scale, -beta, p);
            b.binary(MUL, all(dy), all(p), all(dx));
            b.binary(ADD, all(dx), all(q), all(dx));
        }
    }

    /** out = base^power = exp(power * log(base)), element-wise; base > 0. */
    private static void powerOf(Backend b, Tensor base, float power, Tensor out) {
        b.unary(LOG, all(base), all(out));
        b.affine(all(out), power, 0f, all(out));
        b.unary(EXP, all(out), all(out));
    }

    /**
     * Over [batch, channels, inner]: dst[n, c, :] = sum over d in [lo, hi] of src[n, c + d, :],
     * clipped to the channels (lo <= 0 <= hi). Per batch item and shift d, the channels c whose
     * c + d exists are one contiguous run, so each term is one binary ADD of two runs.
     */
    private static void channelWindowSum(Backend b, Tensor src, Tensor dst, int batch, int channels, int inner, int lo, int hi) {
        b.copy(all(src), all(dst));                                                      // d = 0
        for (int n = 0; n < batch; n++) {
            for (int d = lo; d <= hi; d++) {
                if (d == 0 || Math.abs(d) >= channels) continue;
                int from = Math.max(0, -d), to = Math.min(channels, channels - d), length = (to - from) * inner;
                Slice run = Slice.of(dst, (n * channels + from) * inner, length);
                b.binary(ADD, run, Slice.of(src, (n * channels + from + d) * inner, length), run);
            }
        }
    }

    // ---- recurrent cells ----------------------------------------------------------------

    /**
     * Gates [batch, 4H] (i, f, g, o) are gathered into one gate-major temporary [4, batch, H],
     * activated block by block and scattered back; then c = f*cPrev + i*g (c may be cPrev) and
     * h = o*tanh(c).
     */
    static void lstmCellForward(Backend b, Slice gates, Slice cPrev, Slice c, Slice h, int batch, int hidden) {
        int bh = batch * hidden;
        if (bh == 0) return;
        try (Tensor act = temp(b, 4 * bh); Tensor t = temp(b, bh)) {
            gatherGates(b, gates, 4, act, batch, hidden);
            b.unary(SIGMOID, Slice.of(act, 0, 2 * bh), Slice.of(act, 0, 2 * bh));       // i, f
            b.unary(TANH, gate(act, 2, bh), gate(act, 2, bh));                           // g
            b.unary(SIGMOID, gate(act, 3, bh), gate(act, 3, bh));                        // o
            scatterGates(b, act, gates, 4, batch, hidden);

            b.binary(MUL, gate(act, 0, bh), gate(act, 2, bh), all(t));                   // i*g
            b.binary(MUL, gate(act, 1, bh), cPrev, c);                                   // f*cPrev
            b.binary(ADD, c, all(t), c);
            b.unary(TANH, c, all(t));
            b.binary(MUL, gate(act, 3, bh), all(t), h);
        }
    }

    /** gates[B, 4H] += hPrev · wHhᵀ (one GEMM), then the cell. */
    static void lstmStepForward(Backend b, Matrix hPrev, Matrix wHh, Slice gates, Slice cPrev, Slice c, Slice h, int batch, int hidden) {
        b.gemm(new Gemm(false, true, batch, 4 * hidden, hidden, 1), 1f, hPrev, wHh, 1f, Matrix.at(gates.tensor(), gates.offset(), 4 * hidden));
        b.lstmCellForward(gates, cPrev, c, h, batch, hidden);
    }

    /**
     * With the activations i, f, g, o gathered as in forward: dL/dc_t = dc + dh*o*(1 - tanh(c)^2)
     * (accumulated in dc), then d(o) = dh*tanh(c), d(i) = dc*g, d(f) = dc*cPrev, d(g) = dc*i, each
     * through its activation's derivative into a gate-major temporary scattered into dGates, and
     * finally dc = dc*f, dL/dc_{t-1}.
     */
    static void lstmCellBackward(Backend b, Slice gates, Slice cPrev, Slice c, Slice dh, Slice dc, Slice dGates, int batch, int hidden) {
        int bh = batch * hidden;
        if (bh == 0) return;
        try (Tensor act = temp(b, 4 * bh); Tensor d = temp(b, 4 * bh); Tensor tanhC = temp(b, bh); Tensor t = temp(b, bh)) {
            gatherGates(b, gates, 4, act, batch, hidden);
            Slice i = gate(act, 0, bh), f = gate(act, 1, bh), g = gate(act, 2, bh), o = gate(act, 3, bh);
            b.unary(TANH, c, all(tanhC));

            b.binary(MUL, dh, all(tanhC), gate(d, 3, bh));
            b.unaryBackward(SIGMOID, null, o, gate(d, 3, bh), gate(d, 3, bh));
            b.binary(MUL, dh, o, all(t));
            b.unaryBackward(TANH, null, all(tanhC), all(t), all(t));
            b.binary(ADD, dc, all(t), dc);                                               // dL/dc_t

            b.binary(MUL, dc, g, gate(d, 0, bh));
            b.unaryBackward(SIGMOID, null, i, gate(d, 0, bh), gate(d, 0, bh));
            b.binary(MUL, dc, cPrev, gate(d, 1, bh));
            b.unaryBackward(SIGMOID, null, f, gate(d, 1, bh), gate(d, 1, bh));
            b.binary(MUL, dc, i, gate(d, 2, bh));
            b.unaryBackward(TANH, null, g, gate(d, 2, bh), gate(d, 2, bh));
            b.binary(MUL, dc, f, dc);                                                    // dL/dc_{t-1}
            scatterGates(b, d, dGates, 4, batch, hidden);
        }
    }

    /**
     * gi and gh [batch, 3H] (r, z, n) are gathered gate-major; r, z = σ(gi + gh) on both blocks at
     * once, n = tanh(gi_n + r*gh_n), h = n + z*(hPrev - n) (hPrev is read before h is written),
     * and r, z, n are scattered into saved.
     */
    static void gruCellForward(Backend b, Slice gi, Slice gh, Slice hPrev, Slice h, Slice saved, int batch, int hidden) {
        int bh = batch * hidden;
        if (bh == 0) return;
        try (Tensor s = temp(b, 3 * bh); Tensor hh = temp(b, 3 * bh); Tensor t = temp(b, bh)) {
            gatherGates(b, gi, 3, s, batch, hidden);
            gatherGates(b, gh, 3, hh, batch, hidden);
            Slice rz = Slice.of(s, 0, 2 * bh), r = gate(s, 0, bh), z = gate(s, 1, bh), n = gate(s, 2, bh);
            b.binary(ADD, rz, Slice.of(hh, 0, 2 * bh), rz);
            b.unary(SIGMOID, rz, rz);
            b.binary(MUL, r, gate(hh, 2, bh), all(t));
            b.binary(ADD, n, all(t), n);
            b.unary(TANH, n, n);
            b.binary(SUB, hPrev, n, all(t));
            b.binary(MUL, z, all(t), all(t));
            b.binary(ADD, n, all(t), h);
            scatterGates(b, s, saved, 3, batch, hidden);
        }
    }

    /** gh[B, 3H] += hPrev · wHhᵀ (one GEMM, hPrev's rows H apart), then the cell. */
    static void gruStepForward(Backend b, Slice hPrev, Matrix wHh, Slice gi, Slice gh, Slice h, Slice saved, int batch, int hidden) {
        b.gemm(new Gemm(false, true, batch, 3 * hidden, hidden, 1), 1f, Matrix.at(hPrev.tensor(), hPrev.offset(), hidden), wHh, 1f,
                Matrix.at(gh.tensor(), gh.offset(), 3 * hidden));
        b.gruCellForward(gi, gh, hPrev, h, saved, batch, hidden);
    }

    /**
     * From h = (1-z)*n + z*hPrev and n = tanh(gi_n + r*gh_n): dn = dh*(1-z) through tanh',
     * dz = dh*(hPrev - n) through σ', dr = dn*gh_n through σ'. dGi is (dr, dz, dn); dGh is
     * (dr, dz, dn*r); dhPrev = z*dh is written last (it may be dh).
     */
    static void gruCellBackward(Backend b, Slice saved, Slice gh, Slice hPrev, Slice dh, Slice dGi, Slice dGh, Slice dhPrev,
                                int batch, int hidden) {
        int bh = batch * hidden;
        if (bh == 0) return;
        try (Tensor s = temp(b, 3 * bh); Tensor d = temp(b, 3 * bh); Tensor ghN = temp(b, bh); Tensor t = temp(b, bh)) {
            gatherGates(b, saved, 3, s, batch, hidden);
            gatherGate(b, gh, 3, 2, ghN, 0, batch, hidden);
            Slice r = gate(s, 0, bh), z = gate(s, 1, bh), n = gate(s, 2, bh);
            Slice dr = gate(d, 0, bh), dz = gate(d, 1, bh), dn = gate(d, 2, bh);
            b.affine(z, -1f, 1f, all(t));                                                // 1 - z
            b.binary(MUL, dh, all(t), dn);
            b.unaryBackward(TANH, null, n, dn, dn);
            b.binary(SUB, hPrev, n, dz);
            b.binary(MUL, dz, dh, dz);
            b.unaryBackward(SIGMOID, null, z, dz, dz);
            b.binary(MUL, dn, all(ghN), dr);
            b.unaryBackward(SIGMOID, null, r, dr, dr);
            scatterGates(b, d, dGi, 3, batch, hidden);
            b.binary(MUL, dn, r, dn);
            scatterGates(b, d, dGh, 3, batch, hidden);
            b.binary(MUL, dh, z, dhPrev);
        }
    }

    /** Block g of a gate-major [gates, batch, H] temporary. */
    private static Slice gate(Tensor t, int g, int bh) { return Slice.of(t, g * bh, bh); }

    /** dst[g, batch, H] (gate-major) = the g-th H columns of every row of src[batch, gates*H], for every gate. */
    private static void gatherGates(Backend b, Slice src, int gates, Tensor dst, int batch, int hidden) {
        for (int g = 0; g < gates; g++) gatherGate(b, src, gates, g, dst, g * batch * hidden, batch, hidden);
    }

    /** Columns [g*H, (g+1)*H) of every row of src[batch, gates*H] into dst[batch, H] from dstOffset. */
    private static void gatherGate(Backend b, Slice src, int gates, int g, Tensor dst, int dstOffset, int batch, int hidden) {
        b.copyBlocks(Strided.of(src.tensor(), src.offset() + g * hidden, gates * hidden), Strided.of(dst, dstOffset, hidden), hidden, batch);
    }

    /** The inverse of {@link #gatherGates}: src[gates, batch, H] back into the rows of dst[batch, gates*H]. */
    private static void scatterGates(Backend b, Tensor src, Slice dst, int gates, int batch, int hidden) {
        for (int g = 0; g < gates; g++)
            b.copyBlocks(Strided.of(src, g * batch * hidden, hidden), Strided.of(dst.tensor(), dst.offset() + g * hidden, gates * hidden), hidden, batch);
    }

    // ---- optimisers ---------------------------------------------------------------------

    /** g = grad + wd*param; v = momentum*v + g; param += -lr * (nesterov ? g + momentum*v : v) (v only when momentum != 0). */
    static void sgdUpdate(Backend b, Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay, boolean nesterov) {
        if (param.size() == 0) return;
        try (Tensor g = temp(b, param.size()); Tensor step = temp(b, param.size())) {
            decayedGradient(b, param, grad, weightDecay, g);
            Tensor direction = g;
            if (momentum != 0f) {
                b.affine(all(velocity), momentum, 0f, all(velocity));
                b.binary(ADD, all(velocity), all(g), all(velocity));
                if (nesterov) {
                    b.affine(all(velocity), momentum, 0f, all(step));
                    b.binary(ADD, all(g), all(step), all(g));
                } else {
                    direction = velocity;
                }
            }
            b.affine(all(direction), -lr, 0f, all(step));
            b.binary(ADD, all(param), all(step), all(param));
        }
    }

    /**
     * g = grad + wd*param; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
     * param -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps), in PyTorch's order of operations.
     */
    static void adamUpdate(Backend b, Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                           float eps, float weightDecay, int step) {
        if (param.size() == 0) return;
        double correction1 = 1 - Math.pow(beta1, step), correction2 = 1 - Math.pow(beta2, step);
        try (Tensor g = temp(b, param.size()); Tensor t = temp(b, param.size())) {
            decayedGradient(b, param, grad, weightDecay, g);
            b.affine(all(m), beta1, 0f, all(m));
            b.affine(all(g), 1f - beta1, 0f, all(t));
            b.binary(ADD, all(m), all(t), all(m));
            b.unary(SQUARE, all(g), all(t));
            b.affine(all(t), 1f - beta2, 0f, all(t));
            b.affine(all(v), beta2, 0f, all(v));
            b.binary(ADD, all(v), all(t), all(v));

            b.unary(SQRT, all(v), all(t));
            b.affine(all(t), (float) (1 / Math.sqrt(correction2)), eps, all(t));         // denominator
            b.affine(all(m), (float) (lr / correction1), 0f, all(g));
            b.binary(DIV, all(g), all(t), all(g));
            b.binary(SUB, all(param), all(g), all(param));
        }
    }

    /** param *= 1 - lr*wd (the decay in double, as PyTorch's Python float), then Adam on the gradient alone. */
    static void adamwUpdate(Backend b, Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                            float eps, float weightDecay, int step) {
        if (param.size() == 0) return;
        if (weightDecay != 0f) b.affine(all(param), decoupledDecay(lr, weightDecay), 0f, all(param));
        adamUpdate(b, param, grad, m, v, lr, beta1, beta2, eps, 0f, step);
    }

    /** The factor AdamW multiplies the weights by each step: {@code 1 - lr*wd}, computed in double. */
    static float decoupledDecay(float lr, float weightDecay) {
        return (float) (1.0 - (double) lr * weightDecay);
    }

    /**
     * g = grad + wd*param; sq = alpha*sq + (1-alpha)*g^2; (centered: ga = alpha*ga + (1-alpha)*g;)
     * d = sqrt(sq [- ga^2]) + eps; momentum: buf = momentum*buf + g/d, param -= lr*buf; else param -= lr*g/d.
     */
    static void rmspropUpdate(Backend b, Tensor param, Tensor grad, Tensor squareAverage, Tensor momentumBuffer, Tensor gradAverage,
                              float lr, float alpha, float eps, float weightDecay, float momentum, boolean centered) {
        if (param.size() == 0) return;
        try (Tensor g = temp(b, param.size()); Tensor t = temp(b, param.size())) {
            decayedGradient(b, param, grad, weightDecay, g);
            b.affine(all(squareAverage), alpha, 0f, all(squareAverage));
            b.unary(SQUARE, all(g), all(t));
            b.affine(all(t), 1f - alpha, 0f, all(t));
            b.binary(ADD, all(squareAverage), all(t), all(squareAverage));
            if (centered) {
                b.affine(all(gradAverage), alpha, 0f, all(gradAverage));
                b.affine(all(g), 1f - alpha, 0f, all(t));
                b.binary(ADD, all(gradAverage), all(t), all(gradAverage));
                b.unary(SQUARE, all(gradAverage), all(t));
                b.binary(SUB, all(squareAverage), all(t), all(t));
                b.unary(SQRT, all(t), all(t));
            } else {
                b.unary(SQRT, all(squareAverage), all(t));
            }
            b.affine(all(t), 1f, eps, all(t));                                  // denominator
            b.binary(DIV, all(g), all(t), all(g));                               // g / denominator
            if (momentum != 0f) {
                b.affine(all(momentumBuffer), momentum, 0f, all(momentumBuffer));
                b.binary(ADD, all(momentumBuffer), all(g), all(momentumBuffer));
                b.affine(all(momentumBuffer), lr, 0f, all(t));
            } else {
                b.affine(all(g), lr, 0f, all(t));
            }
            b.binary(SUB, all(param), all(t), all(param));
        }
    }

    // ---- the training step on the device ------------------------------------------------

    /**
     * Per tensor, its squares (a temporary) summed by one channelSum into a scalar, the first
     * overwriting it and the others adding (beta 1); then the scalar copied to out. No read-back.
     */
    static void sumOfSquares(Backend b, List<Tensor> xs, Slice out) {
        try (Tensor acc = temp(b, 1)) {
            boolean first = true;
            for (Tensor x : xs) {
                if (x.size() == 0) continue;
                try (Tensor squares = temp(b, x.size())) {
                    b.unary(SQUARE, all(x), all(squares));
                    b.channelSum(squares, acc, 1, 1, x.size(), first ? 0f : 1f);
                }
                first = false;
            }
            b.copy(all(acc), out);
        }
    }

    /** The backend's value-returning op, its result uploaded into loss[0]: one read-back. */
    static void softmaxCrossEntropy(Backend b, Tensor logits, Tensor labels, Tensor dLogits, int rows, int classes, float gradScale,
                                    Slice loss) {
        double sum = b.softmaxCrossEntropy(logits, labels, dLogits, rows, classes, gradScale);
        b.upload(new float[] {(float) sum}, 0, loss);
    }

    /** Logits and labels read back and compared on the host (as {@link Backend#countCorrect} defines the arg-max). */
    static void countCorrect(Backend b, Tensor logits, Tensor labels, int rows, int classes, Slice out) {
        float[] x = new float[rows * classes], label = new float[rows];
        b.download(Slice.of(logits, 0, rows * classes), x, 0);
        b.download(Slice.of(labels, 0, rows), label, 0);
        int correct = 0;
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int c = 1; c < classes; c++) if (x[r * classes + c] > x[r * classes + best]) best = c;
            if (best == label[r]) correct++;
        }
        b.upload(new float[] {correct}, 0, out);
    }

    /** The norm, the loss and the control read back, decided on the host, and the control uploaded. */
    static void stepControl(Backend b, Slice squaredNorm, Slice loss, float maxNorm, Slice control) {
        float[] sq = new float[1], l = new float[1], c = new float[StepControl.SIZE];
        b.download(squaredNorm, sq, 0);
        if (loss != null) b.download(loss, l, 0);
        b.download(control, c, 0);
        boolean skip = c[StepControl.SKIP] != 0 || !StepControl.finite(sq[0], l[0]);
        c[StepControl.FACTOR] = StepControl.clipFactor(Math.sqrt(sq[0]), maxNorm);
        c[StepControl.SKIP] = skip ? 1f : 0f;
        b.upload(c, 0, control);
    }

    /**
     * A controlled update from the plain one: the control read back; nothing when its skip flag is
     * set, else {@code update} on the gradient, or on a scaled copy when the factor is not 1. A null
     * control is the plain update.
     */
    static void controlled(Backend b, Slice control, Tensor grad, Consumer<Tensor> update) {
        if (control == null) {
            update.accept(grad);
            return;
        }
        float[] c = new float[StepControl.SIZE];
        b.download(control, c, 0);
        if (c[StepControl.SKIP] != 0) return;
        float factor = c[StepControl.FACTOR];
        if (factor == 1f) {
            update.accept(grad);
            return;
        }
        try (Tensor scaled = temp(b, grad.size())) {
            b.affine(all(grad), factor, 0f, all(scaled));
            update.accept(scaled);
        }
    }

    /** g = grad + weightDecay * param (a copy of grad without decay). */
    private static void decayedGradient(Backend b, Tensor param, Tensor grad, float weightDecay, Tensor g) {
        if (weightDecay == 0f) {
            b.copy(all(grad), all(g));
            return;
        }
        b.affine(all(param), weightDecay, 0f, all(g));
        b.binary(ADD, all(g), all(grad), all(g));
    }
}
