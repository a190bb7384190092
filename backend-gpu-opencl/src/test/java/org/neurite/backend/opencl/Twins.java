package org.neurite.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import java.util.function.ToDoubleBiFunction;
import org.neurite.backend.Backend;
import org.neurite.backend.CheckedBackend;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The parity harness: every tensor exists twice, on the CPU reference and on the OpenCL backend,
 * with the same contents; an op runs on both through {@link #both}, and
 * {@link #assertClose} compares what came out. Both backends are used wrapped in a
 * {@link CheckedBackend}, as the runtime hands them out, so a test cannot pass by relying on a call
 * the contract refuses. A test reads like the op it checks:
 * <pre>
 *   Twin x = twins.random(Shape.of(2, 3), -1, 1), y = twins.stale(Shape.of(2, 3));
 *   twins.both((b, s) -&gt; b.unary(UnaryOp.TANH, s.of(x), s.of(y)));
 *   twins.assertClose("tanh", y, 1e-6);
 * </pre>
 */
final class Twins {
    /** The same logical tensor on both backends. */
    record Twin(Tensor cpu, Tensor cl) {}

    /** Picks one backend's half of a {@link Twin} (null stays null). */
    interface Side {
        Tensor of(Twin t);
    }

    /** An op written once against whichever backend runs it. */
    interface Op {
        void run(Backend backend, Side side);
    }

    final Backend cpu;
    final Backend cl;
    private final SplittableRandom random;

    Twins(Backend cpu, Backend cl, long seed) {
        this.cpu = CheckedBackend.wrap(cpu);
        this.cl = CheckedBackend.wrap(cl);
        this.random = new SplittableRandom(seed);
    }

    Twin of(Shape shape, float[] values) {
        Tensor c = cpu.allocate(shape), g = cl.allocate(shape);
        cpu.upload(values, c);
        cl.upload(values, g);
        return new Twin(c, g);
    }

    /** Uniform values in [lo, hi). */
    Twin random(Shape shape, double lo, double hi) {
        return of(shape, values(shape.size(), lo, hi));
    }

    float[] values(int n, double lo, double hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) random.nextDouble(lo, hi);
        return v;
    }

    /** Integers in [0, bound) stored as floats (labels, embedding indices). */
    Twin indices(int n, int bound) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = random.nextInt(bound);
        return of(Shape.of(n), v);
    }

    /** An output filled with a stale value (7) on both sides, to show the op overwrites it. */
    Twin stale(Shape shape) {
        return filled(shape, 7f);
    }

    Twin filled(Shape shape, float value) {
        Tensor c = cpu.allocate(shape), g = cl.allocate(shape);
        cpu.fill(c, value);
        cl.fill(g, value);
        return new Twin(c, g);
    }

    void both(Op op) {
        op.run(cpu, t -> t == null ? null : t.cpu());
        op.run(cl, t -> t == null ? null : t.cl());
    }

    /** Both results of an op that returns a number: {cpu, opencl}. */
    double[] bothValues(ToDoubleBiFunction<Backend, Side> op) {
        return new double[] {op.applyAsDouble(cpu, t -> t == null ? null : t.cpu()), op.applyAsDouble(cl, t -> t == null ? null : t.cl())};
    }

    /** |opencl - cpu| <= tol * (1 + |cpu|) element-wise (NaN must match NaN, an infinity the same infinity), naming the first miss. */
    void assertClose(String what, Twin t, double tol) {
        assertClose(what, cpu.download(t.cpu()), cl.download(t.cl()), tol);
    }

    static void assertClose(String what, float[] expected, float[] actual, double tol) {
        assertEquals(expected.length, actual.length, what + ": length");
        int misses = 0, first = -1;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            if (Float.isNaN(expected[i]) && Float.isNaN(actual[i]) || expected[i] == actual[i]) continue;
            double err = Math.abs((double) actual[i] - expected[i]) / (1 + Math.abs(expected[i]));
            if (!(err <= tol)) {
                if (first < 0) first = i;
                misses++;
            }
            if (err > worst || Double.isNaN(err)) worst = err;
        }
        if (misses > 0)
            fail(what + ": " + misses + " of " + expected.length + " elements differ by more than " + tol + " (worst " + worst
                    + "); first at " + first + ": cpu " + expected[first] + " but opencl " + actual[first]);
    }
}
