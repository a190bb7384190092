package org.neurite.backend;

import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The op set every backend implements. Layers are written against these ops only, so a layer
 * runs on every backend; the CPU backend is the numerical reference the others are tested
 * against.
 *
 * <p>Conventions: tensors are float32 row-major in the public layout. Unless an op says it
 * accumulates, it overwrites its output. "Offsets" and leading dimensions count elements.
 * Ops may run asynchronously on a device; {@link #download} and any op that returns a value to
 * Java synchronise.
 */
public interface Backend extends AutoCloseable {

    /** The name deployments use to select this backend ({@code cpu}, {@code opencl}). */
    String name();

    /** A human-readable description: device, threads. */
    String description();

    // ---- memory -------------------------------------------------------------------------

    /** A new zero-filled tensor. */
    Tensor allocate(Shape shape);

    /** Copies {@code length} floats from {@code src[srcOffset..]} into {@code dst[dstOffset..]}. */
    void upload(float[] src, int srcOffset, Tensor dst, int dstOffset, int length);

    /** Copies {@code length} floats from {@code src[srcOffset..]} into {@code dst[dstOffset..]}. */
    void download(Tensor src, int srcOffset, float[] dst, int dstOffset, int length);

    default void upload(float[] src, Tensor dst) {
        if (src.length != dst.size())
            throw new IllegalArgumentException("upload of " + src.length + " floats into tensor " + dst.shape());
        upload(src, 0, dst, 0, src.length);
    }

    default float[] download(Tensor src) {
        float[] out = new float[src.size()];
        download(src, 0, out, 0, out.length);
        return out;
    }

    void fill(Tensor t, float value);

    /** dst[dstOffset + i] = src[srcOffset + i] for i in [0, length). */
    void copy(Tensor src, int srcOffset, Tensor dst, int dstOffset, int length);

    // ---- dense linear algebra -----------------------------------------------------------

    /**
     * Batched, strided SGEMM on row-major matrices:
     * {@code C_b = alpha * op(A_b) * op(B_b) + beta * C_b} for b in [0, batch), where
     * {@code op(A)} is m x k, {@code op(B)} is k x n, C is m x n, and
     * {@code X_b} starts at {@code offX + b * strideX}. With {@code beta == 0} C is not read.
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
              Tensor a, int offA, int lda, Tensor b, int offB, int ldb,
              float beta, Tensor c, int offC, int ldc,
              int batch, int strideA, int strideB, int strideC);

    /** Single (non-batched) GEMM. */
    default void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      Tensor a, int offA, int lda, Tensor b, int offB, int ldb,
                      float beta, Tensor c, int offC, int ldc) {
        gemm(transA, transB, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc, 1, 0, 0, 0);
    }

    // ---- convolution and pooling --------------------------------------------------------

    /** y[N,Cout,Ho,Wo] = conv(x[N,Cin,H,W], w[Cout,Cin/groups,kh,kw]) + bias[Cout] (bias may be null). */
    void conv2dForward(Conv2dGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y);

    /** dx[N,Cin,H,W] = gradient of the convolution with respect to its input. */
    void conv2dBackwardData(Conv2dGeometry g, Tensor dy, Tensor w, Tensor dx);

    /** dw[Cout,Cin/groups,kh,kw] and dbias[Cout] (may be null) from x and dy. Overwrites both. */
    void conv2dBackwardFilter(Conv2dGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor dbias);

    /**
     * Max pooling. {@code argmax} (same shape as y) receives, for every output element, the flat
     * index {@code ih * W + iw} of the winning input inside its (n, c) plane; padding never wins.
     */
    void maxPool2dForward(Pool2dGeometry g, Tensor x, Tensor y, Tensor argmax);

    /** dx = scatter of dy through argmax (overwrites dx; overlapping windows accumulate). */
    void maxPool2dBackward(Pool2dGeometry g, Tensor dy, Tensor argmax, Tensor dx);

    /** Average pooling; the divisor counts padded positions iff {@code g.countIncludePad()}. */
    void avgPool2dForward(Pool2dGeometry g, Tensor x, Tensor y);

    void avgPool2dBackward(Pool2dGeometry g, Tensor dy, Tensor dx);

    // ---- element-wise -------------------------------------------------------------------

    /** y = op(x), element-wise; x and y may be the same tensor. */
    default void unary(UnaryOp op, Tensor x, Tensor y) {
        if (x.size() != y.size()) throw new IllegalArgumentException("unary " + op + ": x " + x.shape() + " vs y " + y.shape());
        unary(op, x, 0, y, 0, x.size());
    }

    /**
     * y[yOff + i] = op(x[xOff + i]) for i in [0, length): a slice, e.g. one time step. In the
     * slice forms of the element-wise ops an output range may be an input's range (in place) or
     * lie apart from it, but must not overlap it at another offset.
     */
    void unary(UnaryOp op, Tensor x, int xOff, Tensor y, int yOff, int length);

    /**
     * dx = dy * op'(x), where the derivative is computed from whichever of x (the forward input)
     * or y (the forward output) the op needs (see {@link UnaryOp}).
     */
    default void unaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        if (dy.size() != dx.size() || (x != null && x.size() != dx.size()) || (y != null && y.size() != dx.size()))
            throw new IllegalArgumentException("unaryBackward " + op + ": sizes x " + (x == null ? "-" : x.shape()) + ", y "
                    + (y == null ? "-" : y.shape()) + ", dy " + dy.shape() + ", dx " + dx.shape());
        unaryBackward(op, x, 0, y, 0, dy, 0, dx, 0, dx.size());
    }

    /** The slice form of {@link #unaryBackward(UnaryOp, Tensor, Tensor, Tensor, Tensor)}; x or y may be null if the op does not read it. */
    void unaryBackward(UnaryOp op, Tensor x, int xOff, Tensor y, int yOff, Tensor dy, int dyOff, Tensor dx, int dxOff, int length);

    /** out = a op b, element-wise over tensors of equal size; out may alias a or b. */
    default void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        if (a.size() != b.size() || a.size() != out.size())
            throw new IllegalArgumentException("binary " + op + ": sizes " + a.shape() + ", " + b.shape() + ", " + out.shape());
        binary(op, a, 0, b, 0, out, 0, a.size());
    }

    /** out[oOff + i] = a[aOff + i] op b[bOff + i] for i in [0, length). */
    void binary(BinaryOp op, Tensor a, int aOff, Tensor b, int bOff, Tensor out, int outOff, int length);

    /**
     * Strided block copy: for i in [0, count), copies {@code length} floats from
     * {@code src[srcOff + i*srcStride]} to {@code dst[dstOff + i*dstStride]}. Concatenation and
     * splitting along an axis, and batch-major ↔ time-major transposes of sequences, are one call.
     * Offsets and strides are >= 0 and the destination blocks must not overlap (dstStride >= length).
     */
    void copyBlocks(Tensor src, int srcOff, int srcStride, Tensor dst, int dstOff, int dstStride, int length, int count);

    /**
     * Zero padding of {@code planes} planes of h x w into planes of outH x outW, the input placed
     * at (top, left): y is overwritten (zeros outside). Requires top + h <= outH, left + w <= outW.
     */
    void pad2d(Tensor x, Tensor y, int planes, int h, int w, int top, int left, int outH, int outW);

    /** The adjoint of {@link #pad2d}: dx[p, i, j] = dy[p, top + i, left + j]. */
    void crop2d(Tensor dy, Tensor dx, int planes, int h, int w, int top, int left, int outH, int outW);

    /**
     * Per-channel broadcast: viewing x and out as [outer, channels, inner],
     * {@code out[o,c,i] = x[o,c,i] op v[c]}. Used for biases and per-channel scales.
     */
    void channelBroadcast(BinaryOp op, Tensor x, Tensor v, Tensor out, int outer, int channels, int inner);

    /** Viewing x as [outer, channels, inner], {@code out[c] = beta*out[c] + sum_{o,i} x[o,c,i]}. */
    void channelSum(Tensor x, Tensor out, int outer, int channels, int inner, float beta);

    /** y = alpha * x + beta * y (BLAS axpby). With beta == 0, y is not read. */
    void axpby(float alpha, Tensor x, float beta, Tensor y);

    /** Sum of squares of all elements (for gradient norms); synchronises. */
    double sumOfSquares(Tensor x);

    // ---- normalisation ------------------------------------------------------------------

    /**
     * Batch normalisation over x viewed as [outer, channels, inner] (N, C, H*W), PyTorch semantics.
     * Training: per channel, mean and biased variance over (outer, inner) are written to
     * {@code saveMean} / {@code saveInvStd} (1/sqrt(var + eps)) for backward, and the running
     * statistics become {@code (1-momentum)*running + momentum*batch} (unbiased variance for
     * running_var); training needs at least two values per channel (outer * inner >= 2), as in
     * PyTorch. Evaluation: the running statistics normalise and nothing is saved
     * ({@code saveMean}, {@code saveInvStd} and {@code momentum} are ignored; the tensors may be null).
     * {@code y = (x - mean) * invStd * gamma + beta}; y may be x.
     */
    void batchNormForward(Tensor x, Tensor y, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                          Tensor saveMean, Tensor saveInvStd, int outer, int channels, int inner,
                          float eps, float momentum, boolean training);

    /**
     * Backward of training-mode batch normalisation from the statistics forward saved:
     * dx (overwritten; may be dy), and dgamma, dbeta (overwritten; either may be null).
     */
    void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                           Tensor dx, Tensor dgamma, Tensor dbeta, int outer, int channels, int inner);

    /**
     * Local response normalisation across channels (AlexNet's, PyTorch's {@code LocalResponseNorm}):
     * over x viewed as [batch, channels, inner],
     * {@code scale[n,c,i] = k + alpha/size * sum_{c'} x[n,c',i]^2} for c' in
     * [c - size/2, c + (size-1)/2] (clipped to the channels), {@code y = x * scale^-beta}.
     * {@code scale} is saved for backward. Requires k > 0; y and scale are tensors of their own
     * (each output reads its neighbouring channels), as is dx in backward.
     */
    void lrnForward(Tensor x, Tensor y, Tensor scale, int batch, int channels, int inner,
                    int size, float alpha, float beta, float k);

    /** dx (overwritten) for {@link #lrnForward}, from x, y, the saved scale and dy. */
    void lrnBackward(Tensor x, Tensor y, Tensor scale, Tensor dy, Tensor dx, int batch, int channels, int inner,
                     int size, float alpha, float beta, float k);

    // ---- recurrent cells (time-major slices; every argument is an offset into its tensor) ----

    /**
     * One LSTM step for {@code batch} rows, gate order i, f, g, o (PyTorch's). {@code gates} holds
     * [batch, 4H] pre-activations {@code x W_ih^T + b_ih + h W_hh^T + b_hh} and is overwritten with
     * the activations σ(i), σ(f), tanh(g), σ(o), which backward reads. Then
     * {@code c = f*cPrev + i*g} and {@code h = o*tanh(c)}, each [batch, H] at its offset.
     */
    void lstmCellForward(Tensor gates, int gatesOff, Tensor cPrev, int cPrevOff, Tensor c, int cOff,
                         Tensor h, int hOff, int batch, int hidden);

    /**
     * Backward of one LSTM step. Reads the gate activations, cPrev and c; {@code dh} is dL/dh_t
     * (from the output and from step t+1). {@code dc} holds dL/dc_t from step t+1 on entry and
     * dL/dc_{t-1} on exit. Writes dL/d(pre-activations) into {@code dGates} [batch, 4H].
     */
    void lstmCellBackward(Tensor gates, int gatesOff, Tensor cPrev, int cPrevOff, Tensor c, int cOff,
                          Tensor dh, int dhOff, Tensor dc, int dcOff, Tensor dGates, int dGatesOff, int batch, int hidden);

    /**
     * One GRU step, PyTorch's gate order r, z, n: {@code gi} = x W_ih^T + b_ih and
     * {@code gh} = h W_hh^T + b_hh, each [batch, 3H]. {@code r = σ(gi_r + gh_r)},
     * {@code z = σ(gi_z + gh_z)}, {@code n = tanh(gi_n + r * gh_n)},
     * {@code h = (1 - z) * n + z * hPrev}. {@code saved} [batch, 3H] receives r, z, n for backward.
     */
    void gruCellForward(Tensor gi, int giOff, Tensor gh, int ghOff, Tensor hPrev, int hPrevOff,
                        Tensor h, int hOff, Tensor saved, int savedOff, int batch, int hidden);

    /**
     * Backward of one GRU step from dL/dh_t ({@code dh}): writes dL/d(gi) and dL/d(gh) [batch, 3H]
     * and the direct part of dL/dh_{t-1} ({@code dhPrev}, overwritten: z * dh; the recurrent GEMM
     * adds the part through gh).
     */
    void gruCellBackward(Tensor saved, int savedOff, Tensor gh, int ghOff, Tensor hPrev, int hPrevOff,
                         Tensor dh, int dhOff, Tensor dGi, int dGiOff, Tensor dGh, int dGhOff,
                         Tensor dhPrev, int dhPrevOff, int batch, int hidden);

    // ---- embeddings ---------------------------------------------------------------------

    /**
     * out[r, :] = table[(int) indices[r], :] for r in [0, rows); width = table row length.
     * Every index must be an integer in [0, table rows); a bad one fails before anything is written.
     */
    void gatherRows(Tensor table, Tensor indices, Tensor out, int rows, int width);

    /** dTable[(int) indices[r], :] += dOut[r, :] (dTable is not cleared first). */
    void scatterAddRows(Tensor dOut, Tensor indices, Tensor dTable, int rows, int width);

    // ---- classification -----------------------------------------------------------------

    /** Row-wise softmax of x viewed as [rows, cols]. */
    void softmax(Tensor x, Tensor y, int rows, int cols);

    /** dx = y * (dy - sum(dy * y)) row-wise, the softmax Jacobian-vector product. */
    void softmaxBackward(Tensor y, Tensor dy, Tensor dx, int rows, int cols);

    /**
     * Fused softmax + cross-entropy over logits [rows, classes] with integer class labels stored
     * as floats in {@code labels[rows]}. Writes {@code dLogits = (softmax - onehot) * gradScale}
     * and returns the <em>summed</em> loss over the rows (synchronises).
     */
    double softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits, int rows, int classes, float gradScale);

    // ---- regularisation -----------------------------------------------------------------

    /**
     * Inverted dropout: {@code mask[i] = keep(i) ? 1/(1-p) : 0}, {@code y = x * mask}, where
     * keep(i) is {@code CounterRandom.uniform(seed, i) >= p}, so every backend draws the same mask.
     */
    void dropoutForward(Tensor x, Tensor mask, Tensor y, float p, long seed);

    // ---- optimisers (fused, in place) ---------------------------------------------------

    /**
     * SGD with momentum and L2 weight decay, PyTorch semantics:
     * {@code g = grad + wd*param; v = momentum*v + g; param -= lr * (nesterov ? g + momentum*v : v)}.
     */
    void sgdUpdate(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay, boolean nesterov);

    /**
     * Adam (PyTorch semantics, L2 weight decay added to the gradient), {@code step} counted from 1:
     * {@code m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
     * param -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)}.
     */
    void adamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                    float eps, float weightDecay, int step);

    /**
     * Bytes this backend can still allocate for tensors, for the planner's check before it
     * compiles a model. The default is what the Java heap can still grow to (heap backends);
     * device backends report their device memory.
     */
    default long memoryAvailable() {
        Runtime rt = Runtime.getRuntime();
        return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    }

    /**
     * What this backend's tensors hold and of what total, for out-of-memory messages ("holds 7.2 MiB
     * in 40 tensors of the device's 7,898 MiB"); empty where {@link #memoryAvailable} says it all
     * (heap backends).
     */
    default String memoryReport() { return ""; }

    /** Waits for queued work to finish (no-op on synchronous backends). */
    default void synchronize() {}

    @Override default void close() {}
}
