package org.neurite.backend.cpu;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;
import org.neurite.backend.Backend;
import org.neurite.backend.BackendCounters;
import org.neurite.backend.BatchShards;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.CheckedBackend;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.backend.Pool2dGeometry;
import org.neurite.backend.Slice;
import org.neurite.backend.StepControl;
import org.neurite.backend.Strided;
import org.neurite.backend.UnaryOp;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The pure-Java CPU backend and Neurite's numerical reference. Tensors are heap
 * {@code float[]}s in the public layout ({@link CpuTensor}); work runs on a fixed pool of
 * {@link BackendOptions#resolvedThreads()} threads ({@link CpuThreads}), with per-worker scratch
 * that grows to the largest size needed and is then reused. This class is the op table: each op
 * hands the arrays to one kernel class per op family, {@link CpuGemm} (blocked SGEMM),
 * {@link CpuConv2d} (im2col + GEMM), {@link CpuPool2d}, {@link CpuElementwise}, {@link CpuCopy},
 * {@link CpuNormalization}, {@link CpuRecurrentCells}, {@link CpuEmbedding}, {@link CpuSoftmax}
 * and {@link CpuOptimizers}. It implements the primitives and overrides every derived op with a
 * fused kernel.
 *
 * <p>It checks no arguments: the runtime wraps it in a {@link CheckedBackend}, which refuses
 * foreign tensors, bad sizes, ranges and overlaps before a kernel runs. Only what the data alone
 * can tell (a max-pooling argmax, an embedding row index, a class label) is checked by the
 * kernel that reads it.
 *
 * <p>Ops are synchronous and run one at a time (the pool's monitor serialises callers), except
 * inside {@link BatchShards#run} ({@link CpuShards}): there each of the two shards of a training
 * step calls ops from its own thread, and they run on that shard's own {@link Ops} (kernel
 * objects, scratch and threads). Every op
 * is deterministic in the strong sense: the same inputs give bit-identical outputs for any
 * thread count, because work is split so that each output element is computed by one task in a
 * fixed order (see each kernel class for how).
 *
 * <p>The few inner loops that the incubating Vector API speeds up (the GEMM micro-kernel, the
 * direct convolution, {@code affine}, {@code channelMax}, the LSTM cell's σ and tanh) come from {@link CpuKernels}, chosen
 * when the backend is created: {@code FloatVector} code when the JVM has
 * {@code jdk.incubator.vector}, plain Java loops otherwise. Both give the same bits; the
 * description says which runs.
 */
public final class CpuBackend implements Backend {
    private final CpuThreads threads;
    private final CpuKernels.Path path;
    /** The kernels on all of {@link #threads}: every op outside a shard of {@link CpuShards}. */
    private final Ops all;
    /** The kernels of the shard the calling thread runs, if any ({@link CpuShards}); null outside one. */
    private final ThreadLocal<Ops> shardOps = new ThreadLocal<>();
    /** Made on the first request for {@link BatchShards}; null until then. */
    private CpuShards shards;
    private final LongAdder launches = new LongAdder();
    private final LongAdder syncs = new LongAdder();

    /**
     * A backend on the Vector API when the JVM was started with {@code --add-modules
     * jdk.incubator.vector}, else on plain Java loops (the same results, slower; the first such
     * backend in a JVM says so on standard error, and {@link #description()} says how to switch).
     */
    public CpuBackend(BackendOptions options) {
        this(options, CpuKernels.Path.select());
    }

    /** A backend on the given inner loops (the tests run the plain ones next to the vector ones). */
    CpuBackend(BackendOptions options, CpuKernels.Path path) {
        this.threads = new CpuThreads(options.resolvedThreads());
        this.path = path;
        this.all = new Ops(threads, path, null, 0);
    }

    /** A backend with {@code threads} workers (0: one per core). */
    public CpuBackend(int threads) {
        this(new BackendOptions(threads, null));
    }

    /**
     * One set of kernel objects, each with its per-worker scratch, on one pool of threads: the
     * backend's own, or one shard's ({@link CpuShards}), whose batch norm then exchanges its sums
     * with the other shard's through {@code exchange}.
     */
    static final class Ops {
        final CpuGemm gemm;
        final CpuConv2d conv;
        final CpuPool2d pool;
        final CpuElementwise elementwise;
        final CpuCopy copies;
        final CpuNormalization normalization;
        final CpuRecurrentCells cells;
        final CpuEmbedding embedding;
        final CpuSoftmax softmax;
        final CpuOptimizers optimizers;
        /**
         * Shard 0 in lockstep ({@link CpuShards}, one thread) after a batch-norm call that finishes
         * only in shard 1's step: no other op of this shard may run until then.
         */
        boolean awaitingExchange;

        Ops(CpuThreads threads, CpuKernels.Path path, CpuShards exchange, int shard) {
            this.gemm = new CpuGemm(threads, path);
            this.conv = new CpuConv2d(threads, gemm, path);
            this.pool = new CpuPool2d(threads, path);
            this.elementwise = new CpuElementwise(threads, path);
            this.copies = new CpuCopy(threads);
            this.normalization = new CpuNormalization(threads, path, exchange, shard);
            this.cells = new CpuRecurrentCells(threads, path);
            this.embedding = new CpuEmbedding(threads);
            this.softmax = new CpuSoftmax(threads);
            this.optimizers = new CpuOptimizers(threads);
        }

        /**
         * {@code shared}'s kernel objects (and so their scratch and remembered weight preparations)
         * with batch norm's own: the second shard of a lockstep run ({@link CpuShards}, one thread),
         * whose ops never overlap the first shard's.
         */
        Ops(Ops shared, CpuNormalization normalization) {
            this.gemm = shared.gemm;
            this.conv = shared.conv;
            this.pool = shared.pool;
            this.elementwise = shared.elementwise;
            this.copies = shared.copies;
            this.normalization = normalization;
            this.cells = shared.cells;
            this.embedding = shared.embedding;
            this.softmax = shared.softmax;
            this.optimizers = shared.optimizers;
        }
    }

    /** The kernels for an op called on this thread: its shard's inside {@link CpuShards#run}, else the backend's. */
    private Ops ops() {
        Ops shard = shardOps.get();
        if (shard == null) return all;
        if (shard.awaitingExchange) throw opAfterDeferredBatchNorm();
        return shard;
    }

    /** Kept out of {@link #ops}, which every op inlines: its message is built only when it is thrown. */
    private static IllegalStateException opAfterDeferredBatchNorm() {
        return new IllegalStateException("an op of shard 0 followed its batch-norm call in the same step: with one thread that call"
                + " finishes only in shard 1's step of the same index, so nothing in the step may follow it (BatchShards)");
    }

    /**
     * Binds (or, with null, unbinds) the calling thread to a shard's kernels; {@link CpuShards}
     * only. Unbinding leaves the thread's entry holding null rather than removing it: a new entry
     * for each of the step's two runs on both threads was 128 bytes of garbage a step.
     */
    void bindShard(Ops ops) {
        shardOps.set(ops);
    }

    /** The kernel path, for {@link CpuShards} to build each shard's {@link Ops}. */
    CpuKernels.Path path() { return path; }

    /**
     * {@link BatchShards}: training steps as two shards of the batch, each on half of the threads
     * (at least one; with one thread they run in lockstep on the caller). Made on first request.
     */
    @Override public synchronized <T> Optional<T> extension(Class<T> type) {
        if (type != BatchShards.class) return Optional.empty();
        if (shards == null) shards = new CpuShards(this, threads);
        return Optional.of(type.cast(shards));
    }

    @Override public String name() { return "cpu"; }

    /**
     * Ops run and host synchronisations (downloads and ops returning a value) so far. Every op
     * finishes before it returns, so a synchronisation costs nothing here; it is counted all the
     * same, so that the engine's reads show on the CPU as they would on a device.
     */
    @Override public Optional<BackendCounters> counters() { return Optional.of(new BackendCounters(launches.sum(), syncs.sum())); }

    /** One op run; {@code returnsValue}: one that hands a value back to Java as well. */
    private void count(boolean returnsValue) {
        launches.increment();
        if (returnsValue) syncs.increment();
    }

    @Override public String description() {
        return "CPU, " + threads.size() + " thread" + (threads.size() == 1 ? "" : "s")
                + ", " + path.description();
    }

    /** Worker threads, the calling thread included. */
    public int threads() { return threads.size(); }

    @Override public void close() {
        CpuShards made;
        synchronized (this) { made = shards; }
        if (made != null) made.close();
        threads.close();
    }

    // ==== primitives ======================================================================

    // ---- memory -------------------------------------------------------------------------

    @Override public Tensor allocate(Shape shape) { return new CpuTensor(this, shape); }

    @Override public void upload(float[] src, int srcOffset, Slice dst) {
        count(false);
        System.arraycopy(src, srcOffset, data(dst), dst.offset(), dst.length());
    }

    @Override public void download(Slice src, float[] dst, int dstOffset) {
        syncs.increment();
        System.arraycopy(data(src), src.offset(), dst, dstOffset, src.length());
    }

    @Override public void fill(Slice t, float value) { count(false); Arrays.fill(data(t), t.offset(), t.offset() + t.length(), value); }

    @Override public void copyBlocks(Strided src, Strided dst, int length, int count) {
        count(false);
        ops().copies.copyBlocks(data(src.tensor()), src.offset(), src.stride(), data(dst.tensor()), dst.offset(), dst.stride(), length, count);
    }

    // ---- dense linear algebra -----------------------------------------------------------

    @Override public void gemm(Gemm g, float alpha, Matrix a, Matrix b, float beta, Matrix c) {
        count(false);
        ops().gemm.gemm(g.transA(), g.transB(), g.m(), g.n(), g.k(), alpha, data(a.tensor()), a.offset(), a.ld(), data(b.tensor()), b.offset(), b.ld(),
                beta, data(c.tensor()), c.offset(), c.ld(), g.batch(), a.batchStride(), b.batchStride(), c.batchStride());
    }

    // ---- convolution and pooling --------------------------------------------------------

    @Override public void conv2dForward(Conv2dGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
        count(false);
        ops().conv.forward(g, data(x), data(w), data(bias), data(y));
    }

    /** With a relu, the relu in the convolution's write-back (after the Winograd path: one pass over y); other activations: the default. */
    @Override public void conv2dForward(Conv2dGeometry g, Tensor x, Tensor w, Tensor bias, UnaryOp activation, Tensor y) {
        if (activation != UnaryOp.RELU) {
            Backend.super.conv2dForward(g, x, w, bias, activation, y);
            return;
        }
        count(false);
        if (!ops().conv.forward(g, data(x), data(w), data(bias), true, data(y))) unary(UnaryOp.RELU, y, y);
    }

    /**
     * With a relu or none, the residual (and the relu) added in the convolution's write-back on the
     * channel-vector, strided 1x1, Winograd and GEMM paths, else (direct) in one pass over y after it;
     * other activations: the default.
     */
    @Override public void conv2dResidualForward(Conv2dGeometry g, Tensor x, Tensor w, Tensor bias, Tensor residual, UnaryOp activation,
                                                Tensor y) {
        if (activation != null && activation != UnaryOp.RELU) {
            Backend.super.conv2dResidualForward(g, x, w, bias, residual, activation, y);
            return;
        }
        count(false);
        boolean relu = activation == UnaryOp.RELU;
        if (ops().conv.forward(g, data(x), data(w), data(bias), data(residual), relu, data(y))) return;
        if (relu) ops().elementwise.addRelu(data(y), 0, data(residual), 0, data(y), 0, y.size());
        else ops().elementwise.binary(BinaryOp.ADD, data(y), 0, data(residual), 0, data(y), 0, y.size());
    }

    /** With a relu, the bias and the relu in the GEMM's copy back (skinny products) or one pass after it; other activations: the default. */
    @Override public void denseForward(Tensor x, Tensor w, Tensor bias, UnaryOp activation, Tensor y, int rows, int in, int out) {
        count(false);
        if (activation == UnaryOp.RELU) {
            ops().gemm.denseForwardRelu(rows, out, in, data(x), data(w), data(bias), data(y));
            return;
        }
        // The default's three ops, called on the arrays: the default builds GEMM descriptors per call, garbage every step.
        ops().gemm.gemm(false, true, rows, out, in, 1f, data(x), 0, in, data(w), 0, in, 0f, data(y), 0, out, 1, 0, 0, 0);
        if (bias != null) channelBroadcast(BinaryOp.ADD, y, bias, y, rows, out, 1);
        if (activation != null) unary(activation, y, y);
    }

    /** dx = dy · w, then the activation's derivative from its output x: the default's ops, without its per-call GEMM descriptors. */
    @Override public void denseBackwardData(Tensor dy, Tensor w, Tensor x, UnaryOp activation, Tensor dx, int rows, int in, int out) {
        count(false);
        ops().gemm.gemm(false, false, rows, in, out, 1f, data(dy), 0, out, data(w), 0, in, 0f, data(dx), 0, in, 1, 0, 0, 0);
        if (activation != null) unaryBackward(activation, x, x, dx, dx);
    }

    @Override public void conv2dBackwardData(Conv2dGeometry g, Tensor dy, Tensor w, Tensor dx) {
        count(false);
        ops().conv.backwardData(g, data(dy), data(w), data(dx));
    }

    @Override public void conv2dBackwardFilter(Conv2dGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        count(false);
        ops().conv.backwardFilter(g, data(x), data(dy), data(dw), data(dbias));
    }

    @Override public void maxPool2dForward(Pool2dGeometry g, Tensor x, Tensor y, Tensor argmax) {
        count(false);
        ops().pool.maxForward(g, data(x), data(y), data(argmax));
    }

    @Override public void maxPool2dBackward(Pool2dGeometry g, Tensor dy, Tensor argmax, Tensor dx) {
        count(false);
        ops().pool.maxBackward(g, data(dy), data(argmax), data(dx));
    }

    @Override public void avgPool2dForward(Pool2dGeometry g, Tensor x, Tensor y) { count(false); ops().pool.avgForward(g, data(x), data(y)); }

    @Override public void avgPool2dBackward(Pool2dGeometry g, Tensor dy, Tensor dx) { count(false); ops().pool.avgBackward(g, data(dy), data(dx)); }

    // ---- element-wise -------------------------------------------------------------------

    @Override public void unary(UnaryOp op, Slice x, Slice y) {
        count(false);
        ops().elementwise.unary(op, data(x), x.offset(), data(y), y.offset(), y.length());
    }

    @Override public void unaryBackward(UnaryOp op, Slice x, Slice y, Slice dy, Slice dx) {
        count(false);
        ops().elementwise.unaryBackward(op, data(x), offset(x), data(y), offset(y), data(dy), dy.offset(), data(dx), dx.offset(), dx.length());
    }

    @Override public void binary(BinaryOp op, Slice a, Slice b, Slice out) {
        count(false);
        ops().elementwise.binary(op, data(a), a.offset(), data(b), b.offset(), data(out), out.offset(), out.length());
    }

    // Whole-tensor forms straight to the kernels: the layers' most frequent calls, without a
    // Slice per argument (the contract's defaults would build them).

    @Override public void unary(UnaryOp op, Tensor x, Tensor y) {
        count(false);
        ops().elementwise.unary(op, data(x), 0, data(y), 0, y.size());
    }

    @Override public void unaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        count(false);
        ops().elementwise.unaryBackward(op, data(x), 0, data(y), 0, data(dy), 0, data(dx), 0, dx.size());
    }

    /** With a relu, the sum and the relu in one pass over the elements; other activations: the default. */
    @Override public void addForward(Tensor a, Tensor b, UnaryOp activation, Tensor out) {
        if (activation != UnaryOp.RELU) {
            Backend.super.addForward(a, b, activation, out);
            return;
        }
        count(false);
        ops().elementwise.addRelu(data(a), 0, data(b), 0, data(out), 0, out.size());
    }

    @Override public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        count(false);
        ops().elementwise.binary(op, data(a), 0, data(b), 0, data(out), 0, out.size());
    }

    @Override public void fill(Tensor t, float value) { count(false); Arrays.fill(data(t), value); }

    @Override public void upload(float[] src, Tensor dst) { count(false); System.arraycopy(src, 0, data(dst), 0, dst.size()); }

    @Override public void affine(Slice x, float scale, float shift, Slice y) {
        count(false);
        ops().elementwise.affine(data(x), x.offset(), scale, shift, data(y), y.offset(), y.length());
    }

    @Override public void channelBroadcast(BinaryOp op, Tensor x, Tensor v, Tensor out, int outer, int channels, int inner) {
        count(false);
        ops().elementwise.channelBroadcast(op, data(x), data(v), data(out), outer, channels, inner);
    }

    @Override public void channelSum(Tensor x, Tensor out, int outer, int channels, int inner, float beta) {
        count(false);
        ops().elementwise.channelSum(data(x), data(out), outer, channels, inner, beta);
    }

    @Override public void channelMax(Tensor x, Tensor out, int outer, int channels, int inner) {
        count(false);
        ops().elementwise.channelMax(data(x), data(out), outer, channels, inner);
    }

    @Override public double sumOfSquares(Tensor x) { count(true); return ops().elementwise.sumOfSquares(data(x), x.size()); }

    // ---- rows ---------------------------------------------------------------------------

    @Override public void gatherRows(Tensor table, Tensor indices, Tensor out, int rows, int width) {
        count(false);
        ops().embedding.gather(data(table), table.size() / width, data(indices), data(out), rows, width);
    }

    @Override public void scatterAddRows(Tensor dOut, Tensor indices, Tensor dTable, int rows, int width) {
        count(false);
        ops().embedding.scatterAdd(data(dOut), data(indices), data(dTable), dTable.size() / width, rows, width);
    }

    // ---- regularisation -----------------------------------------------------------------

    @Override public void dropoutForward(Tensor x, Tensor mask, Tensor y, float p, long seed) {
        count(false);
        ops().elementwise.dropout(data(x), data(mask), data(y), p, seed, x.size());
    }

    // ==== derived ops, each one fused kernel ==============================================

    @Override public void copy(Slice src, Slice dst) {
        count(false);
        System.arraycopy(data(src), src.offset(), data(dst), dst.offset(), dst.length());
    }

    @Override public void pad2d(Tensor x, Tensor y, int planes, int h, int w, int top, int left, int outH, int outW) {
        count(false);
        ops().copies.pad2d(data(x), data(y), planes, h, w, top, left, outH, outW);
    }

    @Override public void crop2d(Tensor dy, Tensor dx, int planes, int h, int w, int top, int left, int outH, int outW) {
        count(false);
        ops().copies.crop2d(data(dy), data(dx), planes, h, w, top, left, outH, outW);
    }

    @Override public void axpby(float alpha, Tensor x, float beta, Tensor y) { count(false); ops().elementwise.axpby(alpha, data(x), beta, data(y), x.size()); }

    @Override public void softmax(Tensor x, Tensor y, int rows, int cols) { count(false); ops().softmax.softmax(data(x), data(y), rows, cols); }

    @Override public void softmaxBackward(Tensor y, Tensor dy, Tensor dx, int rows, int cols) {
        count(false);
        ops().softmax.softmaxBackward(data(y), data(dy), data(dx), rows, cols);
    }

    @Override public double softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits, int rows, int classes, float gradScale) {
        count(true);
        return ops().softmax.crossEntropy(data(logits), data(labels), data(dLogits), rows, classes, gradScale);
    }

    @Override
    public void batchNormForward(Tensor x, Tensor y, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                 Tensor saveMean, Tensor saveInvStd, int outer, int channels, int inner,
                                 float eps, float momentum, boolean training) {
        count(false);
        if (training) ops().normalization.batchNormTraining(data(x), data(y), data(gamma), data(beta), data(runningMean), data(runningVar),
                data(saveMean), data(saveInvStd), outer, channels, inner, eps, momentum);
        else ops().normalization.batchNormInference(data(x), data(y), data(gamma), data(beta), data(runningMean), data(runningVar),
                outer, channels, inner, eps);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                  Tensor dx, Tensor dgamma, Tensor dbeta, int outer, int channels, int inner) {
        count(false);
        ops().normalization.batchNormBackward(data(x), data(dy), data(gamma), data(saveMean), data(saveInvStd), data(dx), data(dgamma), data(dbeta),
                outer, channels, inner);
    }

    @Override
    public void batchNormForward(Tensor x, Tensor y, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                 Tensor saveMean, Tensor saveInvStd, int outer, int channels, int inner,
                                 float eps, float momentum, boolean training, UnaryOp activation) {
        if (activation != UnaryOp.RELU) {   // sigmoid, tanh: the two ops
            Backend.super.batchNormForward(x, y, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, outer, channels, inner,
                    eps, momentum, training, activation);
            return;
        }
        count(false);
        ops().normalization.batchNormForward(training, true, data(x), data(y), data(gamma), data(beta), data(runningMean), data(runningVar),
                training ? data(saveMean) : null, training ? data(saveInvStd) : null, outer, channels, inner, eps, momentum);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, UnaryOp activation, Tensor y,
                                  Tensor dx, Tensor dgamma, Tensor dbeta, int outer, int channels, int inner) {
        if (activation != UnaryOp.RELU) {
            Backend.super.batchNormBackward(x, dy, gamma, saveMean, saveInvStd, activation, y, dx, dgamma, dbeta, outer, channels, inner);
            return;
        }
        count(false);
        ops().normalization.batchNormBackwardRelu(data(x), data(dy), data(y), data(gamma), data(saveMean), data(saveInvStd), data(dx),
                data(dgamma), data(dbeta), outer, channels, inner);
    }

    @Override
    public void lrnForward(Tensor x, Tensor y, Tensor scale, int batch, int channels, int inner, int size, float alpha, float beta, float k) {
        count(false);
        ops().normalization.lrnForward(data(x), data(y), data(scale), batch, channels, inner, size, alpha, beta, k);
    }

    @Override
    public void lrnBackward(Tensor x, Tensor y, Tensor scale, Tensor dy, Tensor dx, int batch, int channels, int inner,
                            int size, float alpha, float beta, float k) {
        count(false);
        ops().normalization.lrnBackward(data(x), data(y), data(scale), data(dy), data(dx), batch, channels, inner, size, alpha, beta);
    }

    @Override public void lstmCellForward(Slice gates, Slice cPrev, Slice c, Slice h, int batch, int hidden) {
        count(false);
        ops().cells.lstmForward(data(gates), gates.offset(), data(cPrev), cPrev.offset(), data(c), c.offset(), data(h), h.offset(), batch, hidden);
    }

    /** The default's GEMM and cell, called on the arrays: the default builds its GEMM descriptors per call, garbage every step. */
    @Override public void lstmStepForward(Matrix hPrev, Matrix wHh, Slice gates, Slice cPrev, Slice c, Slice h, int batch, int hidden) {
        count(false);
        ops().gemm.gemm(false, true, batch, 4 * hidden, hidden, 1f, data(hPrev.tensor()), hPrev.offset(), hPrev.ld(), data(wHh.tensor()), wHh.offset(),
                wHh.ld(), 1f, data(gates), gates.offset(), 4 * hidden, 1, 0, 0, 0);
        ops().cells.lstmForward(data(gates), gates.offset(), data(cPrev), cPrev.offset(), data(c), c.offset(), data(h), h.offset(), batch, hidden);
    }

    @Override public void lstmCellBackward(Slice gates, Slice cPrev, Slice c, Slice dh, Slice dc, Slice dGates, int batch, int hidden) {
        count(false);
        ops().cells.lstmBackward(data(gates), gates.offset(), data(cPrev), cPrev.offset(), data(c), c.offset(), data(dh), dh.offset(),
                data(dc), dc.offset(), data(dGates), dGates.offset(), batch, hidden);
    }

    @Override public void gruCellForward(Slice gi, Slice gh, Slice hPrev, Slice h, Slice saved, int batch, int hidden) {
        count(false);
        ops().cells.gruForward(data(gi), gi.offset(), data(gh), gh.offset(), data(hPrev), hPrev.offset(), data(h), h.offset(),
                data(saved), saved.offset(), batch, hidden);
    }

    /** The default's GEMM and cell, called on the arrays (no GEMM descriptors made per call). */
    @Override public void gruStepForward(Slice hPrev, Matrix wHh, Slice gi, Slice gh, Slice h, Slice saved, int batch, int hidden) {
        count(false);
        ops().gemm.gemm(false, true, batch, 3 * hidden, hidden, 1f, data(hPrev), hPrev.offset(), hidden, data(wHh.tensor()), wHh.offset(),
                wHh.ld(), 1f, data(gh), gh.offset(), 3 * hidden, 1, 0, 0, 0);
        ops().cells.gruForward(data(gi), gi.offset(), data(gh), gh.offset(), data(hPrev), hPrev.offset(), data(h), h.offset(),
                data(saved), saved.offset(), batch, hidden);
    }

    @Override public void gruCellBackward(Slice saved, Slice gh, Slice hPrev, Slice dh, Slice dGi, Slice dGh, Slice dhPrev,
                                          int batch, int hidden) {
        count(false);
        ops().cells.gruBackward(data(saved), saved.offset(), data(gh), gh.offset(), data(hPrev), hPrev.offset(), data(dh), dh.offset(),
                data(dGi), dGi.offset(), data(dGh), dGh.offset(), data(dhPrev), dhPrev.offset(), batch, hidden);
    }

    @Override public void sgdUpdate(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay, boolean nesterov) {
        count(false);
        ops().optimizers.sgd(data(param), data(grad), data(velocity), lr, momentum, weightDecay, nesterov, 1f, param.size());
    }

    @Override public void adamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                                     float eps, float weightDecay, int step) {
        count(false);
        ops().optimizers.adam(data(param), data(grad), data(m), data(v), lr, beta1, beta2, eps, weightDecay, step, 1f, param.size());
    }

    @Override public void adamwUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                                      float eps, float weightDecay, int step) {
        count(false);
        ops().optimizers.adamw(data(param), data(grad), data(m), data(v), lr, beta1, beta2, eps, weightDecay, step, 1f, param.size());
    }

    @Override public void rmspropUpdate(Tensor param, Tensor grad, Tensor squareAverage, Tensor momentumBuffer, Tensor gradAverage,
                                        float lr, float alpha, float eps, float weightDecay, float momentum, boolean centered) {
        count(false);
        ops().optimizers.rmsprop(data(param), data(grad), data(squareAverage), data(momentumBuffer), data(gradAverage), lr, alpha, eps,
                weightDecay, momentum, centered, 1f, param.size());
    }

    // ---- the training step on the device, here the heap ---------------------------------

    @Override public void sumOfSquares(List<Tensor> xs, Slice out) {
        count(false);
        double sum = 0;
        for (int i = 0; i < xs.size(); i++) sum += ops().elementwise.sumOfSquares(data(xs.get(i)), xs.get(i).size());
        data(out)[out.offset()] = (float) sum;
    }

    @Override public void softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits, int rows, int classes, float gradScale,
                                              Slice loss) {
        count(false);
        data(loss)[loss.offset()] = (float) ops().softmax.crossEntropy(data(logits), data(labels), data(dLogits), rows, classes, gradScale);
    }

    @Override public void countCorrect(Tensor logits, Tensor labels, int rows, int classes, Slice out) {
        count(false);
        data(out)[out.offset()] = CpuStepStatus.countCorrect(data(logits), data(labels), rows, classes);
    }

    @Override public void stepControl(Slice squaredNorm, Slice loss, float maxNorm, Slice control) {
        count(false);
        CpuStepStatus.control(data(squaredNorm)[squaredNorm.offset()], loss == null ? 0 : data(loss)[loss.offset()], maxNorm,
                data(control), control.offset());
    }

    // The controlled updates: a set skip flag returns at once; otherwise the fused loop scales each gradient element.

    @Override public void sgdUpdate(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay, boolean nesterov,
                                    Slice control) {
        count(false);
        if (skip(control)) return;
        ops().optimizers.sgd(data(param), data(grad), data(velocity), lr, momentum, weightDecay, nesterov, factor(control), param.size());
    }

    @Override public void adamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                                     float eps, float weightDecay, int step, Slice control) {
        count(false);
        if (skip(control)) return;
        ops().optimizers.adam(data(param), data(grad), data(m), data(v), lr, beta1, beta2, eps, weightDecay, step, factor(control), param.size());
    }

    @Override public void adamwUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                                      float eps, float weightDecay, int step, Slice control) {
        count(false);
        if (skip(control)) return;
        ops().optimizers.adamw(data(param), data(grad), data(m), data(v), lr, beta1, beta2, eps, weightDecay, step, factor(control), param.size());
    }

    @Override public void rmspropUpdate(Tensor param, Tensor grad, Tensor squareAverage, Tensor momentumBuffer, Tensor gradAverage,
                                        float lr, float alpha, float eps, float weightDecay, float momentum, boolean centered, Slice control) {
        count(false);
        if (skip(control)) return;
        ops().optimizers.rmsprop(data(param), data(grad), data(squareAverage), data(momentumBuffer), data(gradAverage), lr, alpha, eps,
                weightDecay, momentum, centered, factor(control), param.size());
    }

    /** Whether a step control says to skip (a null control, a plain update's, never does). */
    private static boolean skip(Slice control) { return control != null && data(control)[control.offset() + StepControl.SKIP] != 0; }

    /** The gradient factor of a step control (1 for a plain update's null). */
    private static float factor(Slice control) { return control == null ? 1f : data(control)[control.offset() + StepControl.FACTOR]; }

    // ---- storage ------------------------------------------------------------------------

    /**
     * The array behind a tensor of this backend, or null for an optional tensor left out (a
     * bias, an unused velocity). The checking wrapper has refused other backends' tensors; one
     * that gets here anyway fails the cast.
     */
    private static float[] data(Tensor t) { return t == null ? null : ((CpuTensor) t).data; }

    /** The array behind a slice's tensor; null for a slice left out (a unary backward input the op does not read). */
    private static float[] data(Slice s) { return s == null ? null : data(s.tensor()); }

    private static int offset(Slice s) { return s == null ? 0 : s.offset(); }
}
