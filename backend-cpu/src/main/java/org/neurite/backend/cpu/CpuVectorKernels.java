package org.neurite.backend.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The {@link CpuKernels} written with the Vector API, on the species of the width
 * {@link CpuVectorWidth} chose (512-bit or 256-bit). With {@link CpuVectorWidthProbe}, the only
 * classes of the module that name {@code jdk.incubator.vector}: it is loaded only through
 * {@link #create} and {@link #describe}, which {@link CpuKernels} calls only when the module is in
 * the boot layer. Every vector value lives
 * in one loop of a small static method: C2 intrinsifies such code and keeps the vectors in
 * registers, but boxes (allocates) a vector carried through nested loops or through a method
 * too large to inline. No vector is passed to a method: in about one JVM in a few hundred under
 * load, C2 left an 11-byte helper of the transposition out of line (it does not inline a callee
 * already compiled to large code), and every call then boxed its vectors for the rest of the run,
 * 44 KB a call. Lane shuffles and masks may be passed: they are constants.
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
                if (MR == 8) {
                    microKernel8(pa, ao + ir * kc, pb, jr * kc, kc, c, co + ir * ldc + jr, ldc,
                            Math.min(MR, mc - ir), Math.min(NR, nc - jr), alpha, beta, tile);
                } else {
                    microKernel(pa, ao + ir * kc, pb, jr * kc, kc, c, co + ir * ldc + jr, ldc,
                            Math.min(MR, mc - ir), Math.min(NR, nc - jr), alpha, beta, tile);
                }
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
    void directForwardChunk(float[] xp, int at, int[] off, int k, float[] w, int wA, int wB, float[] tile, int tA, int tB) {
        forwardChunk(xp, at, off, k, w, wA, wB, tile, tA, tB);
    }

    private static void forwardChunk(float[] xp, int at, int[] off, int k, float[] w, int wA, int wB, float[] tile, int tA, int tB) {
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
        a0.intoArray(tile, tA);
        a1.intoArray(tile, tA + L);
        a2.intoArray(tile, tA + 2 * L);
        a3.intoArray(tile, tA + 3 * L);
        b0.intoArray(tile, tB);
        b1.intoArray(tile, tB + L);
        b2.intoArray(tile, tB + 2 * L);
        b3.intoArray(tile, tB + 3 * L);
    }

    @Override
    void directStoreRows(float[] grid, int t, int pitch, int rows, float[] y, int at, int wo, int limit, boolean addBias, float b,
                         boolean relu) {
        for (int i = 0; i < rows; i++) {
            int from = t + i * pitch, to = at + i * wo, j = 0, vectorsEnd = Math.min(wo, limit - to - L + 1); // vectors start in the row, end by limit
            for (; j < vectorsEnd; j += L) {
                FloatVector v = FloatVector.fromArray(S, grid, from + j);
                if (addBias) v = v.add(b);
                if (relu) v = v.blend(0f, v.compare(VectorOperators.LE, 0f));
                v.intoArray(y, to + j);
            }
            for (; j < wo; j++) {
                float v = grid[from + j];
                if (addBias) v += b;
                y[to + j] = relu ? Math.max(v, 0f) : v;
            }
        }
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

    /**
     * Shortest run {@link #addRun}, {@link #addReluRun} and {@link #addToSums} take by vectors: a small layer's few
     * outputs (LeNet-5's 10) stay on the scalar loop. A kernel that runs a vector or two per call
     * reaches C2 late and, until then, allocates its vectors (the steady-state allocation check saw
     * 3 KB a step at 256 bits).
     */
    private static final int VECTOR_RUN_MIN = 64;

    @Override
    void addRun(float[] x, int xo, float[] v, int vo, float[] out, int oo, int n) {
        int j = 0;
        if (n >= VECTOR_RUN_MIN) for (; j <= n - L; j += L) FloatVector.fromArray(S, x, xo + j).add(FloatVector.fromArray(S, v, vo + j)).intoArray(out, oo + j);
        for (; j < n; j++) out[oo + j] = x[xo + j] + v[vo + j];
    }

    /** The sum, then the relu as a select (v <= 0, either zero, to +0; NaN kept: {@code Math.max(v, 0f)}). */
    @Override
    void addReluRun(float[] x, int xo, float[] v, int vo, float[] out, int oo, int n) {
        int j = 0;
        if (n >= VECTOR_RUN_MIN) for (; j <= n - L; j += L) {
            FloatVector s = FloatVector.fromArray(S, x, xo + j).add(FloatVector.fromArray(S, v, vo + j));
            s.blend(0f, s.compare(VectorOperators.LE, 0f)).intoArray(out, oo + j);
        }
        for (; j < n; j++) out[oo + j] = Math.max(x[xo + j] + v[vo + j], 0f);
    }

    /** Each vector of floats widened into two vectors of doubles (8 + 8 lanes at 512 bits, 4 + 4 at 256), added to the sums in place. */
    @Override
    void addToSums(float[] x, int xo, double[] sums, int n) {
        int half = WIDE.length(), j = 0;
        if (n >= VECTOR_RUN_MIN) for (; j <= n - L; j += L) {
            FloatVector f = FloatVector.fromArray(S, x, xo + j);
            DoubleVector.fromArray(WIDE, sums, j).add((DoubleVector) f.convertShape(VectorOperators.F2D, WIDE, 0)).intoArray(sums, j);
            DoubleVector.fromArray(WIDE, sums, j + half).add((DoubleVector) f.convertShape(VectorOperators.F2D, WIDE, 1)).intoArray(sums, j + half);
        }
        for (; j < n; j++) sums[j] += x[xo + j];
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

    // ---- backward-filter over a channels-last copy ------------------------------------------

    @Override
    void copyStripRuns(float[] src, int[] start, int at, int rows, int runA, int runB, float[] dst, int d) {
        if (runB < 0) {
            FloatVector zero = FloatVector.zero(S);
            for (int p = at, end = at + rows; p < end; p++, d += NR) {
                FloatVector.fromArray(S, src, start[p] + runA).intoArray(dst, d);
                zero.intoArray(dst, d + L);
            }
            return;
        }
        for (int p = at, end = at + rows; p < end; p++, d += NR) {
            int s = start[p];
            FloatVector.fromArray(S, src, s + runA).intoArray(dst, d);
            FloatVector.fromArray(S, src, s + runB).intoArray(dst, d + L);
        }
    }

    // ---- double accumulators ----------------------------------------------------------------

    /**
     * Full-width double vectors for sums kept in double: 8 lanes at 512 bits, 4 at 256. Floats
     * are loaded as S and widened in two halves (parts 0 and 1 of the conversion): loaded as a
     * half-width float species they put a second float vector class into the JIT's type profiles
     * of the shared FloatVector methods, and C2 then boxed other kernels' vectors.
     */
    private static final VectorSpecies<Double> WIDE = L == 16 ? DoubleVector.SPECIES_512 : DoubleVector.SPECIES_256;

    // ---- batch norm sums --------------------------------------------------------------------
    // Floats are loaded only as S, the backend's one float species, and each vector is widened in
    // two halves (parts 0 and 1) into WIDE doubles. Loading them as another float species
    // (SPECIES_128 or HALF) put a second float vector class into the JIT's type profiles of the
    // shared FloatVector methods, and C2 then boxed the vectors of other kernels: backward-filter
    // allocated 25 MB a call once batch norm had run in the JVM.

    // ---- GEMM at 512 bits: 8 rows -----------------------------------------------------------

    /**
     * {@link #microKernel} for MR = 8 ({@link CpuGemm#MR} at 512 bits): 16 accumulators of the 32
     * AVX-512 registers. Each element is the same fma sequence as in the 6-row tile, so the tile
     * shape changes no bit; 8 rows divide the 32- and 64-row products of the convolutions and
     * the dense layers, which 6 rows padded to 36 and 66.
     */
    private static void microKernel8(float[] pa, int ao, float[] pb, int bo, int kc,
                                     float[] c, int co, int ldc, int rows, int cols,
                                     float alpha, float beta, float[] tile) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector c00 = zero, c01 = zero, c10 = zero, c11 = zero, c20 = zero, c21 = zero, c30 = zero, c31 = zero;
        FloatVector c40 = zero, c41 = zero, c50 = zero, c51 = zero, c60 = zero, c61 = zero, c70 = zero, c71 = zero;
        for (int ai = ao, bi = bo, end = ao + kc * 8; ai < end; ai += 8, bi += NR) {
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
            a = FloatVector.broadcast(S, pa[ai + 6]);
            c60 = a.fma(b0, c60);
            c61 = a.fma(b1, c61);
            a = FloatVector.broadcast(S, pa[ai + 7]);
            c70 = a.fma(b0, c70);
            c71 = a.fma(b1, c71);
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
        c60.intoArray(tile, 6 * NR);
        c61.intoArray(tile, 6 * NR + L);
        c70.intoArray(tile, 7 * NR);
        c71.intoArray(tile, 7 * NR + L);
        writeBack(tile, c, co, ldc, rows, cols, alpha, beta);
    }

    // ---- Winograd F(2x2, 3x3) transforms ------------------------------------------------------

    /**
     * Whole vectors of tiles, one column b of the transformed block at a time (each loop keeps
     * few vectors live: with all 16 row-pass values in one loop C2 boxed vectors), then the
     * scalar definition for the rest.
     */
    @Override
    void winogradInputTiles(float[] src, int base, int[] at, int count, float[] v, int vo, int ps) {
        int whole = count - count % L;
        // column b of the row pass: d_k[first] -/+ d_k[second], rows k at at[4k + .]
        winogradInputColumnOfDifferences(src, base + at[0], base + at[2], base + at[4], base + at[6], base + at[8], base + at[10],
                base + at[12], base + at[14], whole, v, vo, ps);
        winogradInputColumnOfSums(src, base + at[1], base + at[2], base + at[5], base + at[6], base + at[9], base + at[10],
                base + at[13], base + at[14], whole, v, vo + ps, ps);
        winogradInputColumnOfDifferences(src, base + at[2], base + at[1], base + at[6], base + at[5], base + at[10], base + at[9],
                base + at[14], base + at[13], whole, v, vo + 2 * ps, ps);
        winogradInputColumnOfDifferences(src, base + at[1], base + at[3], base + at[5], base + at[7], base + at[9], base + at[11],
                base + at[13], base + at[15], whole, v, vo + 3 * ps, ps);
        CpuWinogradConv2d.inputTiles(src, base, at, whole, count, v, vo, ps);
    }

    /**
     * One column b of {@link #winogradInputTiles} over t in [0, whole) for b = 0, 2, 3:
     * {@code r_k = src[fk + t] - src[gk + t]} for rows k = 0..3, then
     * {@code r0 - r2, r1 + r2, r2 - r1, r1 - r3} to {@code v[vo + 4a * ps + t]}. (No add-or-subtract
     * flag: a vector that merges two branches is boxed.)
     */
    private static void winogradInputColumnOfDifferences(float[] src, int f0, int g0, int f1, int g1, int f2, int g2, int f3, int g3,
                                                         int whole, float[] v, int vo, int ps) {
        for (int t = 0; t < whole; t += L) {
            FloatVector r0 = FloatVector.fromArray(S, src, f0 + t).sub(FloatVector.fromArray(S, src, g0 + t));
            FloatVector r1 = FloatVector.fromArray(S, src, f1 + t).sub(FloatVector.fromArray(S, src, g1 + t));
            FloatVector r2 = FloatVector.fromArray(S, src, f2 + t).sub(FloatVector.fromArray(S, src, g2 + t));
            FloatVector r3 = FloatVector.fromArray(S, src, f3 + t).sub(FloatVector.fromArray(S, src, g3 + t));
            r0.sub(r2).intoArray(v, vo + t);
            r1.add(r2).intoArray(v, vo + 4 * ps + t);
            r2.sub(r1).intoArray(v, vo + 8 * ps + t);
            r1.sub(r3).intoArray(v, vo + 12 * ps + t);
        }
    }

    /** Column b = 1 of {@link #winogradInputTiles}: {@code r_k = src[fk + t] + src[gk + t]}, then as the other columns. */
    private static void winogradInputColumnOfSums(float[] src, int f0, int g0, int f1, int g1, int f2, int g2, int f3, int g3,
                                                  int whole, float[] v, int vo, int ps) {
        for (int t = 0; t < whole; t += L) {
            FloatVector r0 = FloatVector.fromArray(S, src, f0 + t).add(FloatVector.fromArray(S, src, g0 + t));
            FloatVector r1 = FloatVector.fromArray(S, src, f1 + t).add(FloatVector.fromArray(S, src, g1 + t));
            FloatVector r2 = FloatVector.fromArray(S, src, f2 + t).add(FloatVector.fromArray(S, src, g2 + t));
            FloatVector r3 = FloatVector.fromArray(S, src, f3 + t).add(FloatVector.fromArray(S, src, g3 + t));
            r0.sub(r2).intoArray(v, vo + t);
            r1.add(r2).intoArray(v, vo + 4 * ps + t);
            r2.sub(r1).intoArray(v, vo + 8 * ps + t);
            r1.sub(r3).intoArray(v, vo + 12 * ps + t);
        }
    }

    /** Whole vectors of tiles, one output row of the tile at a time (few live vectors per loop), then the scalar definition. */
    @Override
    void winogradOutput(float[] m, int mo, int ps, int count, float[] out, int os) {
        int whole = count - count % L;
        winogradOutputTop(m, mo, ps, whole, out, os);
        winogradOutputBottom(m, mo, ps, whole, out, os);
        CpuWinogradConv2d.output(m, mo, ps, whole, count, out, os);
    }

    /** Row 0 of {@link #winogradOutput} over t in [0, whole): {@code s_b = m0b + m1b + m2b}, outputs (0,0) and (0,1). */
    private static void winogradOutputTop(float[] m, int mo, int ps, int whole, float[] out, int os) {
        for (int t = 0; t < whole; t += L) {
            int i = mo + t;
            FloatVector s0 = FloatVector.fromArray(S, m, i).add(FloatVector.fromArray(S, m, i + 4 * ps)).add(FloatVector.fromArray(S, m, i + 8 * ps));
            FloatVector s1 = FloatVector.fromArray(S, m, i + ps).add(FloatVector.fromArray(S, m, i + 5 * ps)).add(FloatVector.fromArray(S, m, i + 9 * ps));
            FloatVector s2 = FloatVector.fromArray(S, m, i + 2 * ps).add(FloatVector.fromArray(S, m, i + 6 * ps)).add(FloatVector.fromArray(S, m, i + 10 * ps));
            FloatVector s3 = FloatVector.fromArray(S, m, i + 3 * ps).add(FloatVector.fromArray(S, m, i + 7 * ps)).add(FloatVector.fromArray(S, m, i + 11 * ps));
            s0.add(s1).add(s2).intoArray(out, t);
            s1.sub(s2).sub(s3).intoArray(out, os + t);
        }
    }

    /** Row 1 of {@link #winogradOutput} over t in [0, whole): {@code s_b = m1b - m2b - m3b}, outputs (1,0) and (1,1). */
    private static void winogradOutputBottom(float[] m, int mo, int ps, int whole, float[] out, int os) {
        for (int t = 0; t < whole; t += L) {
            int i = mo + t;
            FloatVector s0 = FloatVector.fromArray(S, m, i + 4 * ps).sub(FloatVector.fromArray(S, m, i + 8 * ps)).sub(FloatVector.fromArray(S, m, i + 12 * ps));
            FloatVector s1 = FloatVector.fromArray(S, m, i + 5 * ps).sub(FloatVector.fromArray(S, m, i + 9 * ps)).sub(FloatVector.fromArray(S, m, i + 13 * ps));
            FloatVector s2 = FloatVector.fromArray(S, m, i + 6 * ps).sub(FloatVector.fromArray(S, m, i + 10 * ps)).sub(FloatVector.fromArray(S, m, i + 14 * ps));
            FloatVector s3 = FloatVector.fromArray(S, m, i + 7 * ps).sub(FloatVector.fromArray(S, m, i + 11 * ps)).sub(FloatVector.fromArray(S, m, i + 15 * ps));
            s0.add(s1).add(s2).intoArray(out, 2 * os + t);
            s1.sub(s2).sub(s3).intoArray(out, 3 * os + t);
        }
    }

    // ---- Winograd F(2x2, 5x5) transforms ------------------------------------------------------

    /** Whole vectors of tiles: the six row passes, then the six column passes in place (few live vectors per loop), then the scalar definition. */
    @Override
    void winograd5InputTiles(float[] src, int base, int[] at, int count, float[] v, int vo, int ps) {
        int whole = count - count % L;
        for (int k = 0; k < 6; k++) {
            int r = 6 * k;
            winograd5Transform6(src, base + at[r], base + at[r + 1], base + at[r + 2], base + at[r + 3], base + at[r + 4],
                    base + at[r + 5], whole, v, vo + r * ps, ps);
        }
        for (int b = 0; b < 6; b++) {
            int c = vo + b * ps, s = 6 * ps;
            winograd5Transform6(v, c, c + s, c + 2 * s, c + 3 * s, c + 4 * s, c + 5 * s, whole, v, c, s);
        }
        CpuWinogradConv2d.inputTiles5(src, base, at, whole, count, v, vo, ps);
    }

    /**
     * {@link CpuWinogradConv2d#inputTransform6} over t in [0, whole), all six loads before the
     * stores (so it may run in place). The factors are vectors made once, not scalar operands: with
     * {@code mul(4f)} and the like, C2 left the lanewise calls out of line in some JVMs
     * (fashion_cnn's training step allocated 21 MB in one JMH fork of five, all here).
     */
    private static void winograd5Transform6(float[] src, int f0, int f1, int f2, int f3, int f4, int f5, int whole,
                                            float[] dst, int o, int ds) {
        FloatVector two = FloatVector.broadcast(S, 2f), four = FloatVector.broadcast(S, 4f), five = FloatVector.broadcast(S, 5f);
        for (int t = 0; t < whole; t += L) {
            FloatVector d0 = FloatVector.fromArray(S, src, f0 + t), d1 = FloatVector.fromArray(S, src, f1 + t);
            FloatVector d2 = FloatVector.fromArray(S, src, f2 + t), d3 = FloatVector.fromArray(S, src, f3 + t);
            FloatVector d4 = FloatVector.fromArray(S, src, f4 + t), d5 = FloatVector.fromArray(S, src, f5 + t);
            FloatVector t1 = d4.sub(d2.mul(four)), t2 = d3.sub(d1.mul(four));
            FloatVector t3 = d4.sub(d2), t4 = d3.sub(d1).mul(two);
            d4.sub(d2.mul(five)).add(d0.mul(four)).intoArray(dst, o + t);
            t1.add(t2).intoArray(dst, o + ds + t);
            t1.sub(t2).intoArray(dst, o + 2 * ds + t);
            t3.add(t4).intoArray(dst, o + 3 * ds + t);
            t3.sub(t4).intoArray(dst, o + 4 * ds + t);
            d5.sub(d3.mul(five)).add(d1.mul(four)).intoArray(dst, o + 5 * ds + t);
        }
    }

    /**
     * Whole vectors of tiles in two passes of one small loop (C2 compiles it reliably: a version
     * with all 36 loads of a tile column in one loop body sometimes stayed uncompiled, boxing its
     * vectors, and ran the layer 1.5x slower): per row k, {@code p_k} and {@code q_k} overwrite
     * positions 6k and 6k + 1 of M in place; then the same sums of those two columns give the
     * outputs. Then the scalar definition for the rest.
     */
    @Override
    void winograd5Output(float[] m, int mo, int ps, int count, float[] out, int os) {
        int whole = count - count % L;
        for (int k = 0; k < 6; k++) {
            int r = mo + 6 * k * ps;
            winograd5OutputPair(m, r, r + ps, r + 2 * ps, r + 3 * ps, r + 4 * ps, r + 5 * ps, whole, m, r, r + ps);
        }
        int s = 6 * ps;
        winograd5OutputPair(m, mo, mo + s, mo + 2 * s, mo + 3 * s, mo + 4 * s, mo + 5 * s, whole, out, 0, 2 * os);
        int c = mo + ps;
        winograd5OutputPair(m, c, c + s, c + 2 * s, c + 3 * s, c + 4 * s, c + 5 * s, whole, out, os, 3 * os);
        CpuWinogradConv2d.output5(m, mo, ps, whole, count, out, os);
    }

    /**
     * Over t in [0, whole), of the six values {@code m_b = src[f_b + t]}: {@code m_0 + .. + m_4}
     * to {@code dst[sum + t]} and {@code (m_1 - m_2) + 2 (m_3 - m_4) + m_5} to
     * {@code dst[difference + t]} (left to right, as {@link CpuWinogradConv2d#output5}); all six
     * read before either is written, so it may run in place.
     */
    private static void winograd5OutputPair(float[] src, int f0, int f1, int f2, int f3, int f4, int f5, int whole,
                                            float[] dst, int sum, int difference) {
        for (int t = 0; t < whole; t += L) {
            FloatVector m0 = FloatVector.fromArray(S, src, f0 + t), m1 = FloatVector.fromArray(S, src, f1 + t);
            FloatVector m2 = FloatVector.fromArray(S, src, f2 + t), m3 = FloatVector.fromArray(S, src, f3 + t);
            FloatVector m4 = FloatVector.fromArray(S, src, f4 + t), m5 = FloatVector.fromArray(S, src, f5 + t);
            FloatVector total = m0.add(m1).add(m2).add(m3).add(m4);
            FloatVector differences = m1.sub(m2).add(m3.sub(m4).mul(2f)).add(m5);
            total.intoArray(dst, sum + t);
            differences.intoArray(dst, difference + t);
        }
    }

    // ---- Winograd F(2x2, 5x5) output-gradient transform ---------------------------------------

    /** Whole vectors of values: the row pass, then the column pass in place; then the scalar definition for the rest. */
    @Override
    void winograd5GradientTiles(float[] d, int qs, int count, float[] v, int ps) {
        int whole = count - count % L;
        winogradExpand2(d, 0, qs, whole, v, 0, ps);
        winogradExpand2(d, 2 * qs, 3 * qs, whole, v, 30 * ps, ps);
        for (int c = 0; c < 6; c++) winogradExpand2(v, c * ps, (30 + c) * ps, whole, v, c * ps, 6 * ps);
        CpuWinogradFilter.gradientTiles5(d, qs, whole, count, v, ps);
    }

    /** Whole vectors of values: the row pass, then the column pass in place; then the scalar definition for the rest. */
    @Override
    void winograd4GradientTiles(float[] d, int qs, int count, float[] v, int ps) {
        int whole = count - count % L;
        winogradExpand4(d, 0, qs, 2 * qs, 3 * qs, whole, v, 0, ps);
        winogradExpand4(d, 4 * qs, 5 * qs, 6 * qs, 7 * qs, whole, v, 6 * ps, ps);
        winogradExpand4(d, 8 * qs, 9 * qs, 10 * qs, 11 * qs, whole, v, 12 * ps, ps);
        winogradExpand4(d, 12 * qs, 13 * qs, 14 * qs, 15 * qs, whole, v, 30 * ps, ps);
        for (int c = 0; c < 6; c++) winogradExpand4(v, c * ps, (6 + c) * ps, (12 + c) * ps, (30 + c) * ps, whole, v, c * ps, 6 * ps);
        CpuWinogradFilter.gradientTiles4(d, qs, whole, count, v, ps);
    }

    /** {@link CpuWinogradFilter#expand4} over t in [0, whole), all four loads before the stores (so it may run in place). */
    private static void winogradExpand4(float[] src, int f0, int f1, int f2, int f3, int whole, float[] dst, int o, int ds) {
        for (int t = 0; t < whole; t += L) {
            FloatVector d0 = FloatVector.fromArray(S, src, f0 + t), d1 = FloatVector.fromArray(S, src, f1 + t);
            FloatVector d2 = FloatVector.fromArray(S, src, f2 + t), d3 = FloatVector.fromArray(S, src, f3 + t);
            FloatVector even = d0.add(d2), odd = d1.add(d3), evenTwice = d0.add(d2.mul(4f)), oddTwice = d1.mul(2f).add(d3.mul(8f));
            d0.intoArray(dst, o + t);
            even.add(odd).intoArray(dst, o + ds + t);
            even.sub(odd).intoArray(dst, o + 2 * ds + t);
            evenTwice.add(oddTwice).intoArray(dst, o + 3 * ds + t);
            evenTwice.sub(oddTwice).intoArray(dst, o + 4 * ds + t);
            d3.intoArray(dst, o + 5 * ds + t);
        }
    }

    /** {@link CpuWinogradFilter#expand2} over t in [0, whole), both loads before the stores (so it may run in place). */
    private static void winogradExpand2(float[] src, int f0, int f1, int whole, float[] dst, int o, int ds) {
        for (int t = 0; t < whole; t += L) {
            FloatVector d0 = FloatVector.fromArray(S, src, f0 + t), d1 = FloatVector.fromArray(S, src, f1 + t);
            FloatVector twice = d1.mul(2f);
            d0.intoArray(dst, o + t);
            d0.add(d1).intoArray(dst, o + ds + t);
            d0.sub(d1).intoArray(dst, o + 2 * ds + t);
            d0.add(twice).intoArray(dst, o + 3 * ds + t);
            d0.sub(twice).intoArray(dst, o + 4 * ds + t);
            d1.intoArray(dst, o + 5 * ds + t);
        }
    }

    // ---- Winograd F(4x4, 3x3) output transform ------------------------------------------------

    /**
     * Whole vectors of tiles: per row k of M, the four row results overwrite positions 6k..6k+3
     * in place; then the same transform of each of those four columns gives the outputs (one
     * small loop, as {@link #winograd5Output}). Then the scalar definition for the rest.
     */
    @Override
    void winograd4Output(float[] m, int mo, int ps, int count, float[] out, int os) {
        int whole = count - count % L;
        for (int k = 0; k < 6; k++) {
            int r = mo + 6 * k * ps;
            winograd4Transform6(m, r, r + ps, r + 2 * ps, r + 3 * ps, r + 4 * ps, r + 5 * ps, whole, m, r, r + ps, r + 2 * ps, r + 3 * ps);
        }
        int s = 6 * ps;
        for (int b = 0; b < 4; b++) {
            int c = mo + b * ps;
            winograd4Transform6(m, c, c + s, c + 2 * s, c + 3 * s, c + 4 * s, c + 5 * s, whole,
                    out, b * os, (4 + b) * os, (8 + b) * os, (12 + b) * os);
        }
        CpuWinogradConv2d.output4(m, mo, ps, whole, count, out, os);
    }

    /** {@link CpuWinogradConv2d#outputTransform4} over t in [0, whole), all six loads before the stores (so it may run in place). */
    private static void winograd4Transform6(float[] src, int f0, int f1, int f2, int f3, int f4, int f5, int whole,
                                            float[] dst, int o0, int o1, int o2, int o3) {
        for (int t = 0; t < whole; t += L) {
            FloatVector m0 = FloatVector.fromArray(S, src, f0 + t), m1 = FloatVector.fromArray(S, src, f1 + t);
            FloatVector m2 = FloatVector.fromArray(S, src, f2 + t), m3 = FloatVector.fromArray(S, src, f3 + t);
            FloatVector m4 = FloatVector.fromArray(S, src, f4 + t), m5 = FloatVector.fromArray(S, src, f5 + t);
            FloatVector sum12 = m1.add(m2), difference12 = m1.sub(m2), sum34 = m3.add(m4), difference34 = m3.sub(m4);
            m0.add(sum12).add(sum34).intoArray(dst, o0 + t);
            difference12.add(difference34.mul(2f)).intoArray(dst, o1 + t);
            sum12.add(sum34.mul(4f)).intoArray(dst, o2 + t);
            difference12.add(difference34.mul(8f)).add(m5).intoArray(dst, o3 + t);
        }
    }

    // ---- Winograd F(4x4, 3x3) over channels-last tiles ----------------------------------------

    /** {@link #winogradGradientTile} per vector of output channels. */
    @Override
    void winogradChannelsGradient(float[] dyc, int at, int rowStride, int cout, int rows, int cols, float[] m, int mo) {
        for (int c0 = 0; c0 < cout; c0 += L) winogradGradientTile(dyc, at + c0, rowStride, cout, rows, cols, m, mo + c0);
    }

    /**
     * One vector of channels of {@link CpuChannelWinogradFilter#gradientTile}: per row of the 4x4
     * block (zeros past rows and cols), {@link CpuWinogradFilter#expand4} into Y's rows 0, 1, 2, 5;
     * then per column the same down those rows, in place.
     */
    private static void winogradGradientTile(float[] dyc, int at, int rowStride, int c, int rows, int cols, float[] m, int mo) {
        FloatVector zero = FloatVector.zero(S), two = FloatVector.broadcast(S, 2f), four = FloatVector.broadcast(S, 4f);
        FloatVector eight = FloatVector.broadcast(S, 8f);
        int s = 6 * c;
        for (int r = 0; r < 4; r++) {
            int from = at + r * rowStride, o = mo + (r == 3 ? 5 : r) * s;
            boolean inside = r < rows;
            FloatVector d0 = inside ? FloatVector.fromArray(S, dyc, from) : zero;
            FloatVector d1 = inside && cols > 1 ? FloatVector.fromArray(S, dyc, from + c) : zero;
            FloatVector d2 = inside && cols > 2 ? FloatVector.fromArray(S, dyc, from + 2 * c) : zero;
            FloatVector d3 = inside && cols > 3 ? FloatVector.fromArray(S, dyc, from + 3 * c) : zero;
            FloatVector even = d0.add(d2), odd = d1.add(d3), evenTwice = d0.add(d2.mul(four)), oddTwice = d1.mul(two).add(d3.mul(eight));
            d0.intoArray(m, o);
            even.add(odd).intoArray(m, o + c);
            even.sub(odd).intoArray(m, o + 2 * c);
            evenTwice.add(oddTwice).intoArray(m, o + 3 * c);
            evenTwice.sub(oddTwice).intoArray(m, o + 4 * c);
            d3.intoArray(m, o + 5 * c);
        }
        for (int j = 0, o = mo; j < 6; j++, o += c) {
            FloatVector d0 = FloatVector.fromArray(S, m, o), d1 = FloatVector.fromArray(S, m, o + s);
            FloatVector d2 = FloatVector.fromArray(S, m, o + 2 * s), d3 = FloatVector.fromArray(S, m, o + 5 * s);
            FloatVector even = d0.add(d2), odd = d1.add(d3), evenTwice = d0.add(d2.mul(four)), oddTwice = d1.mul(two).add(d3.mul(eight));
            d0.intoArray(m, o);
            even.add(odd).intoArray(m, o + s);
            even.sub(odd).intoArray(m, o + 2 * s);
            evenTwice.add(oddTwice).intoArray(m, o + 3 * s);
            evenTwice.sub(oddTwice).intoArray(m, o + 4 * s);
            d3.intoArray(m, o + 5 * s);
        }
    }

    /** Register tiles of 8 input channels by two (or one) vectors of output channels, each over every tile ({@link #winogradFilterProducts8x2}). */
    @Override
    void winogradChannelsFilterProducts(float[] v, float[] m, int tiles, int cin, int cout, int p, float[] du, int duo) {
        for (int ci = 0; ci < cin; ci += 8) {
            int c0 = 0;
            for (; c0 + 2 * L <= cout; c0 += 2 * L) winogradFilterProducts8x2(v, p * cin + ci, 36 * cin, m, p * cout + c0, 36 * cout, tiles, du, duo + ci * cout + c0, cout);
            if (c0 < cout) winogradFilterProducts8x1(v, p * cin + ci, 36 * cin, m, p * cout + c0, 36 * cout, tiles, du, duo + ci * cout + c0, cout);
        }
    }

    /**
     * 8 input channels (v[vi..vi+7], vt apart per tile) by two vectors of Y (m[mi], m[mi + L], mt
     * apart), 16 fma chains over the tiles. The same register tile as {@link #winogradProducts8x2}
     * with rows and terms swapped; one method with both strides as parameters ran the forward, the
     * backward-data and this gradient 0.80-0.93x at batch 32 (paired, one thread), presumably for
     * the broadcasts' range checks: each loop here keeps one of its two strides a constant.
     */
    private static void winogradFilterProducts8x2(float[] v, int vi, int vt, float[] m, int mi, int mt, int tiles, float[] du, int o, int cout) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
        FloatVector b0 = zero, b1 = zero, b2 = zero, b3 = zero, b4 = zero, b5 = zero, b6 = zero, b7 = zero;
        for (int t = 0; t < tiles; t++, vi += vt, mi += mt) {
            FloatVector y = FloatVector.fromArray(S, m, mi), z = FloatVector.fromArray(S, m, mi + L);
            FloatVector e = FloatVector.broadcast(S, v[vi]);
            a0 = e.fma(y, a0);
            b0 = e.fma(z, b0);
            e = FloatVector.broadcast(S, v[vi + 1]);
            a1 = e.fma(y, a1);
            b1 = e.fma(z, b1);
            e = FloatVector.broadcast(S, v[vi + 2]);
            a2 = e.fma(y, a2);
            b2 = e.fma(z, b2);
            e = FloatVector.broadcast(S, v[vi + 3]);
            a3 = e.fma(y, a3);
            b3 = e.fma(z, b3);
            e = FloatVector.broadcast(S, v[vi + 4]);
            a4 = e.fma(y, a4);
            b4 = e.fma(z, b4);
            e = FloatVector.broadcast(S, v[vi + 5]);
            a5 = e.fma(y, a5);
            b5 = e.fma(z, b5);
            e = FloatVector.broadcast(S, v[vi + 6]);
            a6 = e.fma(y, a6);
            b6 = e.fma(z, b6);
            e = FloatVector.broadcast(S, v[vi + 7]);
            a7 = e.fma(y, a7);
            b7 = e.fma(z, b7);
        }
        a0.intoArray(du, o);
        b0.intoArray(du, o + L);
        a1.intoArray(du, o + cout);
        b1.intoArray(du, o + cout + L);
        a2.intoArray(du, o + 2 * cout);
        b2.intoArray(du, o + 2 * cout + L);
        a3.intoArray(du, o + 3 * cout);
        b3.intoArray(du, o + 3 * cout + L);
        a4.intoArray(du, o + 4 * cout);
        b4.intoArray(du, o + 4 * cout + L);
        a5.intoArray(du, o + 5 * cout);
        b5.intoArray(du, o + 5 * cout + L);
        a6.intoArray(du, o + 6 * cout);
        b6.intoArray(du, o + 6 * cout + L);
        a7.intoArray(du, o + 7 * cout);
        b7.intoArray(du, o + 7 * cout + L);
    }

    /** {@link #winogradFilterProducts8x2} with one vector of Y. */
    private static void winogradFilterProducts8x1(float[] v, int vi, int vt, float[] m, int mi, int mt, int tiles, float[] du, int o, int cout) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
        for (int t = 0; t < tiles; t++, vi += vt, mi += mt) {
            FloatVector y = FloatVector.fromArray(S, m, mi);
            a0 = FloatVector.broadcast(S, v[vi]).fma(y, a0);
            a1 = FloatVector.broadcast(S, v[vi + 1]).fma(y, a1);
            a2 = FloatVector.broadcast(S, v[vi + 2]).fma(y, a2);
            a3 = FloatVector.broadcast(S, v[vi + 3]).fma(y, a3);
            a4 = FloatVector.broadcast(S, v[vi + 4]).fma(y, a4);
            a5 = FloatVector.broadcast(S, v[vi + 5]).fma(y, a5);
            a6 = FloatVector.broadcast(S, v[vi + 6]).fma(y, a6);
            a7 = FloatVector.broadcast(S, v[vi + 7]).fma(y, a7);
        }
        a0.intoArray(du, o);
        a1.intoArray(du, o + cout);
        a2.intoArray(du, o + 2 * cout);
        a3.intoArray(du, o + 3 * cout);
        a4.intoArray(du, o + 4 * cout);
        a5.intoArray(du, o + 5 * cout);
        a6.intoArray(du, o + 6 * cout);
        a7.intoArray(du, o + 7 * cout);
    }

    /** {@link CpuChannelWinogradFilter#pairGradient} lane-wise, a vector of output channels at a time. */
    @Override
    void winogradChannelsFilterGradient(float[] du, int cin, int cout, int ci0, int ci1, float[] dwt) {
        for (int ci = ci0; ci < ci1; ci++) {
            for (int c0 = 0; c0 < cout; c0 += L) {
                winogradGradientRows(du, ci * cout + c0, cin * cout, gradientRows);
                winogradGradientColumns(gradientRows, dwt, ci * 9 * cout + c0, cout);
            }
        }
    }

    /** The 18 r vectors of {@link #winogradChannelsFilterGradient}'s pair, r(a, j) at {@code (3a + j) * L}. */
    private final float[] gradientRows = new float[18 * L];

    /** Each row of dU (position 6a + b at {@code du[at + (6a + b)*ps]}) scaled by f and times V: {@code r(a, 0..2)}. */
    private static void winogradGradientRows(float[] du, int at, int ps, float[] r) {
        float quarter = 0.25f, sixth = -CpuChannelWinogradFilter.SIXTH, twentyFourth = CpuChannelWinogradFilter.TWENTY_FOURTH;
        FloatVector two = FloatVector.broadcast(S, 2f), four = FloatVector.broadcast(S, 4f);
        for (int a = 0, i = at; a < 6; a++, i += 6 * ps) {
            FloatVector w0 = FloatVector.fromArray(S, du, i).mul(quarter), w1 = FloatVector.fromArray(S, du, i + ps).mul(sixth);
            FloatVector w2 = FloatVector.fromArray(S, du, i + 2 * ps).mul(sixth), w3 = FloatVector.fromArray(S, du, i + 3 * ps).mul(twentyFourth);
            FloatVector w4 = FloatVector.fromArray(S, du, i + 4 * ps).mul(twentyFourth), w5 = FloatVector.fromArray(S, du, i + 5 * ps);
            w0.add(w1).add(w2).add(w3).add(w4).intoArray(r, 3 * a * L);
            w1.sub(w2).add(two.mul(w3.sub(w4))).intoArray(r, (3 * a + 1) * L);
            w1.add(w2).add(four.mul(w3.add(w4))).add(w5).intoArray(r, (3 * a + 2) * L);
        }
    }

    /** Each column j of r scaled by f and times V: taps j, 3 + j and 6 + j at {@code dwt[o + tap*os]}. */
    private static void winogradGradientColumns(float[] r, float[] dwt, int o, int os) {
        float quarter = 0.25f, sixth = -CpuChannelWinogradFilter.SIXTH, twentyFourth = CpuChannelWinogradFilter.TWENTY_FOURTH;
        FloatVector two = FloatVector.broadcast(S, 2f), four = FloatVector.broadcast(S, 4f);
        for (int j = 0; j < 3; j++) {
            FloatVector v0 = FloatVector.fromArray(S, r, j * L).mul(quarter), v1 = FloatVector.fromArray(S, r, (3 + j) * L).mul(sixth);
            FloatVector v2 = FloatVector.fromArray(S, r, (6 + j) * L).mul(sixth), v3 = FloatVector.fromArray(S, r, (9 + j) * L).mul(twentyFourth);
            FloatVector v4 = FloatVector.fromArray(S, r, (12 + j) * L).mul(twentyFourth), v5 = FloatVector.fromArray(S, r, (15 + j) * L);
            v0.add(v1).add(v2).add(v3).add(v4).intoArray(dwt, o + j * os);
            v1.sub(v2).add(two.mul(v3.sub(v4))).intoArray(dwt, o + (3 + j) * os);
            v1.add(v2).add(four.mul(v3.add(v4))).add(v5).intoArray(dwt, o + (6 + j) * os);
        }
    }

    /** {@link CpuChannelWinograd#filterPair} lane-wise, a vector of output channels at a time. */
    @Override
    void winogradChannelsFilters(float[] wt, int cin, int cout, float[][] u) {
        for (int ci = 0; ci < cin; ci++) {
            for (int c0 = 0; c0 < cout; c0 += L) winogradFilterVector(wt, ci * 9 * cout + c0, cout, u, ci * cout + c0);
        }
    }

    /** One vector of {@link #winogradChannelsFilters}: the kernel rows through V, then each row of V g through V and the scales. */
    private static void winogradFilterVector(float[] wt, int at, int cout, float[][] u, int o) {
        FloatVector two = FloatVector.broadcast(S, 2f), four = FloatVector.broadcast(S, 4f);
        FloatVector g00 = FloatVector.fromArray(S, wt, at), g01 = FloatVector.fromArray(S, wt, at + cout);
        FloatVector g02 = FloatVector.fromArray(S, wt, at + 2 * cout), g10 = FloatVector.fromArray(S, wt, at + 3 * cout);
        FloatVector g11 = FloatVector.fromArray(S, wt, at + 4 * cout), g12 = FloatVector.fromArray(S, wt, at + 5 * cout);
        FloatVector g20 = FloatVector.fromArray(S, wt, at + 6 * cout), g21 = FloatVector.fromArray(S, wt, at + 7 * cout);
        FloatVector g22 = FloatVector.fromArray(S, wt, at + 8 * cout);
        FloatVector e0 = g00.add(g20), e1 = g01.add(g21), e2 = g02.add(g22);
        FloatVector q0 = g00.add(g20.mul(four)), q1 = g01.add(g21.mul(four)), q2 = g02.add(g22.mul(four));
        FloatVector d0 = g10.mul(two), d1 = g11.mul(two), d2 = g12.mul(two);
        float[] f = CpuChannelWinograd.FILTER_SCALES;
        for (int a = 0; a < 6; a++) {
            FloatVector c0, c1, c2;
            switch (a) {
                case 0 -> { c0 = g00; c1 = g01; c2 = g02; }
                case 1 -> { c0 = e0.add(g10); c1 = e1.add(g11); c2 = e2.add(g12); }
                case 2 -> { c0 = e0.sub(g10); c1 = e1.sub(g11); c2 = e2.sub(g12); }
                case 3 -> { c0 = q0.add(d0); c1 = q1.add(d1); c2 = q2.add(d2); }
                case 4 -> { c0 = q0.sub(d0); c1 = q1.sub(d1); c2 = q2.sub(d2); }
                default -> { c0 = g20; c1 = g21; c2 = g22; }
            }
            FloatVector even = c0.add(c2), quadruple = c0.add(c2.mul(four)), odd = c1.mul(two);
            int p = 6 * a;
            c0.mul(f[p]).intoArray(u[p], o);
            even.add(c1).mul(f[p + 1]).intoArray(u[p + 1], o);
            even.sub(c1).mul(f[p + 2]).intoArray(u[p + 2], o);
            quadruple.add(odd).mul(f[p + 3]).intoArray(u[p + 3], o);
            quadruple.sub(odd).mul(f[p + 4]).intoArray(u[p + 4], o);
            c2.mul(f[p + 5]).intoArray(u[p + 5], o);
        }
    }

    /** {@link #winogradInputTile} per vector of channels. */
    @Override
    void winogradChannelsInput(float[] xp, int at, int rowStride, int channels, float[] v, int vo) {
        for (int c0 = 0; c0 < channels; c0 += L) winogradInputTile(xp, at + c0, rowStride, channels, v, vo + c0);
    }

    /**
     * One vector of channels of a tile: {@link CpuWinogradConv2d#inputTransform6} along each of the
     * six rows, then down each of the six columns in place, in one method (the six-value transform
     * as a method of its own was too large for C2 to inline: twelve calls a tile took three times
     * the arithmetic's time).
     */
    private static void winogradInputTile(float[] xp, int at, int rowStride, int c, float[] v, int vo) {
        FloatVector two = FloatVector.broadcast(S, 2f), four = FloatVector.broadcast(S, 4f), five = FloatVector.broadcast(S, 5f);
        int s = 6 * c;
        for (int a = 0, r = at, o = vo; a < 6; a++, r += rowStride, o += s) {
            FloatVector d0 = FloatVector.fromArray(S, xp, r), d1 = FloatVector.fromArray(S, xp, r + c);
            FloatVector d2 = FloatVector.fromArray(S, xp, r + 2 * c), d3 = FloatVector.fromArray(S, xp, r + 3 * c);
            FloatVector d4 = FloatVector.fromArray(S, xp, r + 4 * c), d5 = FloatVector.fromArray(S, xp, r + 5 * c);
            FloatVector t1 = d4.sub(d2.mul(four)), t2 = d3.sub(d1.mul(four));
            FloatVector t3 = d4.sub(d2), t4 = d3.sub(d1).mul(two);
            d4.sub(d2.mul(five)).add(d0.mul(four)).intoArray(v, o);
            t1.add(t2).intoArray(v, o + c);
            t1.sub(t2).intoArray(v, o + 2 * c);
            t3.add(t4).intoArray(v, o + 3 * c);
            t3.sub(t4).intoArray(v, o + 4 * c);
            d5.sub(d3.mul(five)).add(d1.mul(four)).intoArray(v, o + 5 * c);
        }
        for (int b = 0, o = vo; b < 6; b++, o += c) {
            FloatVector d0 = FloatVector.fromArray(S, v, o), d1 = FloatVector.fromArray(S, v, o + s);
            FloatVector d2 = FloatVector.fromArray(S, v, o + 2 * s), d3 = FloatVector.fromArray(S, v, o + 3 * s);
            FloatVector d4 = FloatVector.fromArray(S, v, o + 4 * s), d5 = FloatVector.fromArray(S, v, o + 5 * s);
            FloatVector t1 = d4.sub(d2.mul(four)), t2 = d3.sub(d1.mul(four));
            FloatVector t3 = d4.sub(d2), t4 = d3.sub(d1).mul(two);
            d4.sub(d2.mul(five)).add(d0.mul(four)).intoArray(v, o);
            t1.add(t2).intoArray(v, o + s);
            t1.sub(t2).intoArray(v, o + 2 * s);
            t3.add(t4).intoArray(v, o + 3 * s);
            t3.sub(t4).intoArray(v, o + 4 * s);
            d5.sub(d3.mul(five)).add(d1.mul(four)).intoArray(v, o + 5 * s);
        }
    }

    /**
     * Per group of {@link #WINOGRAD_TILE_GROUP} tiles, position and vector of output channels, eight
     * accumulators over the input channels ({@link #winogradProducts8}): one weight vector a term,
     * shared by the eight tiles' broadcasts.
     */
    @Override
    void winogradChannelsProducts(float[] v, int vo, int tiles, int cin, float[][] u, int cout, float[] m, int mo) {
        int vt = 36 * cin, mt = 36 * cout;
        for (int t0 = 0; t0 < tiles; t0 += WINOGRAD_TILE_GROUP) {
            for (int p = 0; p < 36; p++) {
                int vi = vo + t0 * vt + p * cin, mi = mo + t0 * mt + p * cout;
                int c0 = 0;
                for (; c0 + 2 * L <= cout; c0 += 2 * L) winogradProducts8x2(v, vi, vt, cin, u[p], c0, cout, m, mi + c0, mt);
                if (c0 < cout) winogradProducts8(v, vi, vt, cin, u[p], c0, cout, m, mi + c0, mt);
            }
        }
    }

    /** Eight tiles (vt floats of v apart, mt of m) at one position and two vectors of output channels: a broadcast for two fmas. */
    private static void winogradProducts8x2(float[] v, int vi, int vt, int cin, float[] u, int ui, int cout, float[] m, int mi, int mt) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
        FloatVector b0 = zero, b1 = zero, b2 = zero, b3 = zero, b4 = zero, b5 = zero, b6 = zero, b7 = zero;
        for (int i = vi, end = vi + cin; i < end; i++, ui += cout) {
            FloatVector w = FloatVector.fromArray(S, u, ui), x = FloatVector.fromArray(S, u, ui + L);
            FloatVector e = FloatVector.broadcast(S, v[i]);
            a0 = e.fma(w, a0);
            b0 = e.fma(x, b0);
            e = FloatVector.broadcast(S, v[i + vt]);
            a1 = e.fma(w, a1);
            b1 = e.fma(x, b1);
            e = FloatVector.broadcast(S, v[i + 2 * vt]);
            a2 = e.fma(w, a2);
            b2 = e.fma(x, b2);
            e = FloatVector.broadcast(S, v[i + 3 * vt]);
            a3 = e.fma(w, a3);
            b3 = e.fma(x, b3);
            e = FloatVector.broadcast(S, v[i + 4 * vt]);
            a4 = e.fma(w, a4);
            b4 = e.fma(x, b4);
            e = FloatVector.broadcast(S, v[i + 5 * vt]);
            a5 = e.fma(w, a5);
            b5 = e.fma(x, b5);
            e = FloatVector.broadcast(S, v[i + 6 * vt]);
            a6 = e.fma(w, a6);
            b6 = e.fma(x, b6);
            e = FloatVector.broadcast(S, v[i + 7 * vt]);
            a7 = e.fma(w, a7);
            b7 = e.fma(x, b7);
        }
        a0.intoArray(m, mi);
        b0.intoArray(m, mi + L);
        a1.intoArray(m, mi + mt);
        b1.intoArray(m, mi + mt + L);
        a2.intoArray(m, mi + 2 * mt);
        b2.intoArray(m, mi + 2 * mt + L);
        a3.intoArray(m, mi + 3 * mt);
        b3.intoArray(m, mi + 3 * mt + L);
        a4.intoArray(m, mi + 4 * mt);
        b4.intoArray(m, mi + 4 * mt + L);
        a5.intoArray(m, mi + 5 * mt);
        b5.intoArray(m, mi + 5 * mt + L);
        a6.intoArray(m, mi + 6 * mt);
        b6.intoArray(m, mi + 6 * mt + L);
        a7.intoArray(m, mi + 7 * mt);
        b7.intoArray(m, mi + 7 * mt + L);
    }

    /** Eight tiles (vt floats of v apart, mt of m) at one position and vector of output channels. */
    private static void winogradProducts8(float[] v, int vi, int vt, int cin, float[] u, int ui, int cout, float[] m, int mi, int mt) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
        for (int i = vi, end = vi + cin; i < end; i++, ui += cout) {
            FloatVector w = FloatVector.fromArray(S, u, ui);
            a0 = FloatVector.broadcast(S, v[i]).fma(w, a0);
            a1 = FloatVector.broadcast(S, v[i + vt]).fma(w, a1);
            a2 = FloatVector.broadcast(S, v[i + 2 * vt]).fma(w, a2);
            a3 = FloatVector.broadcast(S, v[i + 3 * vt]).fma(w, a3);
            a4 = FloatVector.broadcast(S, v[i + 4 * vt]).fma(w, a4);
            a5 = FloatVector.broadcast(S, v[i + 5 * vt]).fma(w, a5);
            a6 = FloatVector.broadcast(S, v[i + 6 * vt]).fma(w, a6);
            a7 = FloatVector.broadcast(S, v[i + 7 * vt]).fma(w, a7);
        }
        a0.intoArray(m, mi);
        a1.intoArray(m, mi + mt);
        a2.intoArray(m, mi + 2 * mt);
        a3.intoArray(m, mi + 3 * mt);
        a4.intoArray(m, mi + 4 * mt);
        a5.intoArray(m, mi + 5 * mt);
        a6.intoArray(m, mi + 6 * mt);
        a7.intoArray(m, mi + 7 * mt);
    }

    /** {@link #winogradOutputTile} per vector of output channels. */
    @Override
    void winogradChannelsOutput(float[] m, int mo, int cout, float[] bias, boolean relu, int rows, int cols, float[] out, int oo,
                                int rowStride) {
        for (int c0 = 0; c0 < cout; c0 += L) {
            winogradOutputTile(m, mo + c0, cout, bias, c0, relu, rows, cols, out, oo + c0, rowStride);
        }
    }

    /**
     * One vector of output channels of a tile: {@link CpuWinogradConv2d#outputTransform4} along
     * each row of M in place, then down each of the first {@code cols} columns, whose four outputs
     * (rows) take the bias and the relu on their way into out; in one method, as
     * {@link #winogradInputTile}.
     */
    private static void winogradOutputTile(float[] m, int mo, int c, float[] bias, int b0, boolean relu, int rows, int cols,
                                           float[] out, int oo, int rowStride) {
        FloatVector two = FloatVector.broadcast(S, 2f), four = FloatVector.broadcast(S, 4f), eight = FloatVector.broadcast(S, 8f);
        int s = 6 * c;
        for (int k = 0, r = mo; k < 6; k++, r += s) {
            FloatVector m0 = FloatVector.fromArray(S, m, r), m1 = FloatVector.fromArray(S, m, r + c);
            FloatVector m2 = FloatVector.fromArray(S, m, r + 2 * c), m3 = FloatVector.fromArray(S, m, r + 3 * c);
            FloatVector m4 = FloatVector.fromArray(S, m, r + 4 * c), m5 = FloatVector.fromArray(S, m, r + 5 * c);
            FloatVector sum12 = m1.add(m2), difference12 = m1.sub(m2), sum34 = m3.add(m4), difference34 = m3.sub(m4);
            m0.add(sum12).add(sum34).intoArray(m, r);
            difference12.add(difference34.mul(two)).intoArray(m, r + c);
            sum12.add(sum34.mul(four)).intoArray(m, r + 2 * c);
            difference12.add(difference34.mul(eight)).add(m5).intoArray(m, r + 3 * c);
        }
        boolean biased = bias != null;
        FloatVector b = biased ? FloatVector.fromArray(S, bias, b0) : FloatVector.zero(S);
        for (int j = 0, o = mo, d = oo; j < cols; j++, o += c, d += c) {
            FloatVector m0 = FloatVector.fromArray(S, m, o), m1 = FloatVector.fromArray(S, m, o + s);
            FloatVector m2 = FloatVector.fromArray(S, m, o + 2 * s), m3 = FloatVector.fromArray(S, m, o + 3 * s);
            FloatVector m4 = FloatVector.fromArray(S, m, o + 4 * s), m5 = FloatVector.fromArray(S, m, o + 5 * s);
            FloatVector sum12 = m1.add(m2), difference12 = m1.sub(m2), sum34 = m3.add(m4), difference34 = m3.sub(m4);
            FloatVector y0 = m0.add(sum12).add(sum34);
            FloatVector y1 = difference12.add(difference34.mul(two));
            FloatVector y2 = sum12.add(sum34.mul(four));
            FloatVector y3 = difference12.add(difference34.mul(eight)).add(m5);
            if (biased) {
                y0 = y0.add(b);
                y1 = y1.add(b);
                y2 = y2.add(b);
                y3 = y3.add(b);
            }
            if (relu) {
                y0 = y0.blend(0f, y0.compare(VectorOperators.LE, 0f));
                y1 = y1.blend(0f, y1.compare(VectorOperators.LE, 0f));
                y2 = y2.blend(0f, y2.compare(VectorOperators.LE, 0f));
                y3 = y3.blend(0f, y3.compare(VectorOperators.LE, 0f));
            }
            y0.intoArray(out, d);
            if (rows > 1) y1.intoArray(out, d + rowStride);
            if (rows > 2) y2.intoArray(out, d + 2 * rowStride);
            if (rows > 3) y3.intoArray(out, d + 3 * rowStride);
        }
    }

    // ---- batch norm backward through a relu -------------------------------------------------

    /**
     * dy where y > 0, else +0: the blend {@link #reluBackward} does. It returns a vector (see the
     * class comment) and stays a helper for the batch-norm sums: written out in those callers, the
     * 256-bit relu tails pass ({@link #channelBackwardRelu8Tails}) boxed its vectors in every JVM
     * tried. The dx pass ({@link #dxVectorsRelu}) writes it out: called from there, C2 left it out
     * of line in some JVMs, every call boxing its result.
     */
    private static FloatVector reluMasked(float[] dy, float[] y, int i) {
        VectorMask<Float> positive = FloatVector.fromArray(S, y, i).compare(VectorOperators.GT, 0f);
        return FloatVector.zero(S).blend(FloatVector.fromArray(S, dy, i), positive);
    }

    // ---- direct convolution over output channels --------------------------------------------

    /**
     * One kernel per shape (vectors x pixels: 1 x 14, 2 x 7, 4 x 4) and step (1 or 2), each one
     * flat loop over the terms with its accumulators in registers (14 to 16 of AVX-512's 32): per
     * term the weight vectors once and each pixel's input broadcast once, at constant offsets.
     */
    // ---- backward-data of 3x3 stride-2 convolutions by rows ------------------------------------

    @Override
    void stridedBackwardRow(float[] dy, int first, int second, int plane, int cout, float[] w, int wFirst, int wSecond,
                            int width, int channels, float[] out, int o) {
        if (width == 14 && channels == L) {
            if (second < 0) stridedRow14x1(dy, first, plane, cout, w, wFirst, out, o);
            else stridedRow14x1Parts2(dy, first, second, plane, cout, w, wFirst, wSecond, out, o);
        } else if (width == 7 && channels == 2 * L) {
            if (second < 0) stridedRow7x2(dy, first, plane, cout, w, wFirst, out, o);
            else stridedRow7x2Parts2(dy, first, second, plane, cout, w, wFirst, wSecond, out, o);
        } else {
            CpuPlainKernels.stridedBackwardRowLoops(dy, first, second, plane, cout, w, wFirst, wSecond, width, channels, out, o);
        }
    }

    /*
     * One method per shape and number of parts (an even dx row has one, ki = 1; an odd row two,
     * ki = 0 from the dy row below, then ki = 2), the accumulators named: each dy value broadcast
     * once for its taps kj = 0, 1, 2 at dx columns 2j - 1, 2j, 2j + 1, j from the row's end to its
     * start, so that an odd column's kj = 0 term (from j + 1) comes before its kj = 2 term (from j).
     */

    private static void stridedRow14x1(float[] dy, int first, int plane, int cout, float[] w, int wFirst, float[] out, int o) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0v0 = zero, a1v0 = zero, a2v0 = zero, a3v0 = zero, a4v0 = zero, a5v0 = zero, a6v0 = zero;
        FloatVector a7v0 = zero, a8v0 = zero, a9v0 = zero, a10v0 = zero, a11v0 = zero, a12v0 = zero, a13v0 = zero;
        for (int co = 0, d1 = first, w1 = wFirst; co < cout; co++, d1 += plane, w1 += 9 * L) {
            FloatVector k0v0 = FloatVector.fromArray(S, w, w1);
            FloatVector k1v0 = FloatVector.fromArray(S, w, w1 + L);
            FloatVector k2v0 = FloatVector.fromArray(S, w, w1 + 2 * L);
            FloatVector c = FloatVector.broadcast(S, dy[d1 + 6]);
            a11v0 = c.fma(k0v0, a11v0); a12v0 = c.fma(k1v0, a12v0); a13v0 = c.fma(k2v0, a13v0);
            c = FloatVector.broadcast(S, dy[d1 + 5]);
            a9v0 = c.fma(k0v0, a9v0); a10v0 = c.fma(k1v0, a10v0); a11v0 = c.fma(k2v0, a11v0);
            c = FloatVector.broadcast(S, dy[d1 + 4]);
            a7v0 = c.fma(k0v0, a7v0); a8v0 = c.fma(k1v0, a8v0); a9v0 = c.fma(k2v0, a9v0);
            c = FloatVector.broadcast(S, dy[d1 + 3]);
            a5v0 = c.fma(k0v0, a5v0); a6v0 = c.fma(k1v0, a6v0); a7v0 = c.fma(k2v0, a7v0);
            c = FloatVector.broadcast(S, dy[d1 + 2]);
            a3v0 = c.fma(k0v0, a3v0); a4v0 = c.fma(k1v0, a4v0); a5v0 = c.fma(k2v0, a5v0);
            c = FloatVector.broadcast(S, dy[d1 + 1]);
            a1v0 = c.fma(k0v0, a1v0); a2v0 = c.fma(k1v0, a2v0); a3v0 = c.fma(k2v0, a3v0);
            c = FloatVector.broadcast(S, dy[d1 + 0]);
            a0v0 = c.fma(k1v0, a0v0); a1v0 = c.fma(k2v0, a1v0);
        }
        a0v0.intoArray(out, o);
        a1v0.intoArray(out, o + L);
        a2v0.intoArray(out, o + 2 * L);
        a3v0.intoArray(out, o + 3 * L);
        a4v0.intoArray(out, o + 4 * L);
        a5v0.intoArray(out, o + 5 * L);
        a6v0.intoArray(out, o + 6 * L);
        a7v0.intoArray(out, o + 7 * L);
        a8v0.intoArray(out, o + 8 * L);
        a9v0.intoArray(out, o + 9 * L);
        a10v0.intoArray(out, o + 10 * L);
        a11v0.intoArray(out, o + 11 * L);
        a12v0.intoArray(out, o + 12 * L);
        a13v0.intoArray(out, o + 13 * L);
    }

    private static void stridedRow14x1Parts2(float[] dy, int first, int second, int plane, int cout, float[] w, int wFirst, int wSecond,
                                             float[] out, int o) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0v0 = zero, a1v0 = zero, a2v0 = zero, a3v0 = zero, a4v0 = zero, a5v0 = zero, a6v0 = zero;
        FloatVector a7v0 = zero, a8v0 = zero, a9v0 = zero, a10v0 = zero, a11v0 = zero, a12v0 = zero, a13v0 = zero;
        for (int co = 0, d1 = first, d2 = second, w1 = wFirst, w2 = wSecond; co < cout;
             co++, d1 += plane, d2 += plane, w1 += 9 * L, w2 += 9 * L) {
            FloatVector k0v0 = FloatVector.fromArray(S, w, w1);
            FloatVector k1v0 = FloatVector.fromArray(S, w, w1 + L);
            FloatVector k2v0 = FloatVector.fromArray(S, w, w1 + 2 * L);
            FloatVector c = FloatVector.broadcast(S, dy[d1 + 6]);
            a11v0 = c.fma(k0v0, a11v0); a12v0 = c.fma(k1v0, a12v0); a13v0 = c.fma(k2v0, a13v0);
            c = FloatVector.broadcast(S, dy[d1 + 5]);
            a9v0 = c.fma(k0v0, a9v0); a10v0 = c.fma(k1v0, a10v0); a11v0 = c.fma(k2v0, a11v0);
            c = FloatVector.broadcast(S, dy[d1 + 4]);
            a7v0 = c.fma(k0v0, a7v0); a8v0 = c.fma(k1v0, a8v0); a9v0 = c.fma(k2v0, a9v0);
            c = FloatVector.broadcast(S, dy[d1 + 3]);
            a5v0 = c.fma(k0v0, a5v0); a6v0 = c.fma(k1v0, a6v0); a7v0 = c.fma(k2v0, a7v0);
            c = FloatVector.broadcast(S, dy[d1 + 2]);
            a3v0 = c.fma(k0v0, a3v0); a4v0 = c.fma(k1v0, a4v0); a5v0 = c.fma(k2v0, a5v0);
            c = FloatVector.broadcast(S, dy[d1 + 1]);
            a1v0 = c.fma(k0v0, a1v0); a2v0 = c.fma(k1v0, a2v0); a3v0 = c.fma(k2v0, a3v0);
            c = FloatVector.broadcast(S, dy[d1 + 0]);
            a0v0 = c.fma(k1v0, a0v0); a1v0 = c.fma(k2v0, a1v0);
            k0v0 = FloatVector.fromArray(S, w, w2);
            k1v0 = FloatVector.fromArray(S, w, w2 + L);
            k2v0 = FloatVector.fromArray(S, w, w2 + 2 * L);
            c = FloatVector.broadcast(S, dy[d2 + 6]);
            a11v0 = c.fma(k0v0, a11v0); a12v0 = c.fma(k1v0, a12v0); a13v0 = c.fma(k2v0, a13v0);
            c = FloatVector.broadcast(S, dy[d2 + 5]);
            a9v0 = c.fma(k0v0, a9v0); a10v0 = c.fma(k1v0, a10v0); a11v0 = c.fma(k2v0, a11v0);
            c = FloatVector.broadcast(S, dy[d2 + 4]);
            a7v0 = c.fma(k0v0, a7v0); a8v0 = c.fma(k1v0, a8v0); a9v0 = c.fma(k2v0, a9v0);
            c = FloatVector.broadcast(S, dy[d2 + 3]);
            a5v0 = c.fma(k0v0, a5v0); a6v0 = c.fma(k1v0, a6v0); a7v0 = c.fma(k2v0, a7v0);
            c = FloatVector.broadcast(S, dy[d2 + 2]);
            a3v0 = c.fma(k0v0, a3v0); a4v0 = c.fma(k1v0, a4v0); a5v0 = c.fma(k2v0, a5v0);
            c = FloatVector.broadcast(S, dy[d2 + 1]);
            a1v0 = c.fma(k0v0, a1v0); a2v0 = c.fma(k1v0, a2v0); a3v0 = c.fma(k2v0, a3v0);
            c = FloatVector.broadcast(S, dy[d2 + 0]);
            a0v0 = c.fma(k1v0, a0v0); a1v0 = c.fma(k2v0, a1v0);
        }
        a0v0.intoArray(out, o);
        a1v0.intoArray(out, o + L);
        a2v0.intoArray(out, o + 2 * L);
        a3v0.intoArray(out, o + 3 * L);
        a4v0.intoArray(out, o + 4 * L);
        a5v0.intoArray(out, o + 5 * L);
        a6v0.intoArray(out, o + 6 * L);
        a7v0.intoArray(out, o + 7 * L);
        a8v0.intoArray(out, o + 8 * L);
        a9v0.intoArray(out, o + 9 * L);
        a10v0.intoArray(out, o + 10 * L);
        a11v0.intoArray(out, o + 11 * L);
        a12v0.intoArray(out, o + 12 * L);
        a13v0.intoArray(out, o + 13 * L);
    }

    private static void stridedRow7x2(float[] dy, int first, int plane, int cout, float[] w, int wFirst, float[] out, int o) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0v0 = zero, a0v1 = zero, a1v0 = zero, a1v1 = zero, a2v0 = zero, a2v1 = zero, a3v0 = zero;
        FloatVector a3v1 = zero, a4v0 = zero, a4v1 = zero, a5v0 = zero, a5v1 = zero, a6v0 = zero, a6v1 = zero;
        for (int co = 0, d1 = first, w1 = wFirst; co < cout; co++, d1 += plane, w1 += 18 * L) {
            FloatVector k0v0 = FloatVector.fromArray(S, w, w1), k0v1 = FloatVector.fromArray(S, w, w1 + L);
            FloatVector k1v0 = FloatVector.fromArray(S, w, w1 + 2 * L), k1v1 = FloatVector.fromArray(S, w, w1 + 3 * L);
            FloatVector k2v0 = FloatVector.fromArray(S, w, w1 + 4 * L), k2v1 = FloatVector.fromArray(S, w, w1 + 5 * L);
            FloatVector c = FloatVector.broadcast(S, dy[d1 + 3]);
            a5v0 = c.fma(k0v0, a5v0); a5v1 = c.fma(k0v1, a5v1);
            a6v0 = c.fma(k1v0, a6v0); a6v1 = c.fma(k1v1, a6v1);
            c = FloatVector.broadcast(S, dy[d1 + 2]);
            a3v0 = c.fma(k0v0, a3v0); a3v1 = c.fma(k0v1, a3v1);
            a4v0 = c.fma(k1v0, a4v0); a4v1 = c.fma(k1v1, a4v1);
            a5v0 = c.fma(k2v0, a5v0); a5v1 = c.fma(k2v1, a5v1);
            c = FloatVector.broadcast(S, dy[d1 + 1]);
            a1v0 = c.fma(k0v0, a1v0); a1v1 = c.fma(k0v1, a1v1);
            a2v0 = c.fma(k1v0, a2v0); a2v1 = c.fma(k1v1, a2v1);
            a3v0 = c.fma(k2v0, a3v0); a3v1 = c.fma(k2v1, a3v1);
            c = FloatVector.broadcast(S, dy[d1 + 0]);
            a0v0 = c.fma(k1v0, a0v0); a0v1 = c.fma(k1v1, a0v1);
            a1v0 = c.fma(k2v0, a1v0); a1v1 = c.fma(k2v1, a1v1);
        }
        a0v0.intoArray(out, o); a0v1.intoArray(out, o + L);
        a1v0.intoArray(out, o + 2 * L); a1v1.intoArray(out, o + 2 * L + L);
        a2v0.intoArray(out, o + 2 * 2 * L); a2v1.intoArray(out, o + 2 * 2 * L + L);
        a3v0.intoArray(out, o + 3 * 2 * L); a3v1.intoArray(out, o + 3 * 2 * L + L);
        a4v0.intoArray(out, o + 4 * 2 * L); a4v1.intoArray(out, o + 4 * 2 * L + L);
        a5v0.intoArray(out, o + 5 * 2 * L); a5v1.intoArray(out, o + 5 * 2 * L + L);
        a6v0.intoArray(out, o + 6 * 2 * L); a6v1.intoArray(out, o + 6 * 2 * L + L);
    }

    private static void stridedRow7x2Parts2(float[] dy, int first, int second, int plane, int cout, float[] w, int wFirst, int wSecond,
                                             float[] out, int o) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0v0 = zero, a0v1 = zero, a1v0 = zero, a1v1 = zero, a2v0 = zero, a2v1 = zero, a3v0 = zero;
        FloatVector a3v1 = zero, a4v0 = zero, a4v1 = zero, a5v0 = zero, a5v1 = zero, a6v0 = zero, a6v1 = zero;
        for (int co = 0, d1 = first, d2 = second, w1 = wFirst, w2 = wSecond; co < cout;
             co++, d1 += plane, d2 += plane, w1 += 18 * L, w2 += 18 * L) {
            FloatVector k0v0 = FloatVector.fromArray(S, w, w1), k0v1 = FloatVector.fromArray(S, w, w1 + L);
            FloatVector k1v0 = FloatVector.fromArray(S, w, w1 + 2 * L), k1v1 = FloatVector.fromArray(S, w, w1 + 3 * L);
            FloatVector k2v0 = FloatVector.fromArray(S, w, w1 + 4 * L), k2v1 = FloatVector.fromArray(S, w, w1 + 5 * L);
            FloatVector c = FloatVector.broadcast(S, dy[d1 + 3]);
            a5v0 = c.fma(k0v0, a5v0); a5v1 = c.fma(k0v1, a5v1);
            a6v0 = c.fma(k1v0, a6v0); a6v1 = c.fma(k1v1, a6v1);
            c = FloatVector.broadcast(S, dy[d1 + 2]);
            a3v0 = c.fma(k0v0, a3v0); a3v1 = c.fma(k0v1, a3v1);
            a4v0 = c.fma(k1v0, a4v0); a4v1 = c.fma(k1v1, a4v1);
            a5v0 = c.fma(k2v0, a5v0); a5v1 = c.fma(k2v1, a5v1);
            c = FloatVector.broadcast(S, dy[d1 + 1]);
            a1v0 = c.fma(k0v0, a1v0); a1v1 = c.fma(k0v1, a1v1);
            a2v0 = c.fma(k1v0, a2v0); a2v1 = c.fma(k1v1, a2v1);
            a3v0 = c.fma(k2v0, a3v0); a3v1 = c.fma(k2v1, a3v1);
            c = FloatVector.broadcast(S, dy[d1 + 0]);
            a0v0 = c.fma(k1v0, a0v0); a0v1 = c.fma(k1v1, a0v1);
            a1v0 = c.fma(k2v0, a1v0); a1v1 = c.fma(k2v1, a1v1);
            k0v0 = FloatVector.fromArray(S, w, w2); k0v1 = FloatVector.fromArray(S, w, w2 + L);
            k1v0 = FloatVector.fromArray(S, w, w2 + 2 * L); k1v1 = FloatVector.fromArray(S, w, w2 + 3 * L);
            k2v0 = FloatVector.fromArray(S, w, w2 + 4 * L); k2v1 = FloatVector.fromArray(S, w, w2 + 5 * L);
            c = FloatVector.broadcast(S, dy[d2 + 3]);
            a5v0 = c.fma(k0v0, a5v0); a5v1 = c.fma(k0v1, a5v1);
            a6v0 = c.fma(k1v0, a6v0); a6v1 = c.fma(k1v1, a6v1);
            c = FloatVector.broadcast(S, dy[d2 + 2]);
            a3v0 = c.fma(k0v0, a3v0); a3v1 = c.fma(k0v1, a3v1);
            a4v0 = c.fma(k1v0, a4v0); a4v1 = c.fma(k1v1, a4v1);
            a5v0 = c.fma(k2v0, a5v0); a5v1 = c.fma(k2v1, a5v1);
            c = FloatVector.broadcast(S, dy[d2 + 1]);
            a1v0 = c.fma(k0v0, a1v0); a1v1 = c.fma(k0v1, a1v1);
            a2v0 = c.fma(k1v0, a2v0); a2v1 = c.fma(k1v1, a2v1);
            a3v0 = c.fma(k2v0, a3v0); a3v1 = c.fma(k2v1, a3v1);
            c = FloatVector.broadcast(S, dy[d2 + 0]);
            a0v0 = c.fma(k1v0, a0v0); a0v1 = c.fma(k1v1, a0v1);
            a1v0 = c.fma(k2v0, a1v0); a1v1 = c.fma(k2v1, a1v1);
        }
        a0v0.intoArray(out, o); a0v1.intoArray(out, o + L);
        a1v0.intoArray(out, o + 2 * L); a1v1.intoArray(out, o + 2 * L + L);
        a2v0.intoArray(out, o + 2 * 2 * L); a2v1.intoArray(out, o + 2 * 2 * L + L);
        a3v0.intoArray(out, o + 3 * 2 * L); a3v1.intoArray(out, o + 3 * 2 * L + L);
        a4v0.intoArray(out, o + 4 * 2 * L); a4v1.intoArray(out, o + 4 * 2 * L + L);
        a5v0.intoArray(out, o + 5 * 2 * L); a5v1.intoArray(out, o + 5 * 2 * L + L);
        a6v0.intoArray(out, o + 6 * 2 * L); a6v1.intoArray(out, o + 6 * 2 * L + L);
    }

    @Override
    void channelConvBlock(float[] xp, int at, int[] off, int k, float[] w, int wo, int vectors, int step, boolean taps3, float[] tile) {
        if (taps3 && vectors == 1) {
            if (step == 1) channelBlock1x14Taps3Step1(xp, at, off, k, w, wo, tile);
            else channelBlock1x14Taps3Step2(xp, at, off, k, w, wo, tile);
        } else if (taps3 && vectors == 2) {
            if (step == 1) channelBlock2x7Taps3Step1(xp, at, off, k, w, wo, tile);
            else channelBlock2x7Taps3Step2(xp, at, off, k, w, wo, tile);
        } else if (step == 1) {
            if (vectors == 1) channelBlock1x14Step1(xp, at, off, k, w, wo, tile);
            else if (vectors == 2) channelBlock2x7Step1(xp, at, off, k, w, wo, tile);
            else channelBlock4x4Step1(xp, at, off, k, w, wo, tile);
        } else {
            if (vectors == 1) channelBlock1x14Step2(xp, at, off, k, w, wo, tile);
            else if (vectors == 2) channelBlock2x7Step2(xp, at, off, k, w, wo, tile);
            else channelBlock4x4Step2(xp, at, off, k, w, wo, tile);
        }
    }

    /**
     * One kernel per shape, each its {@link #channelConvBlock} counterpart without the padding
     * taps, storing its accumulators into the tile as those do. The bias and the relu stay in
     * {@link #channelConvStore}: written into these kernels (an add, a max and a store per
     * accumulator) they saved about 5% of 16 -> 16, but C2 then left the Vector API's lanewise
     * calls out of line in some JVMs (1.5 and 8.8 MB allocated per resnet_small training step in
     * JMH runs, inference 4-5x slower in half the two-thread JVMs while the accumulators were
     * also merged after a branch). One method per shape and step for the same reason: the 2x7
     * loops of both steps in one method met in phis.
     */
    @Override
    void channelConvRow(float[] x, int at, int[] off, int k, float[] w, int wo, int vectors, int step, float[] tile) {
        if (vectors == 1) channelRow1x14(x, at, off, k, w, wo, tile);
        else if (vectors == 2) {
            if (step == 1) channelRow2x7Step1(x, at, off, k, w, wo, tile);
            else channelRow2x7Step2(x, at, off, k, w, wo, tile);
        } else channelRow4x4(x, at, off, k, w, wo, tile);
    }

    /**
     * {@link #channelBlock1x14Taps3Step1} on the unpadded row (columns 0..13 at i..i+13), its first
     * pixel without the tap at column -1 and its last without the tap at column 14.
     */
    private static void channelRow1x14(float[] x, int at, int[] off, int k, float[] w, int wo, float[] tile) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0p0 = zero, a0p1 = zero, a0p2 = zero, a0p3 = zero, a0p4 = zero, a0p5 = zero, a0p6 = zero;
        FloatVector a0p7 = zero, a0p8 = zero, a0p9 = zero, a0p10 = zero, a0p11 = zero, a0p12 = zero, a0p13 = zero;
        for (int r = 0, wi = wo; r < k; r += 3, wi += 3 * L) {
            int i = at + off[r];
            FloatVector w0v0 = FloatVector.fromArray(S, w, wi);
            FloatVector w1v0 = FloatVector.fromArray(S, w, wi + L);
            FloatVector w2v0 = FloatVector.fromArray(S, w, wi + 2 * L);
            FloatVector c0 = FloatVector.broadcast(S, x[i]);
            FloatVector c1 = FloatVector.broadcast(S, x[i + 1]);
            a0p0 = c1.fma(w2v0, c0.fma(w1v0, a0p0));
            FloatVector c2 = FloatVector.broadcast(S, x[i + 2]);
            a0p1 = c2.fma(w2v0, c1.fma(w1v0, c0.fma(w0v0, a0p1)));
            FloatVector c3 = FloatVector.broadcast(S, x[i + 3]);
            a0p2 = c3.fma(w2v0, c2.fma(w1v0, c1.fma(w0v0, a0p2)));
            FloatVector c4 = FloatVector.broadcast(S, x[i + 4]);
            a0p3 = c4.fma(w2v0, c3.fma(w1v0, c2.fma(w0v0, a0p3)));
            FloatVector c5 = FloatVector.broadcast(S, x[i + 5]);
            a0p4 = c5.fma(w2v0, c4.fma(w1v0, c3.fma(w0v0, a0p4)));
            FloatVector c6 = FloatVector.broadcast(S, x[i + 6]);
            a0p5 = c6.fma(w2v0, c5.fma(w1v0, c4.fma(w0v0, a0p5)));
            FloatVector c7 = FloatVector.broadcast(S, x[i + 7]);
            a0p6 = c7.fma(w2v0, c6.fma(w1v0, c5.fma(w0v0, a0p6)));
            FloatVector c8 = FloatVector.broadcast(S, x[i + 8]);
            a0p7 = c8.fma(w2v0, c7.fma(w1v0, c6.fma(w0v0, a0p7)));
            FloatVector c9 = FloatVector.broadcast(S, x[i + 9]);
            a0p8 = c9.fma(w2v0, c8.fma(w1v0, c7.fma(w0v0, a0p8)));
            FloatVector c10 = FloatVector.broadcast(S, x[i + 10]);
            a0p9 = c10.fma(w2v0, c9.fma(w1v0, c8.fma(w0v0, a0p9)));
            FloatVector c11 = FloatVector.broadcast(S, x[i + 11]);
            a0p10 = c11.fma(w2v0, c10.fma(w1v0, c9.fma(w0v0, a0p10)));
            FloatVector c12 = FloatVector.broadcast(S, x[i + 12]);
            a0p11 = c12.fma(w2v0, c11.fma(w1v0, c10.fma(w0v0, a0p11)));
            FloatVector c13 = FloatVector.broadcast(S, x[i + 13]);
            a0p12 = c13.fma(w2v0, c12.fma(w1v0, c11.fma(w0v0, a0p12)));
            a0p13 = c13.fma(w1v0, c12.fma(w0v0, a0p13));
        }
        a0p0.intoArray(tile, 0);
        a0p1.intoArray(tile, 1 * L);
        a0p2.intoArray(tile, 2 * L);
        a0p3.intoArray(tile, 3 * L);
        a0p4.intoArray(tile, 4 * L);
        a0p5.intoArray(tile, 5 * L);
        a0p6.intoArray(tile, 6 * L);
        a0p7.intoArray(tile, 7 * L);
        a0p8.intoArray(tile, 8 * L);
        a0p9.intoArray(tile, 9 * L);
        a0p10.intoArray(tile, 10 * L);
        a0p11.intoArray(tile, 11 * L);
        a0p12.intoArray(tile, 12 * L);
        a0p13.intoArray(tile, 13 * L);
    }

    /**
     * {@link #channelBlock2x7Taps3Step1} on the unpadded row (columns 0..6 at i..i+6), its first
     * pixel without the tap at column -1 and its last without the tap at column 7.
     */
    private static void channelRow2x7Step1(float[] x, int at, int[] off, int k, float[] w, int wo, float[] tile) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0p0 = zero, a1p0 = zero, a0p1 = zero, a1p1 = zero, a0p2 = zero, a1p2 = zero, a0p3 = zero;
        FloatVector a1p3 = zero, a0p4 = zero, a1p4 = zero, a0p5 = zero, a1p5 = zero, a0p6 = zero, a1p6 = zero;
        for (int r = 0, wi = wo; r < k; r += 3, wi += 6 * L) {
            int i = at + off[r];
            FloatVector w0v0 = FloatVector.fromArray(S, w, wi);
            FloatVector w0v1 = FloatVector.fromArray(S, w, wi + L);
            FloatVector w1v0 = FloatVector.fromArray(S, w, wi + 2 * L);
            FloatVector w1v1 = FloatVector.fromArray(S, w, wi + 3 * L);
            FloatVector w2v0 = FloatVector.fromArray(S, w, wi + 4 * L);
            FloatVector w2v1 = FloatVector.fromArray(S, w, wi + 5 * L);
            FloatVector c0 = FloatVector.broadcast(S, x[i]);
            FloatVector c1 = FloatVector.broadcast(S, x[i + 1]);
            a0p0 = c1.fma(w2v0, c0.fma(w1v0, a0p0));
            a1p0 = c1.fma(w2v1, c0.fma(w1v1, a1p0));
            FloatVector c2 = FloatVector.broadcast(S, x[i + 2]);
            a0p1 = c2.fma(w2v0, c1.fma(w1v0, c0.fma(w0v0, a0p1)));
            a1p1 = c2.fma(w2v1, c1.fma(w1v1, c0.fma(w0v1, a1p1)));
            FloatVector c3 = FloatVector.broadcast(S, x[i + 3]);
            a0p2 = c3.fma(w2v0, c2.fma(w1v0, c1.fma(w0v0, a0p2)));
            a1p2 = c3.fma(w2v1, c2.fma(w1v1, c1.fma(w0v1, a1p2)));
            FloatVector c4 = FloatVector.broadcast(S, x[i + 4]);
            a0p3 = c4.fma(w2v0, c3.fma(w1v0, c2.fma(w0v0, a0p3)));
            a1p3 = c4.fma(w2v1, c3.fma(w1v1, c2.fma(w0v1, a1p3)));
            FloatVector c5 = FloatVector.broadcast(S, x[i + 5]);
            a0p4 = c5.fma(w2v0, c4.fma(w1v0, c3.fma(w0v0, a0p4)));
            a1p4 = c5.fma(w2v1, c4.fma(w1v1, c3.fma(w0v1, a1p4)));
            FloatVector c6 = FloatVector.broadcast(S, x[i + 6]);
            a0p5 = c6.fma(w2v0, c5.fma(w1v0, c4.fma(w0v0, a0p5)));
            a1p5 = c6.fma(w2v1, c5.fma(w1v1, c4.fma(w0v1, a1p5)));
            a0p6 = c6.fma(w1v0, c5.fma(w0v0, a0p6));
            a1p6 = c6.fma(w1v1, c5.fma(w0v1, a1p6));
        }
        a0p0.intoArray(tile, 0);
        a1p0.intoArray(tile, 1 * L);
        a0p1.intoArray(tile, 2 * L);
        a1p1.intoArray(tile, 3 * L);
        a0p2.intoArray(tile, 4 * L);
        a1p2.intoArray(tile, 5 * L);
        a0p3.intoArray(tile, 6 * L);
        a1p3.intoArray(tile, 7 * L);
        a0p4.intoArray(tile, 8 * L);
        a1p4.intoArray(tile, 9 * L);
        a0p5.intoArray(tile, 10 * L);
        a1p5.intoArray(tile, 11 * L);
        a0p6.intoArray(tile, 12 * L);
        a1p6.intoArray(tile, 13 * L);
    }

    /** {@link #channelBlock2x7Taps3Step2} on the unpadded row (columns 0..13 at i..i+13), its first pixel without the tap at column -1. */
    private static void channelRow2x7Step2(float[] x, int at, int[] off, int k, float[] w, int wo, float[] tile) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0p0 = zero, a1p0 = zero, a0p1 = zero, a1p1 = zero, a0p2 = zero, a1p2 = zero, a0p3 = zero;
        FloatVector a1p3 = zero, a0p4 = zero, a1p4 = zero, a0p5 = zero, a1p5 = zero, a0p6 = zero, a1p6 = zero;
        for (int r = 0, wi = wo; r < k; r += 3, wi += 6 * L) {
            int i = at + off[r];
            FloatVector w0v0 = FloatVector.fromArray(S, w, wi);
            FloatVector w0v1 = FloatVector.fromArray(S, w, wi + L);
            FloatVector w1v0 = FloatVector.fromArray(S, w, wi + 2 * L);
            FloatVector w1v1 = FloatVector.fromArray(S, w, wi + 3 * L);
            FloatVector w2v0 = FloatVector.fromArray(S, w, wi + 4 * L);
            FloatVector w2v1 = FloatVector.fromArray(S, w, wi + 5 * L);
            FloatVector c0 = FloatVector.broadcast(S, x[i]);
            FloatVector c1 = FloatVector.broadcast(S, x[i + 1]);
            a0p0 = c1.fma(w2v0, c0.fma(w1v0, a0p0));
            a1p0 = c1.fma(w2v1, c0.fma(w1v1, a1p0));
            FloatVector c2 = FloatVector.broadcast(S, x[i + 2]);
            FloatVector c3 = FloatVector.broadcast(S, x[i + 3]);
            a0p1 = c3.fma(w2v0, c2.fma(w1v0, c1.fma(w0v0, a0p1)));
            a1p1 = c3.fma(w2v1, c2.fma(w1v1, c1.fma(w0v1, a1p1)));
            FloatVector c4 = FloatVector.broadcast(S, x[i + 4]);
            FloatVector c5 = FloatVector.broadcast(S, x[i + 5]);
            a0p2 = c5.fma(w2v0, c4.fma(w1v0, c3.fma(w0v0, a0p2)));
            a1p2 = c5.fma(w2v1, c4.fma(w1v1, c3.fma(w0v1, a1p2)));
            FloatVector c6 = FloatVector.broadcast(S, x[i + 6]);
            FloatVector c7 = FloatVector.broadcast(S, x[i + 7]);
            a0p3 = c7.fma(w2v0, c6.fma(w1v0, c5.fma(w0v0, a0p3)));
            a1p3 = c7.fma(w2v1, c6.fma(w1v1, c5.fma(w0v1, a1p3)));
            FloatVector c8 = FloatVector.broadcast(S, x[i + 8]);
            FloatVector c9 = FloatVector.broadcast(S, x[i + 9]);
            a0p4 = c9.fma(w2v0, c8.fma(w1v0, c7.fma(w0v0, a0p4)));
            a1p4 = c9.fma(w2v1, c8.fma(w1v1, c7.fma(w0v1, a1p4)));
            FloatVector c10 = FloatVector.broadcast(S, x[i + 10]);
            FloatVector c11 = FloatVector.broadcast(S, x[i + 11]);
            a0p5 = c11.fma(w2v0, c10.fma(w1v0, c9.fma(w0v0, a0p5)));
            a1p5 = c11.fma(w2v1, c10.fma(w1v1, c9.fma(w0v1, a1p5)));
            FloatVector c12 = FloatVector.broadcast(S, x[i + 12]);
            FloatVector c13 = FloatVector.broadcast(S, x[i + 13]);
            a0p6 = c13.fma(w2v0, c12.fma(w1v0, c11.fma(w0v0, a0p6)));
            a1p6 = c13.fma(w2v1, c12.fma(w1v1, c11.fma(w0v1, a1p6)));
        }
        a0p0.intoArray(tile, 0);
        a1p0.intoArray(tile, 1 * L);
        a0p1.intoArray(tile, 2 * L);
        a1p1.intoArray(tile, 3 * L);
        a0p2.intoArray(tile, 4 * L);
        a1p2.intoArray(tile, 5 * L);
        a0p3.intoArray(tile, 6 * L);
        a1p3.intoArray(tile, 7 * L);
        a0p4.intoArray(tile, 8 * L);
        a1p4.intoArray(tile, 9 * L);
        a0p5.intoArray(tile, 10 * L);
        a1p5.intoArray(tile, 11 * L);
        a0p6.intoArray(tile, 12 * L);
        a1p6.intoArray(tile, 13 * L);
    }

    /**
     * {@link #channelBlock4x4Step2} on the unpadded row (columns 0..6), a kernel row's three taps
     * one after another: the first pixel without the tap at column -1, the last without the tap
     * at column 7.
     */
    private static void channelRow4x4(float[] x, int at, int[] off, int k, float[] w, int wo, float[] tile) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0p0 = zero, a1p0 = zero, a2p0 = zero, a3p0 = zero, a0p1 = zero, a1p1 = zero, a2p1 = zero, a3p1 = zero;
        FloatVector a0p2 = zero, a1p2 = zero, a2p2 = zero, a3p2 = zero, a0p3 = zero, a1p3 = zero, a2p3 = zero, a3p3 = zero;
        for (int r = 0, wi = wo; r < k; r += 3, wi += 12 * L) {
            int i = at + off[r]; // column 0 of the row: tap kj of pixel p reads i + 2p + kj - 1
            // tap 0: pixels 1..3 (columns 1, 3, 5)
            FloatVector w0 = FloatVector.fromArray(S, w, wi);
            FloatVector w1 = FloatVector.fromArray(S, w, wi + L);
            FloatVector w2 = FloatVector.fromArray(S, w, wi + 2 * L);
            FloatVector w3 = FloatVector.fromArray(S, w, wi + 3 * L);
            FloatVector c1 = FloatVector.broadcast(S, x[i + 1]);
            a0p1 = c1.fma(w0, a0p1);
            a1p1 = c1.fma(w1, a1p1);
            a2p1 = c1.fma(w2, a2p1);
            a3p1 = c1.fma(w3, a3p1);
            FloatVector c3 = FloatVector.broadcast(S, x[i + 3]);
            a0p2 = c3.fma(w0, a0p2);
            a1p2 = c3.fma(w1, a1p2);
            a2p2 = c3.fma(w2, a2p2);
            a3p2 = c3.fma(w3, a3p2);
            FloatVector c5 = FloatVector.broadcast(S, x[i + 5]);
            a0p3 = c5.fma(w0, a0p3);
            a1p3 = c5.fma(w1, a1p3);
            a2p3 = c5.fma(w2, a2p3);
            a3p3 = c5.fma(w3, a3p3);
            // tap 1: all four pixels (columns 0, 2, 4, 6)
            w0 = FloatVector.fromArray(S, w, wi + 4 * L);
            w1 = FloatVector.fromArray(S, w, wi + 5 * L);
            w2 = FloatVector.fromArray(S, w, wi + 6 * L);
            w3 = FloatVector.fromArray(S, w, wi + 7 * L);
            FloatVector c0 = FloatVector.broadcast(S, x[i]);
            a0p0 = c0.fma(w0, a0p0);
            a1p0 = c0.fma(w1, a1p0);
            a2p0 = c0.fma(w2, a2p0);
            a3p0 = c0.fma(w3, a3p0);
            FloatVector c2 = FloatVector.broadcast(S, x[i + 2]);
            a0p1 = c2.fma(w0, a0p1);
            a1p1 = c2.fma(w1, a1p1);
            a2p1 = c2.fma(w2, a2p1);
            a3p1 = c2.fma(w3, a3p1);
            FloatVector c4 = FloatVector.broadcast(S, x[i + 4]);
            a0p2 = c4.fma(w0, a0p2);
            a1p2 = c4.fma(w1, a1p2);
            a2p2 = c4.fma(w2, a2p2);
            a3p2 = c4.fma(w3, a3p2);
            FloatVector c6 = FloatVector.broadcast(S, x[i + 6]);
            a0p3 = c6.fma(w0, a0p3);
            a1p3 = c6.fma(w1, a1p3);
            a2p3 = c6.fma(w2, a2p3);
            a3p3 = c6.fma(w3, a3p3);
            // tap 2: pixels 0..2 (columns 1, 3, 5)
            w0 = FloatVector.fromArray(S, w, wi + 8 * L);
            w1 = FloatVector.fromArray(S, w, wi + 9 * L);
            w2 = FloatVector.fromArray(S, w, wi + 10 * L);
            w3 = FloatVector.fromArray(S, w, wi + 11 * L);
            a0p0 = c1.fma(w0, a0p0);
            a1p0 = c1.fma(w1, a1p0);
            a2p0 = c1.fma(w2, a2p0);
            a3p0 = c1.fma(w3, a3p0);
            a0p1 = c3.fma(w0, a0p1);
            a1p1 = c3.fma(w1, a1p1);
            a2p1 = c3.fma(w2, a2p1);
            a3p1 = c3.fma(w3, a3p1);
            a0p2 = c5.fma(w0, a0p2);
            a1p2 = c5.fma(w1, a1p2);
            a2p2 = c5.fma(w2, a2p2);
            a3p2 = c5.fma(w3, a3p2);
        }
        a0p0.intoArray(tile, 0);
        a1p0.intoArray(tile, 1 * L);
        a2p0.intoArray(tile, 2 * L);
        a3p0.intoArray(tile, 3 * L);
        a0p1.intoArray(tile, 4 * L);
        a1p1.intoArray(tile, 5 * L);
        a2p1.intoArray(tile, 6 * L);
        a3p1.intoArray(tile, 7 * L);
        a0p2.intoArray(tile, 8 * L);
        a1p2.intoArray(tile, 9 * L);
        a2p2.intoArray(tile, 10 * L);
        a3p2.intoArray(tile, 11 * L);
        a0p3.intoArray(tile, 12 * L);
        a1p3.intoArray(tile, 13 * L);
        a2p3.intoArray(tile, 14 * L);
        a3p3.intoArray(tile, 15 * L);
    }

    /**
     * {@link #channelConvBlock} for kernel rows of three taps (one or two vectors): each broadcast
     * input serves every tap that reads it (pixel p's terms (c, ki, 0..2) read inputs p*step + 0..2),
     * so at step 1 a row of 14 pixels takes 16 broadcasts for 42 fmas per vector instead of 42;
     * the fmas of each output stay in term order.
     */
    private static void channelBlock1x14Taps3Step1(float[] xp, int at, int[] off, int k, float[] w, int wo, float[] tile) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0p0 = zero, a0p1 = zero, a0p2 = zero, a0p3 = zero, a0p4 = zero, a0p5 = zero, a0p6 = zero;
        FloatVector a0p7 = zero, a0p8 = zero, a0p9 = zero, a0p10 = zero, a0p11 = zero, a0p12 = zero, a0p13 = zero;
        for (int r = 0, wi = wo; r < k; r += 3, wi += 3 * L) {
            int i = at + off[r];
            FloatVector w0v0 = FloatVector.fromArray(S, w, wi);
            FloatVector w1v0 = FloatVector.fromArray(S, w, wi + L);
            FloatVector w2v0 = FloatVector.fromArray(S, w, wi + 2 * L);
            FloatVector x0 = FloatVector.broadcast(S, xp[i]);
            FloatVector x1 = FloatVector.broadcast(S, xp[i + 1]);
            FloatVector x2 = FloatVector.broadcast(S, xp[i + 2]);
            a0p0 = x2.fma(w2v0, x1.fma(w1v0, x0.fma(w0v0, a0p0)));
            FloatVector x3 = FloatVector.broadcast(S, xp[i + 3]);
            a0p1 = x3.fma(w2v0, x2.fma(w1v0, x1.fma(w0v0, a0p1)));
            FloatVector x4 = FloatVector.broadcast(S, xp[i + 4]);
            a0p2 = x4.fma(w2v0, x3.fma(w1v0, x2.fma(w0v0, a0p2)));
            FloatVector x5 = FloatVector.broadcast(S, xp[i + 5]);
            a0p3 = x5.fma(w2v0, x4.fma(w1v0, x3.fma(w0v0, a0p3)));
            FloatVector x6 = FloatVector.broadcast(S, xp[i + 6]);
            a0p4 = x6.fma(w2v0, x5.fma(w1v0, x4.fma(w0v0, a0p4)));
            FloatVector x7 = FloatVector.broadcast(S, xp[i + 7]);
            a0p5 = x7.fma(w2v0, x6.fma(w1v0, x5.fma(w0v0, a0p5)));
            FloatVector x8 = FloatVector.broadcast(S, xp[i + 8]);
            a0p6 = x8.fma(w2v0, x7.fma(w1v0, x6.fma(w0v0, a0p6)));
            FloatVector x9 = FloatVector.broadcast(S, xp[i + 9]);
            a0p7 = x9.fma(w2v0, x8.fma(w1v0, x7.fma(w0v0, a0p7)));
            FloatVector x10 = FloatVector.broadcast(S, xp[i + 10]);
            a0p8 = x10.fma(w2v0, x9.fma(w1v0, x8.fma(w0v0, a0p8)));
            FloatVector x11 = FloatVector.broadcast(S, xp[i + 11]);
            a0p9 = x11.fma(w2v0, x10.fma(w1v0, x9.fma(w0v0, a0p9)));
            FloatVector x12 = FloatVector.broadcast(S, xp[i + 12]);
            a0p10 = x12.fma(w2v0, x11.fma(w1v0, x10.fma(w0v0, a0p10)));
            FloatVector x13 = FloatVector.broadcast(S, xp[i + 13]);
            a0p11 = x13.fma(w2v0, x12.fma(w1v0, x11.fma(w0v0, a0p11)));
            FloatVector x14 = FloatVector.broadcast(S, xp[i + 14]);
            a0p12 = x14.fma(w2v0, x13.fma(w1v0, x12.fma(w0v0, a0p12)));
            FloatVector x15 = FloatVector.broadcast(S, xp[i + 15]);
            a0p13 = x15.fma(w2v0, x14.fma(w1v0, x13.fma(w0v0, a0p13)));
        }
        a0p0.intoArray(tile, 0);
        a0p1.intoArray(tile, L);
        a0p2.intoArray(tile, 2 * L);
        a0p3.intoArray(tile, 3 * L);
        a0p4.intoArray(tile, 4 * L);
        a0p5.intoArray(tile, 5 * L);
        a0p6.intoArray(tile, 6 * L);
        a0p7.intoArray(tile, 7 * L);
        a0p8.intoArray(tile, 8 * L);
        a0p9.intoArray(tile, 9 * L);
        a0p10.intoArray(tile, 10 * L);
        a0p11.intoArray(tile, 11 * L);
        a0p12.intoArray(tile, 12 * L);
        a0p13.intoArray(tile, 13 * L);
    }

    private static void channelBlock2x7Taps3Step1(float[] xp, int at, int[] off, int k, float[] w, int wo, float[] tile) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0p0 = zero, a1p0 = zero, a0p1 = zero, a1p1 = zero, a0p2 = zero, a1p2 = zero, a0p3 = zero;
        FloatVector a1p3 = zero, a0p4 = zero, a1p4 = zero, a0p5 = zero, a1p5 = zero, a0p6 = zero, a1p6 = zero;
        for (int r = 0, wi = wo; r < k; r += 3, wi += 6 * L) {
            int i = at + off[r];
            FloatVector w0v0 = FloatVector.fromArray(S, w, wi);
            FloatVector w0v1 = FloatVector.fromArray(S, w, wi + L);
            FloatVector w1v0 = FloatVector.fromArray(S, w, wi + 2 * L);
            FloatVector w1v1 = FloatVector.fromArray(S, w, wi + 3 * L);
            FloatVector w2v0 = FloatVector.fromArray(S, w, wi + 4 * L);
            FloatVector w2v1 = FloatVector.fromArray(S, w, wi + 5 * L);
            FloatVector x0 = FloatVector.broadcast(S, xp[i]);
            FloatVector x1 = FloatVector.broadcast(S, xp[i + 1]);
            FloatVector x2 = FloatVector.broadcast(S, xp[i + 2]);
            a0p0 = x2.fma(w2v0, x1.fma(w1v0, x0.fma(w0v0, a0p0)));
            a1p0 = x2.fma(w2v1, x1.fma(w1v1, x0.fma(w0v1, a1p0)));
            FloatVector x3 = FloatVector.broadcast(S, xp[i + 3]);
            a0p1 = x3.fma(w2v0, x2.fma(w1v0, x1.fma(w0v0, a0p1)));
            a1p1 = x3.fma(w2v1, x2.fma(w1v1, x1.fma(w0v1, a1p1)));
            FloatVector x4 = FloatVector.broadcast(S, xp[i + 4]);
            a0p2 = x4.fma(w2v0, x3.fma(w1v0, x2.fma(w0v0, a0p2)));
            a1p2 = x4.fma(w2v1, x3.fma(w1v1, x2.fma(w0v1, a1p2)));
            FloatVector x5 = FloatVector.broadcast(S, xp[i + 5]);
            a0p3 = x5.fma(w2v0, x4.fma(w1v0, x3.fma(w0v0, a0p3)));
            a1p3 = x5.fma(w2v1, x4.fma(w1v1, x3.fma(w0v1, a1p3)));
            FloatVector x6 = FloatVector.broadcast(S, xp[i + 6]);
            a0p4 = x6.fma(w2v0, x5.fma(w1v0, x4.fma(w0v0, a0p4)));
            a1p4 = x6.fma(w2v1, x5.fma(w1v1, x4.fma(w0v1, a1p4)));
            FloatVector x7 = FloatVector.broadcast(S, xp[i + 7]);
            a0p5 = x7.fma(w2v0, x6.fma(w1v0, x5.fma(w0v0, a0p5)));
            a1p5 = x7.fma(w2v1, x6.fma(w1v1, x5.fma(w0v1, a1p5)));
            FloatVector x8 = FloatVector.broadcast(S, xp[i + 8]);
            a0p6 = x8.fma(w2v0, x7.fma(w1v0, x6.fma(w0v0, a0p6)));
            a1p6 = x8.fma(w2v1, x7.fma(w1v1, x6.fma(w0v1, a1p6)));
        }
        a0p0.intoArray(tile, 0);
        a1p0.intoArray(tile, L);
        a0p1.intoArray(tile, 2 * L);
        a1p1.intoArray(tile, 3 * L);
        a0p2.intoArray(tile, 4 * L);
        a1p2.intoArray(tile, 5 * L);
        a0p3.intoArray(tile, 6 * L);
        a1p3.intoArray(tile, 7 * L);
        a0p4.intoArray(tile, 8 * L);
        a1p4.intoArray(tile, 9 * L);
        a0p5.intoArray(tile, 10 * L);
        a1p5.intoArray(tile, 11 * L);
        a0p6.intoArray(tile, 12 * L);
        a1p6.intoArray(tile, 13 * L);
    }

    private static void channelBlock1x14Taps3Step2(float[] xp, int at, int[] off, int k, float[] w, int wo, float[] tile) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0p0 = zero, a0p1 = zero, a0p2 = zero, a0p3 = zero, a0p4 = zero, a0p5 = zero, a0p6 = zero;
        FloatVector a0p7 = zero, a0p8 = zero, a0p9 = zero, a0p10 = zero, a0p11 = zero, a0p12 = zero, a0p13 = zero;
        for (int r = 0, wi = wo; r < k; r += 3, wi += 3 * L) {
            int i = at + off[r];
            FloatVector w0v0 = FloatVector.fromArray(S, w, wi);
            FloatVector w1v0 = FloatVector.fromArray(S, w, wi + L);
            FloatVector w2v0 = FloatVector.fromArray(S, w, wi + 2 * L);
            FloatVector x0 = FloatVector.broadcast(S, xp[i]);
            FloatVector x1 = FloatVector.broadcast(S, xp[i + 1]);
            FloatVector x2 = FloatVector.broadcast(S, xp[i + 2]);
            a0p0 = x2.fma(w2v0, x1.fma(w1v0, x0.fma(w0v0, a0p0)));
            FloatVector x3 = FloatVector.broadcast(S, xp[i + 3]);
            FloatVector x4 = FloatVector.broadcast(S, xp[i + 4]);
            a0p1 = x4.fma(w2v0, x3.fma(w1v0, x2.fma(w0v0, a0p1)));
            FloatVector x5 = FloatVector.broadcast(S, xp[i + 5]);
            FloatVector x6 = FloatVector.broadcast(S, xp[i + 6]);
            a0p2 = x6.fma(w2v0, x5.fma(w1v0, x4.fma(w0v0, a0p2)));
            FloatVector x7 = FloatVector.broadcast(S, xp[i + 7]);
            FloatVector x8 = FloatVector.broadcast(S, xp[i + 8]);
            a0p3 = x8.fma(w2v0, x7.fma(w1v0, x6.fma(w0v0, a0p3)));
            FloatVector x9 = FloatVector.broadcast(S, xp[i + 9]);
            FloatVector x10 = FloatVector.broadcast(S, xp[i + 10]);
            a0p4 = x10.fma(w2v0, x9.fma(w1v0, x8.fma(w0v0, a0p4)));
            FloatVector x11 = FloatVector.broadcast(S, xp[i + 11]);
            FloatVector x12 = FloatVector.broadcast(S, xp[i + 12]);
            a0p5 = x12.fma(w2v0, x11.fma(w1v0, x10.fma(w0v0, a0p5)));
            FloatVector x13 = FloatVector.broadcast(S, xp[i + 13]);
            FloatVector x14 = FloatVector.broadcast(S, xp[i + 14]);
            a0p6 = x14.fma(w2v0, x13.fma(w1v0, x12.fma(w0v0, a0p6)));
            FloatVector x15 = FloatVector.broadcast(S, xp[i + 15]);
            FloatVector x16 = FloatVector.broadcast(S, xp[i + 16]);
            a0p7 = x16.fma(w2v0, x15.fma(w1v0, x14.fma(w0v0, a0p7)));
            FloatVector x17 = FloatVector.broadcast(S, xp[i + 17]);
            FloatVector x18 = FloatVector.broadcast(S, xp[i + 18]);
            a0p8 = x18.fma(w2v0, x17.fma(w1v0, x16.fma(w0v0, a0p8)));
            FloatVector x19 = FloatVector.broadcast(S, xp[i + 19]);
            FloatVector x20 = FloatVector.broadcast(S, xp[i + 20]);
            a0p9 = x20.fma(w2v0, x19.fma(w1v0, x18.fma(w0v0, a0p9)));
            FloatVector x21 = FloatVector.broadcast(S, xp[i + 21]);
            FloatVector x22 = FloatVector.broadcast(S, xp[i + 22]);
            a0p10 = x22.fma(w2v0, x21.fma(w1v0, x20.fma(w0v0, a0p10)));
            FloatVector x23 = FloatVector.broadcast(S, xp[i + 23]);
            FloatVector x24 = FloatVector.broadcast(S, xp[i + 24]);
            a0p11 = x24.fma(w2v0, x23.fma(w1v0, x22.fma(w0v0, a0p11)));
            FloatVector x25 = FloatVector.broadcast(S, xp[i + 25]);
            FloatVector x26 = FloatVector.broadcast(S, xp[i + 26]);
            a0p12 = x26.fma(w2v0, x25.fma(w1v0, x24.fma(w0v0, a0p12)));
            FloatVector x27 = FloatVector.broadcast(S, xp[i + 27]);
            FloatVector x28 = FloatVector.broadcast(S, xp[i + 28]);
            a0p13 = x28.fma(w2v0, x27.fma(w1v0, x26.fma(w0v0, a0p13)));
        }
        a0p0.intoArray(tile, 0);
        a0p1.intoArray(tile, L);
        a0p2.intoArray(tile, 2 * L);
        a0p3.intoArray(tile, 3 * L);
        a0p4.intoArray(tile, 4 * L);
        a0p5.intoArray(tile, 5 * L);
        a0p6.intoArray(tile, 6 * L);
        a0p7.intoArray(tile, 7 * L);
        a0p8.intoArray(tile, 8 * L);
        a0p9.intoArray(tile, 9 * L);
        a0p10.intoArray(tile, 10 * L);
        a0p11.intoArray(tile, 11 * L);
        a0p12.intoArray(tile, 12 * L);
        a0p13.intoArray(tile, 13 * L);
    }

    private static void channelBlock2x7Taps3Step2(float[] xp, int at, int[] off, int k, float[] w, int wo, float[] tile) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0p0 = zero, a1p0 = zero, a0p1 = zero, a1p1 = zero, a0p2 = zero, a1p2 = zero, a0p3 = zero;
        FloatVector a1p3 = zero, a0p4 = zero, a1p4 = zero, a0p5 = zero, a1p5 = zero, a0p6 = zero, a1p6 = zero;
        for (int r = 0, wi = wo; r < k; r += 3, wi += 6 * L) {
            int i = at + off[r];
            FloatVector w0v0 = FloatVector.fromArray(S, w, wi);
            FloatVector w0v1 = FloatVector.fromArray(S, w, wi + L);
            FloatVector w1v0 = FloatVector.fromArray(S, w, wi + 2 * L);
            FloatVector w1v1 = FloatVector.fromArray(S, w, wi + 3 * L);
            FloatVector w2v0 = FloatVector.fromArray(S, w, wi + 4 * L);
            FloatVector w2v1 = FloatVector.fromArray(S, w, wi + 5 * L);
            FloatVector x0 = FloatVector.broadcast(S, xp[i]);
            FloatVector x1 = FloatVector.broadcast(S, xp[i + 1]);
            FloatVector x2 = FloatVector.broadcast(S, xp[i + 2]);
            a0p0 = x2.fma(w2v0, x1.fma(w1v0, x0.fma(w0v0, a0p0)));
            a1p0 = x2.fma(w2v1, x1.fma(w1v1, x0.fma(w0v1, a1p0)));
            FloatVector x3 = FloatVector.broadcast(S, xp[i + 3]);
            FloatVector x4 = FloatVector.broadcast(S, xp[i + 4]);
            a0p1 = x4.fma(w2v0, x3.fma(w1v0, x2.fma(w0v0, a0p1)));
            a1p1 = x4.fma(w2v1, x3.fma(w1v1, x2.fma(w0v1, a1p1)));
            FloatVector x5 = FloatVector.broadcast(S, xp[i + 5]);
            FloatVector x6 = FloatVector.broadcast(S, xp[i + 6]);
            a0p2 = x6.fma(w2v0, x5.fma(w1v0, x4.fma(w0v0, a0p2)));
            a1p2 = x6.fma(w2v1, x5.fma(w1v1, x4.fma(w0v1, a1p2)));
            FloatVector x7 = FloatVector.broadcast(S, xp[i + 7]);
            FloatVector x8 = FloatVector.broadcast(S, xp[i + 8]);
            a0p3 = x8.fma(w2v0, x7.fma(w1v0, x6.fma(w0v0, a0p3)));
            a1p3 = x8.fma(w2v1, x7.fma(w1v1, x6.fma(w0v1, a1p3)));
            FloatVector x9 = FloatVector.broadcast(S, xp[i + 9]);
            FloatVector x10 = FloatVector.broadcast(S, xp[i + 10]);
            a0p4 = x10.fma(w2v0, x9.fma(w1v0, x8.fma(w0v0, a0p4)));
            a1p4 = x10.fma(w2v1, x9.fma(w1v1, x8.fma(w0v1, a1p4)));
            FloatVector x11 = FloatVector.broadcast(S, xp[i + 11]);
            FloatVector x12 = FloatVector.broadcast(S, xp[i + 12]);
            a0p5 = x12.fma(w2v0, x11.fma(w1v0, x10.fma(w0v0, a0p5)));
            a1p5 = x12.fma(w2v1, x11.fma(w1v1, x10.fma(w0v1, a1p5)));
            FloatVector x13 = FloatVector.broadcast(S, xp[i + 13]);
            FloatVector x14 = FloatVector.broadcast(S, xp[i + 14]);
            a0p6 = x14.fma(w2v0, x13.fma(w1v0, x12.fma(w0v0, a0p6)));
            a1p6 = x14.fma(w2v1, x13.fma(w1v1, x12.fma(w0v1, a1p6)));
        }
        a0p0.intoArray(tile, 0);
        a1p0.intoArray(tile, L);
        a0p1.intoArray(tile, 2 * L);
        a1p1.intoArray(tile, 3 * L);
        a0p2.intoArray(tile, 4 * L);
        a1p2.intoArray(tile, 5 * L);
        a0p3.intoArray(tile, 6 * L);
        a1p3.intoArray(tile, 7 * L);
        a0p4.intoArray(tile, 8 * L);
        a1p4.intoArray(tile, 9 * L);
        a0p5.intoArray(tile, 10 * L);
        a1p5.intoArray(tile, 11 * L);
        a0p6.intoArray(tile, 12 * L);
        a1p6.intoArray(tile, 13 * L);
    }

    private static void channelBlock1x14Step1(float[] xp, int at, int[] off, int k, float[] w, int wo, float[] tile) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0p0 = zero, a0p1 = zero, a0p2 = zero, a0p3 = zero, a0p4 = zero, a0p5 = zero, a0p6 = zero, a0p7 = zero;
        FloatVector a0p8 = zero, a0p9 = zero, a0p10 = zero, a0p11 = zero, a0p12 = zero, a0p13 = zero;
        for (int r = 0, wi = wo; r < k; r++, wi += L) {
            int i = at + off[r];
            FloatVector w0 = FloatVector.fromArray(S, w, wi);
            FloatVector x0 = FloatVector.broadcast(S, xp[i]);
            a0p0 = x0.fma(w0, a0p0);
            FloatVector x1 = FloatVector.broadcast(S, xp[i + 1]);
            a0p1 = x1.fma(w0, a0p1);
            FloatVector x2 = FloatVector.broadcast(S, xp[i + 2]);
            a0p2 = x2.fma(w0, a0p2);
            FloatVector x3 = FloatVector.broadcast(S, xp[i + 3]);
            a0p3 = x3.fma(w0, a0p3);
            FloatVector x4 = FloatVector.broadcast(S, xp[i + 4]);
            a0p4 = x4.fma(w0, a0p4);
            FloatVector x5 = FloatVector.broadcast(S, xp[i + 5]);
            a0p5 = x5.fma(w0, a0p5);
            FloatVector x6 = FloatVector.broadcast(S, xp[i + 6]);
            a0p6 = x6.fma(w0, a0p6);
            FloatVector x7 = FloatVector.broadcast(S, xp[i + 7]);
            a0p7 = x7.fma(w0, a0p7);
            FloatVector x8 = FloatVector.broadcast(S, xp[i + 8]);
            a0p8 = x8.fma(w0, a0p8);
            FloatVector x9 = FloatVector.broadcast(S, xp[i + 9]);
            a0p9 = x9.fma(w0, a0p9);
            FloatVector x10 = FloatVector.broadcast(S, xp[i + 10]);
            a0p10 = x10.fma(w0, a0p10);
            FloatVector x11 = FloatVector.broadcast(S, xp[i + 11]);
            a0p11 = x11.fma(w0, a0p11);
            FloatVector x12 = FloatVector.broadcast(S, xp[i + 12]);
            a0p12 = x12.fma(w0, a0p12);
            FloatVector x13 = FloatVector.broadcast(S, xp[i + 13]);
            a0p13 = x13.fma(w0, a0p13);
        }
        a0p0.intoArray(tile, 0);
        a0p1.intoArray(tile, L);
        a0p2.intoArray(tile, 2 * L);
        a0p3.intoArray(tile, 3 * L);
        a0p4.intoArray(tile, 4 * L);
        a0p5.intoArray(tile, 5 * L);
        a0p6.intoArray(tile, 6 * L);
        a0p7.intoArray(tile, 7 * L);
        a0p8.intoArray(tile, 8 * L);
        a0p9.intoArray(tile, 9 * L);
        a0p10.intoArray(tile, 10 * L);
        a0p11.intoArray(tile, 11 * L);
        a0p12.intoArray(tile, 12 * L);
        a0p13.intoArray(tile, 13 * L);
    }

    private static void channelBlock2x7Step1(float[] xp, int at, int[] off, int k, float[] w, int wo, float[] tile) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0p0 = zero, a1p0 = zero, a0p1 = zero, a1p1 = zero, a0p2 = zero, a1p2 = zero, a0p3 = zero, a1p3 = zero;
        FloatVector a0p4 = zero, a1p4 = zero, a0p5 = zero, a1p5 = zero, a0p6 = zero, a1p6 = zero;
        for (int r = 0, wi = wo; r < k; r++, wi += 2 * L) {
            int i = at + off[r];
            FloatVector w0 = FloatVector.fromArray(S, w, wi);
            FloatVector w1 = FloatVector.fromArray(S, w, wi + L);
            FloatVector x0 = FloatVector.broadcast(S, xp[i]);
            a0p0 = x0.fma(w0, a0p0);
            a1p0 = x0.fma(w1, a1p0);
            FloatVector x1 = FloatVector.broadcast(S, xp[i + 1]);
            a0p1 = x1.fma(w0, a0p1);
            a1p1 = x1.fma(w1, a1p1);
            FloatVector x2 = FloatVector.broadcast(S, xp[i + 2]);
            a0p2 = x2.fma(w0, a0p2);
            a1p2 = x2.fma(w1, a1p2);
            FloatVector x3 = FloatVector.broadcast(S, xp[i + 3]);
            a0p3 = x3.fma(w0, a0p3);
            a1p3 = x3.fma(w1, a1p3);
            FloatVector x4 = FloatVector.broadcast(S, xp[i + 4]);
            a0p4 = x4.fma(w0, a0p4);
            a1p4 = x4.fma(w1, a1p4);
            FloatVector x5 = FloatVector.broadcast(S, xp[i + 5]);
            a0p5 = x5.fma(w0, a0p5);
            a1p5 = x5.fma(w1, a1p5);
            FloatVector x6 = FloatVector.broadcast(S, xp[i + 6]);
            a0p6 = x6.fma(w0, a0p6);
            a1p6 = x6.fma(w1, a1p6);
        }
        a0p0.intoArray(tile, 0);
        a1p0.intoArray(tile, L);
        a0p1.intoArray(tile, 2 * L);
        a1p1.intoArray(tile, 3 * L);
        a0p2.intoArray(tile, 4 * L);
        a1p2.intoArray(tile, 5 * L);
        a0p3.intoArray(tile, 6 * L);
        a1p3.intoArray(tile, 7 * L);
        a0p4.intoArray(tile, 8 * L);
        a1p4.intoArray(tile, 9 * L);
        a0p5.intoArray(tile, 10 * L);
        a1p5.intoArray(tile, 11 * L);
        a0p6.intoArray(tile, 12 * L);
        a1p6.intoArray(tile, 13 * L);
    }

    private static void channelBlock4x4Step1(float[] xp, int at, int[] off, int k, float[] w, int wo, float[] tile) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0p0 = zero, a1p0 = zero, a2p0 = zero, a3p0 = zero, a0p1 = zero, a1p1 = zero, a2p1 = zero, a3p1 = zero;
        FloatVector a0p2 = zero, a1p2 = zero, a2p2 = zero, a3p2 = zero, a0p3 = zero, a1p3 = zero, a2p3 = zero, a3p3 = zero;
        for (int r = 0, wi = wo; r < k; r++, wi += 4 * L) {
            int i = at + off[r];
            FloatVector w0 = FloatVector.fromArray(S, w, wi);
            FloatVector w1 = FloatVector.fromArray(S, w, wi + L);
            FloatVector w2 = FloatVector.fromArray(S, w, wi + 2 * L);
            FloatVector w3 = FloatVector.fromArray(S, w, wi + 3 * L);
            FloatVector x0 = FloatVector.broadcast(S, xp[i]);
            a0p0 = x0.fma(w0, a0p0);
            a1p0 = x0.fma(w1, a1p0);
            a2p0 = x0.fma(w2, a2p0);
            a3p0 = x0.fma(w3, a3p0);
            FloatVector x1 = FloatVector.broadcast(S, xp[i + 1]);
            a0p1 = x1.fma(w0, a0p1);
            a1p1 = x1.fma(w1, a1p1);
            a2p1 = x1.fma(w2, a2p1);
            a3p1 = x1.fma(w3, a3p1);
            FloatVector x2 = FloatVector.broadcast(S, xp[i + 2]);
            a0p2 = x2.fma(w0, a0p2);
            a1p2 = x2.fma(w1, a1p2);
            a2p2 = x2.fma(w2, a2p2);
            a3p2 = x2.fma(w3, a3p2);
            FloatVector x3 = FloatVector.broadcast(S, xp[i + 3]);
            a0p3 = x3.fma(w0, a0p3);
            a1p3 = x3.fma(w1, a1p3);
            a2p3 = x3.fma(w2, a2p3);
            a3p3 = x3.fma(w3, a3p3);
        }
        a0p0.intoArray(tile, 0);
        a1p0.intoArray(tile, L);
        a2p0.intoArray(tile, 2 * L);
        a3p0.intoArray(tile, 3 * L);
        a0p1.intoArray(tile, 4 * L);
        a1p1.intoArray(tile, 5 * L);
        a2p1.intoArray(tile, 6 * L);
        a3p1.intoArray(tile, 7 * L);
        a0p2.intoArray(tile, 8 * L);
        a1p2.intoArray(tile, 9 * L);
        a2p2.intoArray(tile, 10 * L);
        a3p2.intoArray(tile, 11 * L);
        a0p3.intoArray(tile, 12 * L);
        a1p3.intoArray(tile, 13 * L);
        a2p3.intoArray(tile, 14 * L);
        a3p3.intoArray(tile, 15 * L);
    }

    private static void channelBlock1x14Step2(float[] xp, int at, int[] off, int k, float[] w, int wo, float[] tile) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0p0 = zero, a0p1 = zero, a0p2 = zero, a0p3 = zero, a0p4 = zero, a0p5 = zero, a0p6 = zero, a0p7 = zero;
        FloatVector a0p8 = zero, a0p9 = zero, a0p10 = zero, a0p11 = zero, a0p12 = zero, a0p13 = zero;
        for (int r = 0, wi = wo; r < k; r++, wi += L) {
            int i = at + off[r];
            FloatVector w0 = FloatVector.fromArray(S, w, wi);
            FloatVector x0 = FloatVector.broadcast(S, xp[i]);
            a0p0 = x0.fma(w0, a0p0);
            FloatVector x1 = FloatVector.broadcast(S, xp[i + 2]);
            a0p1 = x1.fma(w0, a0p1);
            FloatVector x2 = FloatVector.broadcast(S, xp[i + 4]);
            a0p2 = x2.fma(w0, a0p2);
            FloatVector x3 = FloatVector.broadcast(S, xp[i + 6]);
            a0p3 = x3.fma(w0, a0p3);
            FloatVector x4 = FloatVector.broadcast(S, xp[i + 8]);
            a0p4 = x4.fma(w0, a0p4);
            FloatVector x5 = FloatVector.broadcast(S, xp[i + 10]);
            a0p5 = x5.fma(w0, a0p5);
            FloatVector x6 = FloatVector.broadcast(S, xp[i + 12]);
            a0p6 = x6.fma(w0, a0p6);
            FloatVector x7 = FloatVector.broadcast(S, xp[i + 14]);
            a0p7 = x7.fma(w0, a0p7);
            FloatVector x8 = FloatVector.broadcast(S, xp[i + 16]);
            a0p8 = x8.fma(w0, a0p8);
            FloatVector x9 = FloatVector.broadcast(S, xp[i + 18]);
            a0p9 = x9.fma(w0, a0p9);
            FloatVector x10 = FloatVector.broadcast(S, xp[i + 20]);
            a0p10 = x10.fma(w0, a0p10);
            FloatVector x11 = FloatVector.broadcast(S, xp[i + 22]);
            a0p11 = x11.fma(w0, a0p11);
            FloatVector x12 = FloatVector.broadcast(S, xp[i + 24]);
            a0p12 = x12.fma(w0, a0p12);
            FloatVector x13 = FloatVector.broadcast(S, xp[i + 26]);
            a0p13 = x13.fma(w0, a0p13);
        }
        a0p0.intoArray(tile, 0);
        a0p1.intoArray(tile, L);
        a0p2.intoArray(tile, 2 * L);
        a0p3.intoArray(tile, 3 * L);
        a0p4.intoArray(tile, 4 * L);
        a0p5.intoArray(tile, 5 * L);
        a0p6.intoArray(tile, 6 * L);
        a0p7.intoArray(tile, 7 * L);
        a0p8.intoArray(tile, 8 * L);
        a0p9.intoArray(tile, 9 * L);
        a0p10.intoArray(tile, 10 * L);
        a0p11.intoArray(tile, 11 * L);
        a0p12.intoArray(tile, 12 * L);
        a0p13.intoArray(tile, 13 * L);
    }

    private static void channelBlock2x7Step2(float[] xp, int at, int[] off, int k, float[] w, int wo, float[] tile) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0p0 = zero, a1p0 = zero, a0p1 = zero, a1p1 = zero, a0p2 = zero, a1p2 = zero, a0p3 = zero, a1p3 = zero;
        FloatVector a0p4 = zero, a1p4 = zero, a0p5 = zero, a1p5 = zero, a0p6 = zero, a1p6 = zero;
        for (int r = 0, wi = wo; r < k; r++, wi += 2 * L) {
            int i = at + off[r];
            FloatVector w0 = FloatVector.fromArray(S, w, wi);
            FloatVector w1 = FloatVector.fromArray(S, w, wi + L);
            FloatVector x0 = FloatVector.broadcast(S, xp[i]);
            a0p0 = x0.fma(w0, a0p0);
            a1p0 = x0.fma(w1, a1p0);
            FloatVector x1 = FloatVector.broadcast(S, xp[i + 2]);
            a0p1 = x1.fma(w0, a0p1);
            a1p1 = x1.fma(w1, a1p1);
            FloatVector x2 = FloatVector.broadcast(S, xp[i + 4]);
            a0p2 = x2.fma(w0, a0p2);
            a1p2 = x2.fma(w1, a1p2);
            FloatVector x3 = FloatVector.broadcast(S, xp[i + 6]);
            a0p3 = x3.fma(w0, a0p3);
            a1p3 = x3.fma(w1, a1p3);
            FloatVector x4 = FloatVector.broadcast(S, xp[i + 8]);
            a0p4 = x4.fma(w0, a0p4);
            a1p4 = x4.fma(w1, a1p4);
            FloatVector x5 = FloatVector.broadcast(S, xp[i + 10]);
            a0p5 = x5.fma(w0, a0p5);
            a1p5 = x5.fma(w1, a1p5);
            FloatVector x6 = FloatVector.broadcast(S, xp[i + 12]);
            a0p6 = x6.fma(w0, a0p6);
            a1p6 = x6.fma(w1, a1p6);
        }
        a0p0.intoArray(tile, 0);
        a1p0.intoArray(tile, L);
        a0p1.intoArray(tile, 2 * L);
        a1p1.intoArray(tile, 3 * L);
        a0p2.intoArray(tile, 4 * L);
        a1p2.intoArray(tile, 5 * L);
        a0p3.intoArray(tile, 6 * L);
        a1p3.intoArray(tile, 7 * L);
        a0p4.intoArray(tile, 8 * L);
        a1p4.intoArray(tile, 9 * L);
        a0p5.intoArray(tile, 10 * L);
        a1p5.intoArray(tile, 11 * L);
        a0p6.intoArray(tile, 12 * L);
        a1p6.intoArray(tile, 13 * L);
    }

    private static void channelBlock4x4Step2(float[] xp, int at, int[] off, int k, float[] w, int wo, float[] tile) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0p0 = zero, a1p0 = zero, a2p0 = zero, a3p0 = zero, a0p1 = zero, a1p1 = zero, a2p1 = zero, a3p1 = zero;
        FloatVector a0p2 = zero, a1p2 = zero, a2p2 = zero, a3p2 = zero, a0p3 = zero, a1p3 = zero, a2p3 = zero, a3p3 = zero;
        for (int r = 0, wi = wo; r < k; r++, wi += 4 * L) {
            int i = at + off[r];
            FloatVector w0 = FloatVector.fromArray(S, w, wi);
            FloatVector w1 = FloatVector.fromArray(S, w, wi + L);
            FloatVector w2 = FloatVector.fromArray(S, w, wi + 2 * L);
            FloatVector w3 = FloatVector.fromArray(S, w, wi + 3 * L);
            FloatVector x0 = FloatVector.broadcast(S, xp[i]);
            a0p0 = x0.fma(w0, a0p0);
            a1p0 = x0.fma(w1, a1p0);
            a2p0 = x0.fma(w2, a2p0);
            a3p0 = x0.fma(w3, a3p0);
            FloatVector x1 = FloatVector.broadcast(S, xp[i + 2]);
            a0p1 = x1.fma(w0, a0p1);
            a1p1 = x1.fma(w1, a1p1);
            a2p1 = x1.fma(w2, a2p1);
            a3p1 = x1.fma(w3, a3p1);
            FloatVector x2 = FloatVector.broadcast(S, xp[i + 4]);
            a0p2 = x2.fma(w0, a0p2);
            a1p2 = x2.fma(w1, a1p2);
            a2p2 = x2.fma(w2, a2p2);
            a3p2 = x2.fma(w3, a3p2);
            FloatVector x3 = FloatVector.broadcast(S, xp[i + 6]);
            a0p3 = x3.fma(w0, a0p3);
            a1p3 = x3.fma(w1, a1p3);
            a2p3 = x3.fma(w2, a2p3);
            a3p3 = x3.fma(w3, a3p3);
        }
        a0p0.intoArray(tile, 0);
        a1p0.intoArray(tile, L);
        a2p0.intoArray(tile, 2 * L);
        a3p0.intoArray(tile, 3 * L);
        a0p1.intoArray(tile, 4 * L);
        a1p1.intoArray(tile, 5 * L);
        a2p1.intoArray(tile, 6 * L);
        a3p1.intoArray(tile, 7 * L);
        a0p2.intoArray(tile, 8 * L);
        a1p2.intoArray(tile, 9 * L);
        a2p2.intoArray(tile, 10 * L);
        a3p2.intoArray(tile, 11 * L);
        a0p3.intoArray(tile, 12 * L);
        a1p3.intoArray(tile, 13 * L);
        a2p3.intoArray(tile, 14 * L);
        a3p3.intoArray(tile, 15 * L);
    }

    /** Contiguous vector stores, the bias one vector add and the relu a select (v <= 0, either zero, to +0; NaN kept: {@code Math.max(v, 0f)}). */
    @Override
    void channelConvStore(float[] tile, int vectors, int count, float[] bias, int b0, boolean relu, float[] out, int o, int stride) {
        int vl = vectors * L;
        for (int q = 0; q < count; q++) {
            for (int j = 0; j < vl; j += L) {
                FloatVector v = FloatVector.fromArray(S, tile, q * vl + j);
                if (bias != null) v = v.add(FloatVector.fromArray(S, bias, b0 + j));
                if (relu) v = v.blend(0f, v.compare(VectorOperators.LE, 0f));
                v.intoArray(out, o + q * stride + j);
            }
        }
    }

    /*
     * SWAPb: lane i takes lane i ^ b; BITb: the lanes whose index has bit b set. The exchange step
     * of bit b swaps that bit of the row and lane indices between rows r and r ^ b of a block.
     * Null where b is not below the lane count (SWAP8 and BIT8 at 8 lanes).
     */
    private static final VectorShuffle<Float> SWAP1 = laneSwap(1), SWAP2 = laneSwap(2), SWAP4 = laneSwap(4), SWAP8 = laneSwap(8);
    private static final VectorMask<Float> BIT1 = lanesWithBit(1), BIT2 = lanesWithBit(2), BIT4 = lanesWithBit(4), BIT8 = lanesWithBit(8);

    private static VectorShuffle<Float> laneSwap(int bit) {
        return bit < L ? VectorShuffle.fromOp(S, i -> i ^ bit) : null;
    }

    private static VectorMask<Float> lanesWithBit(int bit) {
        boolean[] set = new boolean[L];
        for (int i = 0; i < L; i++) set[i] = (i & bit) != 0;
        return bit < L ? VectorMask.fromArray(S, set, 0) : null;
    }

    /** One L x L block between the passes of {@link #transpose}. */
    private final float[] transposeBlock = new float[L * L];

    /**
     * Blocks of L rows by L columns transposed in registers, through {@link #transposeBlock}: at
     * 16 lanes in two passes, the exchange steps of bits 1 and 2 on groups of four rows, then of
     * bits 4 and 8 (one method with all 16 rows in registers was too big for C2 to inline its
     * vector calls, and boxed them); at 8 lanes bits 1 and 2 on the two groups of four rows, then
     * bit 4 on pairs of rows. Rows and columns past the last whole block take one more block that
     * ends at the last row (column), overlapping the one before: the values it writes twice are
     * the same. Only a side shorter than L goes to the plain loops. (The plain loops for the rest
     * took 3.5% of a two-thread training step of the small ResNet, whose 14x14 and 7x7 maps are
     * 196 and 49 pixels: about as long as the vector blocks.) Each exchanged pair takes one
     * rearrange ({@link #exchange4}), which is what makes registers beat one gather of L rows per
     * column at 8 lanes too (BENCHMARKS.md, 2026-12-06).
     */
    @Override
    void transpose(float[] src, int s, int srcStride, int rows, int cols, float[] dst, int d, int dstStride) {
        if (rows < L || cols < L) {
            CpuPlainKernels.transposeLoops(src, s, srcStride, 0, rows, 0, cols, dst, d, dstStride);
            return;
        }
        float[] block = transposeBlock;
        for (int i = 0, rowBlocks = (rows + L - 1) / L; i < rowBlocks; i++) {
            int q0 = Math.min(i * L, rows - L);
            for (int j = 0, colBlocks = (cols + L - 1) / L; j < colBlocks; j++) {
                int c0 = Math.min(j * L, cols - L);
                int from = s + q0 * srcStride + c0, to = d + c0 * dstStride + q0;
                for (int g = 0; g < L; g += 4) exchange4(src, from + g * srcStride, srcStride, block, g * L, L, SWAP1, BIT1, SWAP2, BIT2);
                if (L == 16) {
                    for (int g = 0; g < 4; g++) exchange4(block, g * L, 4 * L, dst, to + g * dstStride, 4 * dstStride, SWAP4, BIT4, SWAP8, BIT8);
                } else {
                    for (int g = 0; g < 4; g++) exchange2(block, g * L, 4 * L, dst, to + g * dstStride, 4 * dstStride, SWAP4, BIT4);
                }
            }
        }
    }

    /** Two rows ({@code src[s]}, {@code src[s + ss]}, rows 0 and b of the block) through the exchange step of bit b into {@code dst[t]}, {@code dst[t + ts]}. */
    private static void exchange2(float[] src, int s, int ss, float[] dst, int t, int ts, VectorShuffle<Float> swap, VectorMask<Float> bit) {
        FloatVector r0 = FloatVector.fromArray(S, src, s), r1 = FloatVector.fromArray(S, src, s + ss);
        FloatVector z = r1.blend(r0, bit).rearrange(swap);
        r0.blend(z, bit).intoArray(dst, t);
        z.blend(r1, bit).intoArray(dst, t + ts);
    }

    /**
     * Four rows ({@code src[s + i*ss]}, i < 4, standing for rows 0, b, 2b, 3b of the block) through
     * the exchange steps of bits b ({@code swapA}, {@code bitA}) and 2b, into {@code dst[t + i*ts]}.
     */
    private static void exchange4(float[] src, int s, int ss, float[] dst, int t, int ts,
                                  VectorShuffle<Float> swapA, VectorMask<Float> bitA, VectorShuffle<Float> swapB, VectorMask<Float> bitB) {
        FloatVector r0 = FloatVector.fromArray(S, src, s), r1 = FloatVector.fromArray(S, src, s + ss);
        FloatVector r2 = FloatVector.fromArray(S, src, s + 2 * ss), r3 = FloatVector.fromArray(S, src, s + 3 * ss);
        // One exchange step on a pair (a, b), with one rearrange: z = b.blend(a, mask).rearrange(swap)
        // holds b's lanes i ^ bit in the mask's lanes and a's lanes i ^ bit outside it; the lower
        // row is a.blend(z, mask), the upper z.blend(b, mask). One rearrange, not two, because JDK
        // 17 checks the shuffle's indices on every rearrange (a conversion and a compare), which
        // cost as much as the rest of the transposition.
        FloatVector z01 = r1.blend(r0, bitA).rearrange(swapA), z23 = r3.blend(r2, bitA).rearrange(swapA);
        FloatVector a0 = r0.blend(z01, bitA), a1 = z01.blend(r1, bitA), a2 = r2.blend(z23, bitA), a3 = z23.blend(r3, bitA);
        FloatVector z02 = a2.blend(a0, bitB).rearrange(swapB), z13 = a3.blend(a1, bitB).rearrange(swapB);
        a0.blend(z02, bitB).intoArray(dst, t);
        a1.blend(z13, bitB).intoArray(dst, t + ts);
        z02.blend(a2, bitB).intoArray(dst, t + 2 * ts);
        z13.blend(a3, bitB).intoArray(dst, t + 3 * ts);
    }

    // ---- batch norm over a channel's rows ---------------------------------------------------
    // The whole groups of all the channel's rows run as one flat loop (the row jump an int
    // branch), so the partials stay in registers from the first row to the last: carried through
    // nested loops, C2 would box them. The rows' tail groups run as a second flat loop, the lanes
    // past the row replaced before widening (x by the shift or the mean, dy by 0), so that they
    // add exactly +0 as the plain loops' missing lanes do. A tail group that would read past the
    // end of the array (the last row of the last channel) is added by the plain loop, after the
    // vector loop: it is the last in the order anyway.

    @Override
    void normChannelStatistics(float[] x, int base, int rows, int stride, int inner, float shift, double[] acc) {
        int whole = inner / NORM_PARTIALS * NORM_PARTIALS, tail = inner - whole;
        if (whole > 0) {
            if (L == 16) channelStatistics16(x, base, rows, stride, whole, shift, acc);
            else channelStatistics8(x, base, rows, stride, whole, shift, acc);
        }
        if (tail == 0) return;
        int inside = tailRowsInside(x.length, base + whole, rows, stride);
        if (inside > 0) {
            if (L == 16) channelStatistics16Tails(x, base + whole, inside, stride, tail, shift, acc);
            else channelStatistics8Tails(x, base + whole, inside, stride, tail, shift, acc);
        }
        for (int r = inside; r < rows; r++) CpuPlainKernels.normStatisticsTail(x, base + whole + r * stride, tail, shift, acc);
    }

    /** How many of the rows' tail groups (16 floats from {@code first + r*stride}) lie inside an array of {@code length}. */
    private static int tailRowsInside(int length, int first, int rows, int stride) {
        int inside = rows;
        while (inside > 0 && (long) first + (long) (inside - 1) * stride + NORM_PARTIALS > length) inside--;
        return inside;
    }

    /** At 512 bits: two 8-lane double accumulators per sum make the 16 partials; d*d rounded, then added. */
    private static void channelStatistics16(float[] x, int base, int rows, int stride, int whole, float shift, double[] acc) {
        DoubleVector s0 = DoubleVector.fromArray(WIDE, acc, 0), s1 = DoubleVector.fromArray(WIDE, acc, 8);
        DoubleVector q0 = DoubleVector.fromArray(WIDE, acc, 16), q1 = DoubleVector.fromArray(WIDE, acc, 24);
        double sh = shift;
        int jump = stride - whole;
        for (int t = rows * (whole / 16), i = base, rowEnd = base + whole; t > 0; t--) {
            FloatVector v = FloatVector.fromArray(S, x, i);
            DoubleVector d0 = ((DoubleVector) v.convertShape(VectorOperators.F2D, WIDE, 0)).sub(sh);
            DoubleVector d1 = ((DoubleVector) v.convertShape(VectorOperators.F2D, WIDE, 1)).sub(sh);
            s0 = s0.add(d0);
            s1 = s1.add(d1);
            q0 = q0.add(d0.mul(d0));
            q1 = q1.add(d1.mul(d1));
            i += 16;
            if (i == rowEnd) {
                i += jump;
                rowEnd += stride;
            }
        }
        s0.intoArray(acc, 0);
        s1.intoArray(acc, 8);
        q0.intoArray(acc, 16);
        q1.intoArray(acc, 24);
    }

    /** At 512 bits, the rows' tail groups: lanes past the row read as the shift. */
    private static void channelStatistics16Tails(float[] x, int first, int rows, int stride, int tail, float shift, double[] acc) {
        DoubleVector s0 = DoubleVector.fromArray(WIDE, acc, 0), s1 = DoubleVector.fromArray(WIDE, acc, 8);
        DoubleVector q0 = DoubleVector.fromArray(WIDE, acc, 16), q1 = DoubleVector.fromArray(WIDE, acc, 24);
        double sh = shift;
        VectorMask<Float> in = HEAD[tail];
        FloatVector fill = FloatVector.broadcast(S, shift);
        for (int r = 0, i = first; r < rows; r++, i += stride) {
            FloatVector v = fill.blend(FloatVector.fromArray(S, x, i), in);
            DoubleVector d0 = ((DoubleVector) v.convertShape(VectorOperators.F2D, WIDE, 0)).sub(sh);
            DoubleVector d1 = ((DoubleVector) v.convertShape(VectorOperators.F2D, WIDE, 1)).sub(sh);
            s0 = s0.add(d0);
            s1 = s1.add(d1);
            q0 = q0.add(d0.mul(d0));
            q1 = q1.add(d1.mul(d1));
        }
        s0.intoArray(acc, 0);
        s1.intoArray(acc, 8);
        q0.intoArray(acc, 16);
        q1.intoArray(acc, 24);
    }

    /** At 256 bits: four 4-lane double accumulators per sum. */
    private static void channelStatistics8(float[] x, int base, int rows, int stride, int whole, float shift, double[] acc) {
        DoubleVector s0 = DoubleVector.fromArray(WIDE, acc, 0), s1 = DoubleVector.fromArray(WIDE, acc, 4);
        DoubleVector s2 = DoubleVector.fromArray(WIDE, acc, 8), s3 = DoubleVector.fromArray(WIDE, acc, 12);
        DoubleVector q0 = DoubleVector.fromArray(WIDE, acc, 16), q1 = DoubleVector.fromArray(WIDE, acc, 20);
        DoubleVector q2 = DoubleVector.fromArray(WIDE, acc, 24), q3 = DoubleVector.fromArray(WIDE, acc, 28);
        double sh = shift;
        int jump = stride - whole;
        for (int t = rows * (whole / 16), i = base, rowEnd = base + whole; t > 0; t--) {
            FloatVector va = FloatVector.fromArray(S, x, i), vb = FloatVector.fromArray(S, x, i + 8);
            DoubleVector d0 = ((DoubleVector) va.convertShape(VectorOperators.F2D, WIDE, 0)).sub(sh);
            DoubleVector d1 = ((DoubleVector) va.convertShape(VectorOperators.F2D, WIDE, 1)).sub(sh);
            DoubleVector d2 = ((DoubleVector) vb.convertShape(VectorOperators.F2D, WIDE, 0)).sub(sh);
            DoubleVector d3 = ((DoubleVector) vb.convertShape(VectorOperators.F2D, WIDE, 1)).sub(sh);
            s0 = s0.add(d0);
            s1 = s1.add(d1);
            s2 = s2.add(d2);
            s3 = s3.add(d3);
            q0 = q0.add(d0.mul(d0));
            q1 = q1.add(d1.mul(d1));
            q2 = q2.add(d2.mul(d2));
            q3 = q3.add(d3.mul(d3));
            i += 16;
            if (i == rowEnd) {
                i += jump;
                rowEnd += stride;
            }
        }
        s0.intoArray(acc, 0);
        s1.intoArray(acc, 4);
        s2.intoArray(acc, 8);
        s3.intoArray(acc, 12);
        q0.intoArray(acc, 16);
        q1.intoArray(acc, 20);
        q2.intoArray(acc, 24);
        q3.intoArray(acc, 28);
    }

    /** At 256 bits, the rows' tail groups (two float vectors each): lanes past the row read as the shift. */
    private static void channelStatistics8Tails(float[] x, int first, int rows, int stride, int tail, float shift, double[] acc) {
        DoubleVector s0 = DoubleVector.fromArray(WIDE, acc, 0), s1 = DoubleVector.fromArray(WIDE, acc, 4);
        DoubleVector s2 = DoubleVector.fromArray(WIDE, acc, 8), s3 = DoubleVector.fromArray(WIDE, acc, 12);
        DoubleVector q0 = DoubleVector.fromArray(WIDE, acc, 16), q1 = DoubleVector.fromArray(WIDE, acc, 20);
        DoubleVector q2 = DoubleVector.fromArray(WIDE, acc, 24), q3 = DoubleVector.fromArray(WIDE, acc, 28);
        double sh = shift;
        VectorMask<Float> inA = HEAD[Math.min(tail, 8)], inB = HEAD[Math.max(tail - 8, 0)];
        FloatVector fill = FloatVector.broadcast(S, shift);
        for (int r = 0, i = first; r < rows; r++, i += stride) {
            FloatVector va = fill.blend(FloatVector.fromArray(S, x, i), inA), vb = fill.blend(FloatVector.fromArray(S, x, i + 8), inB);
            DoubleVector d0 = ((DoubleVector) va.convertShape(VectorOperators.F2D, WIDE, 0)).sub(sh);
            DoubleVector d1 = ((DoubleVector) va.convertShape(VectorOperators.F2D, WIDE, 1)).sub(sh);
            DoubleVector d2 = ((DoubleVector) vb.convertShape(VectorOperators.F2D, WIDE, 0)).sub(sh);
            DoubleVector d3 = ((DoubleVector) vb.convertShape(VectorOperators.F2D, WIDE, 1)).sub(sh);
            s0 = s0.add(d0);
            s1 = s1.add(d1);
            s2 = s2.add(d2);
            s3 = s3.add(d3);
            q0 = q0.add(d0.mul(d0));
            q1 = q1.add(d1.mul(d1));
            q2 = q2.add(d2.mul(d2));
            q3 = q3.add(d3.mul(d3));
        }
        s0.intoArray(acc, 0);
        s1.intoArray(acc, 4);
        s2.intoArray(acc, 8);
        s3.intoArray(acc, 12);
        q0.intoArray(acc, 16);
        q1.intoArray(acc, 20);
        q2.intoArray(acc, 24);
        q3.intoArray(acc, 28);
    }

    @Override
    void normChannelBackwardSums(float[] x, float[] dy, float[] reluOutput, int base, int rows, int stride, int inner,
                                 float mean, double[] acc) {
        int whole = inner / NORM_PARTIALS * NORM_PARTIALS, tail = inner - whole;
        if (whole > 0) {
            if (reluOutput == null) {
                if (L == 16) channelBackward16(x, dy, base, rows, stride, whole, mean, acc);
                else channelBackward8(x, dy, base, rows, stride, whole, mean, acc);
            } else {
                if (L == 16) channelBackwardRelu16(x, dy, reluOutput, base, rows, stride, whole, mean, acc);
                else channelBackwardRelu8(x, dy, reluOutput, base, rows, stride, whole, mean, acc);
            }
        }
        if (tail == 0) return;
        int inside = tailRowsInside(Math.min(x.length, Math.min(dy.length, reluOutput == null ? dy.length : reluOutput.length)),
                base + whole, rows, stride);
        if (inside > 0) {
            if (reluOutput == null) {
                if (L == 16) channelBackward16Tails(x, dy, base + whole, inside, stride, tail, mean, acc);
                else channelBackward8Tails(x, dy, base + whole, inside, stride, tail, mean, acc);
            } else {
                if (L == 16) channelBackwardRelu16Tails(x, dy, reluOutput, base + whole, inside, stride, tail, mean, acc);
                else channelBackwardRelu8Tails(x, dy, reluOutput, base + whole, inside, stride, tail, mean, acc);
            }
        }
        for (int r = inside; r < rows; r++) CpuPlainKernels.normBackwardTail(x, dy, reluOutput, base + whole + r * stride, tail, mean, acc);
    }

    /** At 512 bits. dy times the float difference is exact in double, so the fma rounds once, at the add, as the plain loop. */
    private static void channelBackward16(float[] x, float[] dy, int base, int rows, int stride, int whole,
                                          float mean, double[] acc) {
        DoubleVector g0 = DoubleVector.fromArray(WIDE, acc, 0), g1 = DoubleVector.fromArray(WIDE, acc, 8);
        DoubleVector h0 = DoubleVector.fromArray(WIDE, acc, 16), h1 = DoubleVector.fromArray(WIDE, acc, 24);
        int jump = stride - whole;
        for (int t = rows * (whole / 16), i = base, rowEnd = base + whole; t > 0; t--) {
            FloatVector e = FloatVector.fromArray(S, dy, i), c = FloatVector.fromArray(S, x, i).sub(mean);
            DoubleVector e0 = (DoubleVector) e.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector e1 = (DoubleVector) e.convertShape(VectorOperators.F2D, WIDE, 1);
            DoubleVector c0 = (DoubleVector) c.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector c1 = (DoubleVector) c.convertShape(VectorOperators.F2D, WIDE, 1);
            g0 = g0.add(e0);
            g1 = g1.add(e1);
            h0 = e0.fma(c0, h0);
            h1 = e1.fma(c1, h1);
            i += 16;
            if (i == rowEnd) {
                i += jump;
                rowEnd += stride;
            }
        }
        g0.intoArray(acc, 0);
        g1.intoArray(acc, 8);
        h0.intoArray(acc, 16);
        h1.intoArray(acc, 24);
    }

    /** With the relu mask (dy where {@code reluOutput > 0}, else +0), at 512 bits. dy times the float difference is exact in double, so the fma rounds once, at the add, as the plain loop. */
    private static void channelBackwardRelu16(float[] x, float[] dy, float[] reluOutput, int base, int rows, int stride, int whole,
                                          float mean, double[] acc) {
        DoubleVector g0 = DoubleVector.fromArray(WIDE, acc, 0), g1 = DoubleVector.fromArray(WIDE, acc, 8);
        DoubleVector h0 = DoubleVector.fromArray(WIDE, acc, 16), h1 = DoubleVector.fromArray(WIDE, acc, 24);
        int jump = stride - whole;
        for (int t = rows * (whole / 16), i = base, rowEnd = base + whole; t > 0; t--) {
            FloatVector e = reluMasked(dy, reluOutput, i), c = FloatVector.fromArray(S, x, i).sub(mean);
            DoubleVector e0 = (DoubleVector) e.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector e1 = (DoubleVector) e.convertShape(VectorOperators.F2D, WIDE, 1);
            DoubleVector c0 = (DoubleVector) c.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector c1 = (DoubleVector) c.convertShape(VectorOperators.F2D, WIDE, 1);
            g0 = g0.add(e0);
            g1 = g1.add(e1);
            h0 = e0.fma(c0, h0);
            h1 = e1.fma(c1, h1);
            i += 16;
            if (i == rowEnd) {
                i += jump;
                rowEnd += stride;
            }
        }
        g0.intoArray(acc, 0);
        g1.intoArray(acc, 8);
        h0.intoArray(acc, 16);
        h1.intoArray(acc, 24);
    }

    /** At 512 bits, the rows' tail groups: lanes past the row take dy = 0 and x = mean. */
    private static void channelBackward16Tails(float[] x, float[] dy, int first, int rows, int stride, int tail,
                                               float mean, double[] acc) {
        DoubleVector g0 = DoubleVector.fromArray(WIDE, acc, 0), g1 = DoubleVector.fromArray(WIDE, acc, 8);
        DoubleVector h0 = DoubleVector.fromArray(WIDE, acc, 16), h1 = DoubleVector.fromArray(WIDE, acc, 24);
        VectorMask<Float> in = HEAD[tail];
        FloatVector fill = FloatVector.broadcast(S, mean);
        for (int r = 0, i = first; r < rows; r++, i += stride) {
            FloatVector e = FloatVector.zero(S).blend(FloatVector.fromArray(S, dy, i), in), c = fill.blend(FloatVector.fromArray(S, x, i), in).sub(mean);
            DoubleVector e0 = (DoubleVector) e.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector e1 = (DoubleVector) e.convertShape(VectorOperators.F2D, WIDE, 1);
            DoubleVector c0 = (DoubleVector) c.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector c1 = (DoubleVector) c.convertShape(VectorOperators.F2D, WIDE, 1);
            g0 = g0.add(e0);
            g1 = g1.add(e1);
            h0 = e0.fma(c0, h0);
            h1 = e1.fma(c1, h1);
        }
        g0.intoArray(acc, 0);
        g1.intoArray(acc, 8);
        h0.intoArray(acc, 16);
        h1.intoArray(acc, 24);
    }

    /** With the relu mask (dy where {@code reluOutput > 0}, else +0), at 512 bits, the rows' tail groups: lanes past the row take dy = 0 and x = mean. */
    private static void channelBackwardRelu16Tails(float[] x, float[] dy, float[] reluOutput, int first, int rows, int stride, int tail,
                                               float mean, double[] acc) {
        DoubleVector g0 = DoubleVector.fromArray(WIDE, acc, 0), g1 = DoubleVector.fromArray(WIDE, acc, 8);
        DoubleVector h0 = DoubleVector.fromArray(WIDE, acc, 16), h1 = DoubleVector.fromArray(WIDE, acc, 24);
        VectorMask<Float> in = HEAD[tail];
        FloatVector fill = FloatVector.broadcast(S, mean);
        for (int r = 0, i = first; r < rows; r++, i += stride) {
            FloatVector e = FloatVector.zero(S).blend(reluMasked(dy, reluOutput, i), in), c = fill.blend(FloatVector.fromArray(S, x, i), in).sub(mean);
            DoubleVector e0 = (DoubleVector) e.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector e1 = (DoubleVector) e.convertShape(VectorOperators.F2D, WIDE, 1);
            DoubleVector c0 = (DoubleVector) c.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector c1 = (DoubleVector) c.convertShape(VectorOperators.F2D, WIDE, 1);
            g0 = g0.add(e0);
            g1 = g1.add(e1);
            h0 = e0.fma(c0, h0);
            h1 = e1.fma(c1, h1);
        }
        g0.intoArray(acc, 0);
        g1.intoArray(acc, 8);
        h0.intoArray(acc, 16);
        h1.intoArray(acc, 24);
    }

    /** At 256 bits: four 4-lane double accumulators per sum. */
    private static void channelBackward8(float[] x, float[] dy, int base, int rows, int stride, int whole,
                                         float mean, double[] acc) {
        DoubleVector g0 = DoubleVector.fromArray(WIDE, acc, 0), g1 = DoubleVector.fromArray(WIDE, acc, 4);
        DoubleVector g2 = DoubleVector.fromArray(WIDE, acc, 8), g3 = DoubleVector.fromArray(WIDE, acc, 12);
        DoubleVector h0 = DoubleVector.fromArray(WIDE, acc, 16), h1 = DoubleVector.fromArray(WIDE, acc, 20);
        DoubleVector h2 = DoubleVector.fromArray(WIDE, acc, 24), h3 = DoubleVector.fromArray(WIDE, acc, 28);
        int jump = stride - whole;
        for (int t = rows * (whole / 16), i = base, rowEnd = base + whole; t > 0; t--) {
            FloatVector ea = FloatVector.fromArray(S, dy, i), eb = FloatVector.fromArray(S, dy, i + 8);
            FloatVector ca = FloatVector.fromArray(S, x, i).sub(mean), cb = FloatVector.fromArray(S, x, i + 8).sub(mean);
            DoubleVector e0 = (DoubleVector) ea.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector e1 = (DoubleVector) ea.convertShape(VectorOperators.F2D, WIDE, 1);
            DoubleVector e2 = (DoubleVector) eb.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector e3 = (DoubleVector) eb.convertShape(VectorOperators.F2D, WIDE, 1);
            DoubleVector c0 = (DoubleVector) ca.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector c1 = (DoubleVector) ca.convertShape(VectorOperators.F2D, WIDE, 1);
            DoubleVector c2 = (DoubleVector) cb.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector c3 = (DoubleVector) cb.convertShape(VectorOperators.F2D, WIDE, 1);
            g0 = g0.add(e0);
            g1 = g1.add(e1);
            g2 = g2.add(e2);
            g3 = g3.add(e3);
            h0 = e0.fma(c0, h0);
            h1 = e1.fma(c1, h1);
            h2 = e2.fma(c2, h2);
            h3 = e3.fma(c3, h3);
            i += 16;
            if (i == rowEnd) {
                i += jump;
                rowEnd += stride;
            }
        }
        g0.intoArray(acc, 0);
        g1.intoArray(acc, 4);
        g2.intoArray(acc, 8);
        g3.intoArray(acc, 12);
        h0.intoArray(acc, 16);
        h1.intoArray(acc, 20);
        h2.intoArray(acc, 24);
        h3.intoArray(acc, 28);
    }

    /** With the relu mask (dy where {@code reluOutput > 0}, else +0), at 256 bits: four 4-lane double accumulators per sum. */
    private static void channelBackwardRelu8(float[] x, float[] dy, float[] reluOutput, int base, int rows, int stride, int whole,
                                         float mean, double[] acc) {
        DoubleVector g0 = DoubleVector.fromArray(WIDE, acc, 0), g1 = DoubleVector.fromArray(WIDE, acc, 4);
        DoubleVector g2 = DoubleVector.fromArray(WIDE, acc, 8), g3 = DoubleVector.fromArray(WIDE, acc, 12);
        DoubleVector h0 = DoubleVector.fromArray(WIDE, acc, 16), h1 = DoubleVector.fromArray(WIDE, acc, 20);
        DoubleVector h2 = DoubleVector.fromArray(WIDE, acc, 24), h3 = DoubleVector.fromArray(WIDE, acc, 28);
        int jump = stride - whole;
        for (int t = rows * (whole / 16), i = base, rowEnd = base + whole; t > 0; t--) {
            FloatVector ea = reluMasked(dy, reluOutput, i), eb = reluMasked(dy, reluOutput, i + 8);
            FloatVector ca = FloatVector.fromArray(S, x, i).sub(mean), cb = FloatVector.fromArray(S, x, i + 8).sub(mean);
            DoubleVector e0 = (DoubleVector) ea.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector e1 = (DoubleVector) ea.convertShape(VectorOperators.F2D, WIDE, 1);
            DoubleVector e2 = (DoubleVector) eb.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector e3 = (DoubleVector) eb.convertShape(VectorOperators.F2D, WIDE, 1);
            DoubleVector c0 = (DoubleVector) ca.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector c1 = (DoubleVector) ca.convertShape(VectorOperators.F2D, WIDE, 1);
            DoubleVector c2 = (DoubleVector) cb.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector c3 = (DoubleVector) cb.convertShape(VectorOperators.F2D, WIDE, 1);
            g0 = g0.add(e0);
            g1 = g1.add(e1);
            g2 = g2.add(e2);
            g3 = g3.add(e3);
            h0 = e0.fma(c0, h0);
            h1 = e1.fma(c1, h1);
            h2 = e2.fma(c2, h2);
            h3 = e3.fma(c3, h3);
            i += 16;
            if (i == rowEnd) {
                i += jump;
                rowEnd += stride;
            }
        }
        g0.intoArray(acc, 0);
        g1.intoArray(acc, 4);
        g2.intoArray(acc, 8);
        g3.intoArray(acc, 12);
        h0.intoArray(acc, 16);
        h1.intoArray(acc, 20);
        h2.intoArray(acc, 24);
        h3.intoArray(acc, 28);
    }

    /** At 256 bits, the rows' tail groups (two float vectors each): lanes past the row take dy = 0 and x = mean. */
    private static void channelBackward8Tails(float[] x, float[] dy, int first, int rows, int stride, int tail,
                                              float mean, double[] acc) {
        DoubleVector g0 = DoubleVector.fromArray(WIDE, acc, 0), g1 = DoubleVector.fromArray(WIDE, acc, 4);
        DoubleVector g2 = DoubleVector.fromArray(WIDE, acc, 8), g3 = DoubleVector.fromArray(WIDE, acc, 12);
        DoubleVector h0 = DoubleVector.fromArray(WIDE, acc, 16), h1 = DoubleVector.fromArray(WIDE, acc, 20);
        DoubleVector h2 = DoubleVector.fromArray(WIDE, acc, 24), h3 = DoubleVector.fromArray(WIDE, acc, 28);
        VectorMask<Float> inA = HEAD[Math.min(tail, 8)], inB = HEAD[Math.max(tail - 8, 0)];
        FloatVector fill = FloatVector.broadcast(S, mean);
        for (int r = 0, i = first; r < rows; r++, i += stride) {
            FloatVector ea = FloatVector.zero(S).blend(FloatVector.fromArray(S, dy, i), inA), eb = FloatVector.zero(S).blend(FloatVector.fromArray(S, dy, i + 8), inB);
            FloatVector ca = fill.blend(FloatVector.fromArray(S, x, i), inA).sub(mean);
            FloatVector cb = fill.blend(FloatVector.fromArray(S, x, i + 8), inB).sub(mean);
            DoubleVector e0 = (DoubleVector) ea.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector e1 = (DoubleVector) ea.convertShape(VectorOperators.F2D, WIDE, 1);
            DoubleVector e2 = (DoubleVector) eb.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector e3 = (DoubleVector) eb.convertShape(VectorOperators.F2D, WIDE, 1);
            DoubleVector c0 = (DoubleVector) ca.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector c1 = (DoubleVector) ca.convertShape(VectorOperators.F2D, WIDE, 1);
            DoubleVector c2 = (DoubleVector) cb.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector c3 = (DoubleVector) cb.convertShape(VectorOperators.F2D, WIDE, 1);
            g0 = g0.add(e0);
            g1 = g1.add(e1);
            g2 = g2.add(e2);
            g3 = g3.add(e3);
            h0 = e0.fma(c0, h0);
            h1 = e1.fma(c1, h1);
            h2 = e2.fma(c2, h2);
            h3 = e3.fma(c3, h3);
        }
        g0.intoArray(acc, 0);
        g1.intoArray(acc, 4);
        g2.intoArray(acc, 8);
        g3.intoArray(acc, 12);
        h0.intoArray(acc, 16);
        h1.intoArray(acc, 20);
        h2.intoArray(acc, 24);
        h3.intoArray(acc, 28);
    }

    /** With the relu mask (dy where {@code reluOutput > 0}, else +0), at 256 bits, the rows' tail groups (two float vectors each): lanes past the row take dy = 0 and x = mean. */
    private static void channelBackwardRelu8Tails(float[] x, float[] dy, float[] reluOutput, int first, int rows, int stride, int tail,
                                              float mean, double[] acc) {
        DoubleVector g0 = DoubleVector.fromArray(WIDE, acc, 0), g1 = DoubleVector.fromArray(WIDE, acc, 4);
        DoubleVector g2 = DoubleVector.fromArray(WIDE, acc, 8), g3 = DoubleVector.fromArray(WIDE, acc, 12);
        DoubleVector h0 = DoubleVector.fromArray(WIDE, acc, 16), h1 = DoubleVector.fromArray(WIDE, acc, 20);
        DoubleVector h2 = DoubleVector.fromArray(WIDE, acc, 24), h3 = DoubleVector.fromArray(WIDE, acc, 28);
        VectorMask<Float> inA = HEAD[Math.min(tail, 8)], inB = HEAD[Math.max(tail - 8, 0)];
        FloatVector fill = FloatVector.broadcast(S, mean);
        for (int r = 0, i = first; r < rows; r++, i += stride) {
            FloatVector ea = FloatVector.zero(S).blend(reluMasked(dy, reluOutput, i), inA), eb = FloatVector.zero(S).blend(reluMasked(dy, reluOutput, i + 8), inB);
            FloatVector ca = fill.blend(FloatVector.fromArray(S, x, i), inA).sub(mean);
            FloatVector cb = fill.blend(FloatVector.fromArray(S, x, i + 8), inB).sub(mean);
            DoubleVector e0 = (DoubleVector) ea.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector e1 = (DoubleVector) ea.convertShape(VectorOperators.F2D, WIDE, 1);
            DoubleVector e2 = (DoubleVector) eb.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector e3 = (DoubleVector) eb.convertShape(VectorOperators.F2D, WIDE, 1);
            DoubleVector c0 = (DoubleVector) ca.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector c1 = (DoubleVector) ca.convertShape(VectorOperators.F2D, WIDE, 1);
            DoubleVector c2 = (DoubleVector) cb.convertShape(VectorOperators.F2D, WIDE, 0);
            DoubleVector c3 = (DoubleVector) cb.convertShape(VectorOperators.F2D, WIDE, 1);
            g0 = g0.add(e0);
            g1 = g1.add(e1);
            g2 = g2.add(e2);
            g3 = g3.add(e3);
            h0 = e0.fma(c0, h0);
            h1 = e1.fma(c1, h1);
            h2 = e2.fma(c2, h2);
            h3 = e3.fma(c3, h3);
        }
        g0.intoArray(acc, 0);
        g1.intoArray(acc, 4);
        g2.intoArray(acc, 8);
        g3.intoArray(acc, 12);
        h0.intoArray(acc, 16);
        h1.intoArray(acc, 20);
        h2.intoArray(acc, 24);
        h3.intoArray(acc, 28);
    }

    /**
     * The whole vectors of every row as one flat loop (the row jump an int branch; a call or a
     * loop per row cost more than the work on the 4x4 maps' 16-value rows), the relu as a select
     * ({@code v <= 0} to +0, NaN kept); then each row's last {@code inner % L} values by the
     * plain loop. Element-wise, so the order does not matter, and y may be x.
     */
    @Override
    void normChannelNormalize(float[] x, float[] y, int base, int rows, int stride, int inner, float mean, float scale, float shift,
                              boolean relu) {
        int whole = inner / L * L;
        if (whole > 0) {
            if (relu) normalizeVectorsRelu(x, y, base, rows, stride, whole, mean, scale, shift);
            else normalizeVectors(x, y, base, rows, stride, whole, mean, scale, shift);
        }
        if (whole == inner) return;
        for (int r = 0, from = base; r < rows; r++, from += stride) {
            for (int i = from + whole; i < from + inner; i++) {
                float v = (x[i] - mean) * scale + shift;
                y[i] = relu ? Math.max(v, 0f) : v;
            }
        }
    }

    private static void normalizeVectors(float[] x, float[] y, int base, int rows, int stride, int whole, float mean, float scale,
                                         float shift) {
        int jump = stride - whole;
        for (int t = rows * (whole / L), i = base, rowEnd = base + whole; t > 0; t--) {
            FloatVector.fromArray(S, x, i).sub(mean).mul(scale).add(shift).intoArray(y, i);
            i += L;
            if (i == rowEnd) {
                i += jump;
                rowEnd += stride;
            }
        }
    }

    private static void normalizeVectorsRelu(float[] x, float[] y, int base, int rows, int stride, int whole, float mean, float scale,
                                             float shift) {
        int jump = stride - whole;
        for (int t = rows * (whole / L), i = base, rowEnd = base + whole; t > 0; t--) {
            FloatVector v = FloatVector.fromArray(S, x, i).sub(mean).mul(scale).add(shift);
            v.blend(0f, v.compare(VectorOperators.LE, 0f)).intoArray(y, i);
            i += L;
            if (i == rowEnd) {
                i += jump;
                rowEnd += stride;
            }
        }
    }

    /** As {@link #normChannelNormalize}: the whole vectors of every row as one flat loop, then the rows' last values. dx may be dy. */
    @Override
    void normChannelDx(float[] x, float[] dy, float[] reluOutput, float[] dx, int base, int rows, int stride, int inner,
                       float mean, float k, float a, float b) {
        int whole = inner / L * L;
        if (whole > 0) {
            if (reluOutput == null) dxVectors(x, dy, dx, base, rows, stride, whole, mean, k, a, b);
            else dxVectorsRelu(x, dy, reluOutput, dx, base, rows, stride, whole, mean, k, a, b);
        }
        if (whole == inner) return;
        for (int r = 0, from = base; r < rows; r++, from += stride) {
            for (int i = from + whole; i < from + inner; i++) {
                float g = reluOutput == null || reluOutput[i] > 0f ? dy[i] : 0f;
                dx[i] = k * (g - a - (x[i] - mean) * b);
            }
        }
    }

    private static void dxVectors(float[] x, float[] dy, float[] dx, int base, int rows, int stride, int whole, float mean, float k,
                                  float a, float b) {
        int jump = stride - whole;
        for (int t = rows * (whole / L), i = base, rowEnd = base + whole; t > 0; t--) {
            FloatVector c = FloatVector.fromArray(S, x, i).sub(mean);
            FloatVector.fromArray(S, dy, i).sub(a).sub(c.mul(b)).mul(k).intoArray(dx, i);
            i += L;
            if (i == rowEnd) {
                i += jump;
                rowEnd += stride;
            }
        }
    }

    private static void dxVectorsRelu(float[] x, float[] dy, float[] reluOutput, float[] dx, int base, int rows, int stride, int whole,
                                      float mean, float k, float a, float b) {
        int jump = stride - whole;
        for (int t = rows * (whole / L), i = base, rowEnd = base + whole; t > 0; t--) {
            FloatVector c = FloatVector.fromArray(S, x, i).sub(mean);
            // reluMasked written out: called from here, C2 left it out of line in one JMH fork of
            // six (3.3 MB a training step allocated by its boxed result)
            VectorMask<Float> positive = FloatVector.fromArray(S, reluOutput, i).compare(VectorOperators.GT, 0f);
            FloatVector e = FloatVector.zero(S).blend(FloatVector.fromArray(S, dy, i), positive);
            e.sub(a).sub(c.mul(b)).mul(k).intoArray(dx, i);
            i += L;
            if (i == rowEnd) {
                i += jump;
                rowEnd += stride;
            }
        }
    }

    // ---- backward-filter over channels-last input: register tiles of dw^T --------------------

    /**
     * One kernel per tile shape (rows x groups: 8 x 3, 8 x 2, 16 x 1: 24 or 16 accumulators), each
     * one flat loop over the depth: per pixel the tile's lane groups of x loaded once, each row's
     * dy broadcast once, an fma per accumulator, in depth order.
     */
    @Override
    void channelFilterTile(float[] xc, int[] xStart, int[] groupStart, int g0, int groups, float[] dy, int[] dyStart, int[] rows, int d0, int d1, float[] tile) {
        if (groups == 3) channelFilter8x3(xc, xStart, groupStart, g0, dy, dyStart, rows, d0, d1, tile);
        else if (groups == 2) channelFilter8x2(xc, xStart, groupStart, g0, dy, dyStart, rows, d0, d1, tile);
        else channelFilter16x1(xc, xStart, groupStart, g0, dy, dyStart, rows, d0, d1, tile);
    }

    private static void channelFilter8x3(float[] xc, int[] xStart, int[] groupStart, int g0, float[] dy, int[] dyStart, int[] rows, int d0, int d1, float[] tile) {
        int o0 = groupStart[g0], o1 = groupStart[g0 + 1], o2 = groupStart[g0 + 2];
        int r0 = rows[0], r1 = rows[1], r2 = rows[2], r3 = rows[3], r4 = rows[4], r5 = rows[5], r6 = rows[6], r7 = rows[7];
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0g0 = zero, a0g1 = zero, a0g2 = zero, a1g0 = zero, a1g1 = zero, a1g2 = zero, a2g0 = zero, a2g1 = zero;
        FloatVector a2g2 = zero, a3g0 = zero, a3g1 = zero, a3g2 = zero, a4g0 = zero, a4g1 = zero, a4g2 = zero, a5g0 = zero;
        FloatVector a5g1 = zero, a5g2 = zero, a6g0 = zero, a6g1 = zero, a6g2 = zero, a7g0 = zero, a7g1 = zero, a7g2 = zero;
        for (int d = d0; d < d1; d++) {
            int i = xStart[d], j = dyStart[d];
            FloatVector x0 = FloatVector.fromArray(S, xc, i + o0);
            FloatVector x1 = FloatVector.fromArray(S, xc, i + o1);
            FloatVector x2 = FloatVector.fromArray(S, xc, i + o2);
            FloatVector b0 = FloatVector.broadcast(S, dy[j + r0]);
            a0g0 = x0.fma(b0, a0g0); a0g1 = x1.fma(b0, a0g1); a0g2 = x2.fma(b0, a0g2);
            FloatVector b1 = FloatVector.broadcast(S, dy[j + r1]);
            a1g0 = x0.fma(b1, a1g0); a1g1 = x1.fma(b1, a1g1); a1g2 = x2.fma(b1, a1g2);
            FloatVector b2 = FloatVector.broadcast(S, dy[j + r2]);
            a2g0 = x0.fma(b2, a2g0); a2g1 = x1.fma(b2, a2g1); a2g2 = x2.fma(b2, a2g2);
            FloatVector b3 = FloatVector.broadcast(S, dy[j + r3]);
            a3g0 = x0.fma(b3, a3g0); a3g1 = x1.fma(b3, a3g1); a3g2 = x2.fma(b3, a3g2);
            FloatVector b4 = FloatVector.broadcast(S, dy[j + r4]);
            a4g0 = x0.fma(b4, a4g0); a4g1 = x1.fma(b4, a4g1); a4g2 = x2.fma(b4, a4g2);
            FloatVector b5 = FloatVector.broadcast(S, dy[j + r5]);
            a5g0 = x0.fma(b5, a5g0); a5g1 = x1.fma(b5, a5g1); a5g2 = x2.fma(b5, a5g2);
            FloatVector b6 = FloatVector.broadcast(S, dy[j + r6]);
            a6g0 = x0.fma(b6, a6g0); a6g1 = x1.fma(b6, a6g1); a6g2 = x2.fma(b6, a6g2);
            FloatVector b7 = FloatVector.broadcast(S, dy[j + r7]);
            a7g0 = x0.fma(b7, a7g0); a7g1 = x1.fma(b7, a7g1); a7g2 = x2.fma(b7, a7g2);
        }
        a0g0.intoArray(tile, 0);
        a0g1.intoArray(tile, L);
        a0g2.intoArray(tile, 2 * L);
        a1g0.intoArray(tile, 3 * L);
        a1g1.intoArray(tile, 4 * L);
        a1g2.intoArray(tile, 5 * L);
        a2g0.intoArray(tile, 6 * L);
        a2g1.intoArray(tile, 7 * L);
        a2g2.intoArray(tile, 8 * L);
        a3g0.intoArray(tile, 9 * L);
        a3g1.intoArray(tile, 10 * L);
        a3g2.intoArray(tile, 11 * L);
        a4g0.intoArray(tile, 12 * L);
        a4g1.intoArray(tile, 13 * L);
        a4g2.intoArray(tile, 14 * L);
        a5g0.intoArray(tile, 15 * L);
        a5g1.intoArray(tile, 16 * L);
        a5g2.intoArray(tile, 17 * L);
        a6g0.intoArray(tile, 18 * L);
        a6g1.intoArray(tile, 19 * L);
        a6g2.intoArray(tile, 20 * L);
        a7g0.intoArray(tile, 21 * L);
        a7g1.intoArray(tile, 22 * L);
        a7g2.intoArray(tile, 23 * L);
    }

    private static void channelFilter8x2(float[] xc, int[] xStart, int[] groupStart, int g0, float[] dy, int[] dyStart, int[] rows, int d0, int d1, float[] tile) {
        int o0 = groupStart[g0], o1 = groupStart[g0 + 1];
        int r0 = rows[0], r1 = rows[1], r2 = rows[2], r3 = rows[3], r4 = rows[4], r5 = rows[5], r6 = rows[6], r7 = rows[7];
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0g0 = zero, a0g1 = zero, a1g0 = zero, a1g1 = zero, a2g0 = zero, a2g1 = zero, a3g0 = zero, a3g1 = zero;
        FloatVector a4g0 = zero, a4g1 = zero, a5g0 = zero, a5g1 = zero, a6g0 = zero, a6g1 = zero, a7g0 = zero, a7g1 = zero;
        for (int d = d0; d < d1; d++) {
            int i = xStart[d], j = dyStart[d];
            FloatVector x0 = FloatVector.fromArray(S, xc, i + o0);
            FloatVector x1 = FloatVector.fromArray(S, xc, i + o1);
            FloatVector b0 = FloatVector.broadcast(S, dy[j + r0]);
            a0g0 = x0.fma(b0, a0g0); a0g1 = x1.fma(b0, a0g1);
            FloatVector b1 = FloatVector.broadcast(S, dy[j + r1]);
            a1g0 = x0.fma(b1, a1g0); a1g1 = x1.fma(b1, a1g1);
            FloatVector b2 = FloatVector.broadcast(S, dy[j + r2]);
            a2g0 = x0.fma(b2, a2g0); a2g1 = x1.fma(b2, a2g1);
            FloatVector b3 = FloatVector.broadcast(S, dy[j + r3]);
            a3g0 = x0.fma(b3, a3g0); a3g1 = x1.fma(b3, a3g1);
            FloatVector b4 = FloatVector.broadcast(S, dy[j + r4]);
            a4g0 = x0.fma(b4, a4g0); a4g1 = x1.fma(b4, a4g1);
            FloatVector b5 = FloatVector.broadcast(S, dy[j + r5]);
            a5g0 = x0.fma(b5, a5g0); a5g1 = x1.fma(b5, a5g1);
            FloatVector b6 = FloatVector.broadcast(S, dy[j + r6]);
            a6g0 = x0.fma(b6, a6g0); a6g1 = x1.fma(b6, a6g1);
            FloatVector b7 = FloatVector.broadcast(S, dy[j + r7]);
            a7g0 = x0.fma(b7, a7g0); a7g1 = x1.fma(b7, a7g1);
        }
        a0g0.intoArray(tile, 0);
        a0g1.intoArray(tile, L);
        a1g0.intoArray(tile, 2 * L);
        a1g1.intoArray(tile, 3 * L);
        a2g0.intoArray(tile, 4 * L);
        a2g1.intoArray(tile, 5 * L);
        a3g0.intoArray(tile, 6 * L);
        a3g1.intoArray(tile, 7 * L);
        a4g0.intoArray(tile, 8 * L);
        a4g1.intoArray(tile, 9 * L);
        a5g0.intoArray(tile, 10 * L);
        a5g1.intoArray(tile, 11 * L);
        a6g0.intoArray(tile, 12 * L);
        a6g1.intoArray(tile, 13 * L);
        a7g0.intoArray(tile, 14 * L);
        a7g1.intoArray(tile, 15 * L);
    }

    private static void channelFilter16x1(float[] xc, int[] xStart, int[] groupStart, int g0, float[] dy, int[] dyStart, int[] rows, int d0, int d1, float[] tile) {
        int o0 = groupStart[g0];
        int r0 = rows[0], r1 = rows[1], r2 = rows[2], r3 = rows[3], r4 = rows[4], r5 = rows[5], r6 = rows[6], r7 = rows[7];
        int r8 = rows[8], r9 = rows[9], r10 = rows[10], r11 = rows[11], r12 = rows[12], r13 = rows[13], r14 = rows[14], r15 = rows[15];
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0g0 = zero, a1g0 = zero, a2g0 = zero, a3g0 = zero, a4g0 = zero, a5g0 = zero, a6g0 = zero, a7g0 = zero;
        FloatVector a8g0 = zero, a9g0 = zero, a10g0 = zero, a11g0 = zero, a12g0 = zero, a13g0 = zero, a14g0 = zero, a15g0 = zero;
        for (int d = d0; d < d1; d++) {
            int i = xStart[d], j = dyStart[d];
            FloatVector x0 = FloatVector.fromArray(S, xc, i + o0);
            FloatVector b0 = FloatVector.broadcast(S, dy[j + r0]);
            a0g0 = x0.fma(b0, a0g0);
            FloatVector b1 = FloatVector.broadcast(S, dy[j + r1]);
            a1g0 = x0.fma(b1, a1g0);
            FloatVector b2 = FloatVector.broadcast(S, dy[j + r2]);
            a2g0 = x0.fma(b2, a2g0);
            FloatVector b3 = FloatVector.broadcast(S, dy[j + r3]);
            a3g0 = x0.fma(b3, a3g0);
            FloatVector b4 = FloatVector.broadcast(S, dy[j + r4]);
            a4g0 = x0.fma(b4, a4g0);
            FloatVector b5 = FloatVector.broadcast(S, dy[j + r5]);
            a5g0 = x0.fma(b5, a5g0);
            FloatVector b6 = FloatVector.broadcast(S, dy[j + r6]);
            a6g0 = x0.fma(b6, a6g0);
            FloatVector b7 = FloatVector.broadcast(S, dy[j + r7]);
            a7g0 = x0.fma(b7, a7g0);
            FloatVector b8 = FloatVector.broadcast(S, dy[j + r8]);
            a8g0 = x0.fma(b8, a8g0);
            FloatVector b9 = FloatVector.broadcast(S, dy[j + r9]);
            a9g0 = x0.fma(b9, a9g0);
            FloatVector b10 = FloatVector.broadcast(S, dy[j + r10]);
            a10g0 = x0.fma(b10, a10g0);
            FloatVector b11 = FloatVector.broadcast(S, dy[j + r11]);
            a11g0 = x0.fma(b11, a11g0);
            FloatVector b12 = FloatVector.broadcast(S, dy[j + r12]);
            a12g0 = x0.fma(b12, a12g0);
            FloatVector b13 = FloatVector.broadcast(S, dy[j + r13]);
            a13g0 = x0.fma(b13, a13g0);
            FloatVector b14 = FloatVector.broadcast(S, dy[j + r14]);
            a14g0 = x0.fma(b14, a14g0);
            FloatVector b15 = FloatVector.broadcast(S, dy[j + r15]);
            a15g0 = x0.fma(b15, a15g0);
        }
        a0g0.intoArray(tile, 0);
        a1g0.intoArray(tile, L);
        a2g0.intoArray(tile, 2 * L);
        a3g0.intoArray(tile, 3 * L);
        a4g0.intoArray(tile, 4 * L);
        a5g0.intoArray(tile, 5 * L);
        a6g0.intoArray(tile, 6 * L);
        a7g0.intoArray(tile, 7 * L);
        a8g0.intoArray(tile, 8 * L);
        a9g0.intoArray(tile, 9 * L);
        a10g0.intoArray(tile, 10 * L);
        a11g0.intoArray(tile, 11 * L);
        a12g0.intoArray(tile, 12 * L);
        a13g0.intoArray(tile, 13 * L);
        a14g0.intoArray(tile, 14 * L);
        a15g0.intoArray(tile, 15 * L);
    }

    // ---- direct convolution over gathered taps ----------------------------------------------

    /**
     * Per tap (three at a time), the whole vectors of the plane in one loop (lane l takes the
     * pixels j = l mod L), then every tap's last {@code p % L} pixels by the plain loop: each
     * lane still takes its pixels in increasing order.
     */
    @Override
    void directTapsFilter(float[] dy, int dyo, float[] col, int colOff, int p, int k, float[] acc, int accOff) {
        int whole = p / L * L;
        if (whole > 0) {
            int r = 0;
            for (; r + 3 <= k; r += 3) tapsFilterVectors3(dy, dyo, col, colOff + r * p, p, whole, acc, accOff + r * L);
            for (; r < k; r++) tapsFilterVectors(dy, dyo, col, colOff + r * p, whole, acc, accOff + r * L);
        }
        for (int r = 0; r < k; r++) {
            int a = accOff + r * L, t = colOff + r * p;
            for (int j = whole; j < p; j++) acc[a + j - whole] = Math.fma(dy[dyo + j], col[t + j], acc[a + j - whole]);
        }
    }

    /** Three taps at once: three independent fma chains sharing each dy vector. */
    private static void tapsFilterVectors3(float[] dy, int dyo, float[] col, int t, int p, int whole, float[] acc, int a) {
        FloatVector s0 = FloatVector.fromArray(S, acc, a), s1 = FloatVector.fromArray(S, acc, a + L);
        FloatVector s2 = FloatVector.fromArray(S, acc, a + 2 * L);
        for (int j = 0; j < whole; j += L) {
            FloatVector d = FloatVector.fromArray(S, dy, dyo + j);
            s0 = d.fma(FloatVector.fromArray(S, col, t + j), s0);
            s1 = d.fma(FloatVector.fromArray(S, col, t + p + j), s1);
            s2 = d.fma(FloatVector.fromArray(S, col, t + 2 * p + j), s2);
        }
        s0.intoArray(acc, a);
        s1.intoArray(acc, a + L);
        s2.intoArray(acc, a + 2 * L);
    }

    private static void tapsFilterVectors(float[] dy, int dyo, float[] col, int t, int whole, float[] acc, int a) {
        FloatVector s = FloatVector.fromArray(S, acc, a);
        for (int j = 0; j < whole; j += L) s = FloatVector.fromArray(S, dy, dyo + j).fma(FloatVector.fromArray(S, col, t + j), s);
        s.intoArray(acc, a);
    }

}
