package org.neurite.layer;

/**
 * A layer compiled for one (batch size, backend): forward and backward over the backend's op
 * set. Implementations keep whatever forward saves for backward in tensors allocated from the
 * {@link KernelContext}.
 */
public interface LayerKernel {
    void forward(ForwardPass pass);

    /**
     * Writes (overwrites) the gradients of the inputs the engine asks for and of every trainable
     * parameter, from {@link BackwardPass#gradOutput()}. Every element of each input gradient must
     * be written: the engine lends its buffer to other activation gradients of the same shape
     * before and after this step (and, compiled for inference, the output's to other outputs), so
     * a kernel keeps no reference to them between calls either.
     */
    void backward(BackwardPass pass);
}
