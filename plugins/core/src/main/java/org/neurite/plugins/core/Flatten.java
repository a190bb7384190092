package org.neurite.plugins.core;

import java.util.List;
import org.neurite.backend.TensorCopy;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerKernel;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamSchema;
import org.neurite.tensor.Shape;

/**
 * {@code flatten}: [N, d1, ..., dk] → [N, d1*...*dk], keeping the batch axis, so a {@code dense}
 * can follow convolutions. Row-major order is unchanged (C, then H, then W, as in PyTorch's
 * {@code flatten(1)}), so the data is copied as is; tensors have no views, hence the copy in both
 * directions. Forward saves nothing.
 */
final class Flatten implements LayerType {
    @Override public String name() { return "flatten"; }

    /** A view of each sample. */
    @Override public boolean shardable() { return true; }

    @Override public String doc() {
        return "Flattens each sample to one feature axis, [C, H, W] -> [C*H*W], in row-major order.";
    }

    @Override public ParamSchema schema() { return ParamSchema.empty(); }

    @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) {
        return Shape.of(inputs.get(0).size());
    }

    @Override public LayerKernel compile(KernelContext context) {
        int size = context.inputShapes().get(0).size();
        return new LayerKernel() {
            private final TensorCopy forwardCopy = new TensorCopy();
            private final TensorCopy backwardCopy = new TensorCopy();

            @Override public void forward(ForwardPass pass) {
                forwardCopy.run(pass.backend(), pass.input(0), pass.output(), size);
            }

            @Override public void backward(BackwardPass pass) {
                if (pass.gradInput(0) == null) return;
                backwardCopy.run(pass.backend(), pass.gradOutput(), pass.gradInput(0), size);
            }
        };
    }
}
