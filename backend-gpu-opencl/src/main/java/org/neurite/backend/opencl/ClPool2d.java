package org.neurite.backend.opencl;

import static org.neurite.backend.OpChecks.badArgmax;

import java.util.HashMap;
import java.util.Map;
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
    /** The refusal of each geometry checked, kept so that a training step does not make one per call (a model has a few). */
    private final Map<Pool2dGeometry, ClIndexCheck.Refusal> argmaxRefusals = new HashMap<>();
    private static final int MAX_REFUSALS = 64;

    ClPool2d(ClKernels kernels, ClIndexCheck indexCheck) {
        this.kernels = kernels;
        this.indexCheck = indexCheck;
    }

    void maxForward(Pool2dGeometry g, ClTensor x, ClTensor y, ClTensor argmax) {
        int out = y.size();
        kernels.get("max_pool_forward").args().mem(x).mem(y).mem(argmax).i(g.height()).i(g.width()).i(g.outHeight()).i(g.outWidth())
                .i(g.kernelH()).i(g.kernelW()).i(g.strideH()).i(g.strideW()).i(g.padH()).i(g.padW()).i(out).map(out);
    }

    /**
     * dx = the scatter of dy through argmax; with an {@code activation} (null: none), times its
     * derivative from x, the activation's output and the pooling's input, in the same gather.
     */
    void maxBackward(Pool2dGeometry g, ClTensor dy, ClTensor argmax, ClTensor x, UnaryOp activation, ClTensor dx) {
        int in = dx.size(), out = dy.size();
        int slot = indexCheck.check(kernels.get("check_argmax").args().mem(argmax).i(g.height()).i(g.width()).i(g.outHeight())
                .i(g.outWidth()).i(g.kernelH()).i(g.kernelW()).i(g.strideH()).i(g.strideW()).i(g.padH()).i(g.padW()).i(out),
                out, argmax, argmaxRefusal(g));
        kernels.get("max_pool_backward").args().mem(dy).mem(argmax).mem(dx).i(g.height()).i(g.width()).i(g.outHeight()).i(g.outWidth())
                .i(g.kernelH()).i(g.kernelW()).i(g.strideH()).i(g.strideW()).i(g.padH()).i(g.padW()).i(in).mem(indexCheck.buffer()).i(slot)
                .mem(activation == null ? dx : x).i(activation == null ? -1 : ClOpCodes.code(activation)).map(in);
    }

    void avgForward(Pool2dGeometry g, ClTensor x, ClTensor y) {
        int out = y.size();
        kernels.get("avg_pool_forward").args().mem(x).mem(y).i(g.height()).i(g.width()).i(g.outHeight()).i(g.outWidth())
                .i(g.kernelH()).i(g.kernelW()).i(g.strideH()).i(g.strideW()).i(g.padH()).i(g.padW()).bool(g.countIncludePad()).i(out)
                .map(out);
    }

    void avgBackward(Pool2dGeometry g, ClTensor dy, ClTensor dx) {
        int in = dx.size();
        kernels.get("avg_pool_backward").args().mem(dy).mem(dx).i(g.height()).i(g.width()).i(g.outHeight()).i(g.outWidth())
                .i(g.kernelH()).i(g.kernelW()).i(g.strideH()).i(g.strideW()).i(g.padH()).i(g.padW()).bool(g.countIncludePad()).i(in)
                .map(in);
    }

    /** How a bad argmax entry of {@code g} is refused (made once per geometry). */
    private ClIndexCheck.Refusal argmaxRefusal(Pool2dGeometry g) {
        ClIndexCheck.Refusal refusal = argmaxRefusals.get(g);
        if (refusal == null) {
            if (argmaxRefusals.size() >= MAX_REFUSALS) argmaxRefusals.clear();
            refusal = (output, value) -> badArgmax(g, output, value);
            argmaxRefusals.put(g, refusal);
        }
        return refusal;
    }
}
