package org.neurite.plugins.shape;

import java.util.List;
import org.neurite.backend.Strided;
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
import org.neurite.tensor.Tensor;

/**
 * {@code split(axis=0, parts=2, index=0)}: part {@code index} of a value cut into {@code parts}
 * equal parts along a per-sample axis, PyTorch's {@code torch.chunk(x, parts, dim=axis + 1)[index]}
 * when the axis divides evenly (here it must). A layer has one output, so a script takes each
 * part with its own {@code split} node ({@code a = x -> split(index=0)}, {@code b = x -> split(index=1)});
 * {@code concat} with the same axis puts the parts back together. Equal parts rather than
 * arbitrary [start, end) slices keep the arguments valid when a block is reused at another width.
 *
 * <p>Input [N, ..., D, ...] with D = parts * P on the axis, output [N, ..., P, ...]. Forward is one
 * {@code copyBlocks} of the part's rows; backward writes dy into that part of dx and zeros
 * everywhere else (the other parts do not reach this node's output). Forward saves nothing.
 */
final class Split implements LayerType {
    private static final ParamSchema SCHEMA = ParamSchema.of(
            ParamSpec.optional("axis", ParamType.INT, 0, "Per-sample axis to cut (0 = channels of [C, H, W]); "
                    + "negative counts from the end."),
            ParamSpec.optional("parts", ParamType.INT, 2, "Number of equal parts; must divide the axis.")
                    .range(1, Double.POSITIVE_INFINITY),
            ParamSpec.optional("index", ParamType.INT, 0, "Which part to take, counting from 0; less than parts.")
                    .range(0, Double.POSITIVE_INFINITY));

    @Override public String name() { return "split"; }

    /** Each sample on its own. */
    @Override public boolean shardable() { return true; }

    @Override public String doc() {
        return "Takes part 'index' of 'parts' equal parts of a value along a per-sample axis (default: the first half "
                + "of the channels); concat rejoins the parts.";
    }

    @Override public ParamSchema schema() { return SCHEMA; }

    @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) {
        Shape in = inputs.get(0);
        int parts = args.getInt("parts");
        int index = args.getInt("index");
        if (index >= parts)
            throw new ArgumentException("index", -1, "parameter 'index' must be less than parts (" + parts + "), got " + index);
        AxisView view = AxisView.of(in, args.getInt("axis"));
        if (view.length() % parts != 0)
            throw new ShapeException("axis " + view.axis() + " of " + in + " has size " + view.length()
                    + ", which does not split into " + parts + " equal parts");
        int[] out = in.dims();
        out[view.axis()] /= parts;
        return Shape.of(out);
    }

    /** Data movement only: no arithmetic. */
    @Override public long flops(LayerArgs args, List<Shape> inputs, Shape output) { return 0; }

    @Override public LayerKernel compile(KernelContext context) {
        LayerArgs args = context.args();
        AxisView in = AxisView.of(context.inputShapes().get(0).dropFirst(), args.getInt("axis"));
        int rows = context.batch() * in.before();
        int inRow = in.rowLength();
        int partRow = inRow / args.getInt("parts");
        // The part starts this many floats into every input row.
        int start = args.getInt("index") * partRow;
        return new LayerKernel() {
            @Override public void forward(ForwardPass pass) {
                pass.backend().copyBlocks(Strided.of(pass.input(0), start, inRow), Strided.of(pass.output(), 0, partRow), partRow,
                        rows);
            }

            @Override public void backward(BackwardPass pass) {
                Tensor dx = pass.gradInput(0);
                if (dx == null) return;
                pass.backend().fill(dx, 0f);
                pass.backend().copyBlocks(Strided.of(pass.gradOutput(), 0, partRow), Strided.of(dx, start, inRow), partRow, rows);
            }
        };
    }
}
