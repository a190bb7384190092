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
}
