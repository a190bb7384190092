package org.neurite.plugins.shape;

import java.util.List;
import org.neurite.backend.Strided;
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
 * {@code concat(axis=0)}: joins two or more inputs along one per-sample axis, PyTorch's
 * {@code torch.cat(xs, dim=axis + 1)}. The axis excludes the batch, so the default 0 joins the
 * channels of [C, H, W] values (GoogLeNet's inception outputs) and the features of [F] values; a
 * negative axis counts from the end. Inputs must have one rank and agree on every other axis; the
 * output's axis is the sum of theirs. Each input is {@code N * before} rows of
 * {@code length * after} floats placed side by side in the output's rows, so forward is one
 * {@code copyBlocks} per input and backward the same copies in reverse. Forward saves nothing.
 */
final class Concat implements LayerType {
    private static final ParamSchema SCHEMA = ParamSchema.of(
            ParamSpec.optional("axis", ParamType.INT, 0, "Per-sample axis to join along (0 = channels of [C, H, W]); "
                    + "negative counts from the end."));

    @Override public String name() { return "concat"; }

    /** Each sample on its own. */
    @Override public boolean shardable() { return true; }

    @Override public String doc() {
        return "Joins two or more inputs along a per-sample axis (default 0, the channels); the other axes must match.";
    }

    @Override public ParamSchema schema() { return SCHEMA; }

    @Override public int minInputs() { return 2; }

    @Override public int maxInputs() { return Integer.MAX_VALUE; }

    @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) {
        Shape first = inputs.get(0);
        AxisView view = AxisView.of(first, args.getInt("axis"));
        int[] out = first.dims();
        for (int i = 1; i < inputs.size(); i++) {
            Shape in = inputs.get(i);
            if (in.rank() != first.rank())
                throw new ShapeException("inputs must have the same rank, but input 0 is " + first + " and input " + i + " is " + in);
            for (int d = 0; d < first.rank(); d++) {
                if (d != view.axis() && in.dim(d) != first.dim(d))
                    throw new ShapeException("inputs must match on every axis but axis " + view.axis() + ", but input 0 is "
                            + first + " and input " + i + " is " + in);
            }
            out[view.axis()] += in.dim(view.axis());
        }
        return Shape.of(out);
    }

    /** Data movement only: no arithmetic. */
    @Override public long flops(LayerArgs args, List<Shape> inputs, Shape output) { return 0; }

    @Override public LayerKernel compile(KernelContext context) {
        int axis = context.args().getInt("axis");
        List<Shape> inputs = context.inputShapes();      // [N, ...] each
        int count = inputs.size();
        AxisView outView = AxisView.of(context.outputShape().dropFirst(), axis);
        int rows = context.batch() * outView.before();
        int outRow = outView.rowLength();
        // Input i fills floats [offset_i, offset_i + row_i) of every output row.
        int[] row = new int[count];
        int[] offset = new int[count];
        for (int i = 0, at = 0; i < count; i++) {
            row[i] = AxisView.of(inputs.get(i).dropFirst(), axis).rowLength();
            offset[i] = at;
            at += row[i];
        }
        return new LayerKernel() {
            @Override public void forward(ForwardPass pass) {
                for (int i = 0; i < count; i++)
                    pass.backend().copyBlocks(Strided.of(pass.input(i), 0, row[i]), Strided.of(pass.output(), offset[i], outRow),
                            row[i], rows);
            }

            @Override public void backward(BackwardPass pass) {
                for (int i = 0; i < count; i++) {
                    Tensor dx = pass.gradInput(i);
                    if (dx != null) pass.backend().copyBlocks(Strided.of(pass.gradOutput(), offset[i], outRow),
                            Strided.of(dx, 0, row[i]), row[i], rows);
                }
            }
        };
    }
}
