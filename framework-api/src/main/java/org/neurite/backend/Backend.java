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
    void unary(UnaryOp op, Tensor x, Tensor y);

    /**
     * dx = dy * op'(x), where the derivative is computed from whichever of x (the forward input)
     * or y (the forward output) the op needs (see {@link UnaryOp}).
     */
    void unaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx);

    /** out = a op b, element-wise over tensors of equal size; out may alias a or b. */
    void binary(BinaryOp op, Tensor a, Tensor b, Tensor out);

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

    /** Waits for queued work to finish (no-op on synchronous backends). */
    default void synchronize() {}

    @Override default void close() {}
}
