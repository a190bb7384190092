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

    @Override public void unary(UnaryOp op, Tensor x, int xOff, Tensor y, int yOff, int length) {
        float[] xv = slice(x, "x", xOff, length), yv = slice(y, "y", yOff, length);
        checkInPlaceOrDisjoint("unary", op, "y", yv, yOff, "x", xv, xOff, length);
        elementwise.unary(op, xv, xOff, yv, yOff, length);
    }

    @Override public void unaryBackward(UnaryOp op, Tensor x, int xOff, Tensor y, int yOff, Tensor dy, int dyOff,
                                        Tensor dx, int dxOff, int length) {
        boolean needsX = op == UnaryOp.RELU || op == UnaryOp.SQUARE || op == UnaryOp.SOFTPLUS;
        boolean needsY = op == UnaryOp.SIGMOID || op == UnaryOp.TANH || op == UnaryOp.EXP;
        if (needsX && x == null) throw new IllegalArgumentException(op + " backward needs the forward input x");
        if (needsY && y == null) throw new IllegalArgumentException(op + " backward needs the forward output y");
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
        if (length < 0 || count < 0)
            throw new IllegalArgumentException("copyBlocks: length and count must be >= 0, got " + length + " and " + count);
        checkBlocks("src", s.length, srcOff, srcStride, length, count);
        checkBlocks("dst", d.length, dstOff, dstStride, length, count);
        if (count > 1 && length > dstStride)
            throw new IllegalArgumentException("copyBlocks: destination blocks of " + length + " floats " + dstStride
                    + " apart overlap; the stride must be >= the length");
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
        if (!(eps >= 0f) || Float.isInfinite(eps)) throw new IllegalArgumentException("batch norm eps must be finite and >= 0, got " + eps);
        float[] xv = sized(x, "x", n), yv = sized(y, "y", n);
        float[] g = sized(gamma, "gamma", channels), b = sized(beta, "beta", channels);
        float[] rm = sized(runningMean, "runningMean", channels), rv = sized(runningVar, "runningVar", channels);
        if (!training) {
            normalization.batchNormInference(xv, yv, g, b, rm, rv, outer, channels, inner, eps);
            return;
        }
        if (!(momentum >= 0f && momentum <= 1f)) throw new IllegalArgumentException("batch norm momentum must be in [0, 1], got " + momentum);
        if ((long) outer * inner < 2)
            throw new IllegalArgumentException("batch norm training needs more than one value per channel, got "
                    + outer + " x " + inner + " (outer x inner)");
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

    /** The storage of a tensor whose range [offset, offset + length) must lie inside it. */
    private float[] slice(Tensor t, String name, int offset, int length) {
        float[] d = data(t, name);
        checkRange(name, d.length, offset, length);
        return d;
    }

    /**
     * An output range of a parallel element-wise op may be its input's range (in place) or lie
     * apart from it, but not overlap it shifted: workers would read elements others already wrote.
     * The message names {@code op} and its {@code variant} (may be null), built only on failure.
     */
    private static void checkInPlaceOrDisjoint(String op, Object variant, String outName, float[] out, int outOff,
                                               String inName, float[] in, int inOff, int length) {
        if (out == in && outOff != inOff && Math.abs((long) outOff - inOff) < length)
            throw new IllegalArgumentException(op + (variant == null ? "" : " " + variant) + ": " + outName + " [" + outOff + ", " + ((long) outOff + length) + ") overlaps "
                    + inName + " [" + inOff + ", " + ((long) inOff + length) + ") of the same tensor; use the same range or disjoint ones");
    }

    /** Two ranges of the same tensor that the op needs apart (an output and something it reads or also writes). */
    private static void checkDisjoint(String op, String aName, float[] a, int aOff, int aLen, String bName, float[] b, int bOff, int bLen) {
        if (a == b && aLen > 0 && bLen > 0 && (long) aOff < (long) bOff + bLen && (long) bOff < (long) aOff + aLen)
            throw new IllegalArgumentException(op + ": " + aName + " [" + aOff + ", " + ((long) aOff + aLen) + ") overlaps "
                    + bName + " [" + bOff + ", " + ((long) bOff + bLen) + ") of the same tensor");
    }

    /** An output that must not be the same tensor as an input (the op reads neighbours of what it writes). */
    private static void checkDistinct(String op, String outName, float[] out, String inName, float[] in) {
        if (out == in) throw new IllegalArgumentException(op + ": " + outName + " must not be the same tensor as " + inName);
    }

    /** {@code count} blocks of {@code length} floats, {@code stride} apart from {@code offset}, fit a tensor of {@code size}. */
    private static void checkBlocks(String name, int size, int offset, int stride, int length, int count) {
        if (offset < 0 || stride < 0)
            throw new IllegalArgumentException("copyBlocks: offset and stride of " + name + " must be >= 0, got " + offset + " and " + stride);
        if (count == 0 || length == 0) return;
        long end = offset + (long) (count - 1) * stride + length;
        if (end > size)
            throw new IllegalArgumentException("copyBlocks: " + count + " blocks of " + length + " floats, " + stride + " apart from offset "
                    + offset + ", reach element " + (end - 1) + " of " + name + " (" + size + " elements)");
    }

    private static void checkPadding(String op, int planes, int h, int w, int top, int left, int outH, int outW) {
        if (planes < 0 || h < 0 || w < 0 || outH < 0 || outW < 0)
            throw new IllegalArgumentException(op + ": sizes must be >= 0: " + planes + " planes of " + h + "x" + w + " in " + outH + "x" + outW);
        if (top < 0 || left < 0 || top + (long) h > outH || left + (long) w > outW)
            throw new IllegalArgumentException(op + ": a " + h + "x" + w + " plane at (top " + top + ", left " + left
                    + ") does not fit inside " + outH + "x" + outW);
    }

    private static void checkLrn(int size, float k) {
        if (size < 1) throw new IllegalArgumentException("LRN size must be >= 1, got " + size);
        if (!(k > 0f)) throw new IllegalArgumentException("LRN k must be > 0 (scale^-beta of a zero scale is infinite), got " + k);
    }

    /** Elements in a [batch, gates * hidden] block of a recurrent cell, checked for sign and overflow. */
    private static int cellSize(String op, int batch, int hidden, int gates) {
        if (batch < 0 || hidden < 0) throw new IllegalArgumentException(op + ": batch and hidden must be >= 0, got " + batch + " and " + hidden);
        return viewSize(batch, gates, hidden);
    }

    /** Rows of a [rows, width] table stored in {@code size} floats. */
    private static int tableRows(String op, int size, Tensor table, int width) {
        if (width < 1) throw new IllegalArgumentException(op + ": width must be >= 1, got " + width);
        if (size % width != 0)
            throw new IllegalArgumentException(op + ": table " + table.shape() + " (" + size + " elements) is not a whole number of rows of " + width);
        return size / width;
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
