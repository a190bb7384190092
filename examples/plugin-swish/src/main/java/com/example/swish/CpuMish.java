package com.example.swish;

import org.neurite.backend.Slice;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerKernel;
import org.neurite.plugin.KernelOverride;

/**
 * A faster {@code mish} for the {@code cpu} backend, registered with {@code kernel(new CpuMish())}.
 * The generic {@link Mish} makes three passes over memory forward with three transcendental
 * functions per element (exp and log1p for softplus, then tanh) and five passes backward. This
 * kernel makes one pass each way and uses one exp: with {@code e = e^x} and {@code n = e(e + 2)},
 * {@code tanh(softplus(x)) = ((1+e)² - 1) / ((1+e)² + 1) = n / (n + 2)} and
 * {@code σ(x) = e / (1 + e)}, computed in double. While training, forward also keeps the local
 * derivative {@code dy/dx = t + x·σ(x)·(1 - t²)}, so backward is one multiplication per element.
 *
 * <p>Why it is CPU-only: it moves x (and dy) to host arrays with {@code download} and the result
 * back with {@code upload}. On the CPU backend those are array copies, far cheaper than the
 * transcendental passes they replace; on a GPU they would be transfers over the bus, so other
 * backends keep the generic kernel. The host arrays are allocated once, when the kernel is
 * compiled.
 */
public final class CpuMish implements KernelOverride {
    /** Above this, tanh(softplus(x)) is 1 in double (1 - 2e^-2x rounds away) and e^2x would overflow. */
    private static final double SATURATED = 20;

    @Override public String layer() { return "mish"; }

    @Override public String backend() { return "cpu"; }

    @Override public LayerKernel compile(KernelContext context) {
        int n = context.outputShape().size();
        return new Kernel(new float[n], new float[n], new float[n]);
    }

    /**
     * {@code hostX} receives the [n] input, {@code hostY} the output (in backward dy, then dx);
     * {@code derivative} is dy/dx at the last training forward's input.
     */
    private record Kernel(float[] hostX, float[] hostY, float[] derivative) implements LayerKernel {
        @Override public void forward(ForwardPass pass) {
            pass.backend().download(Slice.of(pass.input(0)), hostX, 0);
            boolean keepDerivative = pass.training();
            for (int i = 0; i < hostX.length; i++) {
                double x = hostX[i];
                if (x > SATURATED) {
                    hostY[i] = hostX[i];
                    derivative[i] = 1f;
                    continue;
                }
                double e = Math.exp(x);
                double n = e * (e + 2);
                double t = n / (n + 2);
                hostY[i] = (float) (x * t);
                if (keepDerivative) derivative[i] = (float) (t + x * (e / (1 + e)) * (1 - t * t));
            }
            pass.backend().upload(hostY, 0, Slice.of(pass.output()));
        }

        @Override public void backward(BackwardPass pass) {
            if (pass.gradInput(0) == null) return;
            pass.backend().download(Slice.of(pass.gradOutput()), hostY, 0);
            for (int i = 0; i < hostY.length; i++) hostY[i] *= derivative[i];
            pass.backend().upload(hostY, 0, Slice.of(pass.gradInput(0)));
        }
    }
}
