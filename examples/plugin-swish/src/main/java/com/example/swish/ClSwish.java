package com.example.swish;

import org.neurite.backend.Backend;
import org.neurite.backend.DevicePrograms;
import org.neurite.backend.DevicePrograms.DeviceKernel;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerKernel;
import org.neurite.plugin.KernelOverride;
import org.neurite.tensor.Tensor;

/**
 * {@code swish} as device kernels for the {@code opencl} backend ({@code activations.cl}):
 * forward is one kernel instead of the generic {@link Swish}'s three ops, backward one kernel
 * plus the backend's channel sum for dβ. It needs the backend's {@link DevicePrograms}
 * extension; without it ({@link #supports} false) the generic kernel runs.
 */
public final class ClSwish implements KernelOverride {
    @Override public String layer() { return "swish"; }

    @Override public String backend() { return "opencl"; }

    @Override public boolean supports(KernelContext context) {
        return context.backend().extension(DevicePrograms.class).isPresent();
    }

    @Override public LayerKernel compile(KernelContext context) {
        DevicePrograms.DeviceProgram program = ClActivations.program(context.backend().extension(DevicePrograms.class).orElseThrow());
        int n = context.outputShape().size();
        // s = σ(βx), kept from forward to backward; t = the per-element terms of dβ.
        return new Kernel(n, program.kernel("swish_forward"), program.kernel("swish_backward"),
                context.allocate(context.outputShape()), context.allocate(context.outputShape()));
    }

    private record Kernel(int n, DeviceKernel forwardKernel, DeviceKernel backwardKernel, Tensor s, Tensor t) implements LayerKernel {
        @Override public void forward(ForwardPass pass) {
            forwardKernel.launch(n, pass.input(0), pass.param("beta"), s, pass.output(), n);
        }

        @Override public void backward(BackwardPass pass) {
            Tensor dx = pass.gradInput(0), dBeta = pass.gradParam("beta");
            if (dx == null && dBeta == null) return;
            // an absent output is given as a scratch tensor the kernel does not write
            backwardKernel.launch(n, pass.input(0), pass.param("beta"), s, pass.gradOutput(), dx == null ? t : dx, t, n,
                    dx == null ? 0 : 1, dBeta == null ? 0 : 1);
            Backend b = pass.backend();
            if (dBeta != null) b.channelSum(t, dBeta, 1, 1, n, 0f);   // dβ[1] = Σ t
        }
    }
}
