package org.neurite.plugins.core;

import java.util.List;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerKernel;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ShapeException;
import org.neurite.tensor.Shape;

/**
 * {@code softmax}: normalised exponentials over the last axis. Input [N, ..., K] is viewed as
 * rows of K (for [N, K] one row per sample, for sequences [N, T, K] one per time step); the output
 * has the input's shape. Backward uses the saved output: {@code dx = y * (dy - sum(dy * y))} per
 * row. For training a classifier prefer the fused {@code softmax_cross_entropy} loss on logits,
 * which is cheaper and numerically safer; this layer is for probabilities inside a model.
 */
final class Softmax implements LayerType {
    @Override public String name() { return "softmax"; }

    /** Each sample is its own row. */
    @Override public boolean shardable() { return true; }

    @Override public String doc() {
        return "Softmax over the last axis, y = exp(x) / sum(exp(x)); output shape = input shape.";
    }

    @Override public ParamSchema schema() { return ParamSchema.empty(); }

    @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) {
        Shape in = inputs.get(0);
        if (in.rank() == 0) throw new ShapeException("expects at least one axis per sample to normalise over, got []");
        return in;
    }

    /** Counted as 5 FLOPs per element: max, subtract, exp, sum, divide. */
    @Override public long flops(LayerArgs args, List<Shape> inputs, Shape output) {
        return 5L * output.elementCount();
    }

    @Override public LayerKernel compile(KernelContext context) {
        Shape x = context.inputShapes().get(0);
        int cols = x.dim(-1);
        int rows = x.size() / cols;
        return new LayerKernel() {
            @Override public void forward(ForwardPass pass) {
                pass.backend().softmax(pass.input(0), pass.output(), rows, cols);
            }

            @Override public void backward(BackwardPass pass) {
                if (pass.gradInput(0) == null) return;
                pass.backend().softmaxBackward(pass.output(), pass.gradOutput(), pass.gradInput(0), rows, cols);
            }
        };
    }
}
