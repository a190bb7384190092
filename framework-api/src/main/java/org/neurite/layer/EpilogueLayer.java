package org.neurite.layer;

import org.neurite.backend.UnaryOp;

/**
 * A layer type whose forward pass can end with an element-wise activation applied before its
 * output is stored (the epilogue of its GEMM or convolution: {@code Backend.denseForward},
 * {@code Backend.conv2dForward} with an activation), so that the engine can fuse it with the
 * {@link ActivationLayer} that alone reads its output: one op instead of two, and no
 * pre-activation tensor; and, where {@link #appliesActivationBackward()} says so, the
 * activation's derivative inside its own backward: no separate pass over the gradient either.
 */
public interface EpilogueLayer extends LayerType {
    /**
     * As {@link #compile(KernelContext)}, with a forward pass that writes {@code activation(its
     * usual output)} into {@code pass.output()}. Backward runs as usual from
     * {@code pass.gradOutput()}, the gradient with respect to the pre-activation value (the engine
     * applies the activation's derivative before it), and must not read {@code pass.output()},
     * which holds the activation's output; unless {@link #appliesActivationBackward()} says the
     * kernel applies that derivative itself.
     */
    LayerKernel compile(KernelContext context, UnaryOp activation);

    /**
     * Whether the kernel {@link #compile(KernelContext, UnaryOp)} returns also applies the
     * activation's backward (false by default). When true, its backward receives in
     * {@code pass.gradOutput()} the gradient with respect to the <em>activation's output</em> (held in
     * {@code pass.output()}), applies the activation's derivative from that output alone
     * ({@link UnaryOp#derivativeFromOutputAlone()}) itself, as {@code Backend.batchNormBackward}
     * with an activation does, and may overwrite {@code pass.gradOutput()}, which nothing reads
     * after it; the engine then runs no separate {@code unaryBackward} and allocates no gradient
     * for the pre-activation value.
     */
    default boolean appliesActivationBackward() { return false; }
}
