package org.neurite.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.backend.Slice;
import org.neurite.backend.UnaryOp;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * Launching allocates nothing on the calling thread once steady: kernel arguments are written
 * through each kernel's reused setter ({@link ClKernel#args()}), the work sizes through its scratch
 * arrays, so a training or inference step makes no garbage per launch. A steady sequence of map
 * kernels (a unary op, a binary op on slices, the fused add + relu) and a GEMM is warmed up, then
 * measured in windows on this thread ({@code ThreadMXBean#getCurrentThreadAllocatedBytes}); one
 * window under a byte per launch passes (a per-launch allocation shows in every window; the
 * windows absorb a stray one-off such as a JIT deoptimisation's). The queue is finished between
 * windows, outside them, so commands do not pile up.
 */
class ClSteadyAllocationTest {
    private static final int WARM_UP = 200, WINDOWS = 20, CALLS = 50, LAUNCHES_PER_CALL = 4;

    @Test void steadyLaunchesOfMapsAndAGemmAllocateNothingOnTheCallingThread() {
        ClBackend b = OpenClTests.backend();
        int n = 4096, m = 64;
        Tensor x = b.allocate(Shape.of(n)), y = b.allocate(Shape.of(n)), z = b.allocate(Shape.of(n));
        Tensor a = b.allocate(Shape.of(m, m)), w = b.allocate(Shape.of(m, m)), c = b.allocate(Shape.of(m, m));
        b.upload(ramp(n), x);
        b.upload(ramp(n), y);
        b.upload(ramp(m * m), a);
        b.upload(ramp(m * m), w);
        // Everything an op is given is made once, as a compiled model makes it.
        Slice sx = Slice.of(x), sy = Slice.of(y), lowX = new Slice(x, 0, n / 2), lowY = new Slice(y, 0, n / 2), highZ = new Slice(z, n / 2, n / 2);
        Gemm product = new Gemm(false, true, m, m, m, 1);
        Matrix ma = Matrix.of(a, m), mw = Matrix.of(w, m), mc = Matrix.of(c, m);
        Runnable call = () -> {
            b.unary(UnaryOp.TANH, sx, sy);
            b.binary(BinaryOp.MUL, lowX, lowY, highZ);
            b.addForward(x, y, UnaryOp.RELU, z);
            b.gemm(product, 1f, ma, mw, 0f, mc);
        };
        for (int i = 0; i < WARM_UP; i++) call.run();
        b.synchronize();
        StringBuilder windows = new StringBuilder();
        boolean clean = false;
        for (int window = 0; window < WINDOWS && !clean; window++) {
            long probe = allocatedBytes(), before = allocatedBytes(), probeCost = before - probe;
            for (int i = 0; i < CALLS; i++) call.run();
            long allocated = allocatedBytes() - before - probeCost;
            b.synchronize();
            windows.append(allocated).append(' ');
            clean = allocated < (long) CALLS * LAUNCHES_PER_CALL;
        }
        for (Tensor t : new Tensor[] {x, y, z, a, w, c}) t.close();
        assertTrue(clean, "bytes allocated per window of " + CALLS * LAUNCHES_PER_CALL + " launches: " + windows);
    }

    private static float[] ramp(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (i % 17) / 17f - 0.5f;
        return v;
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }
}
