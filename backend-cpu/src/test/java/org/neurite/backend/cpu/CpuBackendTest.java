package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.neurite.testkit.Fixtures.assertClose;

import com.google.inject.Guice;
import com.google.inject.Key;
import com.google.inject.TypeLiteral;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.ServiceLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.CheckedBackend;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.backend.CounterRandom;
import org.neurite.backend.Pool2dGeometry;
import org.neurite.backend.Slice;
import org.neurite.backend.UnaryOp;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.BackendProvider;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The ops PyTorch fixtures do not cover (dropout, broadcasts, reductions, memory), determinism
 * of large convolutions (implicit-GEMM forward, chunked backward passes) across thread counts,
 * argument errors (from the checking wrapper, and the data checks of the kernels), and discovery
 * of the backend as a plugin.
 */
class CpuBackendTest {
    private static CpuBackend cpu;

    @BeforeAll static void start() { cpu = new CpuBackend(3); }

    @AfterAll static void stop() { cpu.close(); }

    private static Tensor tensor(Backend backend, float[] values, int... dims) {
        Tensor t = backend.allocate(Shape.of(dims));
        backend.upload(values, t);
        return t;
    }

    /**
     * Max pooling backward refuses an argmax that the forward pass cannot have written (NaN, a
     * fraction, outside the plane, inside the plane but outside the output's window), naming the
     * lowest such output, before dx is written; the OpenCL backend gives the same messages.
     */
    @Test
    void aCorruptArgmaxIsRefusedBeforeAnythingIsWritten() {
        // Two 4x4 planes, 2x2 windows with stride 2: output 5 is plane 1, (oh 0, ow 1), window rows [0, 2), columns [2, 4).
        Pool2dGeometry g = new Pool2dGeometry(2, 1, 4, 4, 2, 2, 2, 2, 0, 0, false, false);
        float[] valid = {0, 2, 8, 10, 1, 3, 9, 11};
        Tensor dy = tensor(cpu, new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 1, 2, 2), dx = cpu.allocate(Shape.of(2, 1, 4, 4));
        String window = " at output 5 is not an input position of that output's window (rows [0, 2), columns [2, 4) of a 4x4 plane,"
                + " as index row * 4 + column); the index tensor is not the one maxPool2dForward wrote";
        for (float bad : new float[] {Float.NaN, 2.5f, -1f, 16f, 1e10f, 0f, 8f}) {
            float[] corrupt = valid.clone();
            corrupt[5] = bad;
            corrupt[6] = Float.NaN; // a later bad entry: the lowest output is the one named
            Tensor argmax = tensor(cpu, corrupt, 2, 1, 2, 2);
            cpu.fill(dx, 7f);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cpu.maxPool2dBackward(g, dy, argmax, dx));
            assertEquals("maxPool2dBackward: argmax " + bad + window, e.getMessage());
            float[] untouched = new float[32];
            Arrays.fill(untouched, 7f);
            assertArrayEquals(untouched, cpu.download(dx), "dx untouched for argmax " + bad);
            argmax.close();
        }
        Tensor argmax = tensor(cpu, valid, 2, 1, 2, 2);
        cpu.maxPool2dBackward(g, dy, argmax, dx);
        float[] expected = new float[32];
        for (int o = 0; o < 8; o++) expected[(o / 4) * 16 + (int) valid[o]] = o + 1;
        assertArrayEquals(expected, cpu.download(dx));
    }

    @Test
    void dropoutDrawsTheCounterRandomMaskAndScalesKeptValues() {
        int n = 50_000; // above the parallel threshold, so several workers draw parts of the mask
        float p = 0.3f;
        long seed = 12345L;
        float[] x = CpuGemmTest.random(new Random(1), n);
        Tensor tx = tensor(cpu, x, n), mask = cpu.allocate(Shape.of(n)), y = cpu.allocate(Shape.of(n));
        cpu.dropoutForward(tx, mask, y, p, seed);
        float[] m = cpu.download(mask), out = cpu.download(y);
        int kept = 0;
        for (int i = 0; i < n; i++) {
            float expected = CounterRandom.uniform(seed, i) >= p ? 1f / (1f - p) : 0f;
            assertEquals(expected, m[i], "mask[" + i + "]");
            assertEquals(x[i] * expected, out[i], "y[" + i + "]");
            if (m[i] != 0f) kept++;
        }
        // 35,000 expected kept; the binomial standard deviation is about 100.
        assertTrue(Math.abs(kept - 35_000) < 600, "kept " + kept);
    }

    @Test
    void channelBroadcastAndChannelSumUseTheMiddleAxis() {
        // x viewed as [outer=2, channels=3, inner=2]
        float[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        Tensor tx = tensor(cpu, x, 2, 3, 2), v = tensor(cpu, new float[] {10, 100, 1000}, 3), out = cpu.allocate(Shape.of(2, 3, 2));
        cpu.channelBroadcast(BinaryOp.MUL, tx, v, out, 2, 3, 2);
        assertArrayEquals(new float[] {10, 20, 300, 400, 5000, 6000, 70, 80, 900, 1000, 11000, 12000}, cpu.download(out));
        Tensor sums = tensor(cpu, new float[] {1, 1, 1}, 3);
        cpu.channelSum(tx, sums, 2, 3, 2, 0.5f);
        // channel 0: 1+2+7+8 = 18, channel 1: 3+4+9+10 = 26, channel 2: 5+6+11+12 = 34; plus 0.5 * 1
        assertArrayEquals(new float[] {18.5f, 26.5f, 34.5f}, cpu.download(sums));
        cpu.fill(sums, Float.NaN);
        cpu.channelSum(tx, sums, 2, 3, 2, 0f);
        assertArrayEquals(new float[] {18f, 26f, 34f}, cpu.download(sums), "beta 0 must not read the NaNs");
    }

    @Test
    void binaryOpsMayWriteIntoAnInput() {
        Tensor a = tensor(cpu, new float[] {1, -2, 3, 8}, 4), b = tensor(cpu, new float[] {2, 2, -1, 4}, 4);
        Tensor out = cpu.allocate(Shape.of(4));
        cpu.binary(BinaryOp.SUB, a, b, out);
        assertArrayEquals(new float[] {-1, -4, 4, 4}, cpu.download(out));
        cpu.binary(BinaryOp.DIV, a, b, out);
        assertArrayEquals(new float[] {0.5f, -1, -3, 2}, cpu.download(out));
        cpu.binary(BinaryOp.MAX, a, b, a);
        assertArrayEquals(new float[] {2, 2, 3, 8}, cpu.download(a));
        cpu.binary(BinaryOp.MIN, a, b, b);
        assertArrayEquals(new float[] {2, 2, -1, 4}, cpu.download(b));
    }

    @Test
    void axpbyAndSumOfSquares() {
        Tensor x = tensor(cpu, new float[] {1, 2, 3}, 3), y = tensor(cpu, new float[] {Float.NaN, Float.NaN, Float.NaN}, 3);
        cpu.axpby(2f, x, 0f, y);
        assertArrayEquals(new float[] {2, 4, 6}, cpu.download(y));
        cpu.axpby(-1f, x, 0.5f, y);
        assertArrayEquals(new float[] {0, 0, 0}, cpu.download(y));

        int n = 100_000; // several chunks of partial sums
        float[] ramp = new float[n];
        for (int i = 0; i < n; i++) ramp[i] = i + 1;
        double expected = (double) n * (n + 1) * (2.0 * n + 1) / 6; // sum of k^2, exact in double at this size
        assertEquals(expected, cpu.sumOfSquares(tensor(cpu, ramp, n)), expected * 1e-12);
    }

    @Test
    void reductionsGiveTheSameBitsForAnyThreadCount() {
        float[] x = CpuGemmTest.random(new Random(5), 7 * 17_637); // viewed as [1, 7, 17637] for channelSum
        Double reference = null;
        float[] referenceSums = null;
        for (int threads : new int[] {1, 2, 4}) {
            try (CpuBackend backend = new CpuBackend(threads)) {
                Tensor t = tensor(backend, x, x.length);
                double s = backend.sumOfSquares(t);
                Tensor sums = backend.allocate(Shape.of(7));
                backend.channelSum(t, sums, 1, 7, x.length / 7, 0f);
                if (reference == null) {
                    reference = s;
                    referenceSums = backend.download(sums);
                } else {
                    assertEquals(reference, s, 0.0, threads + " threads");
                    assertArrayEquals(referenceSums, backend.download(sums), threads + " threads");
                }
            }
        }
    }

    /**
     * Large convolutions against the direct definition, bit-identical across 1, 2 and 5 threads:
     * the forward implicit GEMM over many packed panels and k-blocks, and backward passes whose
     * column matrix (K = 144 rows x 10,000 or 22,500 pixels, stride 1 and 2) exceeds the
     * per-worker column budget, so they run in pixel chunks.
     */
    @ParameterizedTest(name = "stride {0}")
    @ValueSource(ints = {1, 2})
    void largeConvolutionMatchesTheDefinitionWithAnyThreadCount(int stride) {
        int size = stride == 1 ? 100 : 300, batch = stride == 1 ? 2 : 1;
        Conv2dGeometry g = new Conv2dGeometry(batch, 16, size, size, 4, 3, 3, stride, stride, 1, 1, 1, 1, 1);
        assertTrue(16L * 9 * g.outHeight() * g.outWidth() > CpuConv2d.COL_BUDGET, "geometry must exceed the column budget");
        int out = g.outHeight();
        Random rnd = new Random(9);
        float[] x = CpuGemmTest.random(rnd, batch * 16 * size * size), w = CpuGemmTest.random(rnd, 4 * 16 * 9);
        float[] dy = CpuGemmTest.random(rnd, batch * 4 * out * out);
        float[][] reference = null;
        for (int threads : new int[] {1, 2, 5}) {
            try (CpuBackend backend = new CpuBackend(threads)) {
                Tensor tx = tensor(backend, x, batch, 16, size, size), tw = tensor(backend, w, 4, 16, 3, 3);
                Tensor tdy = tensor(backend, dy, batch, 4, out, out);
                Tensor y = backend.allocate(tdy.shape()), dx = backend.allocate(tx.shape()), dw = backend.allocate(tw.shape());
                backend.conv2dForward(g, tx, tw, null, y);
                backend.conv2dBackwardData(g, tdy, tw, dx);
                backend.conv2dBackwardFilter(g, tx, tdy, dw, null);
                float[][] results = {backend.download(y), backend.download(dx), backend.download(dw)};
                if (reference == null) {
                    reference = results;
                    DirectConvolution direct = new DirectConvolution(g, x, w, dy);
                    assertClose("y", direct.y, results[0], 1e-4);
                    assertClose("dx", direct.dx, results[1], 1e-4);
                    assertClose("dw", direct.dw, results[2], 1e-3); // sums of up to 20,000 products
                } else {
                    for (int i = 0; i < 3; i++) assertArrayEquals(reference[i], results[i], threads + " threads, output " + i);
                }
            }
        }
    }

    /**
     * Convolutions with a tiny reduction (Cin/groups * kh * kw <= 32, stride 1) run the direct
     * kernels: one-channel images (odd output channel count, a row longer than one 32-column
     * chunk, a kernel wider than the 5 columns handled per filter-kernel call), two groups, rows
     * so wide that forward's output grid goes in several blocks of rows, and a plane smaller than
     * one vector (forward's whole-vector stores must not run past it), against the definition,
     * bit-identical across 1, 2, 3 and 5 threads. An infinite input in a row's last column must
     * not turn into NaN through the lanes past the output row (forward's dropped grid positions
     * read it for the row above).
     */
    @ParameterizedTest(name = "case {0}")
    @ValueSource(ints = {0, 1, 2, 3, 4, 5})
    void tinyReductionConvolutionsRunDirectAndMatchTheDefinition(int which) {
        Conv2dGeometry g = switch (which) {
            case 0 -> new Conv2dGeometry(3, 1, 28, 28, 7, 5, 5, 1, 1, 2, 2, 1, 1, 1);
            case 1 -> new Conv2dGeometry(2, 2, 9, 37, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1);
            case 2 -> new Conv2dGeometry(2, 1, 11, 20, 3, 3, 7, 1, 1, 1, 3, 1, 1, 1);
            case 3 -> new Conv2dGeometry(2, 4, 16, 16, 6, 3, 3, 1, 1, 0, 0, 1, 1, 2);
            case 4 -> new Conv2dGeometry(3, 2, 9, 411, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1); // 413-float grid rows: blocks of 2 rows at 512 bits
            default -> new Conv2dGeometry(4, 1, 3, 3, 5, 2, 2, 1, 1, 0, 0, 1, 1, 1); // 2x2 outputs: 4 floats a plane
        };
        assertTrue(CpuDirectConv2d.applies(g));
        int n = g.batch(), cin = g.inChannels(), h = g.height(), wd = g.width(), cout = g.outChannels();
        Random rnd = new Random(31 + which);
        float[] x = CpuGemmTest.random(rnd, n * cin * h * wd);
        float[] w = CpuGemmTest.random(rnd, cout * g.inChannelsPerGroup() * g.kernelH() * g.kernelW());
        float[] bias = CpuGemmTest.random(rnd, cout);
        float[] dy = CpuGemmTest.random(rnd, n * cout * g.outHeight() * g.outWidth());
        if (which == 0) x[5 * wd + wd - 1] = Float.POSITIVE_INFINITY; // sample 0, channel 0, row 5, last column
        DirectConvolution direct = new DirectConvolution(g, x, w, dy);
        float[] yRef = direct.y.clone();
        int p = g.outHeight() * g.outWidth();
        for (int i = 0; i < yRef.length; i++) yRef[i] = (float) ((double) yRef[i] + bias[i / p % cout]);
        float[][] reference = null;
        for (int threads : new int[] {1, 2, 3, 5}) {
            try (CpuBackend backend = new CpuBackend(threads)) {
                Tensor tx = tensor(backend, x, n, cin, h, wd);
                Tensor tw = tensor(backend, w, cout, g.inChannelsPerGroup(), g.kernelH(), g.kernelW());
                Tensor tb = tensor(backend, bias, cout), tdy = tensor(backend, dy, n, cout, g.outHeight(), g.outWidth());
                Tensor y = backend.allocate(tdy.shape()), dw = backend.allocate(tw.shape()), db = backend.allocate(tb.shape());
                backend.conv2dForward(g, tx, tw, tb, y);
                backend.conv2dBackwardFilter(g, tx, tdy, dw, db);
                float[][] results = {backend.download(y), backend.download(dw)};
                if (reference == null) {
                    reference = results;
                    assertCloseOrSameNonFinite("y", yRef, results[0], 1e-4);
                    assertCloseOrSameNonFinite("dw", direct.dw, results[1], 1e-3);
                } else {
                    for (int i = 0; i < 2; i++) assertArrayEquals(reference[i], results[i], threads + " threads, output " + i);
                }
            }
        }
    }

    /** Finite expected values within tol (relative + absolute); infinities and NaN exactly where expected. */
    private static void assertCloseOrSameNonFinite(String what, float[] expected, float[] actual, double tol) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.isFinite(expected[i])) {
                assertTrue(Math.abs(expected[i] - actual[i]) <= tol * (1 + Math.abs(expected[i])),
                        what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i]);
            } else {
                assertEquals(expected[i], actual[i], what + "[" + i + "] (non-finite)");
            }
        }
    }

    /** The convolution and its gradients by their definitions, summed in double. */
    private static final class DirectConvolution {
        final float[] y, dx, dw;

        DirectConvolution(Conv2dGeometry g, float[] x, float[] w, float[] dyIn) {
            int n = g.batch(), cin = g.inChannels(), h = g.height(), wd = g.width(), cout = g.outChannels();
            int kh = g.kernelH(), kw = g.kernelW(), ho = g.outHeight(), wo = g.outWidth();
            double[] yAcc = new double[n * cout * ho * wo], dxAcc = new double[x.length], dwAcc = new double[w.length];
            for (int b = 0; b < n; b++)
                for (int oc = 0; oc < cout; oc++)
                    for (int oh = 0; oh < ho; oh++)
                        for (int ow = 0; ow < wo; ow++) {
                            int yi = ((b * cout + oc) * ho + oh) * wo + ow;
                            for (int icg = 0; icg < g.inChannelsPerGroup(); icg++)
                                for (int i = 0; i < kh; i++)
                                    for (int j = 0; j < kw; j++) {
                                        int ih = oh * g.strideH() - g.padH() + i * g.dilationH();
                                        int iw = ow * g.strideW() - g.padW() + j * g.dilationW();
                                        if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
                                        int ic = oc / g.outChannelsPerGroup() * g.inChannelsPerGroup() + icg;
                                        int xi = ((b * cin + ic) * h + ih) * wd + iw, wi = ((oc * g.inChannelsPerGroup() + icg) * kh + i) * kw + j;
                                        yAcc[yi] += (double) x[xi] * w[wi];
                                        dxAcc[xi] += (double) dyIn[yi] * w[wi];
                                        dwAcc[wi] += (double) dyIn[yi] * x[xi];
                                    }
                        }
            y = toFloat(yAcc);
            dx = toFloat(dxAcc);
            dw = toFloat(dwAcc);
        }

        private static float[] toFloat(double[] v) {
            float[] out = new float[v.length];
            for (int i = 0; i < v.length; i++) out[i] = (float) v[i];
            return out;
        }
    }

    /**
     * Pooling, softmax, cross-entropy, unary ops and optimiser steps large enough to run in
     * parallel give the same bits as on one thread (whose values the PyTorch fixtures check).
     */
    @Test
    void parallelPathsMatchTheSingleThreadedPath() {
        Random rnd = new Random(21);
        Pool2dGeometry pool = new Pool2dGeometry(4, 8, 33, 33, 3, 3, 2, 2, 1, 1, true, false);
        int poolOut = 4 * 8 * pool.outHeight() * pool.outWidth();
        float[] x = CpuGemmTest.random(rnd, 4 * 8 * 33 * 33), dyPool = CpuGemmTest.random(rnd, poolOut);
        int rows = 300, classes = 100;
        float[] logits = CpuGemmTest.random(rnd, rows * classes), labels = new float[rows];
        for (int r = 0; r < rows; r++) labels[r] = rnd.nextInt(classes);
        float[][] reference = null;
        double referenceLoss = 0;
        for (int threads : new int[] {1, 3}) {
            try (CpuBackend backend = new CpuBackend(threads)) {
                Tensor tx = tensor(backend, x, 4, 8, 33, 33), tdy = tensor(backend, dyPool, poolOut);
                Tensor y = backend.allocate(Shape.of(poolOut)), argmax = backend.allocate(Shape.of(poolOut)), dx = backend.allocate(tx.shape());
                Tensor avg = backend.allocate(Shape.of(poolOut)), dxAvg = backend.allocate(tx.shape());
                backend.maxPool2dForward(pool, tx, y, argmax);
                backend.maxPool2dBackward(pool, tdy, argmax, dx);
                backend.avgPool2dForward(pool, tx, avg);
                backend.avgPool2dBackward(pool, tdy, dxAvg);

                Tensor tl = tensor(backend, logits, rows, classes), tlab = tensor(backend, labels, rows);
                Tensor probs = backend.allocate(tl.shape()), dLogits = backend.allocate(tl.shape());
                backend.softmax(tl, probs, rows, classes);
                double loss = backend.softmaxCrossEntropy(tl, tlab, dLogits, rows, classes, 1f / rows);

                Tensor th = backend.allocate(tx.shape());
                backend.unary(UnaryOp.TANH, tx, th);
                Tensor param = tensor(backend, x, x.length), m = backend.allocate(param.shape()), v = backend.allocate(param.shape());
                backend.adamUpdate(param, th, m, v, 0.01f, 0.9f, 0.999f, 1e-8f, 0.01f, 1);

                float[][] results = {backend.download(y), backend.download(argmax), backend.download(dx), backend.download(avg),
                        backend.download(dxAvg), backend.download(probs), backend.download(dLogits), backend.download(param)};
                if (reference == null) {
                    reference = results;
                    referenceLoss = loss;
                } else {
                    for (int i = 0; i < results.length; i++) assertArrayEquals(reference[i], results[i], "output " + i);
                    assertEquals(referenceLoss, loss, 0.0, "loss");
                }
            }
        }
    }

    @Test
    void memoryOpsMoveSlices() {
        Tensor t = cpu.allocate(Shape.of(2, 3));
        cpu.upload(new float[] {9, 1, 2, 9}, 1, Slice.of(t, 2, 2));
        float[] out = new float[4];
        cpu.download(Slice.of(t, 1, 4), out, 0);
        assertArrayEquals(new float[] {0, 1, 2, 0}, out);
        Tensor u = cpu.allocate(Shape.of(6));
        cpu.copy(Slice.of(t, 2, 3), Slice.of(u, 0, 3));
        assertArrayEquals(new float[] {1, 2, 0, 0, 0, 0}, cpu.download(u));
        cpu.fill(Slice.of(u, 4, 2), 5f);
        assertArrayEquals(new float[] {1, 2, 0, 0, 5, 5}, cpu.download(u));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CheckedBackend.wrap(cpu).copy(Slice.of(t, 4, 3), Slice.of(u, 0, 3)));
        assertEquals("src range [4, 7) is outside [0, 6)", e.getMessage());
    }

    /** Sizes and geometries are refused by the checking wrapper; a label, which only the data tells, by the kernel. */
    @Test
    void shapeAndArgumentErrorsNameTheProblem() {
        Backend checked = CheckedBackend.wrap(cpu);
        Conv2dGeometry g = new Conv2dGeometry(1, 2, 5, 5, 3, 3, 3, 1, 1, 0, 0, 1, 1, 1);
        Tensor x = cpu.allocate(Shape.of(1, 2, 5, 5)), w = cpu.allocate(Shape.of(3, 2, 3, 3)), wrongY = cpu.allocate(Shape.of(1, 3, 5, 5));
        IllegalArgumentException conv = assertThrows(IllegalArgumentException.class, () -> checked.conv2dForward(g, x, w, null, wrongY));
        assertEquals("y [1, 3, 5, 5] has 75 elements, expected 27", conv.getMessage());

        Pool2dGeometry tooMuchPad = new Pool2dGeometry(1, 2, 5, 5, 2, 2, 2, 2, 2, 0, false, true);
        IllegalArgumentException pool = assertThrows(IllegalArgumentException.class,
                () -> checked.avgPool2dForward(tooMuchPad, x, cpu.allocate(Shape.of(1, 2, 4, 3))));
        assertTrue(pool.getMessage().contains("at most half the kernel"), pool.getMessage());

        Tensor logits = cpu.allocate(Shape.of(2, 3)), labels = tensor(cpu, new float[] {1, 3}, 2);
        for (Backend backend : new Backend[] {cpu, checked}) {
            IllegalArgumentException label = assertThrows(IllegalArgumentException.class,
                    () -> backend.softmaxCrossEntropy(logits, labels, logits, 2, 3, 1f));
            assertEquals("label 3.0 of row 1 is not a class index in [0, 3)", label.getMessage());
        }

        try (CpuBackend other = new CpuBackend(1)) {
            Tensor foreign = other.allocate(Shape.of(2, 2));
            IllegalArgumentException owner = assertThrows(IllegalArgumentException.class,
                    () -> checked.unary(UnaryOp.RELU, foreign, cpu.allocate(Shape.of(2, 2))));
            String path = CpuKernels.Path.select().description(); // e.g. "Vector API, 512-bit vectors"
            assertEquals("x [2, 2] belongs to backend 'cpu' (CPU, 1 thread, " + path + "), not to backend 'cpu' (CPU, 3 threads, " + path + ")",
                    owner.getMessage());
        }
    }

    @Test
    void isFoundAsAPluginAndBoundByName() {
        NeuritePlugin plugin = ServiceLoader.load(NeuritePlugin.class).stream()
                .map(ServiceLoader.Provider::get).filter(p -> p instanceof CpuPlugin).findFirst().orElse(null);
        assertNotNull(plugin, "CpuPlugin is not listed in META-INF/services");
        Map<String, BackendProvider> providers = Guice.createInjector(plugin.module())
                .getInstance(Key.get(new TypeLiteral<Map<String, BackendProvider>>() { }));
        BackendProvider provider = providers.get("cpu");
        assertNotNull(provider, "no 'cpu' binding in " + providers.keySet());
        assertNull(provider.availability(), "the cpu backend runs on every JVM, with or without the Vector API");
        try (Backend backend = provider.create(new BackendOptions(2, null))) {
            assertTrue(backend instanceof CpuBackend, "the provider returns the raw backend; the runtime wraps it");
            assertEquals("cpu", backend.name());
            assertTrue(backend.description().startsWith("CPU, 2 threads, "), backend.description());
        }
    }
}
