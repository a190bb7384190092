package org.neurite.backend.opencl;

import static org.jocl.CL.CL_MEM_COPY_HOST_PTR;
import static org.jocl.CL.CL_MEM_READ_ONLY;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clReleaseMemObject;

import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_mem;
import org.neurite.backend.Slice;
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
             Slice control) {
        ClTensor v = velocity == null ? param : velocity; // a stand-in the kernel does not read
        kernels.get("sgd_update").args().mem(param).mem(grad).mem(v).f(lr).f(momentum).f(weightDecay).bool(nesterov).i(param.size())
                .mem(controlBuffer(control)).i(controlOffset(control)).map(param.size());
    }

    void adam(ClTensor param, ClTensor grad, ClTensor m, ClTensor v, float lr, float beta1, float beta2,
              float eps, float weightDecay, int step, Slice control) {
        float stepSize = (float) (lr / (1.0 - Math.pow(beta1, step)));
        float correction2Sqrt = (float) Math.sqrt(1.0 - Math.pow(beta2, step));
        kernels.get("adam_update").args().mem(param).mem(grad).mem(m).mem(v).f(stepSize).f(beta1).f(beta2).f(eps).f(weightDecay)
                .f(correction2Sqrt).i(param.size()).mem(controlBuffer(control)).i(controlOffset(control)).map(param.size());
    }

    void adamw(ClTensor param, ClTensor grad, ClTensor m, ClTensor v, float lr, float beta1, float beta2,
               float eps, float weightDecay, int step, Slice control) {
        float stepSize = (float) (lr / (1.0 - Math.pow(beta1, step)));
        float correction2Sqrt = (float) Math.sqrt(1.0 - Math.pow(beta2, step));
        float decay = (float) (1.0 - (double) lr * weightDecay);
        kernels.get("adamw_update").args().mem(param).mem(grad).mem(m).mem(v).f(stepSize).f(beta1).f(beta2).f(eps).f(decay)
                .f(correction2Sqrt).i(param.size()).mem(controlBuffer(control)).i(controlOffset(control)).map(param.size());
    }

    /** momentumBuffer is null when momentum is 0, gradAverage when not centered (the kernel then does not read them). */
    void rmsprop(ClTensor param, ClTensor grad, ClTensor squareAverage, ClTensor momentumBuffer, ClTensor gradAverage, float lr,
                 float alpha, float eps, float weightDecay, float momentum, boolean centered, Slice control) {
        ClTensor buf = momentumBuffer == null ? squareAverage : momentumBuffer;   // stand-ins the kernel does not read
        ClTensor ga = gradAverage == null ? squareAverage : gradAverage;
        kernels.get("rmsprop_update").args().mem(param).mem(grad).mem(squareAverage).mem(buf).mem(ga).f(lr).f(alpha).f(eps)
                .f(weightDecay).f(momentum).bool(centered).i(param.size()).mem(controlBuffer(control)).i(controlOffset(control))
                .map(param.size());
    }

    private cl_mem controlBuffer(Slice control) { return control == null ? unconditional : ClTensor.of(control.tensor()).mem(); }

    private static int controlOffset(Slice control) { return control == null ? 0 : control.offset(); }

    @Override public void close() { clReleaseMemObject(unconditional); }
}
