package org.neurite.layer;

import org.neurite.tensor.Tensor;

/**
 * A layer type that, at inference, is a fixed per-channel affine map of its input [N, C, ...]:
 * {@code y[n, c, ...] = x[n, c, ...] · scale[c] + shift[c]} (then the activation of its epilogue,
 * when one is fused), as batch normalisation is with its running statistics. When such a layer
 * alone reads the output of an {@link AffineFoldableLayer} (a convolution), the engine compiling
 * for inference folds the map into that layer's weight and bias: no pass over the activation,
 * and no buffer for the value before it. Training is unchanged.
 */
public interface InferenceAffineLayer extends LayerType {

    /** Writes the map's coefficients, each [C], from the layer's parameters (read from {@code pass}, this layer's own). */
    interface AffineWriter {
        void write(ForwardPass pass, Tensor scale, Tensor shift);
    }

    /**
     * Compiles the writer of this node's coefficients; {@code context} is the node's own (its
     * input shapes, its arguments; {@code context.allocate} for constants it needs).
     */
    AffineWriter compileInferenceAffine(KernelContext context);
}
