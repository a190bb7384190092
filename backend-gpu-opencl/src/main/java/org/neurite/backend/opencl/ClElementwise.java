package org.neurite.backend.opencl;

import static org.neurite.backend.opencl.ClOpCodes.code;

import org.neurite.backend.BinaryOp;
import org.neurite.backend.UnaryOp;

/**
 * Element-wise maps, one work-item per element ({@code elementwise.cl}): unary functions and their
 * derivatives, binary operators and the affine map on slices, per-channel broadcasts, axpby and
 * inverted dropout. Arguments arrive checked; an output slice is its input's range or lies apart
 * from it, so one pass over the elements is correct in place.
 */
final class ClElementwise {
    private final ClKernels kernels;

    ClElementwise(ClKernels kernels) {
        this.kernels = kernels;
    }

    void unary(UnaryOp op, ClSlice x, ClSlice y) {
        kernels.get("unary_forward").map(x.length(), code(op), x, y, x.length());
    }

    /** x or y is null when the op's derivative does not read it ({@link UnaryOp#derivativeReadsInput()}). */
    void unaryBackward(UnaryOp op, ClSlice x, ClSlice y, ClSlice dy, ClSlice dx) {
        // The kernel does not read the forward tensor the op does not need: dy stands in for it.
        kernels.get("unary_backward").map(dx.length(), code(op), x == null ? dy : x, y == null ? dy : y, dy, dx, dx.length());
    }

    void binary(BinaryOp op, ClSlice a, ClSlice b, ClSlice out) {
        kernels.get("binary_map").map(out.length(), code(op), a, b, out, out.length());
    }

    void affine(ClSlice x, float scale, float shift, ClSlice y) {
        kernels.get("affine").map(y.length(), x, scale, shift, y, y.length());
    }

    /** out[o, c, i] = x[o, c, i] op v[c] over x viewed as [outer, channels, inner]. */
    void channelBroadcast(BinaryOp op, ClTensor x, ClTensor v, ClTensor out, int channels, int inner) {
        kernels.get("channel_broadcast").map(out.size(), code(op), x, v, out, channels, Math.max(1, inner), out.size());
    }

    /** y = alpha * x + beta * y; y is not read when beta == 0. */
    void axpby(float alpha, ClTensor x, float beta, ClTensor y) {
        kernels.get("axpby").map(x.size(), alpha, x, beta, y, x.size());
    }

    void dropoutForward(ClTensor x, ClTensor mask, ClTensor y, float p, long seed) {
        float scale = p < 1f ? 1f / (1f - p) : 0f;
        kernels.get("dropout_forward").map(x.size(), x, mask, y, p, scale, seed, x.size());
    }

    /** {@code CounterRandom.uniform(seed, first + i)} for i in [0, out.size()), computed on the device (for tests). */
    void counterUniform(long seed, long first, ClTensor out) {
        kernels.get("counter_uniform_values").map(out.size(), seed, first, out, out.size());
    }
}
