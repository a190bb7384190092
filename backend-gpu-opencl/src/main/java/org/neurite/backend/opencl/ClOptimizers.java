package org.neurite.backend.opencl;

import static org.jocl.CL.CL_MEM_COPY_HOST_PTR;
import static org.jocl.CL.CL_MEM_READ_ONLY;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clReleaseMemObject;

import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_mem;
import org.neurite.backend.StepControl;

/**
 * The optimiser steps, in place, one work-item per parameter ({@code optimizers.cl}, PyTorch
 * semantics): SGD with momentum, Nesterov and L2 weight decay; Adam and AdamW, whose bias
 * corrections (and AdamW's decay factor) the host computes once per step in double, as the CPU
 * reference (and PyTorch) do; and RMSprop, plain, centered or with momentum. Every kernel reads a
 * step control ({@link StepControl}): the training step's, which may skip the update or scale the
 * gradient on the device, or for a plain update (control null) a constant one that does neither.
 */
final class ClOptimizers implements AutoCloseable {
    private final ClKernels kernels;
    /** The control of a plain update: factor 1, no skip. */
    private final cl_mem unconditional;

    ClOptimizers(ClContext device) {
        this.kernels = device.kernels;
        float[] plain = new float[StepControl.SIZE];
        plain[StepControl.FACTOR] = 1f;
        this.unconditional = clCreateBuffer(device.context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, (long) StepControl.SIZE * Sizeof.cl_float,
                Pointer.to(plain), null);
    }

    /** velocity is null when momentum is 0 (the kernel then does not read it). */
    void sgd(ClTensor param, ClTensor grad, ClTensor velocity, float lr, float momentum, float weightDecay, boolean nesterov,
             ClSlice control) {
        ClTensor v = velocity == null ? param : velocity; // a stand-in the kernel does not read
        kernels.get("sgd_update").map(param.size(), param, grad, v, lr, momentum, weightDecay, nesterov, param.size(),
                controlBuffer(control), controlOffset(control));
    }

    void adam(ClTensor param, ClTensor grad, ClTensor m, ClTensor v, float lr, float beta1, float beta2,
              float eps, float weightDecay, int step, ClSlice control) {
        float stepSize = (float) (lr / (1.0 - Math.pow(beta1, step)));
        float correction2Sqrt = (float) Math.sqrt(1.0 - Math.pow(beta2, step));
        kernels.get("adam_update").map(param.size(), param, grad, m, v, stepSize, beta1, beta2, eps, weightDecay, correction2Sqrt, param.size(),
                controlBuffer(control), controlOffset(control));
    }

    void adamw(ClTensor param, ClTensor grad, ClTensor m, ClTensor v, float lr, float beta1, float beta2,
               float eps, float weightDecay, int step, ClSlice control) {
        float stepSize = (float) (lr / (1.0 - Math.pow(beta1, step)));
        float correction2Sqrt = (float) Math.sqrt(1.0 - Math.pow(beta2, step));
        float decay = (float) (1.0 - (double) lr * weightDecay);
        kernels.get("adamw_update").map(param.size(), param, grad, m, v, stepSize, beta1, beta2, eps, decay, correction2Sqrt, param.size(),
                controlBuffer(control), controlOffset(control));
    }

    /** momentumBuffer is null when momentum is 0, gradAverage when not centered (the kernel then does not read them). */
    void rmsprop(ClTensor param, ClTensor grad, ClTensor squareAverage, ClTensor momentumBuffer, ClTensor gradAverage, float lr,
                 float alpha, float eps, float weightDecay, float momentum, boolean centered, ClSlice control) {
        ClTensor buf = momentumBuffer == null ? squareAverage : momentumBuffer;   // stand-ins the kernel does not read
        ClTensor ga = gradAverage == null ? squareAverage : gradAverage;
        kernels.get("rmsprop_update").map(param.size(), param, grad, squareAverage, buf, ga, lr, alpha, eps, weightDecay, momentum,
                centered, param.size(), controlBuffer(control), controlOffset(control));
    }

    private cl_mem controlBuffer(ClSlice control) { return control == null ? unconditional : control.buffer().mem(); }

    private static int controlOffset(ClSlice control) { return control == null ? 0 : control.offset(); }

    @Override public void close() { clReleaseMemObject(unconditional); }
}
