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

    /**
     * Whether a training step may run this layer on two shards of its batch at once, each through
     * its own compiled copy ({@link org.neurite.backend.BatchShards}): true when the layer's
     * kernels treat each sample on its own, except through the backend's batch-norm ops (which
     * combine the shards' sums; called at most once in a kernel's forward or backward, and last:
     * with one thread the call finishes during the other shard's), and its copies share nothing
     * but the parameters they read and the gradients they write. False by default: a layer that
     * draws random numbers by element (dropout), mixes samples, or keeps state between steps stays
     * unsharded, and so does every step of a graph that holds one.
     */
    default boolean shardable() { return false; }

    /** Compiles the layer for one batch size and backend. */
    LayerKernel compile(KernelContext context);
}
