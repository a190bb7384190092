package org.neurite.layer;

import java.util.List;
import org.neurite.backend.Backend;
import org.neurite.backend.UnaryOp;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * What a layer sees when it is compiled for one (model, batch size, backend): its arguments,
 * its input and output shapes <em>with</em> the batch dimension, and an allocator for state it
 * keeps between forward and backward (pooling indices, dropout masks, workspaces). Everything
 * allocated here lives as long as the compiled model; nothing is allocated per step.
 */
public interface KernelContext {
    Backend backend();

    /** Node name in the graph, {@code c1}. */
    String nodeName();

    int batch();

    LayerArgs args();

    /** Input shapes including the batch dimension. */
    List<Shape> inputShapes();

    /** Output shape including the batch dimension. */
    Shape outputShape();

    /** A tensor owned by the compiled model, zero-filled, for state kept between passes. */
    Tensor allocate(Shape shape);

    /**
     * The activation whose backward this layer's backward must fold in (only ever set for an
     * {@link ActivationGradientLayer}: see there), or null: the usual input gradient.
     */
    default UnaryOp inputActivation() { return null; }
}
