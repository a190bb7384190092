package org.neurite.backend;

import static org.neurite.backend.OpChecks.*;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The one place backend arguments are checked: wraps a backend and refuses, with the messages of
 * {@link OpChecks}, every call whose tensors belong to another backend or are null where a
 * tensor is needed, whose sizes do not match the op's view, whose slices and blocks leave their
 * tensor, whose outputs overlap their inputs where the op forbids it, and whose scalar
 * parameters are out of range. Only then does the wrapped backend run the op, so a backend's
 * kernels can trust their arguments. The runtime hands out every backend wrapped
 * ({@code NeuriteRuntime.createBackend}); {@link #wrap} is idempotent.
 *
 * <p>Overlaps are decided by tensor identity: two arguments alias when they are the same tensor
 * (tensors never share storage). What only the data can tell (an argmax index, an embedding row
 * index, a class label) is refused by the backend that reads it, with the messages of
 * {@link OpChecks} too.
 */
public final class CheckedBackend implements Backend {
    private final Backend raw;
    /** The contract's calls, counted for backends that keep no count of their own ({@link #counters}). */
    private final LongAdder launches = new LongAdder();
    private final LongAdder syncs = new LongAdder();

    private CheckedBackend(Backend raw) { this.raw = raw; }

    /** {@code backend} with every call checked; a backend that is already checked is returned as it is. */
    public static Backend wrap(Backend backend) {
        if (backend == null) throw new IllegalArgumentException("backend is null");
        return backend instanceof CheckedBackend ? backend : new CheckedBackend(backend);
    }

    /** The backend whose kernels run the checked calls (the owner of the tensors this backend allocates). */
    public Backend unchecked() { return raw; }

    @Override public String name() { return raw.name(); }
    @Override public String description() { return raw.description(); }
    @Override public long memoryAvailable() { return raw.memoryAvailable(); }
    @Override public String memoryReport() { return raw.memoryReport(); }
    @Override public void synchronize() {
        syncs.increment();
        raw.synchronize();
    }

    @Override public boolean asynchronous() { return raw.asynchronous(); }

    /**
     * The wrapped backend's own count when it keeps one; otherwise the calls made through this
     * wrapper: every op one launch, every download, value-returning op and synchronize one
     * synchronisation.
     */
    @Override public Optional<BackendCounters> counters() {
        return Optional.of(raw.counters().orElseGet(() -> new BackendCounters(launches.sum(), syncs.sum())));
    }
    @Override public void close() { raw.close(); }
    @Override public String toString() { return raw.toString(); }

    /** The wrapped backend's extension; device programs come with their launches checked. */
    @Override public <T> Optional<T> extension(Class<T> type) {
        Optional<T> found = raw.extension(type);
        if (type == DevicePrograms.class && found.isPresent()) {
            return Optional.of(type.cast(new CheckedPrograms((DevicePrograms) found.get())));
        }
        return found;
    }

    // ---- memory -------------------------------------------------------------------------

    @Override public Tensor allocate(Shape shape) {
        if (shape == null) throw new IllegalArgumentException("shape is null");
        return raw.allocate(shape);
    }

    @Override public void upload(float[] src, int srcOffset, Slice dst) {
        if (src == null) throw new IllegalArgumentException("src is null");
        slice(dst, "dst");
        checkRange("src", src.length, srcOffset, dst.length());
        launches.increment();
        raw.upload(src, srcOffset, dst);
    }

    @Override public void upload(float[] src, Tensor dst) {
        if (src == null) throw new IllegalArgumentException("src is null");
        owned(dst, "dst");
        if (src.length != dst.size())
            throw new IllegalArgumentException("upload of " + src.length + " floats into tensor " + dst.shape());
        launches.increment();
        raw.upload(src, dst);
    }

    @Override public void download(Slice src, float[] dst, int dstOffset) {
        slice(src, "src");
        if (dst == null) throw new IllegalArgumentException("dst is null");
        checkRange("dst", dst.length, dstOffset, src.length());
        syncs.increment();
        raw.download(src, dst, dstOffset);
    }

    @Override public void fill(Slice t, float value) {
        slice(t, "t");
        launches.increment();
        raw.fill(t, value);
    }

    @Override public void fill(Tensor t, float value) {
        owned(t, "t");
        launches.increment();
        raw.fill(t, value);
    }

    @Override public void copyBlocks(Strided src, Strided dst, int length, int count) {
        if (src == null || dst == null) throw new IllegalArgumentException("copyBlocks: src and dst must not be null");
        owned(src.tensor(), "src");
        owned(dst.tensor(), "dst");
        checkCopyBlocks(src.tensor().size(), src.offset(), src.stride(), dst.tensor().size(), dst.offset(), dst.stride(), length, count);
        if (length == 0 || count == 0) return;
        launches.increment();
        raw.copyBlocks(src, dst, length, count);
    }

    // ---- dense linear algebra -----------------------------------------------------------

    @Override public void gemm(Gemm g, float alpha, Matrix a, Matrix b, float beta, Matrix c) {
        if (g == null || a == null || b == null || c == null) throw new IllegalArgumentException("gemm: the descriptor and all three matrices must be given");
        owned(a.tensor(), "a");
        owned(b.tensor(), "b");
        owned(c.tensor(), "c");
        checkGemmSizes(g.m(), g.n(), g.k(), g.batch());
        if (g.m() == 0 || g.n() == 0 || g.batch() == 0) return;
        if (g.k() > 0) {
            checkMatrix("A", a.tensor().size(), a.offset(), a.ld(), g.rowsA(), g.colsA(), g.batch(), a.batchStride());
            checkMatrix("B", b.tensor().size(), b.offset(), b.ld(), g.rowsB(), g.colsB(), g.batch(), b.batchStride());
        }
        checkMatrix("C", c.tensor().size(), c.offset(), c.ld(), g.m(), g.n(), g.batch(), c.batchStride());
        launches.increment();
        raw.gemm(g, alpha, a, b, beta, c);
    }

    // ---- convolution and pooling --------------------------------------------------------

    @Override public void conv2dForward(Conv2dGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
        checkConv2dForward(g, x, w, bias, y);
        launches.increment();
        raw.conv2dForward(g, x, w, bias, y);
    }

    /** The sizes and aliasing every convolution forward checks, fused or not. */
    private void checkConv2dForward(Conv2dGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
        checkConv(g);
        sized(x, "x", convInputSize(g));
        sized(w, "w", convWeightSize(g));
        if (bias != null) sized(bias, "bias", g.outChannels());
        sized(y, "y", convOutputSize(g));
        checkDistinct("conv2dForward", "y", y, "x", x);
        checkDistinct("conv2dForward", "y", y, "w", w);
    }

    @Override public void conv2dForward(Conv2dGeometry g, Tensor x, Tensor w, Tensor bias, UnaryOp activation, Tensor y) {
        checkConv2dForward(g, x, w, bias, y);
        launches.increment();
        raw.conv2dForward(g, x, w, bias, activation, y);
    }

    @Override public void conv2dResidualForward(Conv2dGeometry g, Tensor x, Tensor w, Tensor bias, Tensor residual, UnaryOp activation,
                                                Tensor y) {
        checkConv2dForward(g, x, w, bias, y);
        sized(residual, "residual", convOutputSize(g));
        checkDistinct("conv2dResidualForward", "y", y, "residual", residual);
        launches.increment();
        raw.conv2dResidualForward(g, x, w, bias, residual, activation, y);
    }

    @Override public void addForward(Tensor a, Tensor b, UnaryOp activation, Tensor out) {
        owned(out, "out");
        sized(a, "a", out.size());
        sized(b, "b", out.size());
        launches.increment();
        raw.addForward(a, b, activation, out);
    }

    @Override public void denseForward(Tensor x, Tensor w, Tensor bias, UnaryOp activation, Tensor y, int rows, int in, int out) {
        checkGemmSizes(rows, out, in, 1);
        sized(x, "x", viewSize(1, rows, in));
        sized(w, "w", viewSize(1, out, in));
        if (bias != null) sized(bias, "bias", out);
        sized(y, "y", viewSize(1, rows, out));
        checkDistinct("denseForward", "y", y, "x", x);
        checkDistinct("denseForward", "y", y, "w", w);
        if (bias != null) checkDistinct("denseForward", "y", y, "bias", bias);
        launches.increment();
        raw.denseForward(x, w, bias, activation, y, rows, in, out);
    }

    @Override public void conv2dBackwardData(Conv2dGeometry g, Tensor dy, Tensor w, Tensor dx) {
        checkConv(g);
        sized(dy, "dy", convOutputSize(g));
        sized(w, "w", convWeightSize(g));
        sized(dx, "dx", convInputSize(g));
        checkDistinct("conv2dBackwardData", "dx", dx, "dy", dy);
        checkDistinct("conv2dBackwardData", "dx", dx, "w", w);
        launches.increment();
        raw.conv2dBackwardData(g, dy, w, dx);
    }

    @Override public void conv2dBackwardFilter(Conv2dGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        checkConv(g);
        sized(x, "x", convInputSize(g));
        sized(dy, "dy", convOutputSize(g));
        sized(dw, "dw", convWeightSize(g));
        if (dbias != null) sized(dbias, "dbias", g.outChannels());
        checkDistinct("conv2dBackwardFilter", "dw", dw, "x", x);
        checkDistinct("conv2dBackwardFilter", "dw", dw, "dy", dy);
        launches.increment();
        raw.conv2dBackwardFilter(g, x, dy, dw, dbias);
    }

    @Override public void maxPool2dForward(Pool2dGeometry g, Tensor x, Tensor y, Tensor argmax) {
        checkPool(g);
        sized(x, "x", poolInputSize(g));
        sized(y, "y", poolOutputSize(g));
        sized(argmax, "argmax", poolOutputSize(g));
        checkDistinct("maxPool2dForward", "y", y, "x", x);
        checkDistinct("maxPool2dForward", "argmax", argmax, "x", x);
        checkDistinct("maxPool2dForward", "argmax", argmax, "y", y);
        launches.increment();
        raw.maxPool2dForward(g, x, y, argmax);
    }

    @Override public void maxPool2dBackward(Pool2dGeometry g, Tensor dy, Tensor argmax, Tensor dx) {
        checkMaxPoolBackward(g, dy, argmax, dx);
        launches.increment();
        raw.maxPool2dBackward(g, dy, argmax, dx);
    }

    @Override public void denseBackwardData(Tensor dy, Tensor w, Tensor x, UnaryOp activation, Tensor dx, int rows, int in, int out) {
        checkGemmSizes(rows, in, out, 1);
        sized(dy, "dy", viewSize(1, rows, out));
        sized(w, "w", viewSize(1, out, in));
        sized(dx, "dx", viewSize(1, rows, in));
        checkDistinct("denseBackwardData", "dx", dx, "dy", dy);
        checkDistinct("denseBackwardData", "dx", dx, "w", w);
        if (activation != null) {
            checkDerivativeFromOutput("denseBackwardData", activation, "the layer's input");
            sized(x, "x", viewSize(1, rows, in));
            checkDistinct("denseBackwardData", "dx", dx, "x", x);
        }
        launches.increment();
        raw.denseBackwardData(dy, w, x, activation, dx, rows, in, out);
    }

    /** An activation whose derivative the backend takes from its output alone, refused otherwise. */
    private static void checkDerivativeFromOutput(String op, UnaryOp activation, String output) {
        if (!activation.derivativeFromOutputAlone())
            throw new IllegalArgumentException(op + ": the derivative of " + activation + " needs its input, not only its output ("
                    + output + ")");
    }

    /** The sizes and aliasing every max-pooling backward checks, with its input's activation or without. */
    private void checkMaxPoolBackward(Pool2dGeometry g, Tensor dy, Tensor argmax, Tensor dx) {
        checkPool(g);
        sized(dy, "dy", poolOutputSize(g));
        sized(argmax, "argmax", poolOutputSize(g));
        sized(dx, "dx", poolInputSize(g));
        checkDistinct("maxPool2dBackward", "dx", dx, "dy", dy);
        checkDistinct("maxPool2dBackward", "dx", dx, "argmax", argmax);
    }

    @Override public void maxPool2dBackward(Pool2dGeometry g, Tensor dy, Tensor argmax, Tensor x, UnaryOp activation, Tensor dx) {
        checkMaxPoolBackward(g, dy, argmax, dx);
        if (activation != null) {
            checkDerivativeFromOutput("maxPool2dBackward", activation, "the pooling's input");
            sized(x, "x", poolInputSize(g));
            checkDistinct("maxPool2dBackward", "dx", dx, "x", x);
        }
        launches.increment();
        raw.maxPool2dBackward(g, dy, argmax, x, activation, dx);
    }

    @Override public void avgPool2dForward(Pool2dGeometry g, Tensor x, Tensor y) {
        checkPool(g);
        sized(x, "x", poolInputSize(g));
        sized(y, "y", poolOutputSize(g));
        checkDistinct("avgPool2dForward", "y", y, "x", x);
        launches.increment();
        raw.avgPool2dForward(g, x, y);
    }

    @Override public void avgPool2dBackward(Pool2dGeometry g, Tensor dy, Tensor dx) {
        checkPool(g);
        sized(dy, "dy", poolOutputSize(g));
        sized(dx, "dx", poolInputSize(g));
        checkDistinct("avgPool2dBackward", "dx", dx, "dy", dy);
        launches.increment();
        raw.avgPool2dBackward(g, dy, dx);
    }

    // ---- element-wise -------------------------------------------------------------------

    @Override public void unary(UnaryOp op, Slice x, Slice y) {
        checkOp("unary", op);
        slice(x, "x");
        slice(y, "y");
        sameLength("unary", op, "x", x, "y", y);
        inPlaceOrDisjoint("unary", op, "y", y, "x", x);
        launches.increment();
        raw.unary(op, x, y);
    }

    @Override public void unary(UnaryOp op, Tensor x, Tensor y) {
        checkOp("unary", op);
        owned(x, "x");
        owned(y, "y");
        if (x.size() != y.size()) throw new IllegalArgumentException("unary " + op + ": x " + x.shape() + " vs y " + y.shape());
        // whole tensors of one size are in place or apart: only the slice form needs the overlap rule
        launches.increment();
        raw.unary(op, x, y);
    }

    @Override public void unaryBackward(UnaryOp op, Slice x, Slice y, Slice dy, Slice dx) {
        checkOp("unaryBackward", op);
        boolean needsX = op.derivativeReadsInput(), needsY = op.derivativeReadsOutput();
        checkUnaryBackwardInputs(op, needsX, x != null && x.tensor() != null, needsY, y != null && y.tensor() != null);
        slice(dy, "dy");
        slice(dx, "dx");
        sameLength("unaryBackward", op, "dy", dy, "dx", dx);
        inPlaceOrDisjoint("unaryBackward", op, "dx", dx, "dy", dy);
        if (needsX) {
            slice(x, "x");
            sameLength("unaryBackward", op, "x", x, "dx", dx);
            inPlaceOrDisjoint("unaryBackward", op, "dx", dx, "x", x);
        }
        if (needsY) {
            slice(y, "y");
            sameLength("unaryBackward", op, "y", y, "dx", dx);
            inPlaceOrDisjoint("unaryBackward", op, "dx", dx, "y", y);
        }
        launches.increment();
        raw.unaryBackward(op, needsX ? x : null, needsY ? y : null, dy, dx);
    }

    @Override public void unaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        checkOp("unaryBackward", op);
        owned(dy, "dy");
        owned(dx, "dx");
        if (dy.size() != dx.size() || (x != null && x.size() != dx.size()) || (y != null && y.size() != dx.size()))
            throw new IllegalArgumentException("unaryBackward " + op + ": sizes x " + (x == null ? "-" : x.shape()) + ", y "
                    + (y == null ? "-" : y.shape()) + ", dy " + dy.shape() + ", dx " + dx.shape());
        boolean needsX = op.derivativeReadsInput(), needsY = op.derivativeReadsOutput();
        checkUnaryBackwardInputs(op, needsX, x != null, needsY, y != null);
        if (needsX) owned(x, "x");
        if (needsY) owned(y, "y");
        launches.increment();
        raw.unaryBackward(op, needsX ? x : null, needsY ? y : null, dy, dx);
    }

    @Override public void binary(BinaryOp op, Slice a, Slice b, Slice out) {
        checkOp("binary", op);
        slice(a, "a");
        slice(b, "b");
        slice(out, "out");
        sameLength("binary", op, "a", a, "out", out);
        sameLength("binary", op, "b", b, "out", out);
        inPlaceOrDisjoint("binary", op, "out", out, "a", a);
        inPlaceOrDisjoint("binary", op, "out", out, "b", b);
        launches.increment();
        raw.binary(op, a, b, out);
    }

    @Override public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        checkOp("binary", op);
        owned(a, "a");
        owned(b, "b");
        owned(out, "out");
        if (a.size() != b.size() || a.size() != out.size())
            throw new IllegalArgumentException("binary " + op + ": sizes " + a.shape() + ", " + b.shape() + ", " + out.shape());
        launches.increment();
        raw.binary(op, a, b, out);
    }

    @Override public void affine(Slice x, float scale, float shift, Slice y) {
        slice(x, "x");
        slice(y, "y");
        sameLength("affine", null, "x", x, "y", y);
        inPlaceOrDisjoint("affine", null, "y", y, "x", x);
        launches.increment();
        raw.affine(x, scale, shift, y);
    }

    @Override public void channelBroadcast(BinaryOp op, Tensor x, Tensor v, Tensor out, int outer, int channels, int inner) {
        checkOp("channelBroadcast", op);
        int n = viewSize(outer, channels, inner);
        sized(x, "x", n);
        sized(v, "v", channels);
        sized(out, "out", n);
        checkDistinct("channelBroadcast", "out", out, "v", v);
        launches.increment();
        raw.channelBroadcast(op, x, v, out, outer, channels, inner);
    }

    @Override public void channelSum(Tensor x, Tensor out, int outer, int channels, int inner, float beta) {
        int n = viewSize(outer, channels, inner);
        sized(x, "x", n);
        sized(out, "out", channels);
        checkDistinct("channelSum", "out", out, "x", x);
        launches.increment();
        raw.channelSum(x, out, outer, channels, inner, beta);
    }

    @Override public void channelMax(Tensor x, Tensor out, int outer, int channels, int inner) {
        int n = viewSize(outer, channels, inner);
        sized(x, "x", n);
        sized(out, "out", channels);
        checkDistinct("channelMax", "out", out, "x", x);
        if (channels > 0 && (long) outer * inner == 0)
            throw new IllegalArgumentException("channelMax: the maximum of no values (outer x inner = " + outer + " x " + inner + ")");
        launches.increment();
        raw.channelMax(x, out, outer, channels, inner);
    }

    @Override public double sumOfSquares(Tensor x) {
        owned(x, "x");
        launches.increment();
        syncs.increment();
        return raw.sumOfSquares(x);
    }

    // ---- rows ---------------------------------------------------------------------------

    @Override public void gatherRows(Tensor table, Tensor indices, Tensor out, int rows, int width) {
        owned(table, "table");
        tableRows("gatherRows", table.size(), table, width);
        sized(indices, "indices", viewSize(1, 1, rows));
        sized(out, "out", viewSize(1, rows, width));
        checkDistinct("gatherRows", "out", out, "table", table);
        checkDistinct("gatherRows", "out", out, "indices", indices);
        launches.increment();
        raw.gatherRows(table, indices, out, rows, width);
    }

    @Override public void scatterAddRows(Tensor dOut, Tensor indices, Tensor dTable, int rows, int width) {
        owned(dTable, "dTable");
        tableRows("scatterAddRows", dTable.size(), dTable, width);
        sized(indices, "indices", viewSize(1, 1, rows));
        sized(dOut, "dOut", viewSize(1, rows, width));
        checkDistinct("scatterAddRows", "dTable", dTable, "dOut", dOut);
        checkDistinct("scatterAddRows", "dTable", dTable, "indices", indices);
        launches.increment();
        raw.scatterAddRows(dOut, indices, dTable, rows, width);
    }

    // ---- regularisation -----------------------------------------------------------------

    @Override public void dropoutForward(Tensor x, Tensor mask, Tensor y, float p, long seed) {
        checkDropout(p);
        owned(x, "x");
        sized(mask, "mask", x.size());
        sized(y, "y", x.size());
        launches.increment();
        raw.dropoutForward(x, mask, y, p, seed);
    }

    // ---- derived ops --------------------------------------------------------------------

    @Override public void copy(Slice src, Slice dst) {
        slice(src, "src");
        slice(dst, "dst");
        sameLength("copy", null, "src", src, "dst", dst);
        inPlaceOrDisjoint("copy", null, "dst", dst, "src", src);
        launches.increment();
        raw.copy(src, dst);
    }

    @Override public void pad2d(Tensor x, Tensor y, int planes, int h, int w, int top, int left, int outH, int outW) {
        checkPadding("pad2d", planes, h, w, top, left, outH, outW);
        sized(x, "x", viewSize(planes, h, w));
        sized(y, "y", viewSize(planes, outH, outW));
        checkDistinct("pad2d", "y", y, "x", x);
        launches.increment();
        raw.pad2d(x, y, planes, h, w, top, left, outH, outW);
    }

    @Override public void crop2d(Tensor dy, Tensor dx, int planes, int h, int w, int top, int left, int outH, int outW) {
        checkPadding("crop2d", planes, h, w, top, left, outH, outW);
        sized(dy, "dy", viewSize(planes, outH, outW));
        sized(dx, "dx", viewSize(planes, h, w));
        checkDistinct("crop2d", "dx", dx, "dy", dy);
        launches.increment();
        raw.crop2d(dy, dx, planes, h, w, top, left, outH, outW);
    }

    @Override public void axpby(float alpha, Tensor x, float beta, Tensor y) {
        owned(x, "x");
        sized(y, "y", x.size());
        launches.increment();
        raw.axpby(alpha, x, beta, y);
    }

    @Override public void softmax(Tensor x, Tensor y, int rows, int cols) {
        int n = viewSize(1, rows, cols);
        sized(x, "x", n);
        sized(y, "y", n);
        launches.increment();
        raw.softmax(x, y, rows, cols);
    }

    @Override public void softmaxBackward(Tensor y, Tensor dy, Tensor dx, int rows, int cols) {
        int n = viewSize(1, rows, cols);
        sized(y, "y", n);
        sized(dy, "dy", n);
        sized(dx, "dx", n);
        checkDistinct("softmaxBackward", "dx", dx, "y", y);
        launches.increment();
        raw.softmaxBackward(y, dy, dx, rows, cols);
    }

    @Override public double softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits, int rows, int classes, float gradScale) {
        int n = viewSize(1, rows, classes);
        sized(logits, "logits", n);
        sized(labels, "labels", rows);
        sized(dLogits, "dLogits", n);
        checkDistinct("softmaxCrossEntropy", "dLogits", dLogits, "labels", labels);
        launches.increment();
        syncs.increment();
        return raw.softmaxCrossEntropy(logits, labels, dLogits, rows, classes, gradScale);
    }

    @Override
    public void batchNormForward(Tensor x, Tensor y, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                 Tensor saveMean, Tensor saveInvStd, int outer, int channels, int inner,
                                 float eps, float momentum, boolean training) {
        checkBatchNormForward(x, y, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, outer, channels, inner, eps, momentum, training);
        launches.increment();
        raw.batchNormForward(x, y, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, outer, channels, inner,
                eps, momentum, training);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                  Tensor dx, Tensor dgamma, Tensor dbeta, int outer, int channels, int inner) {
        checkBatchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, outer, channels, inner);
        launches.increment();
        raw.batchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, outer, channels, inner);
    }

    @Override
    public void batchNormForward(Tensor x, Tensor y, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                 Tensor saveMean, Tensor saveInvStd, int outer, int channels, int inner,
                                 float eps, float momentum, boolean training, UnaryOp activation) {
        if (activation == null) {
            batchNormForward(x, y, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, outer, channels, inner, eps, momentum, training);
            return;
        }
        checkBatchNormForward(x, y, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, outer, channels, inner, eps, momentum, training);
        launches.increment();
        raw.batchNormForward(x, y, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, outer, channels, inner,
                eps, momentum, training, activation);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, UnaryOp activation, Tensor y,
                                  Tensor dx, Tensor dgamma, Tensor dbeta, int outer, int channels, int inner) {
        if (activation == null) {
            batchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, outer, channels, inner);
            return;
        }
        checkDerivativeFromOutput("batchNormBackward", activation, "the normalised value");
        checkBatchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, outer, channels, inner);
        sized(y, "y", viewSize(outer, channels, inner));
        checkDistinct("batchNormBackward", "dx", dx, "x", x);
        checkDistinct("batchNormBackward", "dx", dx, "y", y);
        launches.increment();
        raw.batchNormBackward(x, dy, gamma, saveMean, saveInvStd, activation, y, dx, dgamma, dbeta, outer, channels, inner);
    }

    /** The sizes and settings every batch-norm forward checks, fused or not. */
    private void checkBatchNormForward(Tensor x, Tensor y, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                       Tensor saveMean, Tensor saveInvStd, int outer, int channels, int inner,
                                       float eps, float momentum, boolean training) {
        int n = viewSize(outer, channels, inner);
        checkBatchNormEps(eps);
        sized(x, "x", n);
        sized(y, "y", n);
        sized(gamma, "gamma", channels);
        sized(beta, "beta", channels);
        sized(runningMean, "runningMean", channels);
        sized(runningVar, "runningVar", channels);
        if (training) {
            checkBatchNormTraining(momentum, outer, inner);
            sized(saveMean, "saveMean", channels);
            sized(saveInvStd, "saveInvStd", channels);
        }
    }

    /** The sizes every batch-norm backward checks, fused or not. */
    private void checkBatchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                        Tensor dx, Tensor dgamma, Tensor dbeta, int outer, int channels, int inner) {
        int n = viewSize(outer, channels, inner);
        sized(x, "x", n);
        sized(dy, "dy", n);
        sized(dx, "dx", n);
        sized(gamma, "gamma", channels);
        sized(saveMean, "saveMean", channels);
        sized(saveInvStd, "saveInvStd", channels);
        if (dgamma != null) sized(dgamma, "dgamma", channels);
        if (dbeta != null) sized(dbeta, "dbeta", channels);
    }

    @Override
    public void lrnForward(Tensor x, Tensor y, Tensor scale, int batch, int channels, int inner, int size, float alpha, float beta, float k) {
        checkLrn(size, k);
        int n = viewSize(batch, channels, inner);
        sized(x, "x", n);
        sized(y, "y", n);
        sized(scale, "scale", n);
        checkDistinct("lrnForward", "y", y, "x", x);
        checkDistinct("lrnForward", "scale", scale, "x", x);
        checkDistinct("lrnForward", "scale", scale, "y", y);
        launches.increment();
        raw.lrnForward(x, y, scale, batch, channels, inner, size, alpha, beta, k);
    }

    @Override
    public void lrnBackward(Tensor x, Tensor y, Tensor scale, Tensor dy, Tensor dx, int batch, int channels, int inner,
                            int size, float alpha, float beta, float k) {
        checkLrn(size, k);
        int n = viewSize(batch, channels, inner);
        sized(x, "x", n);
        sized(y, "y", n);
        sized(scale, "scale", n);
        sized(dy, "dy", n);
        sized(dx, "dx", n);
        checkDistinct("lrnBackward", "dx", dx, "x", x);
        checkDistinct("lrnBackward", "dx", dx, "y", y);
        checkDistinct("lrnBackward", "dx", dx, "scale", scale);
        checkDistinct("lrnBackward", "dx", dx, "dy", dy);
        launches.increment();
        raw.lrnBackward(x, y, scale, dy, dx, batch, channels, inner, size, alpha, beta, k);
    }

    @Override public void lstmCellForward(Slice gates, Slice cPrev, Slice c, Slice h, int batch, int hidden) {
        checkLstmCellForward("lstmCellForward", gates, cPrev, c, h, batch, hidden);
        launches.increment();
        raw.lstmCellForward(gates, cPrev, c, h, batch, hidden);
    }

    /** The sizes and overlaps of the LSTM cell forward, alone or after its recurrent product. */
    private void checkLstmCellForward(String what, Slice gates, Slice cPrev, Slice c, Slice h, int batch, int hidden) {
        int state = cellSize(what, batch, hidden, 1), gateBlock = cellSize(what, batch, hidden, 4);
        block(gates, "gates", gateBlock);
        block(cPrev, "cPrev", state);
        block(c, "c", state);
        block(h, "h", state);
        inPlaceOrDisjoint(what, null, "c", c, "cPrev", cPrev);
        disjoint(what, "c", c, "gates", gates);
        disjoint(what, "h", h, "gates", gates);
        disjoint(what, "h", h, "c", c);
        disjoint(what, "h", h, "cPrev", cPrev);
    }

    @Override public void lstmStepForward(Matrix hPrev, Matrix wHh, Slice gates, Slice cPrev, Slice c, Slice h, int batch, int hidden) {
        String what = "lstmStepForward";
        checkLstmCellForward(what, gates, cPrev, c, h, batch, hidden);
        if (hPrev == null || wHh == null) throw new IllegalArgumentException(what + ": hPrev and wHh must be given");
        owned(hPrev.tensor(), "hPrev");
        owned(wHh.tensor(), "wHh");
        if (batch == 0 || hidden == 0) return;
        checkMatrix("hPrev", hPrev.tensor().size(), hPrev.offset(), hPrev.ld(), batch, hidden, 1, 0);
        checkMatrix("wHh", wHh.tensor().size(), wHh.offset(), wHh.ld(), 4 * hidden, hidden, 1, 0);
        // Every output apart from both operands of the product (a work-group reads all of hPrev's rows it needs
        // while others write theirs, so h may not be hPrev even in place).
        matrixApart(what, "gates", gates, "hPrev", hPrev, batch, hidden);
        matrixApart(what, "c", c, "hPrev", hPrev, batch, hidden);
        matrixApart(what, "h", h, "hPrev", hPrev, batch, hidden);
        matrixApart(what, "gates", gates, "wHh", wHh, 4 * hidden, hidden);
        matrixApart(what, "c", c, "wHh", wHh, 4 * hidden, hidden);
        matrixApart(what, "h", h, "wHh", wHh, 4 * hidden, hidden);
        launches.increment();
        raw.lstmStepForward(hPrev, wHh, gates, cPrev, c, h, batch, hidden);
    }

    @Override public void lstmCellBackward(Slice gates, Slice cPrev, Slice c, Slice dh, Slice dc, Slice dGates, int batch, int hidden) {
        String what = "lstmCellBackward";
        int state = cellSize(what, batch, hidden, 1), gateBlock = cellSize(what, batch, hidden, 4);
        block(gates, "gates", gateBlock);
        block(cPrev, "cPrev", state);
        block(c, "c", state);
        block(dh, "dh", state);
        block(dc, "dc", state);
        block(dGates, "dGates", gateBlock);
        disjoint(what, "dc", dc, "gates", gates);
        disjoint(what, "dc", dc, "dGates", dGates);
        disjoint(what, "dc", dc, "cPrev", cPrev);
        disjoint(what, "dc", dc, "c", c);
        disjoint(what, "dGates", dGates, "gates", gates);
        disjoint(what, "dGates", dGates, "dh", dh);
        disjoint(what, "dGates", dGates, "cPrev", cPrev);
        disjoint(what, "dGates", dGates, "c", c);
        launches.increment();
        raw.lstmCellBackward(gates, cPrev, c, dh, dc, dGates, batch, hidden);
    }

    @Override public void gruCellForward(Slice gi, Slice gh, Slice hPrev, Slice h, Slice saved, int batch, int hidden) {
        checkGruCellForward("gruCellForward", gi, gh, hPrev, h, saved, batch, hidden);
        launches.increment();
        raw.gruCellForward(gi, gh, hPrev, h, saved, batch, hidden);
    }

    @Override public void gruStepForward(Slice hPrev, Matrix wHh, Slice gi, Slice gh, Slice h, Slice saved, int batch, int hidden) {
        String what = "gruStepForward";
        checkGruCellForward(what, gi, gh, hPrev, h, saved, batch, hidden);
        if (wHh == null) throw new IllegalArgumentException(what + ": wHh must be given");
        owned(wHh.tensor(), "wHh");
        if (batch == 0 || hidden == 0) return;
        checkMatrix("wHh", wHh.tensor().size(), wHh.offset(), wHh.ld(), 3 * hidden, hidden, 1, 0);
        // The product reads every row of hPrev a work-group needs while others write theirs: h apart from it, even in place.
        disjoint(what, "h", h, "hPrev", hPrev);
        disjoint(what, "gh", gh, "hPrev", hPrev);
        disjoint(what, "gh", gh, "gi", gi);
        matrixApart(what, "gh", gh, "wHh", wHh, 3 * hidden, hidden);
        matrixApart(what, "h", h, "wHh", wHh, 3 * hidden, hidden);
        matrixApart(what, "saved", saved, "wHh", wHh, 3 * hidden, hidden);
        launches.increment();
        raw.gruStepForward(hPrev, wHh, gi, gh, h, saved, batch, hidden);
    }

    /** The sizes and overlaps of the GRU cell forward, alone or after its recurrent product. */
    private void checkGruCellForward(String what, Slice gi, Slice gh, Slice hPrev, Slice h, Slice saved, int batch, int hidden) {
        int state = cellSize(what, batch, hidden, 1), gateBlock = cellSize(what, batch, hidden, 3);
        block(gi, "gi", gateBlock);
        block(gh, "gh", gateBlock);
        block(hPrev, "hPrev", state);
        block(h, "h", state);
        block(saved, "saved", gateBlock);
        inPlaceOrDisjoint(what, null, "h", h, "hPrev", hPrev);
        disjoint(what, "h", h, "gi", gi);
        disjoint(what, "h", h, "gh", gh);
        disjoint(what, "h", h, "saved", saved);
        disjoint(what, "saved", saved, "gi", gi);
        disjoint(what, "saved", saved, "gh", gh);
        disjoint(what, "saved", saved, "hPrev", hPrev);
    }

    @Override public void gruCellBackward(Slice saved, Slice gh, Slice hPrev, Slice dh, Slice dGi, Slice dGh, Slice dhPrev,
                                          int batch, int hidden) {
        String what = "gruCellBackward";
        int state = cellSize(what, batch, hidden, 1), gateBlock = cellSize(what, batch, hidden, 3);
        block(saved, "saved", gateBlock);
        block(gh, "gh", gateBlock);
        block(hPrev, "hPrev", state);
        block(dh, "dh", state);
        block(dGi, "dGi", gateBlock);
        block(dGh, "dGh", gateBlock);
        block(dhPrev, "dhPrev", state);
        inPlaceOrDisjoint(what, null, "dhPrev", dhPrev, "dh", dh);
        disjoint(what, "dGi", dGi, "dGh", dGh);
        String[] outNames = {"dGi", "dGh", "dhPrev"};
        Slice[] outs = {dGi, dGh, dhPrev};
        for (int o = 0; o < 3; o++) {
            disjoint(what, outNames[o], outs[o], "saved", saved);
            disjoint(what, outNames[o], outs[o], "gh", gh);
            disjoint(what, outNames[o], outs[o], "hPrev", hPrev);
            if (o < 2) {
                disjoint(what, outNames[o], outs[o], "dh", dh);
                disjoint(what, outNames[o], outs[o], "dhPrev", dhPrev);
            }
        }
        launches.increment();
        raw.gruCellBackward(saved, gh, hPrev, dh, dGi, dGh, dhPrev, batch, hidden);
    }

    @Override public void sgdUpdate(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay, boolean nesterov) {
        sgdUpdate(param, grad, velocity, lr, momentum, weightDecay, nesterov, null);   // the controlled form without a control is the plain update
    }

    @Override public void adamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                                     float eps, float weightDecay, int step) {
        adamUpdate(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step, null);
    }

    @Override public void adamwUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                                      float eps, float weightDecay, int step) {
        adamwUpdate(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step, null);
    }

    @Override public void rmspropUpdate(Tensor param, Tensor grad, Tensor squareAverage, Tensor momentumBuffer, Tensor gradAverage,
                                        float lr, float alpha, float eps, float weightDecay, float momentum, boolean centered) {
        rmspropUpdate(param, grad, squareAverage, momentumBuffer, gradAverage, lr, alpha, eps, weightDecay, momentum, centered, null);
    }

    // ---- the training step on the device ------------------------------------------------

    @Override public void sumOfSquares(List<Tensor> xs, Slice out) {
        if (xs == null) throw new IllegalArgumentException("xs is null");
        for (int i = 0; i < xs.size(); i++) if (!usable(xs.get(i))) owned(xs.get(i), "xs[" + i + "]");
        block(out, "out", 1);
        launches.increment();
        raw.sumOfSquares(xs, out);
    }

    @Override public void softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits, int rows, int classes, float gradScale,
                                              Slice loss) {
        int n = viewSize(1, rows, classes);
        sized(logits, "logits", n);
        sized(labels, "labels", rows);
        sized(dLogits, "dLogits", n);
        block(loss, "loss", 1);
        checkDistinct("softmaxCrossEntropy", "dLogits", dLogits, "labels", labels);
        checkDistinct("softmaxCrossEntropy", "loss", loss.tensor(), "logits", logits);
        checkDistinct("softmaxCrossEntropy", "loss", loss.tensor(), "labels", labels);
        checkDistinct("softmaxCrossEntropy", "loss", loss.tensor(), "dLogits", dLogits);
        launches.increment();
        raw.softmaxCrossEntropy(logits, labels, dLogits, rows, classes, gradScale, loss);
    }

    @Override public void countCorrect(Tensor logits, Tensor labels, int rows, int classes, Slice out) {
        sized(logits, "logits", viewSize(1, rows, classes));
        sized(labels, "labels", rows);
        block(out, "out", 1);
        checkDistinct("countCorrect", "out", out.tensor(), "logits", logits);
        checkDistinct("countCorrect", "out", out.tensor(), "labels", labels);
        launches.increment();
        raw.countCorrect(logits, labels, rows, classes, out);
    }

    @Override public void stepControl(Slice squaredNorm, Slice loss, float maxNorm, Slice control) {
        block(squaredNorm, "squaredNorm", 1);
        if (loss != null) block(loss, "loss", 1);
        block(control, "control", StepControl.SIZE);
        disjoint("stepControl", "control", control, "squaredNorm", squaredNorm);
        if (loss != null) disjoint("stepControl", "control", control, "loss", loss);
        launches.increment();
        raw.stepControl(squaredNorm, loss, maxNorm, control);
    }

    @Override public void sgdUpdate(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay, boolean nesterov,
                                    Slice control) {
        owned(param, "param");
        checkSgd(momentum, nesterov, velocity != null);
        sized(grad, "grad", param.size());
        if (momentum != 0f) sized(velocity, "velocity", param.size());
        control(control, "sgdUpdate", "param", param, "grad", grad, "velocity", momentum == 0f ? null : velocity);
        launches.increment();
        raw.sgdUpdate(param, grad, momentum == 0f ? null : velocity, lr, momentum, weightDecay, nesterov, control);
    }

    @Override public void adamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                                     float eps, float weightDecay, int step, Slice control) {
        adamArguments("adamUpdate", step, param, grad, m, v, control);
        launches.increment();
        raw.adamUpdate(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step, control);
    }

    @Override public void adamwUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                                      float eps, float weightDecay, int step, Slice control) {
        adamArguments("adamwUpdate", step, param, grad, m, v, control);
        launches.increment();
        raw.adamwUpdate(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step, control);
    }

    @Override public void rmspropUpdate(Tensor param, Tensor grad, Tensor squareAverage, Tensor momentumBuffer, Tensor gradAverage,
                                        float lr, float alpha, float eps, float weightDecay, float momentum, boolean centered, Slice control) {
        checkRmsprop(momentum, momentumBuffer != null, centered, gradAverage != null);
        owned(param, "param");
        sized(grad, "grad", param.size());
        sized(squareAverage, "squareAverage", param.size());
        if (momentum != 0f) sized(momentumBuffer, "momentumBuffer", param.size());
        if (centered) sized(gradAverage, "gradAverage", param.size());
        Tensor buffer = momentum == 0f ? null : momentumBuffer, average = centered ? gradAverage : null;
        control(control, "rmspropUpdate", "param", param, "grad", grad, "squareAverage", squareAverage, "momentumBuffer", buffer,
                "gradAverage", average);
        launches.increment();
        raw.rmspropUpdate(param, grad, squareAverage, buffer, average, lr, alpha, eps, weightDecay, momentum, centered, control);
    }

    // ---- device programs ----------------------------------------------------------------

    /** Device programs whose launches pass only this backend's tensors and scalars. */
    private final class CheckedPrograms implements DevicePrograms {
        private final DevicePrograms programs;

        CheckedPrograms(DevicePrograms programs) { this.programs = programs; }

        @Override public String language() { return programs.language(); }

        @Override public DeviceProgram compile(String name, String source) {
            if (name == null || source == null) throw new IllegalArgumentException("a device program needs a name and its source");
            DeviceProgram program = programs.compile(name, source);
            return kernelName -> {
                DeviceKernel kernel = program.kernel(kernelName);
                return (workItems, args) -> {
                    if (workItems < 0) throw new IllegalArgumentException(kernelName + ": work items must be >= 0, got " + workItems);
                    for (int i = 0; i < args.length; i++) {
                        Object a = args[i];
                        if (a instanceof Tensor t) {
                            if (!usable(t)) owned(t, kernelName + " argument " + i);
                        } else if (!(a instanceof Integer || a instanceof Long || a instanceof Float))
                            throw new IllegalArgumentException(kernelName + " argument " + i + " must be a tensor of this backend or an Integer, Long or Float, got "
                                    + (a == null ? "null" : a.getClass().getSimpleName()));
                    }
                    if (workItems > 0) {
                        launches.increment();
                        kernel.launch(workItems, args);
                    }
                };
            };
        }
    }

    // ---- the checks ---------------------------------------------------------------------

    /** A tensor the wrapped backend allocated. */
    private void owned(Tensor t, String name) {
        checkNotNull(name, t);
        if (t.backend() != raw && t.backend() != this) throw foreignTensor(name, t, raw);
        if (t.isClosed()) throw new IllegalArgumentException(name + " " + t.shape() + " has been closed");
    }

    /**
     * Whether {@link #owned} would accept {@code t}: checked first where the name of the tensor is
     * built per call (an element of a list), so that a training step builds no strings.
     */
    private boolean usable(Tensor t) {
        return t != null && (t.backend() == raw || t.backend() == this) && !t.isClosed();
    }

    /** A tensor of exactly {@code size} elements. */
    private void sized(Tensor t, String name, int size) {
        owned(t, name);
        checkSize(name, t, t.size(), size);
    }

    /** A slice inside its tensor. */
    private void slice(Slice s, String name) {
        if (s == null) throw new IllegalArgumentException(name + " is null");
        owned(s.tensor(), name);
        checkRange(name, s.tensor().size(), s.offset(), s.length());
    }

    /** A slice of exactly {@code length} elements inside its tensor. */
    private void block(Slice s, String name, int length) {
        slice(s, name);
        if (s.length() != length)
            throw new IllegalArgumentException(name + " slice has " + s.length() + " elements, expected " + length);
    }

    /** The arguments of Adam and AdamW: a step from 1, gradient and moments the size of param, a control apart from them. */
    private void adamArguments(String what, int step, Tensor param, Tensor grad, Tensor m, Tensor v, Slice control) {
        checkAdamStep(step);
        owned(param, "param");
        sized(grad, "grad", param.size());
        sized(m, "m", param.size());
        sized(v, "v", param.size());
        control(control, what, "param", param, "grad", grad, "m", m, "v", v);
    }

    /**
     * A {@link StepControl} slice (or null: a plain update) in a tensor apart from every tensor the
     * update reads or writes, given as name, tensor pairs (null tensors skipped). Fixed arities
     * rather than varargs: an update runs once per parameter per step, and a varargs array would be
     * an allocation on every one of them.
     */
    private void control(Slice control, String what, String n1, Tensor t1, String n2, Tensor t2, String n3, Tensor t3) {
        control(control, what, n1, t1, n2, t2, n3, t3, null, null, null, null);
    }

    private void control(Slice control, String what, String n1, Tensor t1, String n2, Tensor t2, String n3, Tensor t3,
                         String n4, Tensor t4) {
        control(control, what, n1, t1, n2, t2, n3, t3, n4, t4, null, null);
    }

    private void control(Slice control, String what, String n1, Tensor t1, String n2, Tensor t2, String n3, Tensor t3,
                         String n4, Tensor t4, String n5, Tensor t5) {
        if (control == null) return;   // a plain update
        block(control, "control", StepControl.SIZE);
        controlApartFrom(control, what, n1, t1);
        controlApartFrom(control, what, n2, t2);
        controlApartFrom(control, what, n3, t3);
        controlApartFrom(control, what, n4, t4);
        controlApartFrom(control, what, n5, t5);
    }

    private void controlApartFrom(Slice control, String what, String name, Tensor t) {
        if (t != null) checkDistinct(what, "control", control.tensor(), name, t);
    }

    private static void checkOp(String what, Object op) {
        if (op == null) throw new IllegalArgumentException(what + ": op is null");
    }

    private static void sameLength(String what, Object variant, String aName, Slice a, String bName, Slice b) {
        if (a.length() != b.length())
            throw new IllegalArgumentException(what + (variant == null ? "" : " " + variant) + ": " + aName + " has " + a.length()
                    + " elements, " + bName + " has " + b.length());
    }

    private static void inPlaceOrDisjoint(String what, Object variant, String outName, Slice out, String inName, Slice in) {
        checkInPlaceOrDisjoint(what, variant, outName, out.tensor(), out.offset(), inName, in.tensor(), in.offset(), out.length());
    }

    private static void disjoint(String what, String aName, Slice a, String bName, Slice b) {
        checkDisjoint(what, aName, a.tensor(), a.offset(), a.length(), bName, b.tensor(), b.offset(), b.length());
    }

    /** An output slice that shares no element with the span of a {@code rows x cols} matrix operand (rows {@code ld} apart). */
    private static void matrixApart(String what, String outName, Slice out, String inName, Matrix in, int rows, int cols) {
        int span = (int) ((long) (rows - 1) * in.ld() + cols);   // fits: checkMatrix found the matrix inside its tensor
        checkDisjoint(what, outName, out.tensor(), out.offset(), out.length(), inName, in.tensor(), in.offset(), span);
    }
}
