package org.neurite.layer;

import org.neurite.backend.UnaryOp;

/**
 * A layer type whose output channels (axis 1 of its output [N, C, ...]) each come from one slice
 * of its parameter {@code weight} along its leading axis, plus {@code bias[c]}: a convolution or a
 * dense layer. Scaling that slice and the bias by {@code scale[c]} and adding {@code shift[c]} to
 * the bias applies a per-channel affine map to its output, which is how the engine folds an
 * {@link InferenceAffineLayer} (batch normalisation at inference) into it.
 */
public interface AffineFoldableLayer extends EpilogueLayer {
    /**
     * As {@link #compile(KernelContext, UnaryOp)} (activation may be null), for a forward pass that
     * always adds a bias [C]: it reads {@code pass.param("weight")} and {@code pass.param("bias")}
     * whether or not the layer declares a bias, and the engine hands it the folded values of both.
     * Used for inference only: the kernel's backward is never called.
     */
    LayerKernel compileWithBias(KernelContext context, UnaryOp activation);

    /**
     * Whether {@link #compileWithBiasAndResidual} compiles a kernel (false by default): the layer's
     * forward can add a residual of its output's shape before the activation.
     */
    default boolean addsResidual() { return false; }

    /**
     * As {@link #compileWithBias}, for a forward that also adds {@code pass.input(1)}, a tensor of
     * the output's shape, before the activation: {@code y = activation(layer(x) + bias + residual)}
     * ({@code Backend.conv2dResidualForward}), each step rounded on its own as the layer then an
     * {@code add} would round them. The engine compiles it when a {@link ResidualSumLayer} adds this
     * layer's folded output to a value computed before it (the end of a residual block, compiled
     * for inference); {@code context.inputShapes()} then holds the residual's shape second. Only
     * where {@link #addsResidual} says so.
     */
    default LayerKernel compileWithBiasAndResidual(KernelContext context, UnaryOp activation) {
        throw new UnsupportedOperationException(name() + " adds no residual in its forward");
    }
}
