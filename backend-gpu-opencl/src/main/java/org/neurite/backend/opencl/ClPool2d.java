package org.neurite.backend.opencl;

import static org.neurite.backend.OpChecks.badArgmax;

import org.neurite.backend.Pool2dGeometry;
import org.neurite.backend.UnaryOp;

/**
 * Max and average pooling over x[N, C, H, W] ({@code pool.cl}): forward one work-item per output,
 * backward a gather, one work-item per input element. Before the max-pooling backward reads
 * argmax, {@code check_argmax} refuses an entry that is not a position of its output's window with
 * {@code OpChecks.badArgmax}, naming the lowest bad output, as the CPU backend does: the gather
 * would otherwise skip such an entry without a word. The check runs on the device and the gather
 * then writes nothing; the host hears of it at its next wait ({@link ClIndexCheck}).
 */
final class ClPool2d {
    private final ClKernels kernels;
    private final ClIndexCheck indexCheck;

    ClPool2d(ClKernels kernels, ClIndexCheck indexCheck) {
        this.kernels = kernels;
        this.indexCheck = indexCheck;
    }

    void maxForward(Pool2dGeometry g, ClTensor x, ClTensor y, ClTensor argmax) {
        int out = y.size();
        kernels.get("max_pool_forward").map(out, x, y, argmax, g.height(), g.width(), g.outHeight(), g.outWidth(),
                g.kernelH(), g.kernelW(), g.strideH(), g.strideW(), g.padH(), g.padW(), out);
    }

    /**
     * dx = the scatter of dy through argmax; with an {@code activation} (null: none), times its
     * derivative from x, the activation's output and the pooling's input, in the same gather.
     */
    void maxBackward(Pool2dGeometry g, ClTensor dy, ClTensor argmax, ClTensor x, UnaryOp activation, ClTensor dx) {
        int in = dx.size(), out = dy.size();
        int slot = indexCheck.check("check_argmax", out, argmax, (output, value) -> badArgmax(g, output, value), argmax, g.height(),
                g.width(), g.outHeight(), g.outWidth(), g.kernelH(), g.kernelW(), g.strideH(), g.strideW(), g.padH(), g.padW(), out);
        kernels.get("max_pool_backward").map(in, dy, argmax, dx, g.height(), g.width(), g.outHeight(), g.outWidth(),
                g.kernelH(), g.kernelW(), g.strideH(), g.strideW(), g.padH(), g.padW(), in, indexCheck.buffer(), slot,
                activation == null ? dx : x, activation == null ? -1 : ClOpCodes.code(activation));
    }

    void avgForward(Pool2dGeometry g, ClTensor x, ClTensor y) {
        int out = y.size();
        kernels.get("avg_pool_forward").map(out, x, y, g.height(), g.width(), g.outHeight(), g.outWidth(),
                g.kernelH(), g.kernelW(), g.strideH(), g.strideW(), g.padH(), g.padW(), g.countIncludePad(), out);
    }

    void avgBackward(Pool2dGeometry g, ClTensor dy, ClTensor dx) {
        int in = dx.size();
        kernels.get("avg_pool_backward").map(in, dy, dx, g.height(), g.width(), g.outHeight(), g.outWidth(),
                g.kernelH(), g.kernelW(), g.strideH(), g.strideW(), g.padH(), g.padW(), g.countIncludePad(), in);
    }
}
