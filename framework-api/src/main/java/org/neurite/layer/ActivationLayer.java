package org.neurite.layer;

import org.neurite.backend.UnaryOp;

/**
 * A layer type that is one element-wise function of its only input, {@code y = op(x)}, any shape
 * ({@code relu}, {@code sigmoid}, {@code tanh}), and nothing else: no parameters, no state. When
 * its op's gradient needs only y ({@link UnaryOp#derivativeFromOutputAlone()}) and it alone reads
 * the output of an {@link EpilogueLayer}, the engine runs that layer with the op in its epilogue
 * and computes this layer's gradient itself, with
 * {@code unaryBackward(op, y, y, dy, dx)} (or lets the producer apply it, where
 * {@link EpilogueLayer#appliesActivationBackward()} says it does); this layer's own kernel then never runs.
 */
public interface ActivationLayer extends LayerType {
    /** The element-wise function this layer applies. */
    UnaryOp activation();
}
