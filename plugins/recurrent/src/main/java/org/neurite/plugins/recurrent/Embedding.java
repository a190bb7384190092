package org.neurite.plugins.recurrent;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.neurite.backend.Slice;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.Initializer;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerKernel;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamDecl;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ParamSpec;
import org.neurite.layer.ParamType;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * {@code embedding(num, dim, padding_idx=-1)}: a lookup table of {@code num} learned vectors,
 * PyTorch's {@code nn.Embedding}. The input holds token indices in [0, num) stored as floats, usually [T]
 * per sample; every index becomes its row of {@code weight [num, dim]}, so the output is the
 * input's shape with {@code dim} appended ([T] → [T, dim]). The weight starts N(0, 1), as in
 * PyTorch. Indices are not differentiable: dL/dweight scatters dL/dy back onto the rows that
 * were read (repeated tokens add up), and a requested input gradient is zero. Forward saves
 * nothing; backward reads the indices again.
 *
 * <p>With {@code padding_idx >= 0}, as PyTorch's {@code padding_idx}: that row starts at zero and
 * its gradient is always zero, so it stays zero under every optimizer and a padding token embeds
 * as an all-zero row — the end-of-sequence padding a recurrent layer with {@code mask_zero=true}
 * recognises.
 */
final class Embedding implements LayerType {
    private static final ParamSchema SCHEMA = ParamSchema.of(
            ParamSpec.required("num", ParamType.INT, "Vocabulary size: indices run from 0 to num-1.").range(1, Double.POSITIVE_INFINITY),
            ParamSpec.required("dim", ParamType.INT, "Length of each embedding vector.").range(1, Double.POSITIVE_INFINITY),
            ParamSpec.optional("padding_idx", ParamType.INT, -1,
                    "A token whose row starts at zero and never gets a gradient (PyTorch's padding_idx), e.g. 0 for "
                            + "sequences padded at the end for mask_zero; -1: none.").range(-1, Double.POSITIVE_INFINITY));

    @Override public String name() { return "embedding"; }

    @Override public String doc() {
        return "Lookup table: token indices in [0, num) (stored as floats) become learned vectors of length dim, "
                + "[T] -> [T, dim]; weight [num, dim] (PyTorch's nn.Embedding); the padding_idx row stays zero.";
    }

    @Override public ParamSchema schema() { return SCHEMA; }

    @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) {
        int padding = args.getInt("padding_idx");
        if (padding >= args.getInt("num"))
            throw new ArgumentException("padding_idx", -1,
                    "parameter 'padding_idx' must be below num = " + args.getInt("num") + ", got " + padding);
        int[] in = inputs.get(0).dims();
        int[] out = Arrays.copyOf(in, in.length + 1);
        out[in.length] = args.getInt("dim");
        return Shape.of(out);
    }

    @Override public List<ParamDecl> parameters(LayerArgs args, List<Shape> inputs) {
        int padding = args.getInt("padding_idx");
        Initializer init = padding < 0 ? Embedding::standardNormal : (values, shape, rng) -> {
            standardNormal(values, shape, rng);
            int dim = shape.dim(1);
            Arrays.fill(values, padding * dim, (padding + 1) * dim, 0f);
        };
        return List.of(ParamDecl.weight("weight", Shape.of(args.getInt("num"), args.getInt("dim")), init));
    }

    /** N(0, 1) by Box-Muller, PyTorch's {@code nn.Embedding} initialisation. */
    private static void standardNormal(float[] values, Shape shape, SplittableRandom rng) {
        for (int i = 0; i < values.length; i++) {
            double u1 = rng.nextDouble();
            double u2 = rng.nextDouble();
            values[i] = (float) (Math.sqrt(-2.0 * Math.log(1.0 - u1)) * Math.cos(2 * Math.PI * u2));
        }
    }

    @Override public LayerKernel compile(KernelContext context) {
        // Every index of the batch is one row: N·(per-sample size) rows of dim floats.
        int rows = context.inputShapes().get(0).size();
        int dim = context.args().getInt("dim");
        int padding = context.args().getInt("padding_idx");
        // [dim] zeros, copied over the padding row's gradient
        Tensor zeroRow = padding < 0 ? null : context.allocate(Shape.of(dim));
        return new LayerKernel() {
            @Override public void forward(ForwardPass pass) {
                // y[r, :] = weight[index[r], :]
                pass.backend().gatherRows(pass.param("weight"), pass.input(0), pass.output(), rows, dim);
            }

            @Override public void backward(BackwardPass pass) {
                Tensor dWeight = pass.gradParam("weight");
                if (dWeight != null) {
                    // dweight[index[r], :] += dy[r, :], from zero: rows no token read get no gradient
                    pass.backend().fill(dWeight, 0f);
                    pass.backend().scatterAddRows(pass.gradOutput(), pass.input(0), dWeight, rows, dim);
                    // the padding row never learns: its gradient is zero however often it was read
                    if (zeroRow != null) pass.backend().copy(Slice.of(zeroRow, 0, dim), Slice.of(dWeight, padding * dim, dim));
                }
                Tensor dx = pass.gradInput(0);
                if (dx != null) pass.backend().fill(dx, 0f);
            }
        };
    }
}
