package org.neurite.backend.cpu;

import java.util.Arrays;

/**
 * The {@link CpuKernels} as plain Java, for JVMs without {@code jdk.incubator.vector}: each
 * vector kernel with its lanes written out as a counted loop over float arrays. The arithmetic
 * is the vector kernels', operation for operation ({@link Math#fma} where they fuse, a multiply
 * then an add where they do not), so the results are the same bits; the speed is not (see
 * {@code BENCHMARKS.md}).
 *
 * <p>JDK 17's auto-vectoriser (C2's SuperWord) turns a loop into SIMD only when every array in
 * it is indexed by the same expression, give or take a constant: {@code c[j] = fma(a, b[j], c[j])}
 * vectorises, {@code c[co + j] = fma(a, b[bo + j], c[co + j])} runs scalar (several times slower,
 * see {@code BENCHMARKS.md}), because C2 cannot tell that the two ranges do not overlap. So the
 * hot loops work on this worker's scratch rows, all indexed from 0: the GEMM keeps its MR
 * accumulator rows in six arrays and copies the B rows of three depth steps into a seventh; the
 * direct forward copies the input runs of five terms into rows of their own before adding them
 * into two output rows. Each pass does several depth steps (terms) so that an accumulator
 * element is loaded and stored once for several fmas, which stay in the vector kernel's order.
 * The write-back and the backward-filter kernels stay scalar (their copies would cost more than
 * the SIMD saves).
 */
final class CpuPlainKernels extends CpuKernels {
    /**
     * {@link CpuKernels#LANES} when the Vector API is missing: 16 floats, one AVX-512 register
     * and two AVX2 ones, and the layout of the 512-bit vector path (a GEMM strip of 32 columns, a
     * direct-convolution chunk of 64).
     */
    static final int LANES_WITHOUT_VECTOR_API = 16;

    private static final int L = LANES;
    private static final int MR = CpuGemm.MR;
    private static final int NR = CpuGemm.NR;
    private static final int CHUNK = CpuDirectConv2d.CHUNK;

    // GEMM: the micro-tile's rows and three depth steps of the B strip.
    private final float[] c0 = new float[NR], c1 = new float[NR], c2 = new float[NR];
    private final float[] c3 = new float[NR], c4 = new float[NR], c5 = new float[NR];
    private final float[] bRows = new float[3 * NR];
    // Direct convolution forward: the two output channels' rows and five terms' input runs.
    private final float[] outA = new float[CHUNK], outB = new float[CHUNK];
    private final float[] in0 = new float[CHUNK], in1 = new float[CHUNK], in2 = new float[CHUNK], in3 = new float[CHUNK], in4 = new float[CHUNK];

    // ---- GEMM -------------------------------------------------------------------------------

    @Override
    void gemmBlock(float[] pa, int ao, float[] pb, int mc, int nc, int kc, float[] c, int co, int ldc,
                   float alpha, float beta) {
        for (int jr = 0; jr < nc; jr += NR) {
            for (int ir = 0; ir < mc; ir += MR) {
                if (MR == 8) microKernel8(pa, ao + ir * kc, pb, jr * kc, kc);
                else microKernel(pa, ao + ir * kc, pb, jr * kc, kc);
                writeBack(c, co + ir * ldc + jr, ldc, Math.min(MR, mc - ir), Math.min(NR, nc - jr), alpha, beta);
            }
        }
    }

    /**
     * Row r of the tile = the fma sequence over the kc depth steps of (A strip row r) x (B strip),
     * from zero, in depth order as in the vector kernel. Three depth steps per pass (their B rows
     * are adjacent in the strip: one copy), so each accumulator element is loaded and stored once
     * per three fmas: two steps per pass ran 1.15x slower, four (24 broadcast values, more than
     * the registers) 2x slower. The 6 x 3 A values are read before the loop: read inside it, C2
     * does not vectorise it.
     */
    private void microKernel(float[] pa, int ao, float[] pb, int bo, int kc) {
        float[] c0 = this.c0, c1 = this.c1, c2 = this.c2, c3 = this.c3, c4 = this.c4, c5 = this.c5, b = bRows;
        Arrays.fill(c0, 0f);
        Arrays.fill(c1, 0f);
        Arrays.fill(c2, 0f);
        Arrays.fill(c3, 0f);
        Arrays.fill(c4, 0f);
        Arrays.fill(c5, 0f);
        int ai = ao, bi = bo;
        for (int triplesEnd = ao + (kc - kc % 3) * MR; ai < triplesEnd; ai += 3 * MR, bi += 3 * NR) {
            System.arraycopy(pb, bi, b, 0, 3 * NR);
            float a0 = pa[ai], a1 = pa[ai + 1], a2 = pa[ai + 2], a3 = pa[ai + 3], a4 = pa[ai + 4], a5 = pa[ai + 5];
            float e0 = pa[ai + 6], e1 = pa[ai + 7], e2 = pa[ai + 8], e3 = pa[ai + 9], e4 = pa[ai + 10], e5 = pa[ai + 11];
            float f0 = pa[ai + 12], f1 = pa[ai + 13], f2 = pa[ai + 14], f3 = pa[ai + 15], f4 = pa[ai + 16], f5 = pa[ai + 17];
            for (int j = 0; j < NR; j++) {
                float b0 = b[j], b1 = b[NR + j], b2 = b[2 * NR + j];
                c0[j] = Math.fma(f0, b2, Math.fma(e0, b1, Math.fma(a0, b0, c0[j])));
                c1[j] = Math.fma(f1, b2, Math.fma(e1, b1, Math.fma(a1, b0, c1[j])));
                c2[j] = Math.fma(f2, b2, Math.fma(e2, b1, Math.fma(a2, b0, c2[j])));
                c3[j] = Math.fma(f3, b2, Math.fma(e3, b1, Math.fma(a3, b0, c3[j])));
                c4[j] = Math.fma(f4, b2, Math.fma(e4, b1, Math.fma(a4, b0, c4[j])));
                c5[j] = Math.fma(f5, b2, Math.fma(e5, b1, Math.fma(a5, b0, c5[j])));
            }
        }
        for (int end = ao + kc * MR; ai < end; ai += MR, bi += NR) {
            System.arraycopy(pb, bi, b, 0, NR);
            float a0 = pa[ai], a1 = pa[ai + 1], a2 = pa[ai + 2], a3 = pa[ai + 3], a4 = pa[ai + 4], a5 = pa[ai + 5];
            for (int j = 0; j < NR; j++) {
                float bj = b[j];
                c0[j] = Math.fma(a0, bj, c0[j]);
                c1[j] = Math.fma(a1, bj, c1[j]);
                c2[j] = Math.fma(a2, bj, c2[j]);
                c3[j] = Math.fma(a3, bj, c3[j]);
                c4[j] = Math.fma(a4, bj, c4[j]);
                c5[j] = Math.fma(a5, bj, c5[j]);
            }
        }
    }

    /** C[r][j] = alpha * tile[r][j] + beta * C[r][j] for the 6- and the 8-row tile (C not read when beta == 0): the vector write-back's roundings. */
    private void writeBack(float[] c, int co, int ldc, int rows, int cols, float alpha, float beta) {
        for (int r = 0, row = co; r < rows; r++, row += ldc) {
            float[] acc = switch (r) {
                case 0 -> c0;
                case 1 -> c1;
                case 2 -> c2;
                case 3 -> c3;
                case 4 -> c4;
                case 5 -> c5;
                case 6 -> c6;
                default -> c7;
            };
            if (beta == 0f) for (int j = 0; j < cols; j++) c[row + j] = acc[j] * alpha;
            else for (int j = 0; j < cols; j++) c[row + j] = Math.fma(acc[j], alpha, c[row + j] * beta);
        }
    }

    @Override
    void copyStrip(float[] b, int src, int ldb, float[] dst, int d, int rows) {
        for (int p = 0; p < rows; p++, src += ldb, d += NR) System.arraycopy(b, src, dst, d, NR);
    }

    // ---- direct convolution -----------------------------------------------------------------

    /**
     * Five terms per pass (a 5x5 kernel's row; three per pass ran 1.2x slower on LeNet-5's c1),
     * each term's input run copied to a row of its own first: the runs start at different
     * offsets (see the class comment).
     */
    @Override
    void directForwardChunk(float[] xp, int at, int[] off, int k, float[] w, int wA, int wB, float[] tile, int tA, int tB) {
        float[] outA = this.outA, outB = this.outB, x0 = in0, x1 = in1, x2 = in2, x3 = in3, x4 = in4;
        Arrays.fill(outA, 0f);
        Arrays.fill(outB, 0f);
        int r = 0;
        for (; r + 5 <= k; r += 5) {
            System.arraycopy(xp, at + off[r], x0, 0, CHUNK);
            System.arraycopy(xp, at + off[r + 1], x1, 0, CHUNK);
            System.arraycopy(xp, at + off[r + 2], x2, 0, CHUNK);
            System.arraycopy(xp, at + off[r + 3], x3, 0, CHUNK);
            System.arraycopy(xp, at + off[r + 4], x4, 0, CHUNK);
            float a0 = w[wA + r], a1 = w[wA + r + 1], a2 = w[wA + r + 2], a3 = w[wA + r + 3], a4 = w[wA + r + 4];
            float b0 = w[wB + r], b1 = w[wB + r + 1], b2 = w[wB + r + 2], b3 = w[wB + r + 3], b4 = w[wB + r + 4];
            for (int j = 0; j < CHUNK; j++) {
                outA[j] = Math.fma(a4, x4[j], Math.fma(a3, x3[j], Math.fma(a2, x2[j], Math.fma(a1, x1[j], Math.fma(a0, x0[j], outA[j])))));
                outB[j] = Math.fma(b4, x4[j], Math.fma(b3, x3[j], Math.fma(b2, x2[j], Math.fma(b1, x1[j], Math.fma(b0, x0[j], outB[j])))));
            }
        }
        for (; r < k; r++) {
            System.arraycopy(xp, at + off[r], x0, 0, CHUNK);
            float a = w[wA + r], b = w[wB + r];
            for (int j = 0; j < CHUNK; j++) {
                outA[j] = Math.fma(a, x0[j], outA[j]);
                outB[j] = Math.fma(b, x0[j], outB[j]);
            }
        }
        System.arraycopy(outA, 0, tile, tA, CHUNK);
        System.arraycopy(outB, 0, tile, tB, CHUNK);
    }

    @Override
    void directStoreRows(float[] grid, int t, int pitch, int rows, float[] y, int at, int wo, int limit, boolean addBias, float b,
                         boolean relu) {
        for (int i = 0; i < rows; i++) {
            int from = t + i * pitch, to = at + i * wo;
            if (relu && addBias) for (int j = 0; j < wo; j++) y[to + j] = Math.max(grid[from + j] + b, 0f);
            else if (relu) for (int j = 0; j < wo; j++) y[to + j] = Math.max(grid[from + j], 0f);
            else if (addBias) for (int j = 0; j < wo; j++) y[to + j] = grid[from + j] + b;
            else System.arraycopy(grid, from, y, to, wo);
        }
    }

    @Override
    void directFilterRows(float[] dyp, int ho, int nv, int whole, float[] xp, int at, int wd, float[] acc, int accOff) {
        int rowJump = wd - whole * L, dyJump = (nv - whole) * L;
        for (int t = 0, v = 0, d = 0, i = at, end = ho * whole; t < end; t++) {
            for (int l = 0; l < L; l++) {
                float dv = dyp[d + l];
                acc[accOff + l] = Math.fma(dv, xp[i + l], acc[accOff + l]);
                acc[accOff + L + l] = Math.fma(dv, xp[i + 1 + l], acc[accOff + L + l]);
                acc[accOff + 2 * L + l] = Math.fma(dv, xp[i + 2 + l], acc[accOff + 2 * L + l]);
                acc[accOff + 3 * L + l] = Math.fma(dv, xp[i + 3 + l], acc[accOff + 3 * L + l]);
                acc[accOff + 4 * L + l] = Math.fma(dv, xp[i + 4 + l], acc[accOff + 4 * L + l]);
            }
            d += L;
            i += L;
            if (++v == whole) {
                v = 0;
                d += dyJump;
                i += rowJump;
            }
        }
    }

    /** Lanes from tailLanes on multiply zero, as the vector kernel's blend makes them do: the fma still runs, so the sums round alike. */
    @Override
    void directFilterTails(float[] dyp, int ho, int nv, int whole, int tailLanes, float[] xp, int at, int wd,
                           float[] acc, int accOff) {
        for (int oh = 0, d = whole * L, i = at + whole * L; oh < ho; oh++, d += nv * L, i += wd) {
            for (int jj = 0, a = accOff; jj < CpuDirectConv2d.KJ; jj++, a += L) {
                for (int l = 0; l < L; l++) {
                    float x = l < tailLanes ? xp[i + jj + l] : 0f;
                    acc[a + l] = Math.fma(dyp[d + l], x, acc[a + l]);
                }
            }
        }
    }

    // ---- element-wise -----------------------------------------------------------------------

    @Override
    void addRun(float[] x, int xo, float[] v, int vo, float[] out, int oo, int n) {
        for (int j = 0; j < n; j++) out[oo + j] = x[xo + j] + v[vo + j];
    }

    @Override
    void addReluRun(float[] x, int xo, float[] v, int vo, float[] out, int oo, int n) {
        for (int j = 0; j < n; j++) out[oo + j] = Math.max(x[xo + j] + v[vo + j], 0f);
    }

    @Override
    void addToSums(float[] x, int xo, double[] sums, int n) {
        for (int j = 0; j < n; j++) sums[j] += x[xo + j];
    }

    @Override
    void affine(float[] x, int from, int to, int d, float scale, float shift, float[] y) {
        // The same index on both sides vectorises (see the class comment): the usual whole-tensor and aligned-slice calls.
        if (d == 0) for (int i = from; i < to; i++) y[i] = scale * x[i] + shift;
        else for (int i = from; i < to; i++) y[i + d] = scale * x[i] + shift;
    }

    @Override
    float max(float[] x, int from, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = from, to = from + n; i < to; i++) max = Math.max(max, x[i]);
        return max;
    }

    @Override
    void reluBackward(float[] x, int dxToX, float[] dy, int dxToDy, float[] dx, int from, int to) {
        for (int i = from; i < to; i++) dx[i] = x[i + dxToX] > 0f ? dy[i + dxToDy] : 0f;
    }

    @Override
    void gatherStrip(float[] src, int base, int[] index, int at, float[] dst, int d) {
        for (int l = 0; l < NR; l++) dst[d + l] = src[base + index[at + l]];
    }

    // ---- recurrent cells --------------------------------------------------------------------

    @Override
    void sigmoidInPlace(float[] x, int from, int to) {
        for (int i = from; i < to; i++) x[i] = CpuFloatExp.sigmoid(x[i]);
    }

    @Override
    void tanhInPlace(float[] x, int from, int to) {
        for (int i = from; i < to; i++) x[i] = CpuFloatExp.tanh(x[i]);
    }

    // ---- max pooling ------------------------------------------------------------------------

    @Override
    void maxPool2x2(float[] x, int xo, int w, int[] window, float[] windowAt, int count, float[] y, float[] argmax, int yo) {
        CpuPool2d.maxWindows2x2(x, xo, w, window, windowAt, 0, count, y, argmax, yo);
    }

    // ---- backward-filter over a channels-last copy ------------------------------------------

    @Override
    void copyStripRuns(float[] src, int[] start, int at, int rows, int runA, int runB, float[] dst, int d) {
        for (int p = at, end = at + rows; p < end; p++, d += NR) {
            System.arraycopy(src, start[p] + runA, dst, d, L);
            if (runB < 0) Arrays.fill(dst, d + L, d + NR, 0f);
            else System.arraycopy(src, start[p] + runB, dst, d + L, L);
        }
    }

    // ---- batch norm sums --------------------------------------------------------------------

    // ---- GEMM with MR = 8 (the 512-bit layout) ----------------------------------------------

    /** The 8-row tile's accumulator rows: rows 0-5 are the 6-row kernel's, rows 6 and 7 these. */
    private final float[] c6 = new float[NR], c7 = new float[NR];

    /**
     * {@link #microKernel} for MR = 8 (the layout of the 512-bit vector path, and of this path
     * without the Vector API): the same fma sequence per element, in depth order, as two passes
     * over the depth of four rows each, three depth steps per pass as in the 6-row kernel. One
     * pass over all 8 rows (8 accumulator rows, two depth steps) ran 2.5x slower: C2 did not
     * vectorise it.
     */
    private void microKernel8(float[] pa, int ao, float[] pb, int bo, int kc) {
        fourRows(pa, ao, pb, bo, kc, c0, c1, c2, c3);
        fourRows(pa, ao + 4, pb, bo, kc, c4, c5, c6, c7);
    }

    /** Rows r0..r0+3 of an 8-row tile (A values at {@code ai + r}, {@code ai} stepping by 8) into four accumulator rows. */
    private void fourRows(float[] pa, int ao, float[] pb, int bo, int kc, float[] c0, float[] c1, float[] c2, float[] c3) {
        float[] b = bRows;
        Arrays.fill(c0, 0f);
        Arrays.fill(c1, 0f);
        Arrays.fill(c2, 0f);
        Arrays.fill(c3, 0f);
        int ai = ao, bi = bo;
        for (int triplesEnd = ao + (kc - kc % 3) * 8; ai < triplesEnd; ai += 24, bi += 3 * NR) {
            System.arraycopy(pb, bi, b, 0, 3 * NR);
            float a0 = pa[ai], a1 = pa[ai + 1], a2 = pa[ai + 2], a3 = pa[ai + 3];
            float e0 = pa[ai + 8], e1 = pa[ai + 9], e2 = pa[ai + 10], e3 = pa[ai + 11];
            float f0 = pa[ai + 16], f1 = pa[ai + 17], f2 = pa[ai + 18], f3 = pa[ai + 19];
            for (int j = 0; j < NR; j++) {
                float b0 = b[j], b1 = b[NR + j], b2 = b[2 * NR + j];
                c0[j] = Math.fma(f0, b2, Math.fma(e0, b1, Math.fma(a0, b0, c0[j])));
                c1[j] = Math.fma(f1, b2, Math.fma(e1, b1, Math.fma(a1, b0, c1[j])));
                c2[j] = Math.fma(f2, b2, Math.fma(e2, b1, Math.fma(a2, b0, c2[j])));
                c3[j] = Math.fma(f3, b2, Math.fma(e3, b1, Math.fma(a3, b0, c3[j])));
            }
        }
        for (int end = ao + kc * 8; ai < end; ai += 8, bi += NR) {
            System.arraycopy(pb, bi, b, 0, NR);
            float a0 = pa[ai], a1 = pa[ai + 1], a2 = pa[ai + 2], a3 = pa[ai + 3];
            for (int j = 0; j < NR; j++) {
                float bj = b[j];
                c0[j] = Math.fma(a0, bj, c0[j]);
                c1[j] = Math.fma(a1, bj, c1[j]);
                c2[j] = Math.fma(a2, bj, c2[j]);
                c3[j] = Math.fma(a3, bj, c3[j]);
            }
        }
    }

    // ---- Winograd F(2x2, 3x3) transforms ------------------------------------------------------

    @Override
    void winogradInputTiles(float[] src, int base, int[] at, int count, float[] v, int vo, int ps) {
        CpuWinogradConv2d.inputTiles(src, base, at, 0, count, v, vo, ps);
    }

    @Override
    void winogradOutput(float[] m, int mo, int ps, int count, float[] out, int os) {
        CpuWinogradConv2d.output(m, mo, ps, 0, count, out, os);
    }

    // ---- Winograd F(2x2, 5x5) transforms ------------------------------------------------------

    @Override
    void winograd5InputTiles(float[] src, int base, int[] at, int count, float[] v, int vo, int ps) {
        CpuWinogradConv2d.inputTiles5(src, base, at, 0, count, v, vo, ps);
    }

    @Override
    void winograd5Output(float[] m, int mo, int ps, int count, float[] out, int os) {
        CpuWinogradConv2d.output5(m, mo, ps, 0, count, out, os);
    }

    @Override
    void winograd5GradientTiles(float[] d, int qs, int count, float[] v, int ps) {
        CpuWinogradFilter.gradientTiles5(d, qs, 0, count, v, ps);
    }

    @Override
    void winograd4GradientTiles(float[] d, int qs, int count, float[] v, int ps) {
        CpuWinogradFilter.gradientTiles4(d, qs, 0, count, v, ps);
    }

    // ---- Winograd F(4x4, 3x3) output transform ------------------------------------------------

    @Override
    void winograd4Output(float[] m, int mo, int ps, int count, float[] out, int os) {
        CpuWinogradConv2d.output4(m, mo, ps, 0, count, out, os);
    }

    // ---- Winograd F(4x4, 3x3) over channels-last tiles ----------------------------------------

    /** One channel's 4x4 block of dy for {@link #winogradChannelsGradient}; one pair's 18 row values for {@link #winogradChannelsFilterGradient}. */
    private final float[] gradientBlock = new float[18];

    @Override
    void winogradChannelsGradient(float[] dyc, int at, int rowStride, int cout, int rows, int cols, float[] m, int mo) {
        float[] d = gradientBlock;
        for (int co = 0; co < cout; co++) {
            for (int r = 0; r < 4; r++) {
                for (int c = 0; c < 4; c++) d[4 * r + c] = r < rows && c < cols ? dyc[at + r * rowStride + c * cout + co] : 0f;
            }
            CpuChannelWinogradFilter.gradientTile(d, m, mo + co, cout);
        }
    }

    @Override
    void winogradChannelsFilterProducts(float[] v, float[] m, int tiles, int cin, int cout, int p, float[] du, int duo) {
        for (int ci = 0; ci < cin; ci++) {
            for (int co = 0; co < cout; co++) {
                float sum = 0f;
                for (int t = 0; t < tiles; t++) sum = Math.fma(v[(36 * t + p) * cin + ci], m[(36 * t + p) * cout + co], sum);
                du[duo + ci * cout + co] = sum;
            }
        }
    }

    @Override
    void winogradChannelsFilterGradient(float[] du, int cin, int cout, int ci0, int ci1, float[] dwt) {
        for (int ci = ci0; ci < ci1; ci++) {
            for (int co = 0; co < cout; co++) {
                CpuChannelWinogradFilter.pairGradient(du, ci * cout + co, cin * cout, dwt, ci * 9 * cout + co, cout, gradientBlock);
            }
        }
    }

    @Override
    void winogradChannelsFilters(float[] wt, int cin, int cout, float[][] u) {
        for (int ci = 0; ci < cin; ci++) {
            for (int co = 0; co < cout; co++) CpuChannelWinograd.filterPair(wt, ci * 9 * cout + co, cout, u, ci * cout + co);
        }
    }

    @Override
    void winogradChannelsInput(float[] xp, int at, int rowStride, int channels, float[] v, int vo) {
        CpuChannelWinograd.inputTile(xp, at, rowStride, channels, v, vo);
    }

    @Override
    void winogradChannelsProducts(float[] v, int vo, int tiles, int cin, float[][] u, int cout, float[] m, int mo) {
        for (int t = 0; t < tiles; t++) {
            for (int p = 0; p < 36; p++) {
                float[] up = u[p];
                int vi = vo + (36 * t + p) * cin, mi = mo + (36 * t + p) * cout;
                for (int co = 0; co < cout; co++) {
                    float sum = 0f;
                    for (int ci = 0; ci < cin; ci++) sum = Math.fma(v[vi + ci], up[ci * cout + co], sum);
                    m[mi + co] = sum;
                }
            }
        }
    }

    @Override
    void winogradChannelsOutput(float[] m, int mo, int cout, float[] bias, boolean relu, int rows, int cols, float[] out, int oo,
                                int rowStride) {
        CpuChannelWinograd.outputTile(m, mo, cout, cols);
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < cols; b++) {
                int from = mo + (6 * r + b) * cout, to = oo + r * rowStride + b * cout;
                for (int co = 0; co < cout; co++) {
                    float y = m[from + co];
                    if (bias != null) y += bias[co];
                    out[to + co] = relu ? Math.max(y, 0f) : y;
                }
            }
        }
    }

    // ---- batch norm backward through a relu -------------------------------------------------

    // ---- direct convolution over output channels --------------------------------------------

    @Override
    void stridedBackwardRow(float[] dy, int first, int second, int plane, int cout, float[] w, int wFirst, int wSecond,
                            int width, int channels, float[] out, int o) {
        stridedBackwardRowLoops(dy, first, second, plane, cout, w, wFirst, wSecond, width, channels, out, o);
    }

    /** {@link #stridedBackwardRow} as scalar loops, one output at a time (the vector path's shapes without a kernel of their own). */
    static void stridedBackwardRowLoops(float[] dy, int first, int second, int plane, int cout, float[] w, int wFirst, int wSecond,
                                        int width, int channels, float[] out, int o) {
        int wo = (width + 1) / 2, parts = second < 0 ? 1 : 2;
        for (int col = 0; col < width; col++) {
            for (int c = 0; c < channels; c++) {
                float acc = 0f;
                for (int co = 0; co < cout; co++) {
                    for (int part = 0; part < parts; part++) {
                        int d = (part == 0 ? first : second) + co * plane;
                        int k = (part == 0 ? wFirst : wSecond) + co * 9 * channels + c;
                        for (int kj = 0; kj < 3; kj++) {
                            int twice = col + 1 - kj; // 2j
                            if ((twice & 1) != 0 || twice < 0 || twice / 2 >= wo) continue;
                            acc = Math.fma(dy[d + twice / 2], w[k + kj * channels], acc);
                        }
                    }
                }
                out[o + col * channels + c] = acc;
            }
        }
    }

    /** The vector kernels' fmas in their order, one term at a time over the tile. */
    @Override
    void channelConvBlock(float[] xp, int at, int[] off, int k, float[] w, int wo, int vectors, int step, boolean taps3, float[] tile) {
        int vl = vectors * LANES, pixels = CpuChannelVectorConv2d.pixels(vectors);
        Arrays.fill(tile, 0, pixels * vl, 0f);
        for (int r = 0, wi = wo; r < k; r++, wi += vl) {
            int i = at + off[r];
            for (int p = 0; p < pixels; p++) {
                float xv = xp[i + p * step];
                int t = p * vl;
                for (int c = 0; c < vl; c++) tile[t + c] = Math.fma(xv, w[wi + c], tile[t + c]);
            }
        }
    }

    /** {@link #channelConvBlock}'s fmas with the padding taps left out. */
    @Override
    void channelConvRow(float[] x, int at, int[] off, int k, float[] w, int wo, int vectors, int step, float[] tile) {
        int vl = vectors * LANES, pixels = CpuChannelVectorConv2d.pixels(vectors);
        boolean rightBorder = vectors != 2 || step == 1;
        Arrays.fill(tile, 0, pixels * vl, 0f);
        for (int r = 0, wi = wo; r < k; r++, wi += vl) {
            int kj = r % 3, i = at + off[r] - 1;
            for (int p = 0; p < pixels; p++) {
                if ((p == 0 && kj == 0) || (rightBorder && p == pixels - 1 && kj == 2)) continue;
                float xv = x[i + p * step];
                int t = p * vl;
                for (int c = 0; c < vl; c++) tile[t + c] = Math.fma(xv, w[wi + c], tile[t + c]);
            }
        }
    }

    @Override
    void channelConvStore(float[] tile, int vectors, int count, float[] bias, int b0, boolean relu, float[] out, int o, int stride) {
        int vl = vectors * LANES;
        for (int q = 0; q < count; q++) {
            int src = q * vl, dst = o + q * stride;
            if (bias == null) {
                if (relu) for (int c = 0; c < vl; c++) out[dst + c] = Math.max(tile[src + c], 0f);
                else System.arraycopy(tile, src, out, dst, vl);
            } else {
                if (relu) for (int c = 0; c < vl; c++) out[dst + c] = Math.max(tile[src + c] + bias[b0 + c], 0f);
                else for (int c = 0; c < vl; c++) out[dst + c] = tile[src + c] + bias[b0 + c];
            }
        }
    }

    @Override
    void transpose(float[] src, int s, int srcStride, int rows, int cols, float[] dst, int d, int dstStride) {
        transposeLoops(src, s, srcStride, 0, rows, 0, cols, dst, d, dstStride);
    }

    /** {@link #transpose} of rows [q0, q1) and columns [c0, c1) as scalar loops (the vector path's rest past its whole blocks). */
    static void transposeLoops(float[] src, int s, int srcStride, int q0, int q1, int c0, int c1, float[] dst, int d, int dstStride) {
        for (int c = c0; c < c1; c++) {
            int to = d + c * dstStride;
            for (int q = q0; q < q1; q++) dst[to + q] = src[s + q * srcStride + c];
        }
    }

    // ---- batch norm over a channel's rows ---------------------------------------------------

    @Override
    void normChannelStatistics(float[] x, int base, int rows, int stride, int inner, float shift, double[] acc) {
        int p = NORM_PARTIALS, whole = inner / p * p;
        double s = shift;
        for (int r = 0, from = base; r < rows; r++, from += stride) {
            for (int i = from; i < from + whole; i += p) {
                for (int l = 0; l < p; l++) {
                    double d = x[i + l] - s;
                    acc[l] += d;
                    acc[p + l] += d * d;
                }
            }
        }
        if (whole == inner) return;
        for (int r = 0, i = base + whole; r < rows; r++, i += stride) normStatisticsTail(x, i, inner - whole, shift, acc);
    }

    /** One row's tail group of {@link #normChannelStatistics}: {@code count} values, the missing lanes +0. */
    static void normStatisticsTail(float[] x, int i, int count, float shift, double[] acc) {
        int p = NORM_PARTIALS;
        for (int l = 0; l < p; l++) {
            double d = (l < count ? x[i + l] : shift) - (double) shift;
            acc[l] += d;
            acc[p + l] += d * d;
        }
    }

    @Override
    void normChannelBackwardSums(float[] x, float[] dy, float[] reluOutput, int base, int rows, int stride, int inner,
                                 float mean, double[] acc) {
        int p = NORM_PARTIALS, whole = inner / p * p;
        for (int r = 0, from = base; r < rows; r++, from += stride) {
            for (int i = from; i < from + whole; i += p) {
                for (int l = 0; l < p; l++) {
                    float g = reluOutput == null || reluOutput[i + l] > 0f ? dy[i + l] : 0f;
                    acc[l] += g;
                    acc[p + l] += (double) g * (x[i + l] - mean);
                }
            }
        }
        if (whole == inner) return;
        for (int r = 0, i = base + whole; r < rows; r++, i += stride) normBackwardTail(x, dy, reluOutput, i, inner - whole, mean, acc);
    }

    /** One row's tail group of {@link #normChannelBackwardSums}: {@code count} values, the missing lanes +0 times +0. */
    static void normBackwardTail(float[] x, float[] dy, float[] reluOutput, int i, int count, float mean, double[] acc) {
        int p = NORM_PARTIALS;
        for (int l = 0; l < p; l++) {
            boolean in = l < count;
            float g = in && (reluOutput == null || reluOutput[i + l] > 0f) ? dy[i + l] : 0f;
            acc[l] += g;
            acc[p + l] += (double) g * ((in ? x[i + l] : mean) - mean);
        }
    }

    @Override
    void normChannelNormalize(float[] x, float[] y, int base, int rows, int stride, int inner, float mean, float scale, float shift,
                              boolean relu) {
        for (int r = 0, from = base; r < rows; r++, from += stride) {
            if (relu) for (int i = from; i < from + inner; i++) y[i] = Math.max((x[i] - mean) * scale + shift, 0f);
            else for (int i = from; i < from + inner; i++) y[i] = (x[i] - mean) * scale + shift;
        }
    }

    @Override
    void normChannelDx(float[] x, float[] dy, float[] reluOutput, float[] dx, int base, int rows, int stride, int inner,
                       float mean, float k, float a, float b) {
        for (int r = 0, from = base; r < rows; r++, from += stride) {
            if (reluOutput == null) for (int i = from; i < from + inner; i++) dx[i] = k * (dy[i] - a - (x[i] - mean) * b);
            else for (int i = from; i < from + inner; i++) dx[i] = k * ((reluOutput[i] > 0f ? dy[i] : 0f) - a - (x[i] - mean) * b);
        }
    }

    // ---- backward-filter over channels-last input: register tiles of dw^T --------------------

    /** The accumulator rows of {@link #channelFilterTile} (one array a row, so that its lane loop vectorises) and one pixel's x groups; made on first use. */
    private float[][] filterRows;
    private float[] filterX;

    /**
     * The vector kernels' fmas in their order: per pixel, the tile's lane groups of x copied into
     * one row, then per output channel one fma of that row into the channel's accumulator row.
     */
    @Override
    void channelFilterTile(float[] xc, int[] xStart, int[] groupStart, int g0, int groups, float[] dy, int[] dyStart, int[] rows, int d0, int d1, float[] tile) {
        int count = CpuChannelVectorFilter.rows(groups), width = groups * L;
        if (filterRows == null) {
            filterRows = new float[16][3 * L];
            filterX = new float[3 * L];
        }
        float[][] acc = filterRows;
        float[] xr = filterX;
        for (int r = 0; r < count; r++) Arrays.fill(acc[r], 0, width, 0f);
        for (int d = d0; d < d1; d++) {
            int i = xStart[d], j = dyStart[d];
            for (int g = 0; g < groups; g++) System.arraycopy(xc, i + groupStart[g0 + g], xr, g * L, L);
            for (int r = 0; r < count; r++) {
                float b = dy[j + rows[r]];
                float[] a = acc[r];
                for (int l = 0; l < width; l++) a[l] = Math.fma(xr[l], b, a[l]);
            }
        }
        for (int r = 0; r < count; r++) System.arraycopy(acc[r], 0, tile, r * width, width);
    }

    // ---- direct convolution over gathered taps ----------------------------------------------

    @Override
    void directTapsFilter(float[] dy, int dyo, float[] col, int colOff, int p, int k, float[] acc, int accOff) {
        for (int r = 0; r < k; r++) {
            int a = accOff + r * L, t = colOff + r * p;
            for (int j = 0; j < p; j++) acc[a + j % L] = Math.fma(dy[dyo + j], col[t + j], acc[a + j % L]);
        }
    }

}
