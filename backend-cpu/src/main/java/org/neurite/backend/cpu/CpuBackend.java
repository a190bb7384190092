package org.neurite.backend.cpu;

import java.util.Arrays;
import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.backend.Pool2dGeometry;
import org.neurite.backend.UnaryOp;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The pure-Java CPU backend and Neurite's numerical reference. Tensors are heap
 * {@code float[]}s in the public layout ({@link CpuTensor}); work runs on a fixed pool of
 * {@link BackendOptions#resolvedThreads()} threads ({@link CpuThreads}), with per-worker scratch
 * that grows to the largest size needed and is then reused. This class checks arguments (owner,
 * sizes, offsets) and hands the arrays to one kernel class per op family:
 * {@link CpuGemm} (Vector API SGEMM), {@link CpuConv2d} (im2col + GEMM), {@link CpuPool2d},
 * {@link CpuElementwise}, {@link CpuSoftmax} and {@link CpuOptimizers}.
 *
 * <p>Ops are synchronous and run one at a time (the pool's monitor serialises callers). Every op
 * is deterministic in the strong sense: the same inputs give bit-identical outputs for any
 * thread count, because work is split so that each output element is computed by one task in a
 * fixed order (see each kernel class for how).
 */
public final class CpuBackend implements Backend {
    private final CpuThreads threads;
    private final CpuGemm gemm;
    private final CpuConv2d conv;
    private final CpuPool2d pool;
    private final CpuElementwise elementwise;
    private final CpuSoftmax softmax;
    private final CpuOptimizers optimizers;

    public CpuBackend(BackendOptions options) {
        this.threads = new CpuThreads(options.resolvedThreads());
        this.gemm = new CpuGemm(threads);
        this.conv = new CpuConv2d(threads, gemm);
        this.pool = new CpuPool2d(threads);
        this.elementwise = new CpuElementwise(threads);
        this.softmax = new CpuSoftmax(threads);
        this.optimizers = new CpuOptimizers(threads);
    }

    /** A backend with {@code threads} workers (0: one per core). */
    public CpuBackend(int threads) {
        this(new BackendOptions(threads, null));
    }

    @Override public String name() { return "cpu"; }

    @Override public String description() {
        return "CPU, " + threads.size() + " thread" + (threads.size() == 1 ? "" : "s")
                + ", " + CpuGemm.SPECIES.vectorBitSize() + "-bit vectors";
    }

    /** Worker threads, the calling thread included. */
    public int threads() { return threads.size(); }

    @Override public void close() { threads.close(); }

    // ---- memory -------------------------------------------------------------------------

    @Override public Tensor allocate(Shape shape) { return new CpuTensor(this, shape); }

    @Override public void upload(float[] src, int srcOffset, Tensor dst, int dstOffset, int length) {
        float[] d = data(dst, "dst");
        checkRange("src", src.length, srcOffset, length);
        checkRange("dst", d.length, dstOffset, length);
        System.arraycopy(src, srcOffset, d, dstOffset, length);
    }

    @Override public void download(Tensor src, int srcOffset, float[] dst, int dstOffset, int length) {
        float[] s = data(src, "src");
        checkRange("src", s.length, srcOffset, length);
        checkRange("dst", dst.length, dstOffset, length);
        System.arraycopy(s, srcOffset, dst, dstOffset, length);
    }

    @Override public void fill(Tensor t, float value) { Arrays.fill(data(t, "t"), value); }

    @Override public void copy(Tensor src, int srcOffset, Tensor dst, int dstOffset, int length) {
        float[] s = data(src, "src"), d = data(dst, "dst");
        checkRange("src", s.length, srcOffset, length);
        checkRange("dst", d.length, dstOffset, length);
        System.arraycopy(s, srcOffset, d, dstOffset, length);
    }

    // ---- dense linear algebra -----------------------------------------------------------

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     Tensor a, int offA, int lda, Tensor b, int offB, int ldb,
                     float beta, Tensor c, int offC, int ldc,
                     int batch, int strideA, int strideB, int strideC) {
        float[] av = data(a, "a"), bv = data(b, "b"), cv = data(c, "c");
        if (m < 0 || n < 0 || k < 0 || batch < 0)
            throw new IllegalArgumentException("gemm sizes must be >= 0: m=" + m + " n=" + n + " k=" + k + " batch=" + batch);
        if (m == 0 || n == 0 || batch == 0) return;
        // Stored shapes: A is [m, k] ([k, m] when transposed), B is [k, n] ([n, k]), C is [m, n].
        if (k > 0) {
            checkMatrix("A", av.length, offA, lda, transA ? k : m, transA ? m : k, batch, strideA);
            checkMatrix("B", bv.length, offB, ldb, transB ? n : k, transB ? k : n, batch, strideB);
        }
        checkMatrix("C", cv.length, offC, ldc, m, n, batch, strideC);
        gemm.gemm(transA, transB, m, n, k, alpha, av, offA, lda, bv, offB, ldb, beta, cv, offC, ldc, batch, strideA, strideB, strideC);
    }

    // ---- convolution and pooling --------------------------------------------------------

    @Override public void conv2dForward(Conv2dGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
        checkConv(g);
        conv.forward(g, sized(x, "x", inputSize(g)), sized(w, "w", weightSize(g)),
                bias == null ? null : sized(bias, "bias", g.outChannels()), sized(y, "y", outputSize(g)));
    }

    @Override public void conv2dBackwardData(Conv2dGeometry g, Tensor dy, Tensor w, Tensor dx) {
        checkConv(g);
        conv.backwardData(g, sized(dy, "dy", outputSize(g)), sized(w, "w", weightSize(g)), sized(dx, "dx", inputSize(g)));
    }

    @Override public void conv2dBackwardFilter(Conv2dGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        checkConv(g);
        conv.backwardFilter(g, sized(x, "x", inputSize(g)), sized(dy, "dy", outputSize(g)), sized(dw, "dw", weightSize(g)),
                dbias == null ? null : sized(dbias, "dbias", g.outChannels()));
    }

    @Override public void maxPool2dForward(Pool2dGeometry g, Tensor x, Tensor y, Tensor argmax) {
        checkPool(g);
        pool.maxForward(g, sized(x, "x", poolInputSize(g)), sized(y, "y", poolOutputSize(g)), sized(argmax, "argmax", poolOutputSize(g)));
    }

    @Override public void maxPool2dBackward(Pool2dGeometry g, Tensor dy, Tensor argmax, Tensor dx) {
        checkPool(g);
        pool.maxBackward(g, sized(dy, "dy", poolOutputSize(g)), sized(argmax, "argmax", poolOutputSize(g)), sized(dx, "dx", poolInputSize(g)));
    }

    @Override public void avgPool2dForward(Pool2dGeometry g, Tensor x, Tensor y) {
        checkPool(g);
        pool.avgForward(g, sized(x, "x", poolInputSize(g)), sized(y, "y", poolOutputSize(g)));
    }

    @Override public void avgPool2dBackward(Pool2dGeometry g, Tensor dy, Tensor dx) {
        checkPool(g);
        pool.avgBackward(g, sized(dy, "dy", poolOutputSize(g)), sized(dx, "dx", poolInputSize(g)));
    }

    // ---- element-wise -------------------------------------------------------------------

    @Override public void unary(UnaryOp op, Tensor x, Tensor y) {
        float[] xv = data(x, "x");
        elementwise.unary(op, xv, sized(y, "y", xv.length), xv.length);
    }

    @Override public void unaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        float[] dyv = data(dy, "dy");
        int n = dyv.length;
        boolean needsX = op == UnaryOp.RELU || op == UnaryOp.SQUARE;
        boolean needsY = op == UnaryOp.SIGMOID || op == UnaryOp.TANH || op == UnaryOp.EXP;
        if (needsX && x == null) throw new IllegalArgumentException(op + " backward needs the forward input x");
        if (needsY && y == null) throw new IllegalArgumentException(op + " backward needs the forward output y");
        elementwise.unaryBackward(op, needsX ? sized(x, "x", n) : null, needsY ? sized(y, "y", n) : null, dyv, sized(dx, "dx", n), n);
    }

    @Override public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        float[] av = data(a, "a");
        elementwise.binary(op, av, sized(b, "b", av.length), sized(out, "out", av.length), av.length);
    }

    @Override public void channelBroadcast(BinaryOp op, Tensor x, Tensor v, Tensor out, int outer, int channels, int inner) {
        int n = viewSize(outer, channels, inner);
        elementwise.channelBroadcast(op, sized(x, "x", n), sized(v, "v", channels), sized(out, "out", n), outer, channels, inner);
    }

    @Override public void channelSum(Tensor x, Tensor out, int outer, int channels, int inner, float beta) {
        int n = viewSize(outer, channels, inner);
        elementwise.channelSum(sized(x, "x", n), sized(out, "out", channels), outer, channels, inner, beta);
    }

    @Override public void axpby(float alpha, Tensor x, float beta, Tensor y) {
        float[] xv = data(x, "x");
        elementwise.axpby(alpha, xv, beta, sized(y, "y", xv.length), xv.length);
    }

    @Override public double sumOfSquares(Tensor x) {
        float[] xv = data(x, "x");
        return elementwise.sumOfSquares(xv, xv.length);
    }

    // ---- classification -----------------------------------------------------------------

    @Override public void softmax(Tensor x, Tensor y, int rows, int cols) {
        int n = viewSize(1, rows, cols);
        softmax.softmax(sized(x, "x", n), sized(y, "y", n), rows, cols);
    }

    @Override public void softmaxBackward(Tensor y, Tensor dy, Tensor dx, int rows, int cols) {
        int n = viewSize(1, rows, cols);
        softmax.softmaxBackward(sized(y, "y", n), sized(dy, "dy", n), sized(dx, "dx", n), rows, cols);
    }

    @Override public double softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits, int rows, int classes, float gradScale) {
        int n = viewSize(1, rows, classes);
        return softmax.crossEntropy(sized(logits, "logits", n), sized(labels, "labels", rows), sized(dLogits, "dLogits", n),
                rows, classes, gradScale);
    }

    // ---- regularisation -----------------------------------------------------------------

    @Override public void dropoutForward(Tensor x, Tensor mask, Tensor y, float p, long seed) {
        if (!(p >= 0f && p <= 1f)) throw new IllegalArgumentException("dropout probability must be in [0, 1], got " + p);
        float[] xv = data(x, "x");
        elementwise.dropout(xv, sized(mask, "mask", xv.length), sized(y, "y", xv.length), p, seed, xv.length);
    }

    // ---- optimisers ---------------------------------------------------------------------

    @Override public void sgdUpdate(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay, boolean nesterov) {
        float[] p = data(param, "param");
        if (nesterov && momentum == 0f) throw new IllegalArgumentException("nesterov SGD needs momentum > 0");
        if (momentum != 0f && velocity == null) throw new IllegalArgumentException("SGD with momentum " + momentum + " needs a velocity tensor");
        optimizers.sgd(p, sized(grad, "grad", p.length), momentum == 0f ? null : sized(velocity, "velocity", p.length),
                lr, momentum, weightDecay, nesterov, p.length);
    }

    @Override public void adamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                                     float eps, float weightDecay, int step) {
        if (step < 1) throw new IllegalArgumentException("Adam step is counted from 1, got " + step);
        float[] p = data(param, "param");
        optimizers.adam(p, sized(grad, "grad", p.length), sized(m, "m", p.length), sized(v, "v", p.length),
                lr, beta1, beta2, eps, weightDecay, step, p.length);
    }

    // ---- argument checks ----------------------------------------------------------------

    /** The storage of a tensor this backend allocated. */
    private float[] data(Tensor t, String name) {
        if (t == null) throw new IllegalArgumentException(name + " is null");
        if (!(t instanceof CpuTensor ct) || ct.backend() != this)
            throw new IllegalArgumentException(name + " " + t.shape() + " belongs to backend '" + t.backend().name()
                    + "' (" + t.backend().description() + "), not to this CPU backend");
        return ct.data;
    }

    /** The storage of a tensor that must hold exactly {@code size} elements. */
    private float[] sized(Tensor t, String name, int size) {
        float[] d = data(t, name);
        if (d.length != size)
            throw new IllegalArgumentException(name + " " + t.shape() + " has " + d.length + " elements, expected " + size);
        return d;
    }

    private static void checkRange(String name, int length, int offset, int count) {
        if (offset < 0 || count < 0 || (long) offset + count > length)
            throw new IllegalArgumentException(name + " range [" + offset + ", " + ((long) offset + count) + ") is outside [0, " + length + ")");
    }

    /** A stored [rows, cols] matrix with leading dimension ld, repeated batch times stride apart, fits its array. */
    private static void checkMatrix(String name, int length, int offset, int ld, int rows, int cols, int batch, int stride) {
        if (ld < Math.max(1, cols))
            throw new IllegalArgumentException("gemm: leading dimension of " + name + " is " + ld + ", must be >= " + cols);
        if (offset < 0 || stride < 0)
            throw new IllegalArgumentException("gemm: offset and stride of " + name + " must be >= 0, got " + offset + " and " + stride);
        long last = offset + (long) (batch - 1) * stride + (long) (rows - 1) * ld + cols - 1;
        if (last >= length)
            throw new IllegalArgumentException("gemm: " + name + " [" + rows + " x " + cols + ", ld " + ld + "] x " + batch
                    + " from offset " + offset + " (stride " + stride + ") reaches element " + last + " of a tensor of " + length);
    }

    private static int viewSize(int outer, int channels, int inner) {
        if (outer < 0 || channels < 0 || inner < 0)
            throw new IllegalArgumentException("view sizes must be >= 0: " + outer + " x " + channels + " x " + inner);
        long n = (long) outer * channels * inner;
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("view " + outer + " x " + channels + " x " + inner + " is too large");
        return (int) n;
    }

    private static void checkConv(Conv2dGeometry g) {
        if (g.batch() < 0 || g.height() < 1 || g.width() < 1)
            throw new IllegalArgumentException("conv2d input must be non-empty: " + g);
        if (g.outHeight() < 1 || g.outWidth() < 1)
            throw new IllegalArgumentException("conv2d kernel " + g.kernelH() + "x" + g.kernelW() + " (dilation " + g.dilationH() + "x"
                    + g.dilationW() + ") does not fit the padded input " + g.height() + "x" + g.width() + ": " + g);
    }

    private static void checkPool(Pool2dGeometry g) {
        if (g.batch() < 0 || g.channels() < 0 || g.height() < 1 || g.width() < 1)
            throw new IllegalArgumentException("pooling input must be non-empty: " + g);
        // PyTorch's rule; it guarantees every window overlaps the input.
        if (g.padH() > g.kernelH() / 2 || g.padW() > g.kernelW() / 2)
            throw new IllegalArgumentException("pooling padding " + g.padH() + "x" + g.padW() + " must be at most half the kernel "
                    + g.kernelH() + "x" + g.kernelW());
        if (g.outHeight() < 1 || g.outWidth() < 1)
            throw new IllegalArgumentException("pooling window " + g.kernelH() + "x" + g.kernelW() + " does not fit the input: " + g);
    }

    private static int inputSize(Conv2dGeometry g) { return viewSize(g.batch(), g.inChannels(), g.height() * g.width()); }

    private static int outputSize(Conv2dGeometry g) { return viewSize(g.batch(), g.outChannels(), g.outHeight() * g.outWidth()); }

    private static int weightSize(Conv2dGeometry g) {
        return viewSize(g.outChannels(), g.inChannelsPerGroup(), g.kernelH() * g.kernelW());
    }

    private static int poolInputSize(Pool2dGeometry g) { return viewSize(g.batch(), g.channels(), g.height() * g.width()); }

    private static int poolOutputSize(Pool2dGeometry g) { return viewSize(g.batch(), g.channels(), g.outHeight() * g.outWidth()); }
}
