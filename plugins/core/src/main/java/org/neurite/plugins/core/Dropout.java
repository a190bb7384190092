package org.neurite.plugins.core;

import java.util.List;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.Slice;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerKernel;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ParamSpec;
import org.neurite.layer.ParamType;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * {@code dropout(p=0.5)}: inverted dropout. While training each element is zeroed with
 * probability p and the survivors are scaled by 1/(1-p), so inference is the identity and needs no
 * rescaling. Any shape; output shape = input shape. Forward saves the mask (input-shaped, values
 * 0 or 1/(1-p), allocated once from the kernel context) and backward is {@code dx = dy * mask}.
 * The mask comes from {@code Backend.dropoutForward} with the pass's step seed, so every backend
 * draws the same mask for the same step.
 */
final class Dropout implements LayerType {
    private static final ParamSchema SCHEMA = ParamSchema.of(
            ParamSpec.optional("p", ParamType.FLOAT, 0.5, "Probability of zeroing an element while training, in [0, 1).")
                    .range(0, 1));

    @Override public String name() { return "dropout"; }

    @Override public String doc() {
        return "Inverted dropout: while training zeroes each element with probability p and scales the rest by "
                + "1/(1-p); identity at inference.";
    }

    @Override public ParamSchema schema() { return SCHEMA; }

    @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) {
        // The schema range is inclusive; p = 1 would drop everything and divide by zero.
        // Only p == 1 gets past the range check and fails here.
        if (args.getDouble("p") >= 1) throw new ArgumentException("p", -1, "parameter 'p' must be in [0, 1), got 1");
        return inputs.get(0);
    }

    /** One multiply per element while training. */
    @Override public long flops(LayerArgs args, List<Shape> inputs, Shape output) {
        return output.elementCount();
    }

    @Override public LayerKernel compile(KernelContext context) {
        float p = context.args().getFloat("p");
        int size = context.inputShapes().get(0).size();
        // [N, ...] like the input: 0 or 1/(1-p), kept from forward for backward.
        Tensor mask = context.allocate(context.inputShapes().get(0));
        return new LayerKernel() {
            @Override public void forward(ForwardPass pass) {
                if (pass.training() && p > 0) {
                    pass.backend().dropoutForward(pass.input(0), mask, pass.output(), p, pass.stepSeed());
                } else {
                    pass.backend().copy(Slice.of(pass.input(0), 0, size), Slice.of(pass.output(), 0, size));
                }
            }

            @Override public void backward(BackwardPass pass) {
                Tensor dx = pass.gradInput(0);
                if (dx == null) return;
                if (pass.training() && p > 0) {
                    pass.backend().binary(BinaryOp.MUL, pass.gradOutput(), mask, dx);
                } else {
                    pass.backend().copy(Slice.of(pass.gradOutput(), 0, size), Slice.of(dx, 0, size));
                }
            }
        };
    }
}
