package com.example.swish;

import org.neurite.backend.DevicePrograms;
import org.neurite.backend.DevicePrograms.DeviceKernel;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerKernel;
import org.neurite.plugin.KernelOverride;
import org.neurite.tensor.Tensor;

/**
 * {@code mish} as device kernels for the {@code opencl} backend ({@code activations.cl}), the
 * same one-pass computation as {@link CpuMish} without leaving the device: forward writes y and,
 * while training, dy/dx; backward multiplies. It needs the backend's {@link DevicePrograms}
 * extension; without it ({@link #supports} false) the generic {@link Mish} runs.
 */
public final class ClMish implements KernelOverride {
    @Override public String layer() { return "mish"; }

    @Override public String backend() { return "opencl"; }

    @Override public boolean supports(KernelContext context) {
        return context.backend().extension(DevicePrograms.class).isPresent();
    }

    @Override public LayerKernel compile(KernelContext context) {
        DevicePrograms.DeviceProgram program = ClActivations.program(context.backend().extension(DevicePrograms.class).orElseThrow());
        return new Kernel(context.outputShape().size(), program.kernel("mish_forward"), program.kernel("mish_backward"),
                context.allocate(context.outputShape()));
    }

    /** {@code derivative} is dy/dx at the last training forward's input. */
    private record Kernel(int n, DeviceKernel forwardKernel, DeviceKernel backwardKernel, Tensor derivative) implements LayerKernel {
        @Override public void forward(ForwardPass pass) {
            forwardKernel.launch(n, pass.input(0), pass.output(), derivative, n, pass.training() ? 1 : 0);
        }

        @Override public void backward(BackwardPass pass) {
            if (pass.gradInput(0) == null) return;
            backwardKernel.launch(n, pass.gradOutput(), derivative, pass.gradInput(0), n);
        }
    }
}
