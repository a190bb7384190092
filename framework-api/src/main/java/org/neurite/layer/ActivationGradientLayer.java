package org.neurite.layer;

/**
 * A layer type whose backward pass can also apply the derivative of the element-wise activation
 * that produced its (only) input, so that the engine can fold that {@link ActivationLayer}'s
 * backward into it when this layer alone reads the activation's output: one op instead of two,
 * and no gradient buffer for the activation's output. The engine asks for it through
 * {@link KernelContext#inputActivation()}: when that is not null, the compiled backward writes
 * into {@code pass.gradInput(0)} the gradient with respect to the <em>activation's input</em>, its
 * usual input gradient times {@code activation'} taken from {@code pass.input(0)} (the
 * activation's output) alone ({@code UnaryOp.derivativeFromOutputAlone()}), as
 * {@code Backend.maxPool2dBackward} and {@code Backend.denseBackwardData} with an activation do.
 * Forward is unchanged.
 */
public interface ActivationGradientLayer extends LayerType {
}
