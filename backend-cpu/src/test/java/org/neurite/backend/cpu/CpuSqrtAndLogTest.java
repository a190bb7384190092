package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.neurite.backend.Backend;
import org.neurite.backend.CheckedBackend;
import org.neurite.backend.Slice;
import org.neurite.backend.UnaryOp;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * {@link UnaryOp#SQRT} (backward dy / 2y, from y) and {@link UnaryOp#LOG} (backward dy / x, from
 * x): forward values worked out in double and rounded once, the ends of the domain (0, negative
 * numbers, infinity), backward against the double-precision derivative and against central
 * differences of the forward op, and the parallel path against the single-threaded one.
 */
class CpuSqrtAndLogTest {
    private static final float NAN = Float.NaN, INF = Float.POSITIVE_INFINITY;
    private static CpuBackend cpu;

    @BeforeAll static void start() { cpu = new CpuBackend(1); }

    @AfterAll static void stop() { cpu.close(); }

    private static Tensor tensor(Backend backend, float... values) {
        Tensor t = backend.allocate(Shape.of(values.length));
        backend.upload(values, t);
        return t;
    }

    private static float[] forward(Backend backend, UnaryOp op, float... x) {
        Tensor tx = tensor(backend, x), y = backend.allocate(tx.shape());
        backend.unary(op, tx, y);
        return backend.download(y);
    }

    @Test
    void sqrtForwardAtKnownPointsAndTheEndsOfItsDomain() {
        // A subnormal (2^-140) has an exact root; √-0 is -0, as in IEEE 754 and PyTorch.
        assertArrayEquals(new float[] {0f, -0f, 0.5f, 1f, 1.4142135f, 3f, 0x1p-70f, INF, NAN, NAN},
                forward(cpu, UnaryOp.SQRT, 0f, -0f, 0.25f, 1f, 2f, 9f, 0x1p-140f, INF, -1f, NAN));
    }

    @Test
    void logForwardAtKnownPointsAndTheEndsOfItsDomain() {
        // ln 2^-140 = -140 ln 2 = -97.0406053 (a subnormal input).
        assertArrayEquals(new float[] {0f, 0.6931472f, -0.6931472f, 2.3025851f, -97.0406f, Float.NEGATIVE_INFINITY,
                        Float.NEGATIVE_INFINITY, INF, NAN, NAN},
                forward(cpu, UnaryOp.LOG, 1f, 2f, 0.5f, 10f, 0x1p-140f, 0f, -0f, INF, -1f, NAN));
    }

    /** Every float of a wide random sample gives the double-precision function rounded once to float. */
    @ParameterizedTest
    @EnumSource(value = UnaryOp.class, names = {"SQRT", "LOG"})
    void forwardIsTheDoubleFunctionRoundedOnce(UnaryOp op) {
        float[] x = positives(new SplittableRandom(3), 10_000);
        float[] y = forward(cpu, op, x);
        for (int i = 0; i < x.length; i++) {
            double exact = op == UnaryOp.SQRT ? Math.sqrt(x[i]) : Math.log(x[i]);
            assertEquals((float) exact, y[i], op + "(" + x[i] + ")");
        }
    }

    /** dx against dy / (2 sqrt(x)) and dy / x computed in double from the same x and dy. */
    @ParameterizedTest
    @EnumSource(value = UnaryOp.class, names = {"SQRT", "LOG"})
    void backwardMatchesTheDoublePrecisionDerivative(UnaryOp op) {
        SplittableRandom rng = new SplittableRandom(5);
        float[] x = positives(rng, 10_000), g = new float[x.length];
        for (int i = 0; i < g.length; i++) g[i] = (float) (rng.nextDouble() * 4 - 2);
        Tensor tx = tensor(cpu, x), y = cpu.allocate(tx.shape()), dy = tensor(cpu, g), dx = cpu.allocate(tx.shape());
        cpu.unary(op, tx, y);
        // Each op's derivative reads one forward tensor; the other is left out.
        if (op == UnaryOp.SQRT) cpu.unaryBackward(op, null, y, dy, dx);
        else cpu.unaryBackward(op, tx, null, dy, dx);
        float[] actual = cpu.download(dx);
        for (int i = 0; i < x.length; i++) {
            double expected = op == UnaryOp.SQRT ? g[i] / (2 * Math.sqrt(x[i])) : g[i] / (double) x[i];
            // y is sqrt(x) rounded to float, then one float division: a few float roundings.
            assertEquals(expected, actual[i], 4e-7 * Math.abs(expected), op + "' at " + x[i]);
        }
    }

    /**
     * The backward with dy = 1 is the slope of the forward op itself: central differences
     * (f(x + h) - f(x - h)) / 2h of the backend's float outputs, over x in [0.5, 8].
     */
    @ParameterizedTest
    @EnumSource(value = UnaryOp.class, names = {"SQRT", "LOG"})
    void backwardIsTheSlopeOfTheForwardOp(UnaryOp op) {
        int n = 64;
        float h = 1f / 256; // exact in float, so x ± h are exact for these x
        float[] x = new float[n], above = new float[n], below = new float[n], ones = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = 0.5f + i * (7.5f / (n - 1));
            above[i] = x[i] + h;
            below[i] = x[i] - h;
            ones[i] = 1f;
        }
        float[] fAbove = forward(cpu, op, above), fBelow = forward(cpu, op, below);
        Tensor tx = tensor(cpu, x), y = cpu.allocate(tx.shape()), dx = cpu.allocate(tx.shape());
        cpu.unary(op, tx, y);
        cpu.unaryBackward(op, tx, y, tensor(cpu, ones), dx);
        float[] analytic = cpu.download(dx);
        for (int i = 0; i < n; i++) {
            double numeric = ((double) fAbove[i] - fBelow[i]) / ((double) above[i] - below[i]);
            assertTrue(Math.abs(analytic[i] - numeric) <= 1e-3 * Math.abs(numeric) + 1e-5,
                    op + "' at " + x[i] + ": backward " + analytic[i] + ", central difference " + numeric);
        }
    }

    @Test
    void backwardAtZeroIsInfiniteAsInPyTorch() {
        Tensor zero = tensor(cpu, 0f), y = cpu.allocate(zero.shape()), dy = tensor(cpu, 3f), dx = cpu.allocate(zero.shape());
        cpu.unary(UnaryOp.SQRT, zero, y);
        cpu.unaryBackward(UnaryOp.SQRT, null, y, dy, dx);
        assertEquals(INF, cpu.download(dx)[0]);
        cpu.unaryBackward(UnaryOp.LOG, zero, null, dy, dx);
        assertEquals(INF, cpu.download(dx)[0]);
    }

    @Test
    void theCheckingWrapperAsksForTheTensorTheDerivativeReads() {
        Backend checked = CheckedBackend.wrap(cpu);
        Tensor x = tensor(cpu, 1f, 4f), dy = tensor(cpu, 1f, 1f), dx = cpu.allocate(x.shape());
        IllegalArgumentException sqrt = assertThrows(IllegalArgumentException.class, () -> checked.unaryBackward(UnaryOp.SQRT, x, null, dy, dx));
        assertEquals("SQRT backward needs the forward output y", sqrt.getMessage());
        IllegalArgumentException log = assertThrows(IllegalArgumentException.class, () -> checked.unaryBackward(UnaryOp.LOG, null, x, dy, dx));
        assertEquals("LOG backward needs the forward input x", log.getMessage());
    }

    /** Slices at offsets, in place, on 2^17 elements: 1, 2, 3 and 5 threads give the same bits. */
    @ParameterizedTest
    @EnumSource(value = UnaryOp.class, names = {"SQRT", "LOG"})
    void slicesInPlaceGiveTheSameBitsOnAnyThreadCount(UnaryOp op) {
        int n = 1 << 17, off = 7;
        SplittableRandom rng = new SplittableRandom(11);
        float[] values = new float[off + n], grads = new float[n];
        for (int i = 0; i < values.length; i++) values[i] = (float) (rng.nextDouble() * 50);
        for (int i = 0; i < n; i++) grads[i] = (float) (rng.nextDouble() * 2 - 1);
        float[][] reference = null;
        for (int threads : new int[] {1, 2, 3, 5}) {
            try (CpuBackend backend = new CpuBackend(threads)) {
                Tensor x = tensor(backend, values), y = tensor(backend, values), g = tensor(backend, grads);
                Slice xs = Slice.of(x, off, n), ys = Slice.of(y, off, n), gs = Slice.of(g);
                backend.unary(op, ys, ys); // in place
                backend.unaryBackward(op, xs, ys, gs, gs); // dx written over dy
                float[][] results = {backend.download(y), backend.download(g)};
                assertEquals(values[off - 1], results[0][off - 1], "before the slice");
                if (reference == null) reference = results;
                else for (int i = 0; i < 2; i++) assertArrayEquals(reference[i], results[i], threads + " threads, output " + i);
            }
        }
    }

    /** Positive floats spread over 20 orders of magnitude. */
    private static float[] positives(SplittableRandom rng, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) Math.pow(10, rng.nextDouble() * 20 - 10);
        return x;
    }
}
