package org.neurite.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.backend.Pool2dGeometry;
import org.neurite.backend.UnaryOp;
import org.neurite.backend.cpu.CpuBackend;
import org.neurite.backend.opencl.Twins.Twin;
import org.neurite.tensor.Shape;

/**
 * Every op of the OpenCL backend against the CPU reference on seeded random inputs, through the
 * {@link Twins} harness. Tolerances, relative + absolute ({@code tol * (1 + |cpu|)}):
 * <ul>
 *   <li>{@link #EXACT} (0) for data movement, dropout masks, max pooling and its argmax, and
 *       element-wise ops without rounding choices (relu, negate, square, +, -, *, /, max, min);</li>
 *   <li>{@link #TRANSCENDENTAL} (2e-6) where the device's float exp/tanh (a few ulp) meet the
 *       CPU's double-rounded ones;</li>
 *   <li>{@link #SUMS} (2e-5) for results that add many products (GEMM, convolution, pooling
 *       averages, normalisation, softmax, optimiser steps), whose order differs between a tiled
 *       device kernel and the CPU's blocked loops.</li>
 * </ul>
 * Outputs start stale (7s, or NaN where "not read" is the point) so overwriting is checked too.
 */
class ClCpuParityTest {
    static final double EXACT = 0;
    static final double TRANSCENDENTAL = 2e-6;
    static final double SUMS = 2e-5;

    private static Backend cpu;
    private Twins twins;

    @BeforeAll static void start() { cpu = new CpuBackend(1); }

    @AfterAll static void stop() { cpu.close(); }

    @BeforeEach void harness() { twins = new Twins(cpu, OpenClTests.backend(), 20240531L); }

    // ---- memory -------------------------------------------------------------------------

    @Test void uploadDownloadFillAndCopyAtOffsets() {
        Backend cl = twins.cl;
        var t = cl.allocate(Shape.of(10));
        assertEquals(0f, cl.download(t)[9], "allocate zero-fills");
        cl.upload(new float[] {9, 1, 2, 3, 9}, 1, t, 4, 3);
        float[] part = new float[6];
        cl.download(t, 3, part, 1, 4);
        org.junit.jupiter.api.Assertions.assertArrayEquals(new float[] {0, 0, 1, 2, 3, 0}, part);

        Twin x = twins.random(Shape.of(40), -1, 1), y = twins.stale(Shape.of(50));
        twins.both((b, s) -> {
            b.copy(s.of(x), 5, s.of(y), 10, 30);
            b.copy(s.of(y), 10, s.of(y), 14, 20); // overlapping, forwards
            b.copy(s.of(y), 20, s.of(y), 16, 20); // overlapping, backwards
            b.fill(s.of(x), -2.5f);
        });
        twins.assertClose("copy and overlapping copies", y, EXACT);
        twins.assertClose("fill", x, EXACT);
    }

    // ---- GEMM ---------------------------------------------------------------------------

    /** Every SGEMM kernel (whatever the device's tuning picked), every transposition, offsets, padded ld, batches. */
    @Test void gemmEveryKernelAndTransposeWithOffsetsLeadingDimensionsAndBatches() {
        for (ClGemm.Variant variant : ClGemm.Variant.values()) {
            withGemm(variant, () -> {
                int[][] sizes = {{1, 1, 1}, {7, 5, 3}, {33, 17, 65}, {70, 90, 31}, {129, 64, 8}, {5, 100, 0},
                        {45, 19, 300}, {64, 24, 257}}; // K over several of the blocked kernel's 128-deep slices, partial row blocks
                for (int[] size : sizes) gemmCase(variant, size[0], size[1], size[2]);
            });
        }
    }

    private void gemmCase(ClGemm.Variant variant, int m, int n, int k) {
        for (int transposes = 0; transposes < 4; transposes++) {
            boolean ta = (transposes & 1) != 0, tb = (transposes & 2) != 0;
            int batch = transposes == 3 ? 3 : transposes == 1 ? 2 : 1;
            int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
            int lda = aCols + 3, ldb = bCols + 1, ldc = n + 2;
            int strideA = aRows * lda + 5, strideB = bRows * ldb + 2, strideC = m * ldc + 4;
            Twin a = twins.random(Shape.of(7 + batch * strideA), -1, 1);
            Twin b = twins.random(Shape.of(3 + batch * strideB), -1, 1);
            Twin c = twins.random(Shape.of(2 + batch * strideC), -1, 1);
            Twin cNan = twins.filled(Shape.of(2 + batch * strideC), Float.NaN);
            float alpha = 0.75f, beta = transposes == 2 ? 0f : -1.5f;
            twins.both((be, s) -> {
                be.gemm(ta, tb, m, n, k, alpha, s.of(a), 7, lda, s.of(b), 3, ldb, beta, s.of(c), 2, ldc, batch, strideA, strideB, strideC);
                // beta == 0: C is not read, so NaN there must not leak into the result.
                be.gemm(ta, tb, m, n, k, 1f, s.of(a), 7, lda, s.of(b), 3, ldb, 0f, s.of(cNan), 2, ldc, batch, strideA, strideB, strideC);
            });
            String what = variant + " gemm m=" + m + " n=" + n + " k=" + k + " transA=" + ta + " transB=" + tb + " batch=" + batch;
            twins.assertClose(what, c, SUMS);
            twins.assertClose(what + " (beta 0 over NaN)", cNan, SUMS);
        }
    }

    /** Runs {@code body} with every product on the OpenCL side going through {@code variant}. */
    private void withGemm(ClGemm.Variant variant, Runnable body) {
        ClGemm gemm = ((ClBackend) twins.cl).gemmKernels();
        ClGemm.Choice tuned = gemm.choice();
        gemm.use(new ClGemm.Choice(variant, variant));
        try {
            body.run();
        } finally {
            gemm.use(tuned);
        }
    }

    // ---- convolution and pooling --------------------------------------------------------

    /** batch, in, h, w, out, kh, kw, stride h/w, pad h/w, dilation h/w, groups. */
    private static final int[][] CONVOLUTIONS = {
            {2, 3, 9, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1},
            {3, 4, 11, 10, 6, 3, 2, 2, 1, 1, 0, 1, 2, 2},
            {2, 6, 7, 7, 6, 5, 5, 1, 1, 2, 2, 1, 1, 3},
            {2, 4, 6, 5, 8, 1, 1, 1, 1, 0, 0, 1, 1, 1},   // pointwise: x is its own column matrix
            {1, 4, 6, 5, 4, 1, 1, 1, 1, 0, 0, 1, 1, 2},   // pointwise, grouped
            {2, 2, 10, 9, 3, 3, 3, 3, 2, 2, 1, 2, 1, 1},
    };

    @Test void convolutionForwardAndBothBackwardsWithEverySgemmKernel() {
        for (ClGemm.Variant variant : ClGemm.Variant.values()) withGemm(variant, () -> convolutions(variant));
    }

    private void convolutions(ClGemm.Variant variant) {
        for (int[] c : CONVOLUTIONS) {
            Conv2dGeometry g = new Conv2dGeometry(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13]);
            for (boolean withBias : new boolean[] {true, false}) {
                Shape xs = Shape.of(g.batch(), g.inChannels(), g.height(), g.width());
                Shape ys = Shape.of(g.batch(), g.outChannels(), g.outHeight(), g.outWidth());
                Shape ws = Shape.of(g.outChannels(), g.inChannelsPerGroup(), g.kernelH(), g.kernelW());
                Twin x = twins.random(xs, -1, 1), w = twins.random(ws, -1, 1), dy = twins.random(ys, -1, 1);
                Twin bias = withBias ? twins.random(Shape.of(g.outChannels()), -1, 1) : null;
                Twin y = twins.stale(ys), dx = twins.stale(xs), dw = twins.stale(ws);
                Twin db = withBias ? twins.stale(Shape.of(g.outChannels())) : null;
                twins.both((b, s) -> {
                    b.conv2dForward(g, s.of(x), s.of(w), s.of(bias), s.of(y));
                    b.conv2dBackwardData(g, s.of(dy), s.of(w), s.of(dx));
                    b.conv2dBackwardFilter(g, s.of(x), s.of(dy), s.of(dw), s.of(db));
                });
                String what = variant + " " + g + " bias=" + withBias;
                twins.assertClose(what + " y", y, SUMS);
                twins.assertClose(what + " dx", dx, SUMS);
                twins.assertClose(what + " dw", dw, SUMS);
                if (withBias) twins.assertClose(what + " dbias", db, SUMS);
            }
        }
    }

    /** Batches larger than the column budget run in chunks of samples; the results must not change. */
    @Test void convolutionInChunksOfSamples() {
        Conv2dGeometry g = new Conv2dGeometry(5, 3, 8, 7, 4, 3, 3, 1, 2, 1, 0, 1, 1, 1);
        int perSample = g.inChannels() * 9 * g.outHeight() * g.outWidth();
        try (ClBackend chunked = new ClBackend(OpenClTests.device(), ClProgramCache.standard(), 2L * perSample, Long.MAX_VALUE)) {
            Twins small = new Twins(cpu, chunked, 7);
            Shape xs = Shape.of(5, 3, 8, 7), ys = Shape.of(5, 4, g.outHeight(), g.outWidth()), ws = Shape.of(4, 3, 3, 3);
            Twin x = small.random(xs, -1, 1), w = small.random(ws, -1, 1), bias = small.random(Shape.of(4), -1, 1), dy = small.random(ys, -1, 1);
            Twin y = small.stale(ys), dx = small.stale(xs), dw = small.stale(ws), db = small.stale(Shape.of(4));
            small.both((b, s) -> {
                b.conv2dForward(g, s.of(x), s.of(w), s.of(bias), s.of(y));
                b.conv2dBackwardData(g, s.of(dy), s.of(w), s.of(dx));
                b.conv2dBackwardFilter(g, s.of(x), s.of(dy), s.of(dw), s.of(db));
            });
            small.assertClose("chunked y", y, SUMS);
            small.assertClose("chunked dx", dx, SUMS);
            small.assertClose("chunked dw (accumulated over chunks)", dw, SUMS);
            small.assertClose("chunked dbias", db, SUMS);
        }
    }

    /** batch, channels, h, w, kh, kw, stride h/w, pad h/w, ceil, countIncludePad. */
    private static final int[][] POOLS = {
            {2, 3, 8, 8, 2, 2, 2, 2, 0, 0, 0, 1},
            {1, 2, 7, 9, 3, 3, 2, 2, 1, 1, 0, 1},   // overlapping windows with padding
            {2, 2, 7, 7, 3, 2, 2, 3, 1, 1, 1, 0},   // ceil mode, padding not counted
            {1, 3, 5, 6, 5, 6, 1, 1, 2, 3, 0, 0},   // global window plus padding
    };

    @Test void maxAndAveragePoolingForwardAndBackward() {
        for (int[] p : POOLS) {
            Pool2dGeometry g = new Pool2dGeometry(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10] == 1, p[11] == 1);
            Shape xs = Shape.of(g.batch(), g.channels(), g.height(), g.width()), ys = Shape.of(g.batch(), g.channels(), g.outHeight(), g.outWidth());
            Twin x = twins.random(xs, -1, 1), dy = twins.random(ys, -1, 1);
            Twin yMax = twins.stale(ys), argmax = twins.stale(ys), dxMax = twins.stale(xs), yAvg = twins.stale(ys), dxAvg = twins.stale(xs);
            twins.both((b, s) -> {
                b.maxPool2dForward(g, s.of(x), s.of(yMax), s.of(argmax));
                b.maxPool2dBackward(g, s.of(dy), s.of(argmax), s.of(dxMax));
                b.avgPool2dForward(g, s.of(x), s.of(yAvg));
                b.avgPool2dBackward(g, s.of(dy), s.of(dxAvg));
            });
            twins.assertClose(g + " max y", yMax, EXACT);
            twins.assertClose(g + " argmax", argmax, EXACT);
            twins.assertClose(g + " max dx", dxMax, SUMS);
            twins.assertClose(g + " avg y", yAvg, SUMS);
            twins.assertClose(g + " avg dx", dxAvg, SUMS);
        }
    }

    // ---- element-wise -------------------------------------------------------------------

    @Test void unaryOpsAndTheirDerivativesOnSlices() {
        for (UnaryOp op : UnaryOp.values()) {
            double tol = switch (op) {
                case RELU, NEGATE, SQUARE -> EXACT;
                case SIGMOID, TANH, EXP, SOFTPLUS -> TRANSCENDENTAL;
            };
            Twin x = twins.random(Shape.of(300), -4, 4), dy = twins.random(Shape.of(300), -1, 1);
            Twin y = twins.stale(Shape.of(310)), dx = twins.stale(Shape.of(305));
            twins.both((b, s) -> {
                b.unary(op, s.of(x), 20, s.of(y), 3, 250);
                b.unaryBackward(op, s.of(x), 20, s.of(y), 3, s.of(dy), 40, s.of(dx), 1, 250);
                b.unary(op, s.of(x), 0, s.of(x), 0, 10); // in place
            });
            twins.assertClose(op + " y", y, tol);
            twins.assertClose(op + " dx", dx, tol);
            twins.assertClose(op + " in place", x, tol);
        }
    }

    @Test void binaryOpsOnSlicesAndInPlace() {
        for (BinaryOp op : BinaryOp.values()) {
            Twin a = twins.random(Shape.of(200), -2, 2), b = twins.random(Shape.of(200), 0.5, 2), out = twins.stale(Shape.of(150));
            twins.both((be, s) -> {
                be.binary(op, s.of(a), 10, s.of(b), 50, s.of(out), 5, 140);
                be.binary(op, s.of(a), 0, s.of(b), 0, s.of(a), 0, 200);
            });
            twins.assertClose(op + " slices", out, EXACT);
            twins.assertClose(op + " in place", a, EXACT);
        }
    }

    @Test void blockCopiesPaddingAndCropping() {
        Twin src = twins.random(Shape.of(6, 4, 5), -1, 1), dst = twins.stale(Shape.of(4, 6, 5)), self = twins.random(Shape.of(60), -1, 1);
        Twin x = twins.random(Shape.of(3, 4, 5), -1, 1), padded = twins.stale(Shape.of(3, 7, 9)), dx = twins.stale(Shape.of(3, 4, 5));
        twins.both((b, s) -> {
            b.copyBlocks(s.of(src), 0, 20, s.of(dst), 0, 30, 20, 4);   // concat into the first 4 of 6 rows
            b.copyBlocks(s.of(src), 5, 20, s.of(dst), 22, 30, 5, 4);
            b.copyBlocks(s.of(self), 0, 7, s.of(self), 3, 9, 5, 6);    // within one tensor, overlapping: block by block
            b.pad2d(s.of(x), s.of(padded), 3, 4, 5, 2, 1, 7, 9);
            b.crop2d(s.of(padded), s.of(dx), 3, 4, 5, 2, 1, 7, 9);
        });
        twins.assertClose("copyBlocks", dst, EXACT);
        twins.assertClose("copyBlocks within a tensor", self, EXACT);
        twins.assertClose("pad2d", padded, EXACT);
        twins.assertClose("crop2d", dx, EXACT);
    }

    @Test void channelBroadcastSumAxpbyAndSumOfSquares() {
        for (BinaryOp op : BinaryOp.values()) {
            Twin x = twins.random(Shape.of(3, 5, 7), -2, 2), v = twins.random(Shape.of(5), 0.5, 2), out = twins.stale(Shape.of(3, 5, 7));
            twins.both((b, s) -> b.channelBroadcast(op, s.of(x), s.of(v), s.of(out), 3, 5, 7));
            twins.assertClose("channelBroadcast " + op, out, EXACT);
        }
        Twin x = twins.random(Shape.of(4, 6, 300), -1, 1), sums = twins.random(Shape.of(6), -1, 1), fresh = twins.filled(Shape.of(6), Float.NaN);
        Twin y = twins.random(Shape.of(4, 6, 300), -1, 1), z = twins.filled(Shape.of(4, 6, 300), Float.NaN);
        twins.both((b, s) -> {
            b.channelSum(s.of(x), s.of(sums), 4, 6, 300, 0.5f);
            b.channelSum(s.of(x), s.of(fresh), 4, 6, 300, 0f);
            b.axpby(2f, s.of(x), -0.5f, s.of(y));
            b.axpby(3f, s.of(x), 0f, s.of(z));
        });
        twins.assertClose("channelSum beta 0.5", sums, SUMS);
        twins.assertClose("channelSum beta 0 over NaN", fresh, SUMS);
        twins.assertClose("axpby", y, EXACT);
        twins.assertClose("axpby beta 0 over NaN", z, EXACT);
        for (int n : new int[] {1, 127, 100_003}) {
            Twin big = twins.random(Shape.of(n), -1, 1);
            double[] sumsq = twins.bothValues((b, s) -> b.sumOfSquares(s.of(big)));
            assertEquals(sumsq[0], sumsq[1], 1e-9 * (1 + sumsq[0]), "sumOfSquares of " + n);
        }
    }

    // ---- normalisation ------------------------------------------------------------------

    @Test void batchNormTrainingEvaluationAndBackward() {
        int outer = 4, channels = 3, inner = 50;
        Shape xs = Shape.of(outer, channels, inner), cs = Shape.of(channels);
        Twin x = twins.random(xs, -2, 3), gamma = twins.random(cs, 0.5, 1.5), beta = twins.random(cs, -1, 1);
        Twin rm = twins.random(cs, -0.5, 0.5), rv = twins.random(cs, 0.5, 2), dy = twins.random(xs, -1, 1);
        Twin y = twins.stale(xs), sm = twins.stale(cs), si = twins.stale(cs), dx = twins.stale(xs), dg = twins.stale(cs), dbeta = twins.stale(cs);
        Twin yEval = twins.stale(xs), dxOnly = twins.stale(xs), inPlace = twins.random(xs, -1, 1);
        twins.both((b, s) -> {
            b.batchNormForward(s.of(x), s.of(y), s.of(gamma), s.of(beta), s.of(rm), s.of(rv), s.of(sm), s.of(si), outer, channels, inner, 1e-5f, 0.1f, true);
            b.batchNormBackward(s.of(x), s.of(dy), s.of(gamma), s.of(sm), s.of(si), s.of(dx), s.of(dg), s.of(dbeta), outer, channels, inner);
            b.batchNormBackward(s.of(x), s.of(dy), s.of(gamma), s.of(sm), s.of(si), s.of(dxOnly), null, null, outer, channels, inner);
            b.batchNormForward(s.of(x), s.of(yEval), s.of(gamma), s.of(beta), s.of(rm), s.of(rv), null, null, outer, channels, inner, 1e-5f, 0f, false);
            b.batchNormForward(s.of(inPlace), s.of(inPlace), s.of(gamma), s.of(beta), s.of(rm), s.of(rv), s.of(sm), s.of(si), outer, channels, inner, 1e-3f, 0.5f, true);
        });
        for (var e : new Object[][] {{"y", y}, {"saveMean", sm}, {"saveInvStd", si}, {"running mean", rm}, {"running var", rv},
                {"dx", dx}, {"dgamma", dg}, {"dbeta", dbeta}, {"evaluation", yEval}, {"dx without dgamma, dbeta", dxOnly}, {"in place", inPlace}})
            twins.assertClose("batch norm " + e[0], (Twin) e[1], SUMS);
    }

    @Test void localResponseNormForwardAndBackward() {
        for (int size : new int[] {5, 4, 9}) {
            Shape xs = Shape.of(2, 6, 13);
            Twin x = twins.random(xs, -2, 2), dy = twins.random(xs, -1, 1);
            Twin y = twins.stale(xs), scale = twins.stale(xs), dx = twins.stale(xs);
            float beta = size == 4 ? 0.6f : 0.75f;
            twins.both((b, s) -> {
                b.lrnForward(s.of(x), s.of(y), s.of(scale), 2, 6, 13, size, 1e-2f, beta, 2f);
                b.lrnBackward(s.of(x), s.of(y), s.of(scale), s.of(dy), s.of(dx), 2, 6, 13, size, 1e-2f, beta, 2f);
            });
            twins.assertClose("lrn size " + size + " y", y, TRANSCENDENTAL);
            twins.assertClose("lrn size " + size + " scale", scale, TRANSCENDENTAL);
            twins.assertClose("lrn size " + size + " dx", dx, SUMS);
        }
    }

    // ---- recurrent cells ----------------------------------------------------------------

    @Test void lstmAndGruStepsOnTimeSlices() {
        int batch = 3, hidden = 5, state = batch * hidden;
        Twin gates = twins.random(Shape.of(4 * state + 9), -3, 3), cPrev = twins.random(Shape.of(state + 4), -1, 1);
        Twin c = twins.stale(Shape.of(state + 2)), h = twins.stale(Shape.of(state + 6));
        Twin dh = twins.random(Shape.of(state + 1), -1, 1), dc = twins.random(Shape.of(state + 3), -1, 1), dGates = twins.stale(Shape.of(4 * state + 5));
        twins.both((b, s) -> {
            b.lstmCellForward(s.of(gates), 9, s.of(cPrev), 4, s.of(c), 2, s.of(h), 6, batch, hidden);
            b.lstmCellBackward(s.of(gates), 9, s.of(cPrev), 4, s.of(c), 2, s.of(dh), 1, s.of(dc), 3, s.of(dGates), 5, batch, hidden);
            b.lstmCellForward(s.of(gates), 9, s.of(cPrev), 4, s.of(cPrev), 4, s.of(h), 6, batch, hidden); // c in place of cPrev
        });
        for (var e : new Object[][] {{"gate activations", gates}, {"c", c}, {"h", h}, {"dGates", dGates}, {"dc", dc}, {"c in place", cPrev}})
            twins.assertClose("lstm " + e[0], (Twin) e[1], TRANSCENDENTAL);

        Twin gi = twins.random(Shape.of(3 * state + 2), -2, 2), gh = twins.random(Shape.of(3 * state + 1), -2, 2);
        Twin hPrev = twins.random(Shape.of(state + 3), -1, 1), hOut = twins.stale(Shape.of(state)), saved = twins.stale(Shape.of(3 * state + 4));
        Twin dGi = twins.stale(Shape.of(3 * state)), dGh = twins.stale(Shape.of(3 * state + 7)), dhPrev = twins.stale(Shape.of(state + 2));
        twins.both((b, s) -> {
            b.gruCellForward(s.of(gi), 2, s.of(gh), 1, s.of(hPrev), 3, s.of(hOut), 0, s.of(saved), 4, batch, hidden);
            b.gruCellBackward(s.of(saved), 4, s.of(gh), 1, s.of(hPrev), 3, s.of(dh), 1, s.of(dGi), 0, s.of(dGh), 7, s.of(dhPrev), 2, batch, hidden);
        });
        for (var e : new Object[][] {{"h", hOut}, {"saved r, z, n", saved}, {"dGi", dGi}, {"dGh", dGh}, {"dhPrev", dhPrev}})
            twins.assertClose("gru " + e[0], (Twin) e[1], TRANSCENDENTAL);
    }

    // ---- embeddings, classification, regularisation, optimisers --------------------------

    @Test void embeddingGatherAndScatterAddWithRepeatedIndices() {
        Twin table = twins.random(Shape.of(9, 6), -1, 1), indices = twins.of(Shape.of(5), new float[] {3, 0, 3, 8, 3});
        Twin out = twins.stale(Shape.of(5, 6)), dOut = twins.random(Shape.of(5, 6), -1, 1), dTable = twins.random(Shape.of(9, 6), -1, 1);
        twins.both((b, s) -> {
            b.gatherRows(s.of(table), s.of(indices), s.of(out), 5, 6);
            b.scatterAddRows(s.of(dOut), s.of(indices), s.of(dTable), 5, 6);
        });
        twins.assertClose("gather", out, EXACT);
        twins.assertClose("scatter-add", dTable, SUMS);
    }

    @Test void softmaxItsBackwardAndCrossEntropy() {
        for (int[] rc : new int[][] {{4, 10}, {3, 300}, {1, 1}}) {
            int rows = rc[0], cols = rc[1];
            Twin x = twins.random(Shape.of(rows, cols), -30, 30), dy = twins.random(Shape.of(rows, cols), -1, 1);
            Twin y = twins.stale(Shape.of(rows, cols)), dx = twins.stale(Shape.of(rows, cols)), dLogits = twins.stale(Shape.of(rows, cols));
            Twin labels = twins.indices(rows, cols);
            twins.both((b, s) -> {
                b.softmax(s.of(x), s.of(y), rows, cols);
                b.softmaxBackward(s.of(y), s.of(dy), s.of(dx), rows, cols);
            });
            double[] loss = twins.bothValues((b, s) -> b.softmaxCrossEntropy(s.of(x), s.of(labels), s.of(dLogits), rows, cols, 0.25f));
            String what = rows + " x " + cols;
            twins.assertClose(what + " softmax", y, SUMS);
            twins.assertClose(what + " softmax backward", dx, SUMS);
            twins.assertClose(what + " dLogits", dLogits, SUMS);
            assertEquals(loss[0], loss[1], SUMS * (1 + Math.abs(loss[0])), what + " summed loss");
        }
    }

    @Test void dropoutMasksAreIdenticalBitForBit() {
        for (float p : new float[] {0f, 0.3f, 0.5f, 1f}) {
            Twin x = twins.random(Shape.of(1000), -1, 1), mask = twins.stale(Shape.of(1000)), y = twins.stale(Shape.of(1000));
            twins.both((b, s) -> b.dropoutForward(s.of(x), s.of(mask), s.of(y), p, 0x5EED_1234_ABCDL));
            twins.assertClose("dropout p=" + p + " mask", mask, EXACT);
            twins.assertClose("dropout p=" + p + " y", y, EXACT);
        }
    }

    @Test void sgdAndAdamStepsMatchOverSeveralSteps() {
        Shape shape = Shape.of(257);
        Twin plain = twins.random(shape, -1, 1), momentum = twins.random(shape, -1, 1), nesterov = twins.random(shape, -1, 1);
        Twin adam = twins.random(shape, -1, 1);
        Twin v1 = twins.filled(shape, 0f), v2 = twins.filled(shape, 0f), m = twins.filled(shape, 0f), v = twins.filled(shape, 0f);
        for (int step = 1; step <= 3; step++) {
            Twin grad = twins.random(shape, -1, 1);
            int t = step;
            twins.both((b, s) -> {
                b.sgdUpdate(s.of(plain), s.of(grad), null, 0.1f, 0f, 0f, false);
                b.sgdUpdate(s.of(momentum), s.of(grad), s.of(v1), 0.05f, 0.9f, 1e-3f, false);
                b.sgdUpdate(s.of(nesterov), s.of(grad), s.of(v2), 0.05f, 0.9f, 0f, true);
                b.adamUpdate(s.of(adam), s.of(grad), s.of(m), s.of(v), 1e-2f, 0.9f, 0.999f, 1e-8f, 1e-2f, t);
            });
        }
        for (var e : new Object[][] {{"sgd", plain}, {"sgd momentum", momentum}, {"velocity", v1}, {"nesterov", nesterov},
                {"adam", adam}, {"adam m", m}, {"adam v", v}})
            twins.assertClose((String) e[0], (Twin) e[1], SUMS);
    }
}
