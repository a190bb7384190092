package org.neurite.plugins.shape;

import java.util.List;
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
import org.neurite.layer.ShapeException;
import org.neurite.tensor.Shape;

/**
 * {@code zeropad(pad)}: zero padding around each plane of [N, C, H, W], output
 * [N, C, top + H + bottom, left + W + right]. {@code pad} is one int (all four sides), [height, width]
 * (top and bottom, left and right: the order of {@code conv}'s pad) or [top, bottom, left, right]
 * for asymmetric padding, such as the extra row and column "same" padding needs for an even
 * kernel. Note the four-value order is the language's height-first one, not PyTorch's
 * {@code ZeroPad2d} (left, right, top, bottom). Forward is the backend's {@code pad2d}, backward
 * its adjoint {@code crop2d}; forward saves nothing.
 */
final class ZeroPad2d implements LayerType {
    private static final ParamSchema SCHEMA = ParamSchema.of(
            ParamSpec.required("pad", ParamType.INTS, "Zeros to add: one int for every side, [height, width], "
                    + "or [top, bottom, left, right].").range(0, Double.POSITIVE_INFINITY));

    @Override public String name() { return "zeropad"; }

    /** Each sample on its own. */
    @Override public boolean shardable() { return true; }

    @Override public String doc() {
        return "Zero padding around each [H, W] plane of [C, H, W] inputs: pad = p, [ph, pw] or [top, bottom, left, right].";
    }

    @Override public ParamSchema schema() { return SCHEMA; }

    /** {top, bottom, left, right} from the one, two or four values of {@code pad}. */
    private static int[] sides(LayerArgs args) {
        int[] p = args.getInts("pad");
        return switch (p.length) {
            case 1 -> new int[] {p[0], p[0], p[0], p[0]};
            case 2 -> new int[] {p[0], p[0], p[1], p[1]};
            case 4 -> p;
            default -> throw new ArgumentException("pad", -1, "parameter 'pad' expects one int, [height, width] or "
                    + "[top, bottom, left, right], got " + p.length + " ints");
        };
    }

    @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) {
        Shape in = inputs.get(0);
        int[] s = sides(args);
        if (in.rank() != 3) throw new ShapeException("expects [channels, height, width] per sample, got " + in);
        return Shape.of(in.dim(0), s[0] + in.dim(1) + s[1], s[2] + in.dim(2) + s[3]);
    }

    /** Data movement only: no arithmetic. */
    @Override public long flops(LayerArgs args, List<Shape> inputs, Shape output) { return 0; }

    @Override public LayerKernel compile(KernelContext context) {
        Shape x = context.inputShapes().get(0);      // [N, C, H, W]
        Shape y = context.outputShape();             // [N, C, outH, outW]
        int[] s = sides(context.args());
        int planes = x.dim(0) * x.dim(1);
        int h = x.dim(2);
        int w = x.dim(3);
        int top = s[0];
        int left = s[2];
        int outH = y.dim(2);
        int outW = y.dim(3);
        return new LayerKernel() {
            @Override public void forward(ForwardPass pass) {
                pass.backend().pad2d(pass.input(0), pass.output(), planes, h, w, top, left, outH, outW);
            }

            @Override public void backward(BackwardPass pass) {
                if (pass.gradInput(0) == null) return;
                pass.backend().crop2d(pass.gradOutput(), pass.gradInput(0), planes, h, w, top, left, outH, outW);
            }
        };
    }
}
