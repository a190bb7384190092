package org.neurite.layer;

import org.neurite.backend.UnaryOp;

/**
 * A layer type whose forward pass can end with an element-wise activation applied before its
 * output is stored (the epilogue of its GEMM or convolution: {@code Backend.denseForward},
 * {@code Backend.conv2dForward} with an activation), so that the engine can fuse it with the
 * {@link ActivationLayer} that alone reads its output: one op instead of two, and no
 * pre-activation tensor.
 */
public interface EpilogueLayer extends LayerType {
    /**
     * As {@link #compile(KernelContext)}, with a forward pass that writes {@code activation(its
     * usual output)} into {@code pass.output()}. Backward runs as usual from
     * {@code pass.gradOutput()}, the gradient with respect to the pre-activation value (the engine
     * applies the activation's derivative before it), and must not read {@code pass.output()},
     * which holds the activation's output.
     */
    LayerKernel compile(KernelContext context, UnaryOp activation);
}
