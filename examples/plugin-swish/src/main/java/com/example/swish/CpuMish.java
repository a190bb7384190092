package com.example.swish;

import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerKernel;
import org.neurite.plugin.KernelOverride;

/**
 * A faster {@code mish} for the {@code cpu} backend, registered with {@code kernel(new CpuMish())}.
 * The generic {@link Mish} makes three passes over memory with three transcendental functions per
 * element (exp and log1p for softplus, then tanh) and keeps {@code t} for backward. This kernel
 * uses one exp: with {@code e = e^x} and {@code n = e(e + 2)},
 * {@code tanh(softplus(x)) = ((1+e)² - 1) / ((1+e)² + 1) = n / (n + 2)}, and
 * {@code σ(x) = e / (1 + e)}, computed in double in one loop over host arrays.
 *
 * <p>Why it is CPU-only: it moves x (and dy) to host arrays with {@code download} and the result
 * back with {@code upload}. On the CPU backend those are array copies, far cheaper than the two
 * transcendental passes they replace; on a GPU they would be transfers over the bus, so other
 * backends keep the generic kernel. Nothing is saved for backward, which recomputes from x; the
 * host arrays are allocated once, when the kernel is compiled.
 */
public final class CpuMish implements KernelOverride {
    /** Above this, tanh(softplus(x)) is 1 in double (1 - 2e^-2x rounds away) and e^2x would overflow. */
    private static final double SATURATED = 20;

    @Override public String layer() { return "mish"; }

    @Override public String backend() { return "cpu"; }

    @Override public LayerKernel compile(KernelContext context) {
        int n = context.outputShape().size();
        return new Kernel(new float[n], new float[n]);
    }

    /** x·tanh(softplus(x)) from one exponential. */
    static float mish(float x) {
        if (x > SATURATED) return x;
        double e = Math.exp(x);
        double n = e * (e + 2);
        return (float) (x * (n / (n + 2)));
    }

    /** d mish / dx = t + x·σ(x)·(1 - t²), with t and σ from the same exponential. */
    static float mishDerivative(float x) {
        if (x > SATURATED) return 1f;
        double e = Math.exp(x);
        double n = e * (e + 2);
        double t = n / (n + 2);
        double sigmoid = e / (1 + e);
        return (float) (t + x * sigmoid * (1 - t * t));
    }

    /** {@code hostX} and {@code hostY} hold the [n] input and the result (or dy, then dx) on the heap. */
    private record Kernel(float[] hostX, float[] hostY) implements LayerKernel {
        @Override public void forward(ForwardPass pass) {
            pass.backend().download(pass.input(0), 0, hostX, 0, hostX.length);
            for (int i = 0; i < hostX.length; i++) hostY[i] = mish(hostX[i]);
            pass.backend().upload(hostY, 0, pass.output(), 0, hostY.length);
        }

        @Override public void backward(BackwardPass pass) {
            if (pass.gradInput(0) == null) return;
            pass.backend().download(pass.input(0), 0, hostX, 0, hostX.length);
            pass.backend().download(pass.gradOutput(), 0, hostY, 0, hostY.length);
            for (int i = 0; i < hostX.length; i++) hostY[i] *= mishDerivative(hostX[i]);
            pass.backend().upload(hostY, 0, pass.gradInput(0), 0, hostY.length);
        }
    }
}
