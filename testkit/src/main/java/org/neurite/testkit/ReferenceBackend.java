package org.neurite.testkit;

import java.util.Arrays;
import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.CheckedBackend;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.backend.CounterRandom;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.backend.OpChecks;
import org.neurite.backend.Pool2dGeometry;
import org.neurite.backend.Slice;
import org.neurite.backend.Strided;
import org.neurite.backend.UnaryOp;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The smallest backend that runs every layer: the primitives of {@link Backend} as plain scalar
 * loops over heap arrays (double accumulators for every sum, one thread, no blocking), and every
 * derived op from {@code Backend}'s default compositions. It shows that the contract is small and
 * complete, and it is a second, independent opinion next to the CPU backend: the integration
 * tests run it against PyTorch's fixtures, against the CPU backend layer by layer, and through a
 * few LeNet-5 training steps. Use it wrapped, {@code CheckedBackend.wrap(new ReferenceBackend())}:
 * like every backend it checks only what the data tells (argmax, row indices). Slow; for tests.
 */
public final class ReferenceBackend implements Backend {

    /** A new reference backend with its argument checks, as the runtime would hand it out. */
    public static Backend checked() { return CheckedBackend.wrap(new ReferenceBackend()); }

    @Override public String name() { return "reference"; }

    @Override public String description() { return "reference: scalar loops on the Java heap, one thread"; }

    private static float[] data(Tensor t) { return ((ReferenceTensor) t).data; }

    // ---- memory -------------------------------------------------------------------------

    @Override public Tensor allocate(Shape shape) { return new ReferenceTensor(this, shape); }

    @Override public void upload(float[] src, int srcOffset, Slice dst) {
        System.arraycopy(src, srcOffset, data(dst.tensor()), dst.offset(), dst.length());
    }

    @Override public void download(Slice src, float[] dst, int dstOffset) {
        System.arraycopy(data(src.tensor()), src.offset(), dst, dstOffset, src.length());
    }

    @Override public void fill(Slice t, float value) {
        Arrays.fill(data(t.tensor()), t.offset(), t.offset() + t.length(), value);
    }

    @Override public void copyBlocks(Strided src, Strided dst, int length, int count) {
        for (int i = 0; i < count; i++)
            System.arraycopy(data(src.tensor()), src.offset() + i * src.stride(), data(dst.tensor()), dst.offset() + i * dst.stride(), length);
    }

    // ---- dense linear algebra -----------------------------------------------------------

    @Override public void gemm(Gemm g, float alpha, Matrix a, Matrix b, float beta, Matrix c) {
        float[] out = data(c.tensor());
        for (int p = 0; p < g.batch(); p++) {
            for (int i = 0; i < g.m(); i++) {
                for (int j = 0; j < g.n(); j++) {
                    double sum = 0;
                    for (int k = 0; k < g.k(); k++) sum += (double) element(a, p, i, k, g.transA()) * element(b, p, k, j, g.transB());
                    int at = c.offset() + p * c.batchStride() + i * c.ld() + j;
                    out[at] = (float) (alpha * sum + (beta == 0f ? 0 : beta * (double) out[at]));
                }
            }
        }
    }

    /** Element (row, col) of op(M) for matrix {@code p} of a batch; M is stored transposed when {@code trans}. */
    private static float element(Matrix m, int p, int row, int col, boolean trans) {
        int base = m.offset() + p * m.batchStride();
        return data(m.tensor())[trans ? base + col * m.ld() + row : base + row * m.ld() + col];
    }

    // ---- convolution: every (input, weight, output) tap, the three passes differ in what they sum ----

    /** Visits every tap of the convolution whose input position is inside the image (padding contributes nothing). */
    private interface Tap { void at(int xIndex, int wIndex, int yIndex); }

    private static void forEachTap(Conv2dGeometry g, Tap tap) {
        int ho = g.outHeight(), wo = g.outWidth(), inPerGroup = g.inChannelsPerGroup(), outPerGroup = g.outChannelsPerGroup();
        for (int n = 0; n < g.batch(); n++)
            for (int oc = 0; oc < g.outChannels(); oc++)
                for (int oh = 0; oh < ho; oh++)
                    for (int ow = 0; ow < wo; ow++)
                        for (int icg = 0; icg < inPerGroup; icg++) {
                            int ic = oc / outPerGroup * inPerGroup + icg;
                            for (int kh = 0; kh < g.kernelH(); kh++) {
                                int ih = oh * g.strideH() - g.padH() + kh * g.dilationH();
                                if (ih < 0 || ih >= g.height()) continue;
                                for (int kw = 0; kw < g.kernelW(); kw++) {
                                    int iw = ow * g.strideW() - g.padW() + kw * g.dilationW();
                                    if (iw < 0 || iw >= g.width()) continue;
                                    tap.at(((n * g.inChannels() + ic) * g.height() + ih) * g.width() + iw,
                                            ((oc * inPerGroup + icg) * g.kernelH() + kh) * g.kernelW() + kw,
                                            ((n * g.outChannels() + oc) * ho + oh) * wo + ow);
                                }
                            }
                        }
    }

    @Override public void conv2dForward(Conv2dGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
        float[] xs = data(x), ws = data(w);
        double[] sum = new double[y.size()];
        forEachTap(g, (xi, wi, yi) -> sum[yi] += (double) xs[xi] * ws[wi]);
        int plane = g.outHeight() * g.outWidth();
        for (int i = 0; i < sum.length; i++) data(y)[i] = (float) (sum[i] + (bias == null ? 0 : data(bias)[i / plane % g.outChannels()]));
    }

    @Override public void conv2dBackwardData(Conv2dGeometry g, Tensor dy, Tensor w, Tensor dx) {
        float[] dys = data(dy), ws = data(w);
        double[] sum = new double[dx.size()];
        forEachTap(g, (xi, wi, yi) -> sum[xi] += (double) dys[yi] * ws[wi]);
        store(sum, dx);
    }

    @Override public void conv2dBackwardFilter(Conv2dGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        float[] xs = data(x), dys = data(dy);
        double[] sum = new double[dw.size()];
        forEachTap(g, (xi, wi, yi) -> sum[wi] += (double) xs[xi] * dys[yi]);
        store(sum, dw);
        if (dbias != null) channelSum(dy, dbias, g.batch(), g.outChannels(), g.outHeight() * g.outWidth(), 0f);
    }

    private static void store(double[] sums, Tensor t) {
        for (int i = 0; i < sums.length; i++) data(t)[i] = (float) sums[i];
    }

    // ---- pooling ------------------------------------------------------------------------

    /** One pooling window clipped to the input, rows [h0, h1) and columns [w0, w1), with average pooling's divisor. */
    private record Window(int h0, int h1, int w0, int w1, int divisor) {}

    private static Window window(Pool2dGeometry g, int oh, int ow) {
        int h0 = oh * g.strideH() - g.padH(), w0 = ow * g.strideW() - g.padW();
        int h1 = Math.min(h0 + g.kernelH(), g.height() + g.padH()), w1 = Math.min(w0 + g.kernelW(), g.width() + g.padW());
        int padded = (h1 - h0) * (w1 - w0);
        h0 = Math.max(h0, 0);
        w0 = Math.max(w0, 0);
        h1 = Math.min(h1, g.height());
        w1 = Math.min(w1, g.width());
        return new Window(h0, h1, w0, w1, g.countIncludePad() ? padded : (h1 - h0) * (w1 - w0));
    }

    /** Visits every output of the pooling: its flat index, its window and the offset of its input plane. */
    private interface PoolOutput { void at(int out, Window win, int plane); }

    private static void forEachOutput(Pool2dGeometry g, PoolOutput visit) {
        int ho = g.outHeight(), wo = g.outWidth();
        for (int p = 0; p < g.batch() * g.channels(); p++)
            for (int oh = 0; oh < ho; oh++)
                for (int ow = 0; ow < wo; ow++) visit.at((p * ho + oh) * wo + ow, window(g, oh, ow), p * g.height() * g.width());
    }

    @Override public void maxPool2dForward(Pool2dGeometry g, Tensor x, Tensor y, Tensor argmax) {
        float[] xs = data(x);
        forEachOutput(g, (out, win, plane) -> {
            float best = Float.NEGATIVE_INFINITY;
            int bestIndex = win.h0() * g.width() + win.w0();
            for (int ih = win.h0(); ih < win.h1(); ih++)
                for (int iw = win.w0(); iw < win.w1(); iw++) {
                    float v = xs[plane + ih * g.width() + iw];
                    if (v > best || Float.isNaN(v)) {   // the first maximum wins; NaN propagates, as in PyTorch
                        best = v;
                        bestIndex = ih * g.width() + iw;
                    }
                }
            data(y)[out] = best;
            data(argmax)[out] = bestIndex;
        });
    }

    @Override public void maxPool2dBackward(Pool2dGeometry g, Tensor dy, Tensor argmax, Tensor dx) {
        OpChecks.checkArgmax(g, data(argmax), argmax.size());
        double[] sum = new double[dx.size()];
        forEachOutput(g, (out, win, plane) -> sum[plane + (int) data(argmax)[out]] += data(dy)[out]);
        store(sum, dx);
    }

    @Override public void avgPool2dForward(Pool2dGeometry g, Tensor x, Tensor y) {
        forEachOutput(g, (out, win, plane) -> {
            double sum = 0;
            for (int ih = win.h0(); ih < win.h1(); ih++)
                for (int iw = win.w0(); iw < win.w1(); iw++) sum += data(x)[plane + ih * g.width() + iw];
            data(y)[out] = (float) (sum / win.divisor());
        });
    }

    @Override public void avgPool2dBackward(Pool2dGeometry g, Tensor dy, Tensor dx) {
        double[] sum = new double[dx.size()];
        forEachOutput(g, (out, win, plane) -> {
            for (int ih = win.h0(); ih < win.h1(); ih++)
                for (int iw = win.w0(); iw < win.w1(); iw++) sum[plane + ih * g.width() + iw] += (double) data(dy)[out] / win.divisor();
        });
        store(sum, dx);
    }

    // ---- element-wise -------------------------------------------------------------------

    @Override public void unary(UnaryOp op, Slice x, Slice y) {
        float[] xs = data(x.tensor()), ys = data(y.tensor());
        for (int i = 0; i < x.length(); i++) ys[y.offset() + i] = apply(op, xs[x.offset() + i]);
    }

    private static float apply(UnaryOp op, float v) {
        return switch (op) {
            case RELU -> Math.max(v, 0f);
            case SIGMOID -> (float) sigmoid(v);
            case TANH -> (float) Math.tanh(v);
            case NEGATE -> -v;
            case EXP -> (float) Math.exp(v);
            case SQUARE -> v * v;
            case SOFTPLUS -> (float) (Math.max(v, 0.0) + Math.log1p(Math.exp(-Math.abs(v))));
            case SQRT -> (float) Math.sqrt(v);
            case LOG -> (float) Math.log(v);
        };
    }

    private static double sigmoid(double v) { return 1 / (1 + Math.exp(-v)); }

    @Override public void unaryBackward(UnaryOp op, Slice x, Slice y, Slice dy, Slice dx) {
        for (int i = 0; i < dx.length(); i++) {
            double xv = x == null ? 0 : data(x.tensor())[x.offset() + i], yv = y == null ? 0 : data(y.tensor())[y.offset() + i];
            double g = data(dy.tensor())[dy.offset() + i];
            data(dx.tensor())[dx.offset() + i] = (float) switch (op) {
                case RELU -> xv > 0 ? g : 0;
                case SIGMOID -> g * yv * (1 - yv);
                case TANH -> g * (1 - yv * yv);
                case NEGATE -> -g;
                case EXP -> g * yv;
                case SQUARE -> g * 2 * xv;
                case SOFTPLUS -> g * sigmoid(xv);
                case SQRT -> g / (2 * yv);
                case LOG -> g / xv;
            };
        }
    }

    @Override public void binary(BinaryOp op, Slice a, Slice b, Slice out) {
        float[] as = data(a.tensor()), bs = data(b.tensor()), os = data(out.tensor());
        for (int i = 0; i < out.length(); i++) os[out.offset() + i] = op.apply(as[a.offset() + i], bs[b.offset() + i]);
    }

    @Override public void affine(Slice x, float scale, float shift, Slice y) {
        float[] xs = data(x.tensor()), ys = data(y.tensor());
        for (int i = 0; i < x.length(); i++) ys[y.offset() + i] = scale * xs[x.offset() + i] + shift;
    }

    // ---- per-channel views [outer, channels, inner] --------------------------------------

    @Override public void channelBroadcast(BinaryOp op, Tensor x, Tensor v, Tensor out, int outer, int channels, int inner) {
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < channels; c++)
                for (int i = (o * channels + c) * inner, end = i + inner; i < end; i++) data(out)[i] = op.apply(data(x)[i], data(v)[c]);
    }

    @Override public void channelSum(Tensor x, Tensor out, int outer, int channels, int inner, float beta) {
        for (int c = 0; c < channels; c++) {
            double sum = 0;
            for (int o = 0; o < outer; o++)
                for (int i = (o * channels + c) * inner, end = i + inner; i < end; i++) sum += data(x)[i];
            data(out)[c] = (float) (beta == 0f ? sum : beta * (double) data(out)[c] + sum);
        }
    }

    @Override public void channelMax(Tensor x, Tensor out, int outer, int channels, int inner) {
        for (int c = 0; c < channels; c++) {
            float max = Float.NEGATIVE_INFINITY;
            for (int o = 0; o < outer; o++)
                for (int i = (o * channels + c) * inner, end = i + inner; i < end; i++) max = Math.max(max, data(x)[i]);
            data(out)[c] = max;
        }
    }

    @Override public double sumOfSquares(Tensor x) {
        double sum = 0;
        for (float v : data(x)) sum += (double) v * v;
        return sum;
    }

    // ---- rows ---------------------------------------------------------------------------

    @Override public void gatherRows(Tensor table, Tensor indices, Tensor out, int rows, int width) {
        checkRowIndices(indices, rows, table.size() / width);
        for (int r = 0; r < rows; r++) System.arraycopy(data(table), (int) data(indices)[r] * width, data(out), r * width, width);
    }

    @Override public void scatterAddRows(Tensor dOut, Tensor indices, Tensor dTable, int rows, int width) {
        checkRowIndices(indices, rows, dTable.size() / width);
        for (int r = 0; r < rows; r++) {
            int row = (int) data(indices)[r];
            for (int j = 0; j < width; j++) data(dTable)[row * width + j] += data(dOut)[r * width + j];
        }
    }

    /** Every index is checked before anything is written. */
    private static void checkRowIndices(Tensor indices, int rows, int tableRows) {
        for (int r = 0; r < rows; r++) {
            float index = data(indices)[r];
            if (!OpChecks.isRowIndex(index, tableRows)) throw OpChecks.badRowIndex(index, r, tableRows);
        }
    }

    // ---- regularisation -----------------------------------------------------------------

    @Override public void dropoutForward(Tensor x, Tensor mask, Tensor y, float p, long seed) {
        float keptScale = p < 1f ? 1f / (1f - p) : 0f;
        for (int i = 0; i < x.size(); i++) {
            data(mask)[i] = CounterRandom.uniform(seed, i) >= p ? keptScale : 0f;
            data(y)[i] = data(x)[i] * data(mask)[i];
        }
    }

    @Override public String toString() { return "ReferenceBackend"; }
}
