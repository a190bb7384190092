package org.neurite.layer;

/**
 * A layer type whose output is the element-wise sum of its inputs, all of its shape (an
 * {@code add}), optionally followed by the activation fused into its epilogue. Compiling for
 * inference, the engine may fold a two-input sum into the {@link AffineFoldableLayer} that
 * produces one of its terms ({@link AffineFoldableLayer#compileWithBiasAndResidual}): that layer
 * then reads the other term as a residual and writes the sum, and the sum's own step runs nothing.
 */
public interface ResidualSumLayer extends EpilogueLayer {
}
