package org.neurite.layer;

import java.util.List;
import org.neurite.tensor.Shape;

/**
 * A kind of layer, the unit of the plugin SPI: {@code conv}, {@code dense}, {@code relu}...
 * Plugins contribute instances through a Guice {@code Multibinder<LayerType>}.
 *
 * <p>Shapes passed to {@link #outputShape}, {@link #parameters} and {@link #flops} exclude the
 * batch dimension; shapes seen by the compiled kernel include it.
 */
public interface LayerType {
    /** The name scripts call, lower case: {@code conv}, {@code maxpool}. */
    String name();

    /** One paragraph for {@code nn layers}. */
    String doc();

    ParamSchema schema();

    default int minInputs() { return 1; }

    default int maxInputs() { return 1; }

    /** The output shape for these inputs, or a {@link ShapeException} saying what is wrong. */
    Shape outputShape(LayerArgs args, List<Shape> inputs);

    /** Parameters this layer owns for these inputs (in the order checkpoints list them). */
    default List<ParamDecl> parameters(LayerArgs args, List<Shape> inputs) { return List.of(); }

    /** Forward floating-point operations for one sample (multiply-add = 2). */
    default long flops(LayerArgs args, List<Shape> inputs, Shape output) { return 0; }

    /** Compiles the layer for one batch size and backend. */
    LayerKernel compile(KernelContext context);
}
