package org.neurite.plugins.pool;

import java.util.List;
import org.neurite.backend.Pool2dGeometry;
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

/**
 * {@code avgpool(kernel, stride=kernel, pad=0, ceil=false, count_include_pad=true)}: 2-D average
 * pooling, PyTorch's {@code AvgPool2d}. Input [N, C, H, W], output [N, C, Ho, Wo] with the same
 * output size rule as {@code maxpool}. The divisor is the full window (padding counted as zeros)
 * when {@code count_include_pad}, otherwise only the real input elements in the window. Forward
 * saves nothing: backward spreads each dy evenly over its window.
 */
final class AvgPool2d implements LayerType {
    private static final ParamSchema SCHEMA = ParamSchema.of(
            ParamSpec.required("kernel", ParamType.INTS, "Window size: one int, or [height, width].").range(1, Double.POSITIVE_INFINITY),
            ParamSpec.optional("stride", ParamType.INTS, null, "Step between windows: one int, or [height, width] "
                    + "(default: same as kernel, so windows do not overlap).").range(1, Double.POSITIVE_INFINITY),
            ParamSpec.optional("pad", ParamType.INTS, 0, "Zero padding on each side, at most half the kernel.")
                    .range(0, Double.POSITIVE_INFINITY),
            ParamSpec.optional("ceil", ParamType.BOOL, false, "Round the output size up instead of down."),
            ParamSpec.optional("count_include_pad", ParamType.BOOL, true,
                    "Divide by the whole window including padding (true) or by the real elements only (false)."));

    @Override public String name() { return "avgpool"; }

    /** Each sample is pooled on its own. */
    @Override public boolean shardable() { return true; }

    @Override public String doc() {
        return "2-D average pooling on [C, H, W] inputs; stride defaults to the kernel size.";
    }

    @Override public ParamSchema schema() { return SCHEMA; }

    @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) {
        return PoolWindow.of(args).outputShape(inputs.get(0));
    }

    /** One addition per window element per output element (the divide is not counted). */
    @Override public long flops(LayerArgs args, List<Shape> inputs, Shape output) {
        return PoolWindow.of(args).flops(output);
    }

    @Override public LayerKernel compile(KernelContext context) {
        Pool2dGeometry g = PoolWindow.of(context.args()).geometry(context.inputShapes().get(0).dropFirst(), context.batch(),
                context.args().getBool("count_include_pad"));
        return new LayerKernel() {
            @Override public void forward(ForwardPass pass) {
                pass.backend().avgPool2dForward(g, pass.input(0), pass.output());
            }

            @Override public void backward(BackwardPass pass) {
                if (pass.gradInput(0) == null) return;
                pass.backend().avgPool2dBackward(g, pass.gradOutput(), pass.gradInput(0));
            }
        };
    }
}
