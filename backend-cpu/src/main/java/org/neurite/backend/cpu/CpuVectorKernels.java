package org.neurite.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The {@link CpuKernels} written with the Vector API, on the species of the width
 * {@link CpuVectorWidth} chose (512-bit or 256-bit). With {@link CpuVectorWidthProbe}, the only
 * classes of the module that name {@code jdk.incubator.vector}: it is loaded only through
 * {@link #create} and {@link #describe}, which {@link CpuKernels} calls only when the module is in
 * the boot layer. Every vector value lives
 * in one loop of a small static method: C2 intrinsifies such code and keeps the vectors in
 * registers, but boxes (allocates) a vector carried through nested loops or through a method
 * too large to inline.
 */
final class CpuVectorKernels extends CpuKernels {
    /**
     * The species of the width {@link CpuVectorWidth} chose ({@link CpuKernels#LANES} lanes). One of
     * the FloatVector constants: taken from {@code VectorSpecies.of(float.class, shape)} instead,
     * C2 no longer kept the vectors in registers (CpuAllocationTest saw megabytes per step).
     */
    private static final VectorSpecies<Float> S = LANES == FloatVector.SPECIES_512.length() ? FloatVector.SPECIES_512
            : LANES == FloatVector.SPECIES_256.length() ? FloatVector.SPECIES_256 : FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int MR = CpuGemm.MR;
    // CpuGemm.NR and CpuDirectConv2d.CHUNK, computed here from the same lanes.
    private static final int NR = 2 * L;
    private static final int CHUNK = 4 * L;
    /** HEAD[r]: the first r lanes set. */
    @SuppressWarnings("unchecked")
    private static final VectorMask<Float>[] HEAD = new VectorMask[L + 1];

    static {
        for (int r = 0; r <= L; r++) HEAD[r] = S.indexInRange(0, r);
    }

    /** The GEMM micro-kernel's accumulators on their way to the write-back. */
    private final float[] tile = new float[MR * NR];

    private CpuVectorKernels() {}

    static CpuKernels create() { return new CpuVectorKernels(); }

    /** The path, for the backend's description. */
    static String describe() { return "Vector API, " + S.vectorBitSize() + "-bit vectors"; }

    // ---- GEMM -------------------------------------------------------------------------------

    /** Each B strip (NR columns, up to KC deep) meets every A strip of the block (MC rows) before the next strip is touched; both stay in L2. */
    @Override
    void gemmBlock(float[] pa, int ao, float[] pb, int mc, int nc, int kc, float[] c, int co, int ldc,
                   float alpha, float beta) {
        float[] tile = this.tile;
        for (int jr = 0; jr < nc; jr += NR) {
            for (int ir = 0; ir < mc; ir += MR) {
                microKernel(pa, ao + ir * kc, pb, jr * kc, kc, c, co + ir * ldc + jr, ldc,
                        Math.min(MR, mc - ir), Math.min(NR, nc - jr), alpha, beta, tile);
            }
        }
    }

    /**
     * C[rows, cols] (at {@code co}, leading dimension ldc) = alpha * Apanel * Bpanel + beta * C for
     * one MR x NR tile (6 x two vectors, 12 accumulators); the panels are always full
     * (zero-padded), only the write-back is clipped. The accumulators go through {@code tile} to
     * {@link #writeBack}: keeping this method down to the k loop lets C2 inline and intrinsify
     * every vector op in it (a larger body exceeds the inlining budget and the vectors get boxed).
     */
    private static void microKernel(float[] pa, int ao, float[] pb, int bo, int kc,
                                    float[] c, int co, int ldc, int rows, int cols,
                                    float alpha, float beta, float[] tile) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector c00 = zero, c01 = zero, c10 = zero, c11 = zero, c20 = zero, c21 = zero;
        FloatVector c30 = zero, c31 = zero, c40 = zero, c41 = zero, c50 = zero, c51 = zero;
        // Indices advance by the panel strides rather than being recomputed from p: C2 then keeps
        // the loop to loads, broadcasts and fmas (about 10% faster, measured on the AVX2 machine).
        for (int ai = ao, bi = bo, end = ao + kc * MR; ai < end; ai += MR, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector b1 = FloatVector.fromArray(S, pb, bi + L);
            FloatVector a = FloatVector.broadcast(S, pa[ai]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, pa[ai + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, pa[ai + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, pa[ai + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(S, pa[ai + 4]);
            c40 = a.fma(b0, c40);
            c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(S, pa[ai + 5]);
            c50 = a.fma(b0, c50);
            c51 = a.fma(b1, c51);
        }
        c00.intoArray(tile, 0);
        c01.intoArray(tile, L);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + L);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + L);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + L);
        c40.intoArray(tile, 4 * NR);
        c41.intoArray(tile, 4 * NR + L);
        c50.intoArray(tile, 5 * NR);
        c51.intoArray(tile, 5 * NR + L);
        writeBack(tile, c, co, ldc, rows, cols, alpha, beta);
    }

    /**
     * C[r][j] = alpha * tile[r][j] + beta * C[r][j] (C not read when beta == 0) for the rows and
     * columns that exist. Full tiles use vectors, edge tiles {@link Math#fma}; both round once,
     * identically, so an element's value never depends on where its tile fell.
     */
    private static void writeBack(float[] tile, float[] c, int co, int ldc, int rows, int cols, float alpha, float beta) {
        if (cols == NR) {
            FloatVector alphaV = FloatVector.broadcast(S, alpha);
            for (int r = 0; r < rows; r++) {
                for (int v = 0; v < NR; v += L) {
                    FloatVector acc = FloatVector.fromArray(S, tile, r * NR + v);
                    int idx = co + r * ldc + v;
                    if (beta == 0f) acc.mul(alphaV).intoArray(c, idx);
                    else acc.fma(alphaV, FloatVector.fromArray(S, c, idx).mul(beta)).intoArray(c, idx);
                }
            }
            return;
        }
        for (int r = 0; r < rows; r++) {
            int row = co + r * ldc;
            for (int j = 0; j < cols; j++) {
                float acc = tile[r * NR + j];
                c[row + j] = beta == 0f ? acc * alpha : Math.fma(acc, alpha, c[row + j] * beta);
            }
        }
    }

    /** Two vector moves per row: a System.arraycopy call per strip row cost about 10% of a 1024^3 product. */
    @Override
    void copyStrip(float[] b, int src, int ldb, float[] dst, int d, int rows) {
        for (int p = 0; p < rows; p++, src += ldb, d += NR) {
            FloatVector.fromArray(S, b, src).intoArray(dst, d);
            FloatVector.fromArray(S, b, src + L).intoArray(dst, d + L);
        }
    }

    // ---- direct convolution -----------------------------------------------------------------

    /**
     * 8 accumulators (two channels x four vectors), each input vector loaded once for both
     * channels. One flat loop over r: C2 keeps vectors in registers across a single loop, but
     * boxes them (allocating each step) when they flow through nested loops.
     */
    @Override
    void directForwardChunk(float[] xp, int at, int[] off, int k, float[] w, int wA, int wB, float[] tile) {
        forwardChunk(xp, at, off, k, w, wA, wB, tile);
    }

    private static void forwardChunk(float[] xp, int at, int[] off, int k, float[] w, int wA, int wB, float[] tile) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0 = zero, a1 = zero, a2 = zero, a3 = zero, b0 = zero, b1 = zero, b2 = zero, b3 = zero;
        for (int r = 0; r < k; r++) {
            int i = at + off[r];
            FloatVector x0 = FloatVector.fromArray(S, xp, i);
            FloatVector x1 = FloatVector.fromArray(S, xp, i + L);
            FloatVector x2 = FloatVector.fromArray(S, xp, i + 2 * L);
            FloatVector x3 = FloatVector.fromArray(S, xp, i + 3 * L);
            FloatVector va = FloatVector.broadcast(S, w[wA + r]);
            FloatVector vb = FloatVector.broadcast(S, w[wB + r]);
            a0 = va.fma(x0, a0);
            a1 = va.fma(x1, a1);
            a2 = va.fma(x2, a2);
            a3 = va.fma(x3, a3);
            b0 = vb.fma(x0, b0);
            b1 = vb.fma(x1, b1);
            b2 = vb.fma(x2, b2);
            b3 = vb.fma(x3, b3);
        }
        a0.intoArray(tile, 0);
        a1.intoArray(tile, L);
        a2.intoArray(tile, 2 * L);
        a3.intoArray(tile, 3 * L);
        b0.intoArray(tile, CHUNK);
        b1.intoArray(tile, CHUNK + L);
        b2.intoArray(tile, CHUNK + 2 * L);
        b3.intoArray(tile, CHUNK + 3 * L);
    }

    /** One flat loop over (row, vector), as in {@link #forwardChunk}; five accumulators, one per kernel column. */
    @Override
    void directFilterRows(float[] dyp, int ho, int nv, int whole, float[] xp, int at, int wd, float[] acc, int accOff) {
        filterRows(dyp, ho, nv, whole, xp, at, wd, acc, accOff);
    }

    private static void filterRows(float[] dyp, int ho, int nv, int whole, float[] xp, int at, int wd,
                                   float[] acc, int accOff) {
        FloatVector a0 = FloatVector.fromArray(S, acc, accOff);
        FloatVector a1 = FloatVector.fromArray(S, acc, accOff + L);
        FloatVector a2 = FloatVector.fromArray(S, acc, accOff + 2 * L);
        FloatVector a3 = FloatVector.fromArray(S, acc, accOff + 3 * L);
        FloatVector a4 = FloatVector.fromArray(S, acc, accOff + 4 * L);
        int rowJump = wd - whole * L, dyJump = (nv - whole) * L;
        for (int t = 0, v = 0, d = 0, i = at, end = ho * whole; t < end; t++) {
            FloatVector dv = FloatVector.fromArray(S, dyp, d);
            a0 = dv.fma(FloatVector.fromArray(S, xp, i), a0);
            a1 = dv.fma(FloatVector.fromArray(S, xp, i + 1), a1);
            a2 = dv.fma(FloatVector.fromArray(S, xp, i + 2), a2);
            a3 = dv.fma(FloatVector.fromArray(S, xp, i + 3), a3);
            a4 = dv.fma(FloatVector.fromArray(S, xp, i + 4), a4);
            d += L;
            i += L;
            if (++v == whole) {
                v = 0;
                d += dyJump;
                i += rowJump;
            }
        }
        a0.intoArray(acc, accOff);
        a1.intoArray(acc, accOff + L);
        a2.intoArray(acc, accOff + 2 * L);
        a3.intoArray(acc, accOff + 3 * L);
        a4.intoArray(acc, accOff + 4 * L);
    }

    /** The masked lanes blend in zero before the fma. */
    @Override
    void directFilterTails(float[] dyp, int ho, int nv, int whole, int tailLanes, float[] xp, int at, int wd,
                           float[] acc, int accOff) {
        filterTails(dyp, ho, nv, whole, HEAD[tailLanes], xp, at, wd, acc, accOff);
    }

    private static void filterTails(float[] dyp, int ho, int nv, int whole, VectorMask<Float> tail, float[] xp, int at, int wd,
                                    float[] acc, int accOff) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0 = FloatVector.fromArray(S, acc, accOff);
        FloatVector a1 = FloatVector.fromArray(S, acc, accOff + L);
        FloatVector a2 = FloatVector.fromArray(S, acc, accOff + 2 * L);
        FloatVector a3 = FloatVector.fromArray(S, acc, accOff + 3 * L);
        FloatVector a4 = FloatVector.fromArray(S, acc, accOff + 4 * L);
        for (int oh = 0, d = whole * L, i = at + whole * L; oh < ho; oh++, d += nv * L, i += wd) {
            FloatVector dv = FloatVector.fromArray(S, dyp, d);
            a0 = dv.fma(zero.blend(FloatVector.fromArray(S, xp, i), tail), a0);
            a1 = dv.fma(zero.blend(FloatVector.fromArray(S, xp, i + 1), tail), a1);
            a2 = dv.fma(zero.blend(FloatVector.fromArray(S, xp, i + 2), tail), a2);
            a3 = dv.fma(zero.blend(FloatVector.fromArray(S, xp, i + 3), tail), a3);
            a4 = dv.fma(zero.blend(FloatVector.fromArray(S, xp, i + 4), tail), a4);
        }
        a0.intoArray(acc, accOff);
        a1.intoArray(acc, accOff + L);
        a2.intoArray(acc, accOff + 2 * L);
        a3.intoArray(acc, accOff + 3 * L);
        a4.intoArray(acc, accOff + 4 * L);
    }

    // ---- element-wise -----------------------------------------------------------------------

    @Override
    void affine(float[] x, int from, int to, int d, float scale, float shift, float[] y) {
        int i = from;
        FloatVector vs = FloatVector.broadcast(S, scale), vt = FloatVector.broadcast(S, shift);
        for (; i <= to - L; i += L) FloatVector.fromArray(S, x, i).mul(vs).add(vt).intoArray(y, i + d);
        for (; i < to; i++) y[i + d] = scale * x[i] + shift;
    }

    /**
     * Vector lanes over the whole vectors, a scalar over the tail; Math.max and the lane-wise max
     * both propagate NaN and rank -0 below +0, so the split does not change the result. The
     * vector accumulator lives in this one loop only: carried through the caller's loops as
     * well, C2 boxed it on every iteration.
     */
    @Override
    float max(float[] x, int from, int n) {
        int i = from, to = from + n;
        float max = Float.NEGATIVE_INFINITY;
        if (n >= L) {
            FloatVector lanes = FloatVector.fromArray(S, x, i);
            for (i += L; i <= to - L; i += L) lanes = lanes.max(FloatVector.fromArray(S, x, i));
            max = lanes.reduceLanes(VectorOperators.MAX);
        }
        for (; i < to; i++) max = Math.max(max, x[i]);
        return max;
    }

    /** A lane-wise select (dy where x > 0, else zero), then the scalar tail; every vector lives in the one loop. */
    @Override
    void reluBackward(float[] x, int dxToX, float[] dy, int dxToDy, float[] dx, int from, int to) {
        int i = from;
        for (; i <= to - L; i += L) {
            VectorMask<Float> positive = FloatVector.fromArray(S, x, i + dxToX).compare(VectorOperators.GT, 0f);
            FloatVector.zero(S).blend(FloatVector.fromArray(S, dy, i + dxToDy), positive).intoArray(dx, i);
        }
        for (; i < to; i++) dx[i] = x[i + dxToX] > 0f ? dy[i + dxToDy] : 0f;
    }

    /** Two vector gathers (vgatherdps with AVX-512 or AVX2); the index map is bounds-checked lane by lane. */
    @Override
    void gatherStrip(float[] src, int base, int[] index, int at, float[] dst, int d) {
        FloatVector.fromArray(S, src, base, index, at).intoArray(dst, d);
        FloatVector.fromArray(S, src, base, index, at + L).intoArray(dst, d + L);
    }

    // ---- recurrent cells --------------------------------------------------------------------

    /** σ(x) = 0 - (-1) / (e^-x + 1): the same bits as {@link CpuFloatExp#sigmoid} (a negation and a sign flip are exact). */
    @Override
    void sigmoidInPlace(float[] x, int from, int to) {
        int i = logisticLanes(x, from, to, -1f, 0f, -1f);
        for (; i < to; i++) x[i] = CpuFloatExp.sigmoid(x[i]);
    }

    /** tanh(x) = 1 - 2 / (e^2x + 1), as {@link CpuFloatExp#tanh} (2x = x + x exactly). */
    @Override
    void tanhInPlace(float[] x, int from, int to) {
        int i = logisticLanes(x, from, to, 2f, 1f, 2f);
        for (; i < to; i++) x[i] = CpuFloatExp.tanh(x[i]);
    }

    /**
     * x[i] = a - b / (e^(k·x[i]) + 1) over the whole vectors from {@code from}, e^ being
     * {@link CpuFloatExp#exp} operation for operation; returns where the scalar tail starts. The
     * exp is written out in the loop: as a method of its own C2 did not inline it and boxed its
     * result (CpuAllocationTest saw 250 bytes per vector).
     */
    private static int logisticLanes(float[] x, int from, int to, float k, float a, float b) {
        FloatVector vk = FloatVector.broadcast(S, k), va = FloatVector.broadcast(S, a), vb = FloatVector.broadcast(S, b);
        FloatVector one = FloatVector.broadcast(S, 1f), round = FloatVector.broadcast(S, CpuFloatExp.ROUND);
        FloatVector log2e = FloatVector.broadcast(S, CpuFloatExp.LOG2E);
        FloatVector ln2Hi = FloatVector.broadcast(S, CpuFloatExp.MINUS_LN2_HI), ln2Lo = FloatVector.broadcast(S, CpuFloatExp.MINUS_LN2_LO);
        FloatVector p0 = FloatVector.broadcast(S, CpuFloatExp.P0), p1 = FloatVector.broadcast(S, CpuFloatExp.P1);
        FloatVector p2 = FloatVector.broadcast(S, CpuFloatExp.P2), p3 = FloatVector.broadcast(S, CpuFloatExp.P3);
        FloatVector p4 = FloatVector.broadcast(S, CpuFloatExp.P4), p5 = FloatVector.broadcast(S, CpuFloatExp.P5);
        int i = from;
        for (; i <= to - L; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, i).mul(vk).max(CpuFloatExp.MIN).min(CpuFloatExp.MAX);
            FloatVector t = v.fma(log2e, round);
            FloatVector n = t.sub(round);
            FloatVector r = n.fma(ln2Hi, v);
            r = n.fma(ln2Lo, r);
            FloatVector p = p0.fma(r, p1).fma(r, p2).fma(r, p3).fma(r, p4).fma(r, p5);
            FloatVector e = p.fma(r.mul(r), r).add(one)
                    .mul(t.reinterpretAsInts().sub(CpuFloatExp.ROUND_BITS_LESS_BIAS).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
            va.sub(vb.div(e.add(one))).intoArray(x, i);
        }
        return i;
    }

    // ---- max pooling ------------------------------------------------------------------------

    /**
     * Whole groups of L windows by four gathers (the window table gives each lane its top-left
     * input); the left-over windows by the plain loop.
     */
    @Override
    void maxPool2x2(float[] x, int xo, int w, int[] window, float[] windowAt, int count, float[] y, float[] argmax, int yo) {
        int o = 0;
        FloatVector left = FloatVector.zero(S), right = FloatVector.broadcast(S, 1f);
        FloatVector downLeft = FloatVector.broadcast(S, (float) w), downRight = FloatVector.broadcast(S, w + 1f);
        for (; o <= count - L; o += L) {
            FloatVector a = FloatVector.fromArray(S, x, xo, window, o);
            FloatVector b = FloatVector.fromArray(S, x, xo + 1, window, o);
            FloatVector c = FloatVector.fromArray(S, x, xo + w, window, o);
            FloatVector d = FloatVector.fromArray(S, x, xo + w + 1, window, o);
            VectorMask<Float> takeB = b.compare(VectorOperators.GT, a).or(b.compare(VectorOperators.NE, b));
            VectorMask<Float> takeD = d.compare(VectorOperators.GT, c).or(d.compare(VectorOperators.NE, d));
            FloatVector top = a.blend(b, takeB), bottom = c.blend(d, takeD);
            VectorMask<Float> takeBottom = bottom.compare(VectorOperators.GT, top).or(bottom.compare(VectorOperators.NE, bottom));
            top.blend(bottom, takeBottom).intoArray(y, yo + o);
            FloatVector at = left.blend(right, takeB).blend(downLeft.blend(downRight, takeD), takeBottom);
            at.add(FloatVector.fromArray(S, windowAt, o)).intoArray(argmax, yo + o);
        }
        CpuPool2d.maxWindows2x2(x, xo, w, window, windowAt, o, count, y, argmax, yo);
    }

}
