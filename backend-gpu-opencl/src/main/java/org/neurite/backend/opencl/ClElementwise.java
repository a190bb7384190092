package org.neurite.backend.opencl;

import static org.neurite.backend.opencl.ClOpCodes.code;

import org.neurite.backend.BinaryOp;
import org.neurite.backend.Slice;
import org.neurite.backend.UnaryOp;

/**
 * Element-wise maps, one work-item per element ({@code elementwise.cl}): unary functions and their
 * derivatives, binary operators and the affine map on slices, the sum with an activation after it,
 * per-channel broadcasts, axpby and inverted dropout. Arguments arrive checked; an output slice is
 * its input's range or lies apart from it, so one pass over the elements is correct in place.
 */
final class ClElementwise {
    private final ClKernels kernels;

    ClElementwise(ClKernels kernels) {
        this.kernels = kernels;
    }

    void unary(UnaryOp op, Slice x, Slice y) {
        kernels.get("unary_forward").args().i(code(op)).slice(x).slice(y).i(x.length()).map(x.length());
    }

    /** x or y is null when the op's derivative does not read it ({@link UnaryOp#derivativeReadsInput()}). */
    void unaryBackward(UnaryOp op, Slice x, Slice y, Slice dy, Slice dx) {
        // The kernel does not read the forward tensor the op does not need: dy stands in for it.
        kernels.get("unary_backward").args().i(code(op)).slice(x == null ? dy : x).slice(y == null ? dy : y).slice(dy).slice(dx)
                .i(dx.length()).map(dx.length());
    }

    void binary(BinaryOp op, Slice a, Slice b, Slice out) {
        kernels.get("binary_map").args().i(code(op)).slice(a).slice(b).slice(out).i(out.length()).map(out.length());
    }

    /**
     * out = activation(a + b) in one pass (null: the sum alone), each element rounded as
     * {@link #binary} then {@link #unary} round it; out may be a or b.
     */
    void addActivation(ClTensor a, ClTensor b, UnaryOp activation, ClTensor out) {
        kernels.get("add_activation").args().i(activation == null ? 0 : code(activation) + 1).mem(a).mem(b).mem(out).i(out.size())
                .map(out.size());
    }

    void affine(Slice x, float scale, float shift, Slice y) {
        kernels.get("affine").args().slice(x).f(scale).f(shift).slice(y).i(y.length()).map(y.length());
    }

    /** out[o, c, i] = x[o, c, i] op v[c] over x viewed as [outer, channels, inner]. */
    void channelBroadcast(BinaryOp op, ClTensor x, ClTensor v, ClTensor out, int channels, int inner) {
        kernels.get("channel_broadcast").args().i(code(op)).mem(x).mem(v).mem(out).i(channels).i(Math.max(1, inner)).i(out.size())
                .map(out.size());
    }

    /** y = alpha * x + beta * y; y is not read when beta == 0. */
    void axpby(float alpha, ClTensor x, float beta, ClTensor y) {
        kernels.get("axpby").args().f(alpha).mem(x).f(beta).mem(y).i(x.size()).map(x.size());
    }

    void dropoutForward(ClTensor x, ClTensor mask, ClTensor y, float p, long seed) {
        float scale = p < 1f ? 1f / (1f - p) : 0f;
        kernels.get("dropout_forward").args().mem(x).mem(mask).mem(y).f(p).f(scale).ul(seed).i(x.size()).map(x.size());
    }

    /** {@code CounterRandom.uniform(seed, first + i)} for i in [0, out.size()), computed on the device (for tests). */
    void counterUniform(long seed, long first, ClTensor out) {
        kernels.get("counter_uniform_values").args().ul(seed).ul(first).mem(out).i(out.size()).map(out.size());
    }
}
