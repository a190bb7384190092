package org.neurite.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jocl.CL;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.backend.Pool2dGeometry;
import org.neurite.backend.Slice;
import org.neurite.backend.Strided;
import org.neurite.backend.UnaryOp;
import org.neurite.backend.cpu.CpuBackend;
import org.neurite.backend.opencl.Twins.Twin;
import org.neurite.tensor.Shape;

/**
 * Every op of the OpenCL backend against the CPU reference on seeded random inputs, through the
 * {@link Twins} harness. Tolerances, relative + absolute ({@code tol * (1 + |cpu|)}):
 * <ul>
 *   <li>{@link #EXACT} (0) for data movement, dropout masks, max pooling and its argmax, channel
 *       maxima, and element-wise ops without rounding choices (relu, negate, square, +, -, *,
 *       max, min, the affine map; / and sqrt, and the SQRT and LOG derivatives, where the device
 *       rounds them correctly: see {@link #correctlyRounded}, else {@link #DIVIDE_SQRT_ULPS} ulp);</li>
 *   <li>{@link #TRANSCENDENTAL} (2e-6) where the device's float exp/tanh/log (a few ulp) meet the
 *       CPU's double-rounded ones;</li>
 *   <li>{@link #SUMS} (2e-5) for results that add many products (GEMM, convolution, pooling
 *       averages, normalisation, softmax, optimiser steps), whose order differs between a tiled
 *       device kernel and the CPU's blocked loops.</li>
 * </ul>
 * Outputs start stale (7s, or NaN where "not read" is the point) so overwriting is checked too.
 * Both backends run wrapped in {@link org.neurite.backend.CheckedBackend}, as the runtime hands
 * them out, so every call here is one the contract allows.
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
        cl.upload(new float[] {9, 1, 2, 3, 9}, 1, Slice.of(t, 4, 3));
        float[] part = new float[6];
        cl.download(Slice.of(t, 3, 4), part, 1);
        assertArrayEquals(new float[] {0, 0, 1, 2, 3, 0}, part);

        Twin x = twins.random(Shape.of(40), -1, 1), y = twins.stale(Shape.of(50));
        twins.both((b, s) -> {
            b.copy(Slice.of(s.of(x), 5, 30), Slice.of(s.of(y), 10, 30));
            b.copy(Slice.of(s.of(y), 10, 8), Slice.of(s.of(y), 40, 8));   // within one tensor, apart
            b.copy(Slice.of(s.of(y), 12, 20), Slice.of(s.of(y), 12, 20)); // onto itself
            b.fill(s.of(x), -2.5f);
            b.fill(Slice.of(s.of(y), 45, 3), 4f);
        });
        twins.assertClose("copies and a filled range", y, EXACT);
        twins.assertClose("fill", x, EXACT);
    }

    // ---- GEMM ---------------------------------------------------------------------------

    /** Every SGEMM kernel (whatever the device's tuning picked), every transposition, offsets, padded ld, batches. */
    @Test void gemmEveryKernelAndTransposeWithOffsetsLeadingDimensionsAndBatches() {
        for (ClGemm.Variant variant : ClGemm.Variant.values()) {
            withGemm(variant, () -> {
                int[][] sizes = {{1, 1, 1}, {7, 5, 3}, {33, 17, 65}, {70, 90, 31}, {129, 64, 8}, {5, 100, 0},
                        {45, 19, 300}, {64, 24, 257}, // K over several of the blocked kernel's 128-deep slices, partial row blocks
                        {200, 260, 40}}; // whole 128 x 128 and 64 x 128 tiles (the register kernels' vector loads) beside partial ones
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
            Gemm product = new Gemm(ta, tb, m, n, k, batch);
            twins.both((be, s) -> {
                Matrix am = Matrix.batched(s.of(a), 7, lda, strideA), bm = Matrix.batched(s.of(b), 3, ldb, strideB);
                be.gemm(product, alpha, am, bm, beta, Matrix.batched(s.of(c), 2, ldc, strideC));
                // beta == 0: C is not read, so NaN there must not leak into the result.
                be.gemm(product, 1f, am, bm, 0f, Matrix.batched(s.of(cNan), 2, ldc, strideC));
            });
            String what = variant + " gemm m=" + m + " n=" + n + " k=" + k + " transA=" + ta + " transB=" + tb + " batch=" + batch;
            twins.assertClose(what, c, SUMS);
            twins.assertClose(what + " (beta 0 over NaN)", cNan, SUMS);
        }
    }

    /** Runs {@code body} with every product on the OpenCL side going through {@code variant}. */
    private void withGemm(ClGemm.Variant variant, Runnable body) {
        ClGemm gemm = OpenClTests.backend().gemmKernels();
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

    /**
     * Beyond {@link #CONVOLUTIONS} (whose few channels run on the 32-row configuration), geometries
     * whose implicit-GEMM products have partial 64 x 64 tiles and partial 16-deep slices: 70 output
     * channels (two row tiles, the second of 6 rows), 67 input channels for the data gradient,
     * 33 output channels per group (just over the 32-row configuration), 11 x 13 maps (143
     * columns: three column tiles, the last of 15), K = 67*3*3 = 603 and 3*7*5 = 105 (not
     * multiples of 16), grouped with odd channels per group, strided and dilated with a 7 x 5 kernel.
     */
    private static final int[][] PARTIAL_TILES = {
            {3, 67, 11, 13, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1},
            {2, 6, 17, 15, 66, 7, 5, 2, 1, 3, 2, 2, 1, 2},
            {1, 9, 5, 5, 9, 1, 1, 1, 1, 0, 0, 1, 1, 3},
    };

    @Test void convolutionForwardAndBothBackwardsWithEverySgemmKernel() {
        withConvolutionPath(ClConv2d.Choice.IM2COL, () -> {
            for (ClGemm.Variant variant : ClGemm.Variant.values()) withGemm(variant, () -> convolutions(variant.name(), CONVOLUTIONS));
        });
    }

    /** The implicit-GEMM kernel ({@code conv_implicit.cl}) for the forward pass and the data gradient, whatever the tuning chose. */
    @Test void convolutionAsImplicitGemm() {
        withConvolutionPath(ClConv2d.Choice.IMPLICIT, () -> {
            convolutions("implicit", CONVOLUTIONS);
            convolutions("implicit", PARTIAL_TILES);
        });
    }

    /** The im2col path on the partial-tile geometries too, with the tuned SGEMM kernels. */
    @Test void partialTileGeometriesThroughIm2col() {
        withConvolutionPath(ClConv2d.Choice.IM2COL, () -> convolutions("im2col", PARTIAL_TILES));
    }

    /** Runs {@code body} with every convolution on the OpenCL side taking {@code paths}. */
    private void withConvolutionPath(ClConv2d.Choice paths, Runnable body) {
        ClConv2d conv = OpenClTests.backend().convolutions();
        ClConv2d.Choice tuned = conv.choice();
        conv.use(paths);
        try {
            body.run();
        } finally {
            conv.use(tuned);
        }
    }

    private void convolutions(String variant, int[][] geometries) {
        for (int[] c : geometries) {
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

    /**
     * Batches whose filter gradient is split over slices of samples (its reduction as S partial
     * GEMMs added in order: {@link ClConv2d#slices}): 16 samples of 28 x 28 in 16 slices, and a
     * grouped, strided convolution whose 12 samples of 20 x 20 make 6 slices of two samples; through
     * the column matrix and as implicit GEMM (one launch for every slice's partial).
     */
    @Test void filterGradientSplitOverSlicesOfSamples() {
        for (ClConv2d.Choice paths : new ClConv2d.Choice[] {ClConv2d.Choice.IM2COL, ClConv2d.Choice.IMPLICIT})
            withConvolutionPath(paths, this::filterGradientsSplitOverSlices);
    }

    private void filterGradientsSplitOverSlices() {
        int[][] split = {{16, 2, 28, 28, 3, 5, 5, 1, 1, 2, 2, 1, 1, 1}, {12, 4, 40, 40, 6, 3, 3, 2, 2, 1, 1, 1, 1, 2}};
        for (int[] c : split) {
            Conv2dGeometry g = new Conv2dGeometry(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13]);
            int k = g.inChannelsPerGroup() * g.kernelH() * g.kernelW();
            assertTrue(ClConv2d.slices(g.batch(), g.outHeight() * g.outWidth(), g.outChannels() * k, ClConv2d.COLUMN_BUDGET / 4) > 1, g.toString());
            Shape xs = Shape.of(g.batch(), g.inChannels(), g.height(), g.width());
            Shape ys = Shape.of(g.batch(), g.outChannels(), g.outHeight(), g.outWidth());
            Twin x = twins.random(xs, -1, 1), dy = twins.random(ys, -1, 1);
            Twin dw = twins.stale(Shape.of(g.outChannels(), g.inChannelsPerGroup(), g.kernelH(), g.kernelW()));
            Twin db = twins.stale(Shape.of(g.outChannels()));
            twins.both((b, s) -> b.conv2dBackwardFilter(g, s.of(x), s.of(dy), s.of(dw), s.of(db)));
            twins.assertClose(g + " dw", dw, SUMS);
            twins.assertClose(g + " dbias", db, SUMS);
        }
    }

    @Test void slicesAreWholeSamplesOfEnoughColumnsWithinTheBudget() {
        assertEquals(64, ClConv2d.slices(64, 784, 150, 1L << 22), "one 28 x 28 sample per slice");
        assertEquals(8, ClConv2d.slices(64, 100, 2400, 1L << 22), "8 samples of 10 x 10 per slice (at least 512 columns)");
        assertEquals(61, ClConv2d.slices(61, 784, 150, 1L << 22), "a prime count of large samples: one sample per slice");
        assertEquals(1, ClConv2d.slices(61, 100, 150, 1L << 22), "a prime count of small samples: no divisor gives enough columns");
        assertEquals(4, ClConv2d.slices(64, 784, 1000, 4000), "partials within the budget");
        assertEquals(1, ClConv2d.slices(2, 72, 150, 1L << 22), "too few columns to split");
        assertEquals(ClConv2d.MAX_SLICES, ClConv2d.slices(1024, 784, 150, 1L << 24), "at most MAX_SLICES");
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

    /**
     * Forward and backward of every unary op on slices at offsets, and in place. The tolerance of y
     * and of dx each: exact where both sides round one float operation correctly (sqrt and the
     * divisions of the SQRT and LOG derivatives included, which the device rounds through double:
     * {@link #correctlyRounded}), transcendental where the device's float exp/tanh/log meet the CPU's.
     */
    @Test void unaryOpsAndTheirDerivativesOnSlices() {
        for (UnaryOp op : UnaryOp.values()) {
            double yTol = switch (op) {
                case RELU, NEGATE, SQUARE -> EXACT;
                case SQRT -> correctlyRounded();
                case SIGMOID, TANH, EXP, SOFTPLUS, LOG -> TRANSCENDENTAL;
            };
            double dxTol = switch (op) {
                case RELU, NEGATE, SQUARE -> EXACT;
                case SQRT, LOG -> correctlyRounded();
                case SIGMOID, TANH, EXP, SOFTPLUS -> TRANSCENDENTAL;
            };
            boolean positive = op == UnaryOp.SQRT || op == UnaryOp.LOG; // their domain
            Twin x = twins.random(Shape.of(300), positive ? 0.05 : -4, 4), dy = twins.random(Shape.of(300), -1, 1);
            Twin y = twins.stale(Shape.of(310)), dx = twins.stale(Shape.of(305));
            twins.both((b, s) -> {
                Slice xs = Slice.of(s.of(x), 20, 250), ys = Slice.of(s.of(y), 3, 250);
                b.unary(op, xs, ys);
                b.unaryBackward(op, xs, ys, Slice.of(s.of(dy), 40, 250), Slice.of(s.of(dx), 1, 250));
                b.unary(op, Slice.of(s.of(x), 0, 10), Slice.of(s.of(x), 0, 10)); // in place
            });
            twins.assertClose(op + " y", y, yTol);
            twins.assertClose(op + " dx", dx, dxTol);
            twins.assertClose(op + " in place", x, yTol);
        }
    }

    /** sqrt and log at the edges of their domain: 0 and -0 (log -inf, derivatives infinite), below 0 (NaN), infinity, NaN. */
    @Test void sqrtAndLogAtTheEdgesOfTheirDomain() {
        float[] edges = {0f, -0f, -1f, 1e-30f, 4f, Float.POSITIVE_INFINITY, Float.NaN};
        for (UnaryOp op : new UnaryOp[] {UnaryOp.SQRT, UnaryOp.LOG}) {
            Twin x = twins.of(Shape.of(edges.length), edges), dy = twins.filled(Shape.of(edges.length), 1f);
            Twin y = twins.stale(Shape.of(edges.length)), dx = twins.stale(Shape.of(edges.length));
            twins.both((b, s) -> {
                b.unary(op, s.of(x), s.of(y));
                b.unaryBackward(op, s.of(x), s.of(y), s.of(dy), s.of(dx));
            });
            twins.assertClose(op + " y at the edges", y, op == UnaryOp.SQRT ? correctlyRounded() : TRANSCENDENTAL);
            twins.assertClose(op + " dx at the edges", dx, correctlyRounded());
        }
    }

    /** y = scale * x + shift rounds the product, then the sum, as Java does: no fused multiply-add. */
    @Test void affineOnSlicesAndInPlace() {
        for (float[] p : new float[][] {{0.75f, -1.25f}, {-3f, 0f}, {0f, 2.5f}, {1.1f, 0.3f}}) {
            Twin x = twins.random(Shape.of(300), -4, 4), y = twins.stale(Shape.of(280));
            twins.both((b, s) -> {
                b.affine(Slice.of(s.of(x), 30, 250), p[0], p[1], Slice.of(s.of(y), 17, 250));
                b.affine(Slice.of(s.of(x)), p[0], p[1], Slice.of(s.of(x))); // in place
            });
            twins.assertClose("affine " + p[0] + " x + " + p[1], y, EXACT);
            twins.assertClose("affine " + p[0] + " x + " + p[1] + " in place", x, EXACT);
        }
    }

    /** outer, channels, inner: per-channel maxima, row maxima (outer 1) wider than a work-group, columns (inner 1). */
    @Test void channelMaxOverEveryViewAndNaN() {
        for (int[] v : new int[][] {{3, 5, 7}, {1, 4, 300}, {40, 6, 1}, {2, 1, 333}, {1, 3, 1}}) {
            int outer = v[0], channels = v[1], inner = v[2];
            Twin x = twins.random(Shape.of(outer, channels, inner), -50, -1), out = twins.stale(Shape.of(channels));
            twins.both((b, s) -> b.channelMax(s.of(x), s.of(out), outer, channels, inner));
            twins.assertClose("channelMax " + outer + " x " + channels + " x " + inner, out, EXACT);
        }
        // A NaN anywhere in a channel makes its maximum NaN (torch.amax); the other channels are unaffected.
        float[] values = twins.values(2 * 3 * 4, -1, 1);
        values[4 + 2] = Float.NaN;           // outer 0, channel 1
        values[2 * 12 - 1] = Float.NaN;      // outer 1, channel 2, last element
        Twin x = twins.of(Shape.of(2, 3, 4), values), out = twins.stale(Shape.of(3));
        twins.both((b, s) -> b.channelMax(s.of(x), s.of(out), 2, 3, 4));
        twins.assertClose("channelMax with NaN", out, EXACT);
        float[] maxima = twins.cl.download(out.cl());
        assertTrue(!Float.isNaN(maxima[0]) && Float.isNaN(maxima[1]) && Float.isNaN(maxima[2]), Arrays.toString(maxima));
    }

    /**
     * Float division and square root are correctly rounded (as Java's) where the device builds
     * with {@code -cl-fp32-correctly-rounded-divide-sqrt} or rounds them through double (it has
     * fp64): EXACT. Elsewhere OpenCL allows float {@code /} 2.5 ulp and {@code sqrt} 3 ulp
     * (NVIDIA's fast division is 1 ulp off), so {@link #DIVIDE_SQRT_ULPS} ulp, as a tolerance
     * relative to {@code 1 + |cpu|} (an ulp of x is at most 2^-23 |x|).
     */
    private static double correctlyRounded() {
        ClDevices.Found d = OpenClTests.device();
        boolean rounded = (ClDevices.deviceLong(d.device(), CL.CL_DEVICE_SINGLE_FP_CONFIG) & CL.CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0;
        return rounded || d.info().fp64() ? EXACT : DIVIDE_SQRT_ULPS * (double) Math.ulp(1f);
    }

    /** Ulps a device without correctly rounded float division and sqrt (and without fp64) may be off: OpenCL's bound for sqrt. */
    static final int DIVIDE_SQRT_ULPS = 3;

    @Test void binaryOpsOnSlicesAndInPlace() {
        for (BinaryOp op : BinaryOp.values()) {
            Twin a = twins.random(Shape.of(200), -2, 2), b = twins.random(Shape.of(200), 0.5, 2), out = twins.stale(Shape.of(150));
            twins.both((be, s) -> {
                be.binary(op, Slice.of(s.of(a), 10, 140), Slice.of(s.of(b), 50, 140), Slice.of(s.of(out), 5, 140));
                be.binary(op, Slice.of(s.of(a), 0, 200), Slice.of(s.of(b), 0, 200), Slice.of(s.of(a), 0, 200));
            });
            double tol = op == BinaryOp.DIV ? correctlyRounded() : EXACT;
            twins.assertClose(op + " slices", out, tol);
            twins.assertClose(op + " in place", a, tol);
        }
    }

    /**
     * The sum with an activation after it ({@code addForward}: a residual block's relu(y + x)) in
     * one launch, for every activation and none, into a third tensor and in place over either
     * addend: against the CPU to the unary op's tolerance, and bit for bit against the OpenCL
     * backend's own two ops (the sum, then the activation), which is the contract's rounding.
     */
    @Test void addWithEveryActivationInOneLaunchIntoEitherAddend() {
        List<UnaryOp> activations = new ArrayList<>(Arrays.asList(UnaryOp.values()));
        activations.add(null);
        for (UnaryOp op : activations) {
            double tol = op == null ? EXACT : switch (op) {
                case RELU, NEGATE, SQUARE -> EXACT;
                case SQRT -> correctlyRounded();
                case SIGMOID, TANH, EXP, SOFTPLUS, LOG -> TRANSCENDENTAL;
            };
            boolean positive = op == UnaryOp.SQRT || op == UnaryOp.LOG; // the sum in their domain
            double lo = positive ? 0.05 : -3;
            Twin a = twins.random(Shape.of(300), lo, 3), b = twins.random(Shape.of(300), lo, 3), out = twins.stale(Shape.of(300));
            Twin overA = twins.random(Shape.of(300), lo, 3), overB = twins.random(Shape.of(300), lo, 3);
            float[] twoOps = twoOpsOnOpenCl(twins.cl, twins.cl.download(a.cl()), twins.cl.download(b.cl()), op);
            long before = twins.cl.counters().orElseThrow().launches();
            twins.cl.addForward(a.cl(), b.cl(), op, out.cl());
            assertEquals(1, twins.cl.counters().orElseThrow().launches() - before, op + ": one launch");
            twins.both((be, s) -> {
                be.addForward(s.of(a), s.of(b), op, s.of(out));
                be.addForward(s.of(overA), s.of(b), op, s.of(overA));
                be.addForward(s.of(a), s.of(overB), op, s.of(overB));
            });
            twins.assertClose(op + " sum", out, tol);
            twins.assertClose(op + " into a", overA, tol);
            twins.assertClose(op + " into b", overB, tol);
            float[] fused = twins.cl.download(out.cl());
            for (int i = 0; i < fused.length; i++)
                assertEquals(Float.floatToRawIntBits(twoOps[i]), Float.floatToRawIntBits(fused[i]), op + ": element " + i + " as the two ops");
        }
    }

    /** binary(ADD) then unary(op) in place on the OpenCL backend: the rounding addForward must give. */
    private static float[] twoOpsOnOpenCl(Backend cl, float[] a, float[] b, UnaryOp op) {
        var ta = cl.allocate(Shape.of(a.length));
        var tb = cl.allocate(Shape.of(b.length));
        cl.upload(a, ta);
        cl.upload(b, tb);
        cl.binary(BinaryOp.ADD, ta, tb, ta);
        if (op != null) cl.unary(op, ta, ta);
        float[] result = cl.download(ta);
        ta.close();
        tb.close();
        return result;
    }

    @Test void blockCopiesPaddingAndCropping() {
        Twin src = twins.random(Shape.of(6, 4, 5), -1, 1), dst = twins.stale(Shape.of(4, 6, 5)), self = twins.random(Shape.of(60), -1, 1);
        Twin x = twins.random(Shape.of(3, 4, 5), -1, 1), padded = twins.stale(Shape.of(3, 7, 9)), dx = twins.stale(Shape.of(3, 4, 5));
        twins.both((b, s) -> {
            b.copyBlocks(Strided.of(s.of(src), 0, 20), Strided.of(s.of(dst), 0, 30), 20, 4);   // concat into the first 4 of 6 rows
            b.copyBlocks(Strided.of(s.of(src), 5, 20), Strided.of(s.of(dst), 22, 30), 5, 4);
            b.copyBlocks(Strided.of(s.of(self), 0, 7), Strided.of(s.of(self), 3, 9), 5, 6);    // within one tensor, overlapping: block by block
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
            twins.assertClose("channelBroadcast " + op, out, op == BinaryOp.DIV ? correctlyRounded() : EXACT);
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
            Slice gateBlock = Slice.of(s.of(gates), 9, 4 * state), cPrevStep = Slice.of(s.of(cPrev), 4, state), cStep = Slice.of(s.of(c), 2, state);
            Slice hStep = Slice.of(s.of(h), 6, state);
            b.lstmCellForward(gateBlock, cPrevStep, cStep, hStep, batch, hidden);
            b.lstmCellBackward(gateBlock, cPrevStep, cStep, Slice.of(s.of(dh), 1, state), Slice.of(s.of(dc), 3, state),
                    Slice.of(s.of(dGates), 5, 4 * state), batch, hidden);
            b.lstmCellForward(gateBlock, cPrevStep, cPrevStep, hStep, batch, hidden); // c in place of cPrev
        });
        for (var e : new Object[][] {{"gate activations", gates}, {"c", c}, {"h", h}, {"dGates", dGates}, {"dc", dc}, {"c in place", cPrev}})
            twins.assertClose("lstm " + e[0], (Twin) e[1], TRANSCENDENTAL);

        Twin gi = twins.random(Shape.of(3 * state + 2), -2, 2), gh = twins.random(Shape.of(3 * state + 1), -2, 2);
        Twin hPrev = twins.random(Shape.of(state + 3), -1, 1), hOut = twins.stale(Shape.of(state)), saved = twins.stale(Shape.of(3 * state + 4));
        Twin dGi = twins.stale(Shape.of(3 * state)), dGh = twins.stale(Shape.of(3 * state + 7)), dhPrev = twins.stale(Shape.of(state + 2));
        twins.both((b, s) -> {
            Slice ghStep = Slice.of(s.of(gh), 1, 3 * state), hPrevStep = Slice.of(s.of(hPrev), 3, state), savedStep = Slice.of(s.of(saved), 4, 3 * state);
            b.gruCellForward(Slice.of(s.of(gi), 2, 3 * state), ghStep, hPrevStep, Slice.of(s.of(hOut), 0, state), savedStep, batch, hidden);
            b.gruCellBackward(savedStep, ghStep, hPrevStep, Slice.of(s.of(dh), 1, state), Slice.of(s.of(dGi), 0, 3 * state),
                    Slice.of(s.of(dGh), 7, 3 * state), Slice.of(s.of(dhPrev), 2, state), batch, hidden);
        });
        for (var e : new Object[][] {{"h", hOut}, {"saved r, z, n", saved}, {"dGi", dGi}, {"dGh", dGh}, {"dhPrev", dhPrev}})
            twins.assertClose("gru " + e[0], (Twin) e[1], TRANSCENDENTAL);
    }

    /**
     * The LSTM and GRU steps fused with their recurrent products against the CPU's GEMM and cell, through both
     * kernels (the one for GPUs and the blocked one for CPU devices, chosen by the thin SGEMM
     * variant): batches and hidden sizes that fill the kernels' row blocks (4, 64), unit groups
     * (1 and 4 units per item, 16 items per group) and 128-deep slices of K and ones that do not
     * (hidden % 4 != 0 takes the scalar tail of k and the partial unit group), operands at offsets
     * with padded leading dimensions, and c in place of cPrev.
     */
    @Test void lstmAndGruStepsFusedWithTheirRecurrentProducts() {
        for (ClGemm.Variant thin : new ClGemm.Variant[] {ClGemm.Variant.TILED_16, ClGemm.Variant.BLOCKED}) {
            withGemm(thin, () -> {
                int[][] sizes = {{1, 1}, {3, 5}, {4, 16}, {5, 17}, {9, 33}, {16, 64}, {70, 9}, {13, 130}};
                for (int[] size : sizes) {
                    lstmStepCase(thin, size[0], size[1]);
                    gruStepCase(thin, size[0], size[1]);
                }
            });
        }
    }

    private void lstmStepCase(ClGemm.Variant thin, int batch, int hidden) {
        int state = batch * hidden, ldh = hidden + 3, ldw = hidden + 1;
        Twin hPrev = twins.random(Shape.of(2 + batch * ldh), -1, 1), wHh = twins.random(Shape.of(5 + 4 * hidden * ldw), -0.5f, 0.5f);
        Twin gates = twins.random(Shape.of(4 * state + 3), -2, 2), cPrev = twins.random(Shape.of(state + 1), -1, 1);
        Twin c = twins.stale(Shape.of(state + 2)), h = twins.stale(Shape.of(state));
        twins.both((b, s) -> {
            Matrix hm = Matrix.at(s.of(hPrev), 2, ldh), wm = Matrix.at(s.of(wHh), 5, ldw);
            Slice gateBlock = Slice.of(s.of(gates), 3, 4 * state), cPrevStep = Slice.of(s.of(cPrev), 1, state);
            b.lstmStepForward(hm, wm, gateBlock, cPrevStep, Slice.of(s.of(c), 2, state), Slice.of(s.of(h)), batch, hidden);
            // A second step from the state just written, its c in place of cPrev.
            b.lstmStepForward(Matrix.of(s.of(h), hidden), wm, gateBlock, cPrevStep, cPrevStep, Slice.of(s.of(hPrev), 2, state),
                    batch, hidden);
        });
        String what = "lstm step (" + thin + " device) batch=" + batch + " hidden=" + hidden;
        for (var e : new Object[][] {{"gate activations", gates}, {"c", c}, {"h", h}, {"c in place", cPrev}, {"second h", hPrev}})
            twins.assertClose(what + " " + e[0], (Twin) e[1], SUMS);
    }

    private void gruStepCase(ClGemm.Variant thin, int batch, int hidden) {
        int state = batch * hidden, ldw = hidden + 2;
        Twin hPrev = twins.random(Shape.of(state + 2), -1, 1), wHh = twins.random(Shape.of(4 + 3 * hidden * ldw), -0.5f, 0.5f);
        Twin gi = twins.random(Shape.of(3 * state + 1), -2, 2), gh = twins.random(Shape.of(3 * state + 5), -1, 1);
        Twin h = twins.stale(Shape.of(state + 3)), saved = twins.stale(Shape.of(3 * state + 2));
        twins.both((b, s) -> {
            Matrix wm = Matrix.at(s.of(wHh), 4, ldw);
            Slice giStep = Slice.of(s.of(gi), 1, 3 * state), ghStep = Slice.of(s.of(gh), 5, 3 * state), savedStep = Slice.of(s.of(saved), 2, 3 * state);
            b.gruStepForward(Slice.of(s.of(hPrev), 2, state), wm, giStep, ghStep, Slice.of(s.of(h), 3, state), savedStep, batch, hidden);
            // A second step from the state just written, back into hPrev's tensor.
            b.gruStepForward(Slice.of(s.of(h), 3, state), wm, giStep, ghStep, Slice.of(s.of(hPrev), 2, state), savedStep, batch, hidden);
        });
        String what = "gru step (" + thin + " device) batch=" + batch + " hidden=" + hidden;
        for (var e : new Object[][] {{"gh", gh}, {"h", h}, {"saved r, z, n", saved}, {"second h", hPrev}})
            twins.assertClose(what + " " + e[0], (Twin) e[1], SUMS);
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

    @Test void sgdAdamAdamwAndRmspropStepsMatchOverSeveralSteps() {
        Shape shape = Shape.of(257);
        Twin plain = twins.random(shape, -1, 1), momentum = twins.random(shape, -1, 1), nesterov = twins.random(shape, -1, 1);
        Twin adam = twins.random(shape, -1, 1), adamw = twins.random(shape, -1, 1);
        Twin rms = twins.random(shape, -1, 1), rmsCentered = twins.random(shape, -1, 1);
        Twin v1 = twins.filled(shape, 0f), v2 = twins.filled(shape, 0f), m = twins.filled(shape, 0f), v = twins.filled(shape, 0f);
        Twin wm = twins.filled(shape, 0f), wv = twins.filled(shape, 0f);
        Twin sq = twins.filled(shape, 0f), sq2 = twins.filled(shape, 0f), buf = twins.filled(shape, 0f), ga = twins.filled(shape, 0f);
        for (int step = 1; step <= 3; step++) {
            Twin grad = twins.random(shape, -1, 1);
            int t = step;
            twins.both((b, s) -> {
                b.sgdUpdate(s.of(plain), s.of(grad), null, 0.1f, 0f, 0f, false);
                b.sgdUpdate(s.of(momentum), s.of(grad), s.of(v1), 0.05f, 0.9f, 1e-3f, false);
                b.sgdUpdate(s.of(nesterov), s.of(grad), s.of(v2), 0.05f, 0.9f, 0f, true);
                b.adamUpdate(s.of(adam), s.of(grad), s.of(m), s.of(v), 1e-2f, 0.9f, 0.999f, 1e-8f, 1e-2f, t);
                b.adamwUpdate(s.of(adamw), s.of(grad), s.of(wm), s.of(wv), 1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, t);
                b.rmspropUpdate(s.of(rms), s.of(grad), s.of(sq), null, null, 1e-2f, 0.99f, 1e-8f, 1e-3f, 0f, false);
                b.rmspropUpdate(s.of(rmsCentered), s.of(grad), s.of(sq2), s.of(buf), s.of(ga), 1e-2f, 0.9f, 1e-6f, 0f, 0.9f, true);
            });
        }
        for (var e : new Object[][] {{"sgd", plain}, {"sgd momentum", momentum}, {"velocity", v1}, {"nesterov", nesterov},
                {"adam", adam}, {"adam m", m}, {"adam v", v}, {"adamw", adamw}, {"adamw m", wm}, {"adamw v", wv},
                {"rmsprop", rms}, {"rmsprop square average", sq}, {"centered rmsprop with momentum", rmsCentered},
                {"its square average", sq2}, {"its momentum buffer", buf}, {"its gradient average", ga}})
            twins.assertClose((String) e[0], (Twin) e[1], SUMS);
    }

    // ---- the training step on the device ------------------------------------------------

    /**
     * What a training step leaves on the device, in slices of one status tensor as the engine lays
     * it out: the squared norm of several tensors (one empty), the loss of the cross-entropy, the
     * correct count (with a tie, which the first class wins, and a NaN, which wins only first), and
     * the control from the norm and the loss, clipping on and off and a NaN loss setting the flag.
     */
    @Test void squaredNormLossCorrectCountAndControlLeftOnTheDevice() {
        Twin a = twins.random(Shape.of(300), -2, 2), b = twins.random(Shape.of(7), -2, 2), empty = twins.filled(Shape.of(0), 0f);
        Twin logits = twins.random(Shape.of(5, 4), -3, 3), dLogits = twins.stale(Shape.of(5, 4)), labels = twins.indices(5, 4);
        // Rows: a tie (class 0 wins, label 0), a NaN first (it wins, label 0), a NaN last (it does not, label 3).
        float[] special = {1, 1, 0, 1, Float.NaN, 5, 0, 0, 0, 0, 0, Float.NaN};
        Twin ties = twins.of(Shape.of(3, 4), special), tieLabels = twins.of(Shape.of(3), new float[] {0, 0, 3});
        Twin status = twins.stale(Shape.of(12));
        twins.both((be, s) -> {
            be.sumOfSquares(List.of(s.of(a), s.of(empty), s.of(b)), Slice.of(s.of(status), 2, 1));
            be.softmaxCrossEntropy(s.of(logits), s.of(labels), s.of(dLogits), 5, 4, 0.2f, Slice.of(s.of(status), 3, 1));
            be.countCorrect(s.of(logits), s.of(labels), 5, 4, Slice.of(s.of(status), 4, 1));
            be.countCorrect(s.of(ties), s.of(tieLabels), 3, 4, Slice.of(s.of(status), 5, 1));
            be.fill(Slice.of(s.of(status), 0, 2), 0f);
            be.stepControl(Slice.of(s.of(status), 2, 1), Slice.of(s.of(status), 3, 1), 0f, Slice.of(s.of(status), 0, 2));
            be.fill(Slice.of(s.of(status), 6, 2), 0f);
            be.stepControl(Slice.of(s.of(status), 2, 1), null, 1.5f, Slice.of(s.of(status), 6, 2));
            be.fill(Slice.of(s.of(status), 8, 1), Float.NaN);
            be.fill(Slice.of(s.of(status), 9, 2), 0f);
            be.stepControl(Slice.of(s.of(status), 2, 1), Slice.of(s.of(status), 8, 1), 0f, Slice.of(s.of(status), 9, 2));
        });
        float[] cpuStatus = cpu.download(status.cpu()), clStatus = twins.cl.download(status.cl());
        Twins.assertClose("squared norm", new float[] {cpuStatus[2]}, new float[] {clStatus[2]}, SUMS);
        Twins.assertClose("loss", new float[] {cpuStatus[3]}, new float[] {clStatus[3]}, SUMS);
        twins.assertClose("dLogits", dLogits, SUMS);
        assertEquals(cpuStatus[4], clStatus[4], 0, "correct rows");
        assertEquals(2f, cpuStatus[5], 0, "the tie and the leading NaN count, the later NaN does not");
        assertEquals(cpuStatus[5], clStatus[5], 0);
        assertArrayEquals(new float[] {1, 0}, Arrays.copyOfRange(clStatus, 0, 2), "no clipping, no skip");
        float factor = (float) (1.5 / (Math.sqrt(cpuStatus[2]) + 1e-6));
        assertEquals(factor, cpuStatus[6], 0, "the clip factor, as the host computes it");
        Twins.assertClose("clip factor", new float[] {cpuStatus[6], cpuStatus[7]}, new float[] {clStatus[6], clStatus[7]}, correctlyRounded());
        assertArrayEquals(new float[] {1, 1}, Arrays.copyOfRange(clStatus, 9, 11), "a NaN loss sets the flag");
        assertArrayEquals(Arrays.copyOfRange(cpuStatus, 9, 11), Arrays.copyOfRange(clStatus, 9, 11));
    }

    /**
     * Three controlled steps of every optimiser: scaled by a clip factor, then skipped (a NaN
     * norm sets the flag), then skipped again (the flag stays set though the norm is finite). A
     * skipped step leaves weights and state bit for bit as they were; the scaled one matches the CPU.
     */
    @Test void controlledUpdatesScaleTheGradientOrSkipTheStepEntirely() {
        Shape shape = Shape.of(129);
        Twin sgd = twins.random(shape, -1, 1), adam = twins.random(shape, -1, 1), adamw = twins.random(shape, -1, 1);
        Twin rms = twins.random(shape, -1, 1);
        Twin velocity = twins.filled(shape, 0f), m = twins.filled(shape, 0f), v = twins.filled(shape, 0f), wm = twins.filled(shape, 0f);
        Twin wv = twins.filled(shape, 0f), sq = twins.filled(shape, 0f), buf = twins.filled(shape, 0f), ga = twins.filled(shape, 0f);
        Twin grad = twins.random(shape, -1, 1), status = twins.filled(Shape.of(3), 0f);
        Twin[] all = {sgd, adam, adamw, rms, velocity, m, v, wm, wv, sq, buf, ga};
        float[][] before = null;
        for (int step = 1; step <= 3; step++) {
            int t = step;
            float squaredNorm = step == 2 ? Float.NaN : 4f;
            twins.both((b, s) -> {
                b.fill(Slice.of(s.of(status), 2, 1), squaredNorm);
                b.stepControl(Slice.of(s.of(status), 2, 1), null, 1f, Slice.of(s.of(status), 0, 2));   // norm 2, limit 1: factor ~0.5
                Slice control = Slice.of(s.of(status), 0, 2);
                b.sgdUpdate(s.of(sgd), s.of(grad), s.of(velocity), 0.1f, 0.9f, 1e-3f, true, control);
                b.adamUpdate(s.of(adam), s.of(grad), s.of(m), s.of(v), 1e-2f, 0.9f, 0.999f, 1e-8f, 1e-2f, t, control);
                b.adamwUpdate(s.of(adamw), s.of(grad), s.of(wm), s.of(wv), 1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, t, control);
                b.rmspropUpdate(s.of(rms), s.of(grad), s.of(sq), s.of(buf), s.of(ga), 1e-2f, 0.9f, 1e-6f, 1e-3f, 0.9f, true, control);
            });
            float[][] now = new float[all.length][];
            for (int i = 0; i < all.length; i++) {
                now[i] = twins.cl.download(all[i].cl());
                twins.assertClose("tensor " + i + " after step " + step, all[i], SUMS);
                if (step > 1) assertArrayEquals(before[i], now[i], "tensor " + i + " untouched by skipped step " + step);
            }
            before = now;
        }
    }
}
