package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.neurite.backend.Backend;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.backend.Pool2dGeometry;
import org.neurite.backend.Slice;
import org.neurite.backend.UnaryOp;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The plain-Java kernels give the Vector API kernels' bits, op by op, on every op that runs
 * them: GEMM (every transpose, edge tiles, the shared-panel path, two k-blocks, batches, alpha
 * and beta), the convolutions through each algorithm (direct with partial vectors and wide rows,
 * implicit GEMM over the padded grid and gathered, explicit im2col, 1x1) forward, backward-data and
 * backward-filter, {@code affine} at offsets, {@code channelMax} with a NaN, ReLU backward, 2x2 max
 * pooling forward and backward (ties, signed zeros, NaN; rows narrower than a vector) and the LSTM cell (its float
 * sigmoid and tanh). Two backends of two threads each in this JVM,
 * one per path; needs the Vector API (skipped without it, where only the plain path exists).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CpuPlainPathParityTest {
    private CpuBackend vector;
    private CpuBackend plain;

    @BeforeAll void start() {
        assumeTrue(CpuKernels.VECTOR_API_PRESENT, "needs --add-modules jdk.incubator.vector for the vector path");
        vector = new CpuBackend(new BackendOptions(2, null), CpuKernels.Path.VECTOR_API);
        plain = new CpuBackend(new BackendOptions(2, null), CpuKernels.Path.PLAIN_JAVA);
    }

    @AfterAll void stop() {
        if (vector != null) vector.close();
        if (plain != null) plain.close();
    }

    @Test void eachBackendSaysWhichPathItRuns() {
        assertEquals("CPU, 2 threads, Vector API, " + CpuKernels.LANES * 32 + "-bit vectors", vector.description());
        assertEquals("CPU, 2 threads, plain Java", plain.description());
    }

    static Stream<Arguments> products() {
        // m, n, k, batch: edge tiles; more than one B strip; two k-blocks (k > KC); tall enough for
        // the shared-panel path on two threads (m >= 4 * MC) and wider than one B panel (n > NC).
        int[][] shapes = {{1, 1, 1, 1}, {7, 33, 129, 1}, {13, 2 * CpuGemm.NR + 3, 17, 3}, {50, 70, CpuGemm.KC + 100, 1},
                {4 * CpuGemm.MC + 5, CpuGemm.NC + 17, 269, 1}};
        List<Arguments> out = new ArrayList<>();
        for (int[] s : shapes) {
            for (int t = 0; t < 4; t++) out.add(Arguments.of(s[0], s[1], s[2], s[3], (t & 1) != 0, (t & 2) != 0));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "m={0} n={1} k={2} batch={3} transA={4} transB={5}")
    @MethodSource("products")
    void gemm(int m, int n, int k, int batch, boolean transA, boolean transB) {
        float beta = transA ? 0f : -0.75f; // beta == 0 must not read C
        Gemm g = new Gemm(transA, transB, m, n, k, batch);
        assertSameBits(b -> {
            SplittableRandom rnd = new SplittableRandom(m * 31L + n * 7L + k);
            Tensor a = random(b, rnd, batch, m * k), bt = random(b, rnd, batch, k * n), c = random(b, rnd, batch, m * n);
            b.gemm(g, 1.25f, Matrix.batched(a, 0, transA ? m : k, m * k), Matrix.batched(bt, 0, transB ? k : n, k * n),
                    beta, Matrix.batched(c, 0, n, m * n));
            return b.download(c);
        });
    }

    static Stream<Conv2dGeometry> convolutions() {
        return Stream.of(
                // direct: LeNet-5's c1 (28 output columns: a partial last vector), then rows wider than a
                // chunk with an odd channel count and a kernel wider than 5, then two groups, then
                // forward's grid in blocks of rows, and planes of 4 outputs (less than a vector)
                new Conv2dGeometry(3, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 1, 1, 1),
                new Conv2dGeometry(2, 1, 9, 150, 3, 3, 7, 1, 1, 1, 3, 1, 1, 1),
                new Conv2dGeometry(2, 2, 11, 13, 4, 3, 3, 1, 1, 1, 1, 1, 1, 2),
                new Conv2dGeometry(2, 2, 7, 411, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                new Conv2dGeometry(3, 1, 3, 3, 5, 2, 2, 1, 1, 0, 0, 1, 1, 1),
                // implicit GEMM (16 output channels): over the padded grid (whole samples, stride 1),
                // gathered (one sample cut into pixel chunks for two workers; stride 2), then
                // explicit im2col (stride 2, 8 channels), 1x1
                new Conv2dGeometry(2, 3, 12, 12, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                new Conv2dGeometry(1, 3, 12, 12, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                new Conv2dGeometry(2, 4, 9, 9, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1),
                new Conv2dGeometry(2, 6, 10, 10, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1),
                new Conv2dGeometry(2, 8, 9, 9, 12, 1, 1, 1, 1, 0, 0, 1, 1, 1),
                // backward-filter over the channels-last copy (16 input channels: whole lane groups at
                // both widths), stride 1 and stride 2 with 13 output channels
                new Conv2dGeometry(2, 16, 7, 7, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                new Conv2dGeometry(3, 16, 9, 8, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void conv2dForwardAndBothBackwardPasses(Conv2dGeometry g) {
        Shape xs = Shape.of(g.batch(), g.inChannels(), g.height(), g.width());
        Shape ws = Shape.of(g.outChannels(), g.inChannelsPerGroup(), g.kernelH(), g.kernelW());
        Shape ys = Shape.of(g.batch(), g.outChannels(), g.outHeight(), g.outWidth());
        assertSameBits(b -> {
            SplittableRandom rnd = new SplittableRandom(g.hashCode());
            Tensor x = random(b, rnd, 1, xs.elementCount()), w = random(b, rnd, 1, ws.elementCount());
            Tensor bias = random(b, rnd, 1, g.outChannels()), dy = random(b, rnd, 1, ys.elementCount());
            Tensor y = b.allocate(ys), dx = b.allocate(xs), dw = b.allocate(ws), dbias = b.allocate(Shape.of(g.outChannels()));
            b.conv2dForward(g, x, w, bias, y);
            b.conv2dBackwardData(g, dy, w, dx);
            b.conv2dBackwardFilter(g, x, dy, dw, dbias);
            return concat(b.download(y), b.download(dx), b.download(dw), b.download(dbias));
        });
    }

    @Test void affineInPlaceAndAtOffsets() {
        int n = 5 * CpuElementwise.PARALLEL_MIN / 4 + 3; // two workers, each with a scalar tail
        assertSameBits(b -> {
            Tensor x = random(b, new SplittableRandom(5), 1, n + 7), y = b.allocate(Shape.of(n + 9));
            b.affine(Slice.of(x, 7, n), 1.0001f, -0.5f, Slice.of(y, 2, n));
            b.affine(Slice.of(x, 0, n), -3f, 0.25f, Slice.of(x, 0, n));
            return concat(b.download(x), b.download(y));
        });
    }

    @Test void reluBackwardAtOffsetsInPlaceAndAtZeroAndNaN() {
        int n = 5 * CpuElementwise.PARALLEL_MIN / 4 + 3; // two workers, each with a scalar tail
        assertSameBits(b -> {
            Tensor x = random(b, new SplittableRandom(8), 1, n + 5), dy = random(b, new SplittableRandom(9), 1, n + 3);
            Tensor dx = b.allocate(Shape.of(n + 9));
            float[] values = b.download(x);
            values[5] = 0f;
            values[6] = -0f;
            values[7] = Float.NaN;
            values[n] = Float.NaN; // in the second worker's scalar tail
            b.upload(values, x);
            b.unaryBackward(UnaryOp.RELU, Slice.of(x, 5, n), null, Slice.of(dy, 3, n), Slice.of(dx, 9, n));
            b.unaryBackward(UnaryOp.RELU, Slice.of(x, 0, n), null, Slice.of(dy, 0, n), Slice.of(dy, 0, n));
            return concat(b.download(dx), b.download(dy));
        });
    }

    @Test void channelMaxWithANaN() {
        int outer = 3, channels = 5, inner = 2 * CpuKernels.LANES + 3;
        assertSameBits(b -> {
            Tensor x = random(b, new SplittableRandom(6), 1, outer * channels * inner), out = b.allocate(Shape.of(channels));
            float[] values = b.download(x);
            values[(2 * channels + 1) * inner + 4] = Float.NaN; // channel 1
            b.upload(values, x);
            b.channelMax(x, out, outer, channels, inner);
            return b.download(out);
        });
    }

    @Test void lstmCellForwardAndBackwardAtOffsetsWithSaturationAndNaN() {
        // Every gate block ends in a scalar tail; batch·hidden above the cells' 4096-element threshold for two workers.
        int hidden = 2 * CpuKernels.LANES + 5, batch = 4096 / hidden + 1;
        int gates = 4 * batch * hidden, state = batch * hidden;
        assertSameBits(b -> {
            Tensor g = random(b, new SplittableRandom(11), 1, gates + 3), cPrev = random(b, new SplittableRandom(12), 1, state + 1);
            float[] values = b.download(g);
            for (int i = 3; i < values.length; i += 7) values[i] *= 60f;   // saturating pre-activations
            values[4] = Float.NaN;
            values[3 + 2 * hidden + 1] = Float.POSITIVE_INFINITY;          // a candidate gate
            b.upload(values, g);
            Tensor c = b.allocate(Shape.of(state)), h = b.allocate(Shape.of(state + 2));
            Tensor dh = random(b, new SplittableRandom(13), 1, state), dc = random(b, new SplittableRandom(14), 1, state);
            Tensor dGates = b.allocate(Shape.of(gates));
            Slice gateSlice = Slice.of(g, 3, gates), cPrevSlice = Slice.of(cPrev, 1, state);
            b.lstmCellForward(gateSlice, cPrevSlice, Slice.of(c), Slice.of(h, 2, state), batch, hidden);
            b.lstmCellBackward(gateSlice, cPrevSlice, Slice.of(c), Slice.of(dh), Slice.of(dc), Slice.of(dGates), batch, hidden);
            return concat(b.download(g), b.download(c), b.download(h), b.download(dc), b.download(dGates));
        });
    }

    static Stream<Pool2dGeometry> maxPools() {
        // fashion_cnn's two layers (output rows of 14 and 7, narrower than a 512-bit vector), a
        // plane whose windows are fewer than one vector, odd sizes whose last row and column no
        // window reads; all large enough for two workers.
        return Stream.of(new Pool2dGeometry(4, 32, 28, 28, 2, 2, 2, 2, 0, 0, false, true),
                new Pool2dGeometry(4, 64, 14, 14, 2, 2, 2, 2, 0, 0, false, true),
                new Pool2dGeometry(64, 40, 4, 6, 2, 2, 2, 2, 0, 0, false, true),
                new Pool2dGeometry(3, 50, 13, 11, 2, 2, 2, 2, 0, 0, false, true));
    }

    @ParameterizedTest
    @MethodSource("maxPools")
    void maxPool2x2ForwardAndBackwardWithTiesSignedZerosAndNaN(Pool2dGeometry g) {
        // Values from a set of six so that most windows hold ties, both zeros or NaNs.
        float[] choices = {-1f, 0f, -0f, 1f, Float.NaN, 2f};
        assertSameBits(b -> {
            SplittableRandom rnd = new SplittableRandom(21);
            float[] values = new float[g.batch() * g.channels() * g.height() * g.width()];
            for (int i = 0; i < values.length; i++) values[i] = choices[rnd.nextInt(choices.length)];
            Tensor x = b.allocate(Shape.of(g.batch(), g.channels(), g.height(), g.width()));
            b.upload(values, x);
            Shape out = Shape.of(g.batch(), g.channels(), g.outHeight(), g.outWidth());
            Tensor y = b.allocate(out), argmax = b.allocate(out);
            b.maxPool2dForward(g, x, y, argmax);
            // Backward, with a -0 among the gradients: each path against the scatter-add into zeros.
            float[] gradients = new float[(int) out.size()];
            for (int i = 0; i < gradients.length; i++) gradients[i] = (float) (rnd.nextDouble() * 4 - 2);
            gradients[1] = -0f;
            Tensor dy = b.allocate(out), dx = b.allocate(x.shape());
            b.upload(gradients, dy);
            b.maxPool2dBackward(g, dy, argmax, dx);
            float[] winners = b.download(argmax), expected = new float[values.length];
            int plane = g.height() * g.width(), windows = g.outHeight() * g.outWidth();
            for (int o = 0; o < gradients.length; o++) expected[o / windows * plane + (int) winners[o]] += gradients[o];
            assertArrayEquals(expected, b.download(dx));
            return concat(b.download(y), winners, b.download(dx));
        });
    }

    /** Runs {@code op} on each backend (fresh tensors, the same seeded values) and compares the results bit for bit. */
    private void assertSameBits(Function<Backend, float[]> op) {
        float[] expected = op.apply(vector), actual = op.apply(plain);
        assertEquals(expected.length, actual.length);
        assertArrayEquals(expected, actual); // JUnit compares floats by their bits (NaN equals NaN, -0 differs from +0)
    }

    private static Tensor random(Backend b, SplittableRandom rnd, int batch, long size) {
        float[] v = new float[Math.toIntExact(batch * size)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextDouble() * 4 - 2);
        Tensor t = b.allocate(Shape.of(v.length));
        b.upload(v, t);
        return t;
    }

    private static float[] concat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) n += p.length;
        float[] out = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
