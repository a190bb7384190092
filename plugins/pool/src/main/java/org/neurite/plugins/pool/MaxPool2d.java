package org.neurite.plugins.pool;

import java.util.List;
import org.neurite.backend.Pool2dGeometry;
import org.neurite.backend.UnaryOp;
import org.neurite.layer.ActivationGradientLayer;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerKernel;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ParamSpec;
import org.neurite.layer.ParamType;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * {@code maxpool(kernel, stride=kernel, pad=0, ceil=false)}: 2-D max pooling, PyTorch's
 * {@code MaxPool2d}. Input [N, C, H, W], output [N, C, Ho, Wo] with
 * {@code Ho = floor((H + 2 pad - kernel) / stride) + 1} (ceiling with {@code ceil=true}, the last
 * window still starting inside the input or its left padding). Padding never wins a window.
 * Forward saves the argmax tensor (output-shaped, the flat {@code h * W + w} index of each
 * window's winner within its plane, allocated once from the kernel context); backward scatters dy
 * through it, summing where overlapping windows chose the same input. As an
 * {@link ActivationGradientLayer}, its backward can also apply the derivative of the activation
 * before it (the engine folds a relu's backward into it this way).
 */
final class MaxPool2d implements ActivationGradientLayer {
    private static final ParamSchema SCHEMA = ParamSchema.of(
            ParamSpec.required("kernel", ParamType.INTS, "Window size: one int, or [height, width].").range(1, Double.POSITIVE_INFINITY),
            ParamSpec.optional("stride", ParamType.INTS, null, "Step between windows: one int, or [height, width] "
                    + "(default: same as kernel, so windows do not overlap).").range(1, Double.POSITIVE_INFINITY),
            ParamSpec.optional("pad", ParamType.INTS, 0, "Implicit padding on each side, at most half the kernel; "
                    + "padding never wins the max.").range(0, Double.POSITIVE_INFINITY),
            ParamSpec.optional("ceil", ParamType.BOOL, false, "Round the output size up instead of down."));

    @Override public String name() { return "maxpool"; }

    /** Each sample is pooled on its own. */
    @Override public boolean shardable() { return true; }

    @Override public String doc() {
        return "2-D max pooling on [C, H, W] inputs; stride defaults to the kernel size.";
    }

    @Override public ParamSchema schema() { return SCHEMA; }

    @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) {
        return PoolWindow.of(args).outputShape(inputs.get(0));
    }

    /** One comparison per window element per output element. */
    @Override public long flops(LayerArgs args, List<Shape> inputs, Shape output) {
        return PoolWindow.of(args).flops(output);
    }

    @Override public LayerKernel compile(KernelContext context) {
        // The activation whose backward folds into this backward, or null.
        UnaryOp inputActivation = context.inputActivation();
        Pool2dGeometry g = PoolWindow.of(context.args()).geometry(context.inputShapes().get(0).dropFirst(), context.batch(), false);
        // [N, C, Ho, Wo] winner indices, written by forward and read by backward.
        Tensor argmax = context.allocate(context.outputShape());
        return new LayerKernel() {
            @Override public void forward(ForwardPass pass) {
                pass.backend().maxPool2dForward(g, pass.input(0), pass.output(), argmax);
            }

            @Override public void backward(BackwardPass pass) {
                if (pass.gradInput(0) == null) return;
                if (inputActivation == null) pass.backend().maxPool2dBackward(g, pass.gradOutput(), argmax, pass.gradInput(0));
                // dx = activation'(x) * scatter(dy), x being the activation's output
                else pass.backend().maxPool2dBackward(g, pass.gradOutput(), argmax, pass.input(0), inputActivation, pass.gradInput(0));
            }
        };
    }
}
