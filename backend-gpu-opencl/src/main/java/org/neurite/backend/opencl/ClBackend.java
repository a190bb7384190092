package org.neurite.backend.opencl;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.neurite.backend.Backend;
import org.neurite.backend.BackendCounters;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.CheckedBackend;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.backend.DevicePrograms;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.backend.Pool2dGeometry;
import org.neurite.backend.Slice;
import org.neurite.backend.Strided;
import org.neurite.backend.UnaryOp;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The OpenCL backend: every op of {@link Backend} runs on one OpenCL device through JOCL. Tensors
 * are device buffers ({@link ClTensor}) in the public layout; the kernels ({@code .cl} resources,
 * see {@link ClKernels}) are built once per backend as one program, through the on-disk
 * {@link ClProgramCache}. This class is the table of contents: each op hands its tensors' device
 * buffers to the class that launches its kernels, one class per op family. It overrides every
 * derived op of {@link Backend}, each with a fused kernel.
 *
 * <p>It checks nothing: the runtime wraps it in a {@link CheckedBackend}, which refuses bad
 * arguments before they arrive here. What only the data can tell (an embedding index, a max-pooling
 * argmax, a class label) is checked on the device before the op writes anything, with the
 * messages of {@code OpChecks}; a refusal reaches the host at its next wait ({@link ClIndexCheck}).
 *
 * <p>Ops only enqueue work on one in-order queue ({@link ClQueue}, which counts launches and
 * waits: {@link #counters}): nothing waits except {@link #download}, the ops that return a value
 * ({@link #sumOfSquares}, {@link #softmaxCrossEntropy}: reduced on the device, one small result read
 * back) and {@link #synchronize}. Uploads are staged ({@link ClStaging}): the Java array may be
 * reused at once and the host does not wait. A training step's loss, correct count, gradient norm
 * and control stay on the device (the ops taking a {@code Slice} for their result). Reductions sum
 * in double where the device supports it, in a fixed order, so results are reproducible run to run
 * on one device; they match the CPU backend within float rounding (see the parity tests for the
 * tolerances).
 *
 * <p>Allocation and release may come from any thread; ops are issued by one thread at a time, as
 * the engine does (they share the workspaces and the kernels' argument slots).
 */
public final class ClBackend implements Backend {
    /**
     * System property capping the bytes of tensors a backend holds below the device's memory
     * ({@code 512m}, {@code 2g} or bytes): to share a GPU with other work, or to exercise the
     * out-of-memory path in tests on a device as large as the host's RAM.
     */
    public static final String MEMORY_LIMIT_PROPERTY = "neurite.opencl.memoryLimit";

    private final ClContext device;
    private final ClMemory memory;
    private final ClWorkspace columns;
    private final ClCopies copies;
    private final ClConv2d conv;
    private final ClPool2d pool;
    private final ClElementwise elementwise;
    private final ClReductions reductions;
    private final ClNormalization normalization;
    private final ClRecurrentCells cells;
    private final ClIndexCheck indexCheck;
    private final ClEmbedding embedding;
    private final ClOptimizers optimizers;
    private final ClDevicePrograms programs;
    private boolean closed;

    ClBackend(ClDevices.Found device, ClProgramCache cache) {
        this(device, cache, ClConv2d.COLUMN_BUDGET, ClMemory.limitProperty());
    }

    /**
     * A backend whose convolutions work in chunks of at most {@code columnBudget} column floats
     * (tests use small ones) and whose tensors may take at most {@code memoryLimit} bytes
     * (Long.MAX_VALUE: the device's global memory).
     */
    ClBackend(ClDevices.Found found, ClProgramCache cache, long columnBudget, long memoryLimit) {
        // A bad -Dneurite.opencl.conv fails before anything is opened on the device.
        ClConv2d.Choice forcedConv = ClConvTuning.forced(System.getProperty(ClConvTuning.PROPERTY));
        this.device = new ClContext(found, cache);
        this.memory = new ClMemory(this, device, memoryLimit);
        this.columns = new ClWorkspace(device, "im2col columns / staging");
        this.copies = new ClCopies(device, columns);
        this.conv = new ClConv2d(device.kernels, device.gemm, columns, copies, columnBudget);
        try {
            conv.use(ClConvTuning.choose(forcedConv, device, copies, cache.tuningFile(device.deviceKey, "conv")));
        } catch (RuntimeException e) {
            columns.close();
            device.finish();
            device.close();
            throw e;
        }
        this.indexCheck = new ClIndexCheck(device);
        this.pool = new ClPool2d(device.kernels, indexCheck);
        this.embedding = new ClEmbedding(device.kernels, indexCheck);
        this.elementwise = new ClElementwise(device.kernels);
        this.reductions = new ClReductions(device, indexCheck);
        this.normalization = new ClNormalization(device.kernels);
        this.cells = new ClRecurrentCells(device.kernels, device.gemm);
        this.optimizers = new ClOptimizers(device);
        this.programs = new ClDevicePrograms(device);
    }

    @Override public String name() { return "opencl"; }

    @Override public String description() {
        ClDeviceInfo info = device.info;
        return String.format(Locale.ROOT, "OpenCL %s (%s), %d compute units, %.1f GiB, %s; kernels %s in %d ms; conv: %s; sgemm: %s",
                info.name(), info.platform(), info.computeUnits(), info.globalMemoryBytes() / (double) (1L << 30),
                info.fp64() ? "double-precision sums" : "single-precision sums",
                device.kernels.fromCache() ? "loaded from the cache" : "compiled", device.kernels.buildNanos() / 1_000_000,
                conv.choice(), device.gemm.choice());
    }

    /** Plugins' device kernels ({@link DevicePrograms}) run on this backend's context and queue. */
    @Override public <T> Optional<T> extension(Class<T> type) {
        return type == DevicePrograms.class ? Optional.of(type.cast(programs)) : Backend.super.extension(type);
    }

    /** The device this backend runs on. */
    public ClDeviceInfo device() { return device.info; }

    /** The command queue every op enqueues on (tests of the release path look at it). */
    ClQueue commandQueue() { return device.queue; }

    /** Bytes the intermediate-results workspace (im2col columns, partial sums) holds now. */
    long workspaceBytes() { return columns.bytes(); }

    /** The convolution paths in use; tests replace the choice to run both. */
    ClConv2d convolutions() { return conv; }

    /** The SGEMM kernels in use; tests replace it to run every variant. */
    ClGemm gemmKernels() { return device.gemm; }

    /** Whether this backend's kernels were loaded from the program cache instead of compiled. */
    public boolean kernelsFromCache() { return device.kernels.fromCache(); }

    // ---- memory -------------------------------------------------------------------------

    @Override public Tensor allocate(Shape shape) { return memory.allocate(shape); }

    /** Bytes of tensors this backend can still allocate under its limit (the planner's check before it compiles a model). */
    @Override public long memoryAvailable() { return memory.available(); }

    /** "holds M MiB in K tensors of the device's T MiB [(limited to L MiB by -D...)]", for out-of-memory messages. */
    @Override public String memoryReport() { return memory.report(); }

    @Override public void upload(float[] src, int srcOffset, Slice dst) { copies.upload(src, srcOffset, dst); }

    @Override public void download(Slice src, float[] dst, int dstOffset) { copies.download(src, dst, dstOffset); }

    @Override public void fill(Slice t, float value) { copies.fill(t, value); }

    @Override public void copy(Slice src, Slice dst) { copies.copy(src, dst); }

    @Override public void copyBlocks(Strided src, Strided dst, int length, int count) {
        copies.copyBlocks(buffer(src.tensor()), src.offset(), src.stride(), buffer(dst.tensor()), dst.offset(), dst.stride(), length, count);
    }

    @Override public void pad2d(Tensor x, Tensor y, int planes, int h, int w, int top, int left, int outH, int outW) {
        copies.pad2d(buffer(x), buffer(y), h, w, top, left, outH, outW);
    }

    @Override public void crop2d(Tensor dy, Tensor dx, int planes, int h, int w, int top, int left, int outH, int outW) {
        copies.crop2d(buffer(dy), buffer(dx), h, w, top, left, outH, outW);
    }

    // ---- dense linear algebra, convolution and pooling ----------------------------------

    @Override public void gemm(Gemm g, float alpha, Matrix a, Matrix b, float beta, Matrix c) { device.gemm.multiply(g, alpha, a, b, beta, c); }

    @Override public void conv2dForward(Conv2dGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
        conv.forward(g, buffer(x), buffer(w), buffer(bias), null, buffer(y));
    }

    /** The bias and the activation in the store of the convolution's product: one launch (per chunk and group on the im2col path). */
    @Override public void conv2dForward(Conv2dGeometry g, Tensor x, Tensor w, Tensor bias, UnaryOp activation, Tensor y) {
        conv.forward(g, buffer(x), buffer(w), buffer(bias), activation, buffer(y));
    }

    /** One GEMM launch: y = x · w^T with the bias (by column of y) and the activation in its store. */
    @Override public void denseForward(Tensor x, Tensor w, Tensor bias, UnaryOp activation, Tensor y, int rows, int in, int out) {
        device.gemm.multiplyWithEpilogue(false, true, rows, out, in, 1f, buffer(x).mem(), 0, in, buffer(w).mem(), 0, in,
                0f, buffer(y).mem(), 0, out, 1, 0, 0, 0, bias == null ? null : buffer(bias).mem(), 0, ClGemm.epilogue(activation, true));
    }

    @Override public void conv2dBackwardData(Conv2dGeometry g, Tensor dy, Tensor w, Tensor dx) {
        conv.backwardData(g, buffer(dy), buffer(w), buffer(dx));
    }

    @Override public void conv2dBackwardFilter(Conv2dGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        conv.backwardFilter(g, buffer(x), buffer(dy), buffer(dw), buffer(dbias));
    }

    @Override public void maxPool2dForward(Pool2dGeometry g, Tensor x, Tensor y, Tensor argmax) {
        pool.maxForward(g, buffer(x), buffer(y), buffer(argmax));
    }

    @Override public void maxPool2dBackward(Pool2dGeometry g, Tensor dy, Tensor argmax, Tensor dx) {
        pool.maxBackward(g, buffer(dy), buffer(argmax), null, null, buffer(dx));
    }

    /** One GEMM launch: dx = dy · w, times the derivative of the activation before the layer (from x) in its store. */
    @Override public void denseBackwardData(Tensor dy, Tensor w, Tensor x, UnaryOp activation, Tensor dx, int rows, int in, int out) {
        device.gemm.multiplyWithEpilogue(false, false, rows, in, out, 1f, buffer(dy).mem(), 0, out, buffer(w).mem(), 0, in,
                0f, buffer(dx).mem(), 0, in, 1, 0, 0, 0, activation == null ? null : buffer(x).mem(), 0,
                activation == null ? 0 : ClGemm.derivativeEpilogue(activation));
    }

    /** The activation's derivative in the gather of the pooling's backward: no launch of its own. */
    @Override public void maxPool2dBackward(Pool2dGeometry g, Tensor dy, Tensor argmax, Tensor x, UnaryOp activation, Tensor dx) {
        pool.maxBackward(g, buffer(dy), buffer(argmax), activation == null ? null : buffer(x), activation, buffer(dx));
    }

    @Override public void avgPool2dForward(Pool2dGeometry g, Tensor x, Tensor y) { pool.avgForward(g, buffer(x), buffer(y)); }

    @Override public void avgPool2dBackward(Pool2dGeometry g, Tensor dy, Tensor dx) { pool.avgBackward(g, buffer(dy), buffer(dx)); }

    // ---- element-wise -------------------------------------------------------------------

    @Override public void unary(UnaryOp op, Slice x, Slice y) { elementwise.unary(op, x, y); }

    @Override public void unaryBackward(UnaryOp op, Slice x, Slice y, Slice dy, Slice dx) {
        elementwise.unaryBackward(op, x, y, dy, dx);
    }

    @Override public void binary(BinaryOp op, Slice a, Slice b, Slice out) { elementwise.binary(op, a, b, out); }

    /** One launch: the sum, then the activation on the rounded sum, as the two ops round them (a residual block's relu(y + x)). */
    @Override public void addForward(Tensor a, Tensor b, UnaryOp activation, Tensor out) {
        elementwise.addActivation(buffer(a), buffer(b), activation, buffer(out));
    }

    @Override public void affine(Slice x, float scale, float shift, Slice y) { elementwise.affine(x, scale, shift, y); }

    @Override public void axpby(float alpha, Tensor x, float beta, Tensor y) { elementwise.axpby(alpha, buffer(x), beta, buffer(y)); }

    @Override public void channelBroadcast(BinaryOp op, Tensor x, Tensor v, Tensor out, int outer, int channels, int inner) {
        elementwise.channelBroadcast(op, buffer(x), buffer(v), buffer(out), channels, inner);
    }

    @Override public void dropoutForward(Tensor x, Tensor mask, Tensor y, float p, long seed) {
        elementwise.dropoutForward(buffer(x), buffer(mask), buffer(y), p, seed);
    }

    /** {@code CounterRandom.uniform(seed, first + i)} for i in [0, out.size()), computed on the device (for tests). */
    void counterUniform(long seed, long first, Tensor out) { elementwise.counterUniform(seed, first, buffer(out)); }

    // ---- reductions and softmax ---------------------------------------------------------

    @Override public void channelSum(Tensor x, Tensor out, int outer, int channels, int inner, float beta) {
        reductions.channelSum(buffer(x), buffer(out), outer, channels, inner, beta);
    }

    @Override public void channelMax(Tensor x, Tensor out, int outer, int channels, int inner) {
        reductions.channelMax(buffer(x), buffer(out), outer, channels, inner);
    }

    @Override public double sumOfSquares(Tensor x) { return reductions.sumOfSquares(buffer(x)); }

    @Override public void softmax(Tensor x, Tensor y, int rows, int cols) { reductions.softmax(buffer(x), buffer(y), rows, cols); }

    @Override public void softmaxBackward(Tensor y, Tensor dy, Tensor dx, int rows, int cols) {
        reductions.softmaxBackward(buffer(y), buffer(dy), buffer(dx), rows, cols);
    }

    @Override public double softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits, int rows, int classes, float gradScale) {
        return reductions.softmaxCrossEntropy(buffer(logits), buffer(labels), buffer(dLogits), rows, classes, gradScale);
    }

    // ---- normalisation ------------------------------------------------------------------

    @Override
    public void batchNormForward(Tensor x, Tensor y, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                 Tensor saveMean, Tensor saveInvStd, int outer, int channels, int inner,
                                 float eps, float momentum, boolean training) {
        normalization.batchNormForward(buffer(x), buffer(y), buffer(gamma), buffer(beta), buffer(runningMean), buffer(runningVar),
                buffer(saveMean), buffer(saveInvStd), outer, channels, inner, eps, momentum, training, null);
    }

    @Override
    public void batchNormForward(Tensor x, Tensor y, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                 Tensor saveMean, Tensor saveInvStd, int outer, int channels, int inner,
                                 float eps, float momentum, boolean training, UnaryOp activation) {
        normalization.batchNormForward(buffer(x), buffer(y), buffer(gamma), buffer(beta), buffer(runningMean), buffer(runningVar),
                buffer(saveMean), buffer(saveInvStd), outer, channels, inner, eps, momentum, training, activation);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                  Tensor dx, Tensor dgamma, Tensor dbeta, int outer, int channels, int inner) {
        normalization.batchNormBackward(buffer(x), buffer(dy), buffer(gamma), buffer(saveMean), buffer(saveInvStd), null, null,
                buffer(dx), buffer(dgamma), buffer(dbeta), outer, channels, inner);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, UnaryOp activation, Tensor y,
                                  Tensor dx, Tensor dgamma, Tensor dbeta, int outer, int channels, int inner) {
        normalization.batchNormBackward(buffer(x), buffer(dy), buffer(gamma), buffer(saveMean), buffer(saveInvStd), activation, buffer(y),
                buffer(dx), buffer(dgamma), buffer(dbeta), outer, channels, inner);
    }

    @Override
    public void lrnForward(Tensor x, Tensor y, Tensor scale, int batch, int channels, int inner, int size, float alpha, float beta, float k) {
        normalization.lrnForward(buffer(x), buffer(y), buffer(scale), channels, inner, size, alpha, beta, k);
    }

    @Override
    public void lrnBackward(Tensor x, Tensor y, Tensor scale, Tensor dy, Tensor dx, int batch, int channels, int inner,
                            int size, float alpha, float beta, float k) {
        normalization.lrnBackward(buffer(x), buffer(y), buffer(scale), buffer(dy), buffer(dx), channels, inner, size, alpha, beta);
    }

    // ---- recurrent cells ----------------------------------------------------------------

    @Override public void lstmCellForward(Slice gates, Slice cPrev, Slice c, Slice h, int batch, int hidden) {
        cells.lstmForward(gates, cPrev, c, h, hidden);
    }

    @Override public void lstmStepForward(Matrix hPrev, Matrix wHh, Slice gates, Slice cPrev, Slice c, Slice h, int batch, int hidden) {
        cells.lstmStep(buffer(hPrev.tensor()).mem(), hPrev.offset(), hPrev.ld(), buffer(wHh.tensor()).mem(), wHh.offset(), wHh.ld(),
                gates, cPrev, c, h, batch, hidden);
    }

    @Override public void lstmCellBackward(Slice gates, Slice cPrev, Slice c, Slice dh, Slice dc, Slice dGates, int batch, int hidden) {
        cells.lstmBackward(gates, cPrev, c, dh, dc, dGates, hidden);
    }

    @Override public void gruCellForward(Slice gi, Slice gh, Slice hPrev, Slice h, Slice saved, int batch, int hidden) {
        cells.gruForward(gi, gh, hPrev, h, saved, hidden);
    }

    @Override public void gruStepForward(Slice hPrev, Matrix wHh, Slice gi, Slice gh, Slice h, Slice saved, int batch, int hidden) {
        cells.gruStep(hPrev, buffer(wHh.tensor()).mem(), wHh.offset(), wHh.ld(), gi, gh, h, saved,
                batch, hidden);
    }

    @Override public void gruCellBackward(Slice saved, Slice gh, Slice hPrev, Slice dh, Slice dGi, Slice dGh, Slice dhPrev,
                                          int batch, int hidden) {
        cells.gruBackward(saved, gh, hPrev, dh, dGi, dGh, dhPrev, hidden);
    }

    // ---- embeddings ---------------------------------------------------------------------

    @Override public void gatherRows(Tensor table, Tensor indices, Tensor out, int rows, int width) {
        embedding.gatherRows(buffer(table), buffer(indices), buffer(out), rows, width);
    }

    @Override public void scatterAddRows(Tensor dOut, Tensor indices, Tensor dTable, int rows, int width) {
        embedding.scatterAddRows(buffer(dOut), buffer(indices), buffer(dTable), rows, width);
    }

    // ---- optimisers ---------------------------------------------------------------------

    @Override public void sgdUpdate(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay, boolean nesterov) {
        optimizers.sgd(buffer(param), buffer(grad), buffer(velocity), lr, momentum, weightDecay, nesterov, null);
    }

    @Override public void adamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                                     float eps, float weightDecay, int step) {
        optimizers.adam(buffer(param), buffer(grad), buffer(m), buffer(v), lr, beta1, beta2, eps, weightDecay, step, null);
    }

    @Override public void adamwUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                                      float eps, float weightDecay, int step) {
        optimizers.adamw(buffer(param), buffer(grad), buffer(m), buffer(v), lr, beta1, beta2, eps, weightDecay, step, null);
    }

    @Override public void rmspropUpdate(Tensor param, Tensor grad, Tensor squareAverage, Tensor momentumBuffer, Tensor gradAverage,
                                        float lr, float alpha, float eps, float weightDecay, float momentum, boolean centered) {
        optimizers.rmsprop(buffer(param), buffer(grad), buffer(squareAverage), buffer(momentumBuffer), buffer(gradAverage), lr, alpha,
                eps, weightDecay, momentum, centered, null);
    }

    // ---- the training step on the device ------------------------------------------------

    @Override public void sumOfSquares(List<Tensor> xs, Slice out) {
        reductions.sumOfSquares(xs, out);
    }

    @Override public void softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits, int rows, int classes, float gradScale,
                                              Slice loss) {
        reductions.softmaxCrossEntropy(buffer(logits), buffer(labels), buffer(dLogits), rows, classes, gradScale, loss);
    }

    @Override public void countCorrect(Tensor logits, Tensor labels, int rows, int classes, Slice out) {
        reductions.countCorrect(buffer(logits), buffer(labels), rows, classes, out);
    }

    @Override public void stepControl(Slice squaredNorm, Slice loss, float maxNorm, Slice control) {
        reductions.stepControl(squaredNorm, loss, maxNorm, control);
    }

    @Override public void sgdUpdate(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay, boolean nesterov,
                                    Slice control) {
        optimizers.sgd(buffer(param), buffer(grad), buffer(velocity), lr, momentum, weightDecay, nesterov, control);
    }

    @Override public void adamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                                     float eps, float weightDecay, int step, Slice control) {
        optimizers.adam(buffer(param), buffer(grad), buffer(m), buffer(v), lr, beta1, beta2, eps, weightDecay, step, control);
    }

    @Override public void adamwUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                                      float eps, float weightDecay, int step, Slice control) {
        optimizers.adamw(buffer(param), buffer(grad), buffer(m), buffer(v), lr, beta1, beta2, eps, weightDecay, step, control);
    }

    @Override public void rmspropUpdate(Tensor param, Tensor grad, Tensor squareAverage, Tensor momentumBuffer, Tensor gradAverage,
                                        float lr, float alpha, float eps, float weightDecay, float momentum, boolean centered, Slice control) {
        optimizers.rmsprop(buffer(param), buffer(grad), buffer(squareAverage), buffer(momentumBuffer), buffer(gradAverage), lr, alpha,
                eps, weightDecay, momentum, centered, control);
    }

    // ---- lifecycle ----------------------------------------------------------------------

    @Override public void synchronize() { device.finish(); }

    /** True: ops only enqueue work; the host waits at a read-back or {@link #synchronize}. */
    @Override public boolean asynchronous() { return true; }

    /** Every kernel, fill, copy and upload enqueued, and every blocking read and finish, internal ones included ({@link ClQueue}). */
    @Override public Optional<BackendCounters> counters() { return Optional.of(device.queue.counters()); }

    @Override public synchronized void close() {
        if (closed) return;
        closed = true;
        device.queue.close();   // waits without reporting a refusal still pending: nothing is read any more
        memory.close();
        columns.close();
        reductions.close();
        optimizers.close();
        indexCheck.close();
        programs.close();
        device.close();
    }

    private static ClTensor buffer(Tensor t) { return ClTensor.of(t); }
}
