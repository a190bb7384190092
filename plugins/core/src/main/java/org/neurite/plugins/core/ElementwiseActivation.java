package org.neurite.plugins.core;

import java.util.List;
import org.neurite.backend.UnaryOp;
import org.neurite.layer.ActivationLayer;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerKernel;
import org.neurite.layer.ParamSchema;
import org.neurite.tensor.Shape;

/**
 * An argument-free activation applied element by element through one {@link UnaryOp}: the output
 * has the input's shape (any rank). Forward saves nothing; backward calls
 * {@code unaryBackward}, which takes the derivative from the forward input (ReLU) or the forward
 * output (sigmoid, tanh), both of which the engine keeps. As an {@link ActivationLayer}, the engine
 * may fuse it into the epilogue of the dense or convolution layer before it.
 */
abstract class ElementwiseActivation implements ActivationLayer {
    private final UnaryOp op;
    private final int flopsPerElement;

    ElementwiseActivation(UnaryOp op, int flopsPerElement) {
        this.op = op;
        this.flopsPerElement = flopsPerElement;
    }

    @Override public final UnaryOp activation() { return op; }

    /** Element by element. */
    @Override public final boolean shardable() { return true; }

    @Override public final ParamSchema schema() { return ParamSchema.empty(); }

    @Override public final Shape outputShape(LayerArgs args, List<Shape> inputs) { return inputs.get(0); }

    @Override public final long flops(LayerArgs args, List<Shape> inputs, Shape output) {
        return (long) flopsPerElement * output.elementCount();
    }

    @Override public final LayerKernel compile(KernelContext context) {
        return new LayerKernel() {
            @Override public void forward(ForwardPass pass) {
                pass.backend().unary(op, pass.input(0), pass.output());
            }

            @Override public void backward(BackwardPass pass) {
                if (pass.gradInput(0) == null) return;
                pass.backend().unaryBackward(op, pass.input(0), pass.output(), pass.gradOutput(), pass.gradInput(0));
            }
        };
    }
}
