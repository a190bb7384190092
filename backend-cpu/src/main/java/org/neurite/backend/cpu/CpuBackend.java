package org.neurite.backend.cpu;

import static org.neurite.backend.OpChecks.*;

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
 * {@link CpuElementwise}, {@link CpuCopy}, {@link CpuNormalization}, {@link CpuRecurrentCells},
 * {@link CpuEmbedding}, {@link CpuSoftmax} and {@link CpuOptimizers}.
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
    private final CpuCopy copies;
    private final CpuNormalization normalization;
    private final CpuRecurrentCells cells;
    private final CpuEmbedding embedding;
    private final CpuSoftmax softmax;
    private final CpuOptimizers optimizers;

    public CpuBackend(BackendOptions options) {
        this.threads = new CpuThreads(options.resolvedThreads());
        this.gemm = new CpuGemm(threads);
        this.conv = new CpuConv2d(threads, gemm);
        this.pool = new CpuPool2d(threads);
        this.elementwise = new CpuElementwise(threads);
        this.copies = new CpuCopy(threads);
        this.normalization = new CpuNormalization(threads);
        this.cells = new CpuRecurrentCells(threads);
        this.embedding = new CpuEmbedding(threads);
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
        checkGemmSizes(m, n, k, batch);
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
        conv.forward(g, sized(x, "x", convInputSize(g)), sized(w, "w", convWeightSize(g)),
                bias == null ? null : sized(bias, "bias", g.outChannels()), sized(y, "y", convOutputSize(g)));
    }

    @Override public void conv2dBackwardData(Conv2dGeometry g, Tensor dy, Tensor w, Tensor dx) {
        checkConv(g);
        conv.backwardData(g, sized(dy, "dy", convOutputSize(g)), sized(w, "w", convWeightSize(g)), sized(dx, "dx", convInputSize(g)));
    }

    @Override public void conv2dBackwardFilter(Conv2dGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        checkConv(g);
        conv.backwardFilter(g, sized(x, "x", convInputSize(g)), sized(dy, "dy", convOutputSize(g)), sized(dw, "dw", convWeightSize(g)),
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

    @Override public void unary(UnaryOp op, Tensor x, int xOff, Tensor y, int yOff, int length) {
        float[] xv = slice(x, "x", xOff, length), yv = slice(y, "y", yOff, length);
        checkInPlaceOrDisjoint("unary", op, "y", yv, yOff, "x", xv, xOff, length);
        elementwise.unary(op, xv, xOff, yv, yOff, length);
    }

    @Override public void unaryBackward(UnaryOp op, Tensor x, int xOff, Tensor y, int yOff, Tensor dy, int dyOff,
                                        Tensor dx, int dxOff, int length) {
        boolean needsX = op == UnaryOp.RELU || op == UnaryOp.SQUARE || op == UnaryOp.SOFTPLUS;
        boolean needsY = op == UnaryOp.SIGMOID || op == UnaryOp.TANH || op == UnaryOp.EXP;
        checkUnaryBackwardInputs(op, needsX, x != null, needsY, y != null);
        float[] dyv = slice(dy, "dy", dyOff, length), dxv = slice(dx, "dx", dxOff, length);
        float[] xv = needsX ? slice(x, "x", xOff, length) : null, yv = needsY ? slice(y, "y", yOff, length) : null;
        checkInPlaceOrDisjoint("unaryBackward", op, "dx", dxv, dxOff, "dy", dyv, dyOff, length);
        if (needsX) checkInPlaceOrDisjoint("unaryBackward", op, "dx", dxv, dxOff, "x", xv, xOff, length);
        if (needsY) checkInPlaceOrDisjoint("unaryBackward", op, "dx", dxv, dxOff, "y", yv, yOff, length);
        elementwise.unaryBackward(op, xv, xOff, yv, yOff, dyv, dyOff, dxv, dxOff, length);
    }

    @Override public void binary(BinaryOp op, Tensor a, int aOff, Tensor b, int bOff, Tensor out, int outOff, int length) {
        float[] av = slice(a, "a", aOff, length), bv = slice(b, "b", bOff, length), ov = slice(out, "out", outOff, length);
        checkInPlaceOrDisjoint("binary", op, "out", ov, outOff, "a", av, aOff, length);
        checkInPlaceOrDisjoint("binary", op, "out", ov, outOff, "b", bv, bOff, length);
        elementwise.binary(op, av, aOff, bv, bOff, ov, outOff, length);
    }

    @Override public void copyBlocks(Tensor src, int srcOff, int srcStride, Tensor dst, int dstOff, int dstStride, int length, int count) {
        float[] s = data(src, "src"), d = data(dst, "dst");
        checkCopyBlocks(s.length, srcOff, srcStride, d.length, dstOff, dstStride, length, count);
        if (length == 0) return;
        copies.copyBlocks(s, srcOff, srcStride, d, dstOff, dstStride, length, count);
    }

    @Override public void pad2d(Tensor x, Tensor y, int planes, int h, int w, int top, int left, int outH, int outW) {
        checkPadding("pad2d", planes, h, w, top, left, outH, outW);
        float[] xv = sized(x, "x", viewSize(planes, h, w)), yv = sized(y, "y", viewSize(planes, outH, outW));
        checkDistinct("pad2d", "y", yv, "x", xv);
        copies.pad2d(xv, yv, planes, h, w, top, left, outH, outW);
    }

    @Override public void crop2d(Tensor dy, Tensor dx, int planes, int h, int w, int top, int left, int outH, int outW) {
        checkPadding("crop2d", planes, h, w, top, left, outH, outW);
        float[] dyv = sized(dy, "dy", viewSize(planes, outH, outW)), dxv = sized(dx, "dx", viewSize(planes, h, w));
        checkDistinct("crop2d", "dx", dxv, "dy", dyv);
        copies.crop2d(dyv, dxv, planes, h, w, top, left, outH, outW);
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

    // ---- normalisation ------------------------------------------------------------------

    @Override
    public void batchNormForward(Tensor x, Tensor y, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                 Tensor saveMean, Tensor saveInvStd, int outer, int channels, int inner,
                                 float eps, float momentum, boolean training) {
        int n = viewSize(outer, channels, inner);
        checkBatchNormEps(eps);
        float[] xv = sized(x, "x", n), yv = sized(y, "y", n);
        float[] g = sized(gamma, "gamma", channels), b = sized(beta, "beta", channels);
        float[] rm = sized(runningMean, "runningMean", channels), rv = sized(runningVar, "runningVar", channels);
        if (!training) {
            normalization.batchNormInference(xv, yv, g, b, rm, rv, outer, channels, inner, eps);
            return;
        }
        checkBatchNormTraining(momentum, outer, inner);
        float[] sm = sized(saveMean, "saveMean", channels), si = sized(saveInvStd, "saveInvStd", channels);
        normalization.batchNormTraining(xv, yv, g, b, rm, rv, sm, si, outer, channels, inner, eps, momentum);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                  Tensor dx, Tensor dgamma, Tensor dbeta, int outer, int channels, int inner) {
        int n = viewSize(outer, channels, inner);
        float[] xv = sized(x, "x", n), dyv = sized(dy, "dy", n), dxv = sized(dx, "dx", n);
        float[] g = sized(gamma, "gamma", channels), sm = sized(saveMean, "saveMean", channels), si = sized(saveInvStd, "saveInvStd", channels);
        float[] dg = dgamma == null ? null : sized(dgamma, "dgamma", channels), db = dbeta == null ? null : sized(dbeta, "dbeta", channels);
        normalization.batchNormBackward(xv, dyv, g, sm, si, dxv, dg, db, outer, channels, inner);
    }

    @Override
    public void lrnForward(Tensor x, Tensor y, Tensor scale, int batch, int channels, int inner, int size, float alpha, float beta, float k) {
        checkLrn(size, k);
        int n = viewSize(batch, channels, inner);
        float[] xv = sized(x, "x", n), yv = sized(y, "y", n), sv = sized(scale, "scale", n);
        checkDistinct("lrnForward", "y", yv, "x", xv);
        checkDistinct("lrnForward", "scale", sv, "x", xv);
        checkDistinct("lrnForward", "scale", sv, "y", yv);
        normalization.lrnForward(xv, yv, sv, batch, channels, inner, size, alpha, beta, k);
    }

    @Override
    public void lrnBackward(Tensor x, Tensor y, Tensor scale, Tensor dy, Tensor dx, int batch, int channels, int inner,
                            int size, float alpha, float beta, float k) {
        checkLrn(size, k);
        int n = viewSize(batch, channels, inner);
        float[] xv = sized(x, "x", n), yv = sized(y, "y", n), sv = sized(scale, "scale", n), dyv = sized(dy, "dy", n), dxv = sized(dx, "dx", n);
        checkDistinct("lrnBackward", "dx", dxv, "x", xv);
        checkDistinct("lrnBackward", "dx", dxv, "y", yv);
        checkDistinct("lrnBackward", "dx", dxv, "scale", sv);
        checkDistinct("lrnBackward", "dx", dxv, "dy", dyv);
        normalization.lrnBackward(xv, yv, sv, dyv, dxv, batch, channels, inner, size, alpha, beta);
    }

    // ---- recurrent cells ----------------------------------------------------------------

    @Override
    public void lstmCellForward(Tensor gates, int gatesOff, Tensor cPrev, int cPrevOff, Tensor c, int cOff,
                                Tensor h, int hOff, int batch, int hidden) {
        int state = cellSize("lstmCellForward", batch, hidden, 1), gateBlock = cellSize("lstmCellForward", batch, hidden, 4);
        float[] gv = slice(gates, "gates", gatesOff, gateBlock), cpv = slice(cPrev, "cPrev", cPrevOff, state);
        float[] cv = slice(c, "c", cOff, state), hv = slice(h, "h", hOff, state);
        String what = "lstmCellForward";
        checkInPlaceOrDisjoint(what, null, "c", cv, cOff, "cPrev", cpv, cPrevOff, state);
        checkDisjoint(what, "c", cv, cOff, state, "gates", gv, gatesOff, gateBlock);
        checkDisjoint(what, "h", hv, hOff, state, "gates", gv, gatesOff, gateBlock);
        checkDisjoint(what, "h", hv, hOff, state, "c", cv, cOff, state);
        checkDisjoint(what, "h", hv, hOff, state, "cPrev", cpv, cPrevOff, state);
        cells.lstmForward(gv, gatesOff, cpv, cPrevOff, cv, cOff, hv, hOff, batch, hidden);
    }

    @Override
    public void lstmCellBackward(Tensor gates, int gatesOff, Tensor cPrev, int cPrevOff, Tensor c, int cOff,
                                 Tensor dh, int dhOff, Tensor dc, int dcOff, Tensor dGates, int dGatesOff, int batch, int hidden) {
        int state = cellSize("lstmCellBackward", batch, hidden, 1), gateBlock = cellSize("lstmCellBackward", batch, hidden, 4);
        float[] gv = slice(gates, "gates", gatesOff, gateBlock), cpv = slice(cPrev, "cPrev", cPrevOff, state);
        float[] cv = slice(c, "c", cOff, state), dhv = slice(dh, "dh", dhOff, state), dcv = slice(dc, "dc", dcOff, state);
        float[] dgv = slice(dGates, "dGates", dGatesOff, gateBlock);
        String what = "lstmCellBackward";
        checkDisjoint(what, "dc", dcv, dcOff, state, "gates", gv, gatesOff, gateBlock);
        checkDisjoint(what, "dc", dcv, dcOff, state, "dGates", dgv, dGatesOff, gateBlock);
        checkDisjoint(what, "dc", dcv, dcOff, state, "cPrev", cpv, cPrevOff, state);
        checkDisjoint(what, "dc", dcv, dcOff, state, "c", cv, cOff, state);
        checkDisjoint(what, "dGates", dgv, dGatesOff, gateBlock, "gates", gv, gatesOff, gateBlock);
        checkDisjoint(what, "dGates", dgv, dGatesOff, gateBlock, "dh", dhv, dhOff, state);
        checkDisjoint(what, "dGates", dgv, dGatesOff, gateBlock, "cPrev", cpv, cPrevOff, state);
        checkDisjoint(what, "dGates", dgv, dGatesOff, gateBlock, "c", cv, cOff, state);
        cells.lstmBackward(gv, gatesOff, cpv, cPrevOff, cv, cOff, dhv, dhOff, dcv, dcOff, dgv, dGatesOff, batch, hidden);
    }

    @Override
    public void gruCellForward(Tensor gi, int giOff, Tensor gh, int ghOff, Tensor hPrev, int hPrevOff,
                               Tensor h, int hOff, Tensor saved, int savedOff, int batch, int hidden) {
        int state = cellSize("gruCellForward", batch, hidden, 1), gateBlock = cellSize("gruCellForward", batch, hidden, 3);
        float[] giv = slice(gi, "gi", giOff, gateBlock), ghv = slice(gh, "gh", ghOff, gateBlock);
        float[] hpv = slice(hPrev, "hPrev", hPrevOff, state), hv = slice(h, "h", hOff, state);
        float[] sv = slice(saved, "saved", savedOff, gateBlock);
        String what = "gruCellForward";
        checkInPlaceOrDisjoint(what, null, "h", hv, hOff, "hPrev", hpv, hPrevOff, state);
        checkDisjoint(what, "h", hv, hOff, state, "gi", giv, giOff, gateBlock);
        checkDisjoint(what, "h", hv, hOff, state, "gh", ghv, ghOff, gateBlock);
        checkDisjoint(what, "h", hv, hOff, state, "saved", sv, savedOff, gateBlock);
        checkDisjoint(what, "saved", sv, savedOff, gateBlock, "gi", giv, giOff, gateBlock);
        checkDisjoint(what, "saved", sv, savedOff, gateBlock, "gh", ghv, ghOff, gateBlock);
        checkDisjoint(what, "saved", sv, savedOff, gateBlock, "hPrev", hpv, hPrevOff, state);
        cells.gruForward(giv, giOff, ghv, ghOff, hpv, hPrevOff, hv, hOff, sv, savedOff, batch, hidden);
    }

    @Override
    public void gruCellBackward(Tensor saved, int savedOff, Tensor gh, int ghOff, Tensor hPrev, int hPrevOff,
                                Tensor dh, int dhOff, Tensor dGi, int dGiOff, Tensor dGh, int dGhOff,
                                Tensor dhPrev, int dhPrevOff, int batch, int hidden) {
        int state = cellSize("gruCellBackward", batch, hidden, 1), gateBlock = cellSize("gruCellBackward", batch, hidden, 3);
        float[] sv = slice(saved, "saved", savedOff, gateBlock), ghv = slice(gh, "gh", ghOff, gateBlock);
        float[] hpv = slice(hPrev, "hPrev", hPrevOff, state), dhv = slice(dh, "dh", dhOff, state);
        float[] dgiv = slice(dGi, "dGi", dGiOff, gateBlock), dghv = slice(dGh, "dGh", dGhOff, gateBlock);
        float[] dhpv = slice(dhPrev, "dhPrev", dhPrevOff, state);
        String what = "gruCellBackward";
        checkInPlaceOrDisjoint(what, null, "dhPrev", dhpv, dhPrevOff, "dh", dhv, dhOff, state);
        checkDisjoint(what, "dGi", dgiv, dGiOff, gateBlock, "dGh", dghv, dGhOff, gateBlock);
        for (int out = 0; out < 3; out++) {
            String outName = out == 0 ? "dGi" : out == 1 ? "dGh" : "dhPrev";
            float[] ov = out == 0 ? dgiv : out == 1 ? dghv : dhpv;
            int oOff = out == 0 ? dGiOff : out == 1 ? dGhOff : dhPrevOff, oLen = out == 2 ? state : gateBlock;
            checkDisjoint(what, outName, ov, oOff, oLen, "saved", sv, savedOff, gateBlock);
            checkDisjoint(what, outName, ov, oOff, oLen, "gh", ghv, ghOff, gateBlock);
            checkDisjoint(what, outName, ov, oOff, oLen, "hPrev", hpv, hPrevOff, state);
            if (out < 2) {
                checkDisjoint(what, outName, ov, oOff, oLen, "dh", dhv, dhOff, state);
                checkDisjoint(what, outName, ov, oOff, oLen, "dhPrev", dhpv, dhPrevOff, state);
            }
        }
        cells.gruBackward(sv, savedOff, ghv, ghOff, hpv, hPrevOff, dhv, dhOff, dgiv, dGiOff, dghv, dGhOff, dhpv, dhPrevOff, batch, hidden);
    }

    // ---- embeddings ---------------------------------------------------------------------

    @Override public void gatherRows(Tensor table, Tensor indices, Tensor out, int rows, int width) {
        float[] tv = data(table, "table");
        int tableRows = tableRows("gatherRows", tv.length, table, width);
        float[] iv = sized(indices, "indices", viewSize(1, 1, rows)), ov = sized(out, "out", viewSize(1, rows, width));
        checkDistinct("gatherRows", "out", ov, "table", tv);
        checkDistinct("gatherRows", "out", ov, "indices", iv);
        embedding.gather(tv, tableRows, iv, ov, rows, width);
    }

    @Override public void scatterAddRows(Tensor dOut, Tensor indices, Tensor dTable, int rows, int width) {
        float[] tv = data(dTable, "dTable");
        int tableRows = tableRows("scatterAddRows", tv.length, dTable, width);
        float[] iv = sized(indices, "indices", viewSize(1, 1, rows)), dv = sized(dOut, "dOut", viewSize(1, rows, width));
        checkDistinct("scatterAddRows", "dTable", tv, "dOut", dv);
        checkDistinct("scatterAddRows", "dTable", tv, "indices", iv);
        embedding.scatterAdd(dv, iv, tv, tableRows, rows, width);
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
        checkDropout(p);
        float[] xv = data(x, "x");
        elementwise.dropout(xv, sized(mask, "mask", xv.length), sized(y, "y", xv.length), p, seed, xv.length);
    }

    // ---- optimisers ---------------------------------------------------------------------

    @Override public void sgdUpdate(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay, boolean nesterov) {
        float[] p = data(param, "param");
        checkSgd(momentum, nesterov, velocity != null);
        optimizers.sgd(p, sized(grad, "grad", p.length), momentum == 0f ? null : sized(velocity, "velocity", p.length),
                lr, momentum, weightDecay, nesterov, p.length);
    }

    @Override public void adamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                                     float eps, float weightDecay, int step) {
        checkAdamStep(step);
        float[] p = data(param, "param");
        optimizers.adam(p, sized(grad, "grad", p.length), sized(m, "m", p.length), sized(v, "v", p.length),
                lr, beta1, beta2, eps, weightDecay, step, p.length);
    }

    // ---- argument checks ----------------------------------------------------------------

    /** The storage of a tensor this backend allocated. */
    private float[] data(Tensor t, String name) {
        checkNotNull(name, t);
        if (!(t instanceof CpuTensor ct) || ct.backend() != this) throw foreignTensor(name, t, "CPU backend");
        return ct.data;
    }

    /** The storage of a tensor that must hold exactly {@code size} elements. */
    private float[] sized(Tensor t, String name, int size) {
        float[] d = data(t, name);
        checkSize(name, t, d.length, size);
        return d;
    }

    /** The storage of a tensor whose range [offset, offset + length) must lie inside it. */
    private float[] slice(Tensor t, String name, int offset, int length) {
        float[] d = data(t, name);
        checkRange(name, d.length, offset, length);
        return d;
    }
}
