package org.neurite.plugins.shape;

import java.util.List;
import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.TensorCopy;
import org.neurite.backend.UnaryOp;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.EpilogueLayer;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerKernel;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ResidualSumLayer;
import org.neurite.layer.ShapeException;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * {@code add}: the element-wise sum of two or more inputs of one shape (any rank), as in ResNet's
 * {@code relu(y + s)}; the output has that shape. There is no broadcasting: a shape mismatch is
 * an error naming both shapes. Forward saves nothing; backward hands dy unchanged to every input
 * that wants a gradient.
 *
 * <p>As an {@link EpilogueLayer} it runs with the relu, sigmoid or tanh that alone reads it (the
 * {@code relu(y + s)} ending every residual block): forward applies the activation in place in the
 * sum's buffer, and backward applies its derivative once, from y, straight into the first input
 * gradient, which the others then copy; the sum itself gets neither a buffer of its own nor a gradient.
 * As a {@link ResidualSumLayer}, compiled for inference, a sum of two may run inside the
 * convolution that produces one of its terms (the engine's residual folding); its step then runs nothing.
 */
final class Add implements ResidualSumLayer {
    @Override public String name() { return "add"; }

    /** Element by element. */
    @Override public boolean shardable() { return true; }

    @Override public String doc() {
        return "Element-wise sum of two or more inputs of identical shape (no broadcasting); output shape = input shape.";
    }

    @Override public ParamSchema schema() { return ParamSchema.empty(); }

    @Override public int minInputs() { return 2; }

    @Override public int maxInputs() { return Integer.MAX_VALUE; }

    @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) {
        Shape first = inputs.get(0);
        for (int i = 1; i < inputs.size(); i++) {
            if (!inputs.get(i).equals(first))
                throw new ShapeException("inputs must have the same shape, but input 0 is " + first + " and input " + i
                        + " is " + inputs.get(i));
        }
        return first;
    }

    /** One addition per output element for each input after the first. */
    @Override public long flops(LayerArgs args, List<Shape> inputs, Shape output) {
        return (inputs.size() - 1L) * output.elementCount();
    }

    @Override public LayerKernel compile(KernelContext context) {
        return compile(context, null);
    }

    @Override public boolean appliesActivationBackward() { return true; }

    @Override public LayerKernel compile(KernelContext context, UnaryOp activation) {
        int count = context.inputShapes().size();
        int size = context.outputShape().size();
        return new LayerKernel() {
            // Input i's gradient as a copy of another: its descriptors made once (see TensorCopy).
            private final TensorCopy[] copies = new TensorCopy[count];

            private void copy(Backend b, int i, Tensor src, Tensor dx) {
                if (copies[i] == null) copies[i] = new TensorCopy();
                copies[i].run(b, src, dx, size);
            }

            @Override public void forward(ForwardPass pass) {
                Backend b = pass.backend();
                Tensor y = pass.output();
                // (x0 + x1 + ... + x_{n-2}), then the last addend and the activation in one op
                Tensor sum = pass.input(0);
                for (int i = 1; i < count - 1; i++) {
                    b.binary(BinaryOp.ADD, sum, pass.input(i), y);
                    sum = y;
                }
                b.addForward(sum, pass.input(count - 1), activation, y);
            }

            @Override public void backward(BackwardPass pass) {
                // d(x0 + x1 + ...)/dxi = 1: every input's gradient is dy (through the activation's derivative, when fused),
                // computed once into the first input gradient wanted and copied from there.
                Tensor first = null;
                for (int i = 0; i < count; i++) {
                    Tensor dx = pass.gradInput(i);
                    if (dx == null) continue;
                    if (first != null) {
                        copy(pass.backend(), i, first, dx);
                    } else if (activation != null) {
                        pass.backend().unaryBackward(activation, pass.output(), pass.output(), pass.gradOutput(), dx);
                        first = dx;
                    } else {
                        copy(pass.backend(), i, pass.gradOutput(), dx);
                        first = dx;
                    }
                }
            }
        };
    }
}
