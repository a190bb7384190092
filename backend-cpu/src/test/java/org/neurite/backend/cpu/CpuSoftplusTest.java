package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neurite.backend.CheckedBackend;
import org.neurite.backend.UnaryOp;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * {@link UnaryOp#SOFTPLUS}, log(1 + e^x), and its derivative σ(x): values worked out in double
 * and rounded to float, the ends where the naive formula overflows (x = 100) or rounds to zero
 * (x = -100), and the parallel path against the single-threaded one.
 */
class CpuSoftplusTest {
    private static CpuBackend cpu;

    @BeforeAll static void start() { cpu = new CpuBackend(1); }

    @AfterAll static void stop() { cpu.close(); }

    private static Tensor tensor(CpuBackend backend, float... values) {
        Tensor t = backend.allocate(Shape.of(values.length));
        backend.upload(values, t);
        return t;
    }

    @Test
    void forwardMatchesLogOnePlusExpWithoutOverflowOrUnderflow() {
        Tensor x = tensor(cpu, 0f, 1f, -1f, 0.5f, -20f, 30f, 100f, -100f);
        Tensor y = cpu.allocate(x.shape());
        cpu.unary(UnaryOp.SOFTPLUS, x, y);
        // ln 2; log1p(e); log1p(1/e); ...; e^-20 (log1p keeps it); 30 and 100 exactly; e^-100, a subnormal float.
        assertArrayEquals(new float[] {0.6931472f, 1.3132616f, 0.31326169f, 0.974077f, 2.0611537e-9f, 30f, 100f, 3.7835059e-44f},
                cpu.download(y));
    }

    @Test
    void backwardIsTheGradientTimesTheLogisticOfTheInput() {
        Tensor x = tensor(cpu, 0f, 1f, -1f, 0.5f, 100f, -100f);
        Tensor dy = tensor(cpu, 2f, 1f, 1f, -1f, 3f, 1f);
        Tensor dx = cpu.allocate(x.shape());
        // The derivative reads x only: y may be null.
        cpu.unaryBackward(UnaryOp.SOFTPLUS, x, null, dy, dx);
        assertArrayEquals(new float[] {1f, 0.7310586f, 0.26894143f, -0.62245935f, 3f, 3.7835059e-44f}, cpu.download(dx));

        IllegalArgumentException noX = assertThrows(IllegalArgumentException.class,
                () -> CheckedBackend.wrap(cpu).unaryBackward(UnaryOp.SOFTPLUS, null, x, dy, dx));
        assertEquals("SOFTPLUS backward needs the forward input x", noX.getMessage());
    }

    @Test
    void inPlaceAndFourThreadsGiveTheSameBitsAsOneThread() {
        // Large enough (2^16 elements) that the 4-thread backend splits the work.
        int n = 1 << 16;
        float[] values = new float[n];
        SplittableRandom rng = new SplittableRandom(7);
        for (int i = 0; i < n; i++) values[i] = (float) (rng.nextDouble() * 40 - 20);
        try (CpuBackend four = new CpuBackend(4)) {
            Tensor x1 = tensor(cpu, values), y1 = cpu.allocate(x1.shape());
            cpu.unary(UnaryOp.SOFTPLUS, x1, y1);
            Tensor x4 = tensor(four, values);
            four.unary(UnaryOp.SOFTPLUS, x4, x4); // in place
            assertArrayEquals(cpu.download(y1), four.download(x4));

            Tensor dx1 = cpu.allocate(x1.shape());
            Tensor g4 = tensor(four, values);
            cpu.unaryBackward(UnaryOp.SOFTPLUS, x1, null, x1, dx1);   // dy = x
            four.unaryBackward(UnaryOp.SOFTPLUS, tensor(four, values), null, g4, g4);
            assertArrayEquals(cpu.download(dx1), four.download(g4));
        }
    }
}
