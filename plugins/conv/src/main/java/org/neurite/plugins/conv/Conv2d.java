package org.neurite.plugins.conv;

import java.util.ArrayList;
import java.util.List;
import org.neurite.backend.Backend;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.backend.UnaryOp;
import org.neurite.layer.AffineFoldableLayer;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.Initializer;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerKernel;
import org.neurite.layer.ParamDecl;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ParamSpec;
import org.neurite.layer.ParamType;
import org.neurite.layer.ShapeException;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * {@code conv(channels, kernel, stride=1, pad=0, dilation=1, groups=1, bias=true, init="he", weights=[...],
 * trainable=true)}: 2-D
 * convolution (cross-correlation, as in PyTorch's {@code Conv2d}). Input [N, C, H, W], weight
 * [channels, C/groups, kh, kw], bias [channels], output [N, channels, Ho, Wo] with
 * {@code Ho = (H + 2 padH - dilH (kh - 1) - 1) / strideH + 1} (likewise Wo). {@code kernel},
 * {@code stride}, {@code pad} and {@code dilation} take one int or [h, w]. With groups g the input
 * channels split into g groups, each convolved by channels/g filters.
 *
 * <p>The weight is drawn by {@code Initializer.byName(init, fanIn, fanOut)} with PyTorch's fans,
 * {@code fanIn = C/groups * kh * kw} and {@code fanOut = channels * kh * kw}; the bias starts at
 * zero. {@code weights} replaces the initialiser with values written in the script (row-major
 * [channels, C/groups, kh, kw]); with {@code trainable=false} weight and bias are constants, so a
 * script can apply fixed filters such as a 3x3 Laplace kernel. Forward saves nothing: backward reads the input, the weight and dy through the backend's
 * {@code conv2dBackwardData} and {@code conv2dBackwardFilter}, never the output, so the engine may fuse
 * the activation after it into the convolution's epilogue ({@link org.neurite.layer.EpilogueLayer}), and, when compiling for
 * inference, a batch norm after it into its weight and bias ({@link AffineFoldableLayer}).
 */
final class Conv2d implements AffineFoldableLayer {
    private static final ParamSchema SCHEMA = ParamSchema.of(
            ParamSpec.required("channels", ParamType.INT, "Number of output channels (filters).").range(1, Double.POSITIVE_INFINITY),
            ParamSpec.required("kernel", ParamType.INTS, "Kernel size: one int, or [height, width].").range(1, Double.POSITIVE_INFINITY),
            ParamSpec.optional("stride", ParamType.INTS, 1, "Step between windows: one int, or [height, width].")
                    .range(1, Double.POSITIVE_INFINITY),
            ParamSpec.optional("pad", ParamType.INTS, 0, "Zero padding added to each side: one int, or [height, width].")
                    .range(0, Double.POSITIVE_INFINITY),
            ParamSpec.optional("dilation", ParamType.INTS, 1, "Spacing between kernel taps: one int, or [height, width].")
                    .range(1, Double.POSITIVE_INFINITY),
            ParamSpec.optional("groups", ParamType.INT, 1,
                    "Split input and output channels into this many independent groups; must divide both.")
                    .range(1, Double.POSITIVE_INFINITY),
            ParamSpec.optional("bias", ParamType.BOOL, true, "Add a learned per-channel bias (initialised to zero)."),
            ParamSpec.optional("init", ParamType.STRING, "he", "Weight initialiser: he, he_uniform, xavier, torch or zeros."),
            ParamSpec.optional("weights", ParamType.FLOATS, null,
                    "Fixed starting weights instead of init: channels * C/groups * kh * kw values, row-major [out, in/groups, kh, kw]."),
            ParamSpec.optional("trainable", ParamType.BOOL, true,
                    "false keeps weight and bias constant (no gradient, no update), e.g. hand-made filter kernels."));

    @Override public String name() { return "conv"; }

    /** Each sample is convolved on its own. */
    @Override public boolean shardable() { return true; }

    @Override public String doc() {
        return "2-D convolution on [C, H, W] inputs with stride, zero padding, dilation and groups; "
                + "weight [channels, C/groups, kh, kw], bias [channels].";
    }

    @Override public ParamSchema schema() { return SCHEMA; }

    @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) {
        Conv2dGeometry g = geometry(args, inputs.get(0), 1);
        return Shape.of(g.outChannels(), g.outHeight(), g.outWidth());
    }

    /**
     * The geometry for {@code batch} samples of per-sample input {@code in}, after checking
     * everything {@link Conv2dGeometry} would otherwise reject with a less helpful message.
     */
    private static Conv2dGeometry geometry(LayerArgs args, Shape in, int batch) {
        if (in.rank() != 3) throw new ShapeException("expects [channels, height, width] per sample, got " + in);
        int channels = args.getInt("channels");
        int groups = args.getInt("groups");
        int[] k = args.getPair("kernel");
        int[] s = args.getPair("stride");
        int[] p = args.getPair("pad");
        int[] d = args.getPair("dilation");
        if (in.dim(0) % groups != 0)
            throw new ShapeException("input channels " + in.dim(0) + " are not divisible by groups=" + groups);
        if (channels % groups != 0)
            throw new ShapeException("channels=" + channels + " is not divisible by groups=" + groups);
        // The span one output element reads; compared before dividing, since Java's division
        // truncates toward zero and would turn a slightly negative span into one output row.
        int reachH = d[0] * (k[0] - 1) + 1;
        int reachW = d[1] * (k[1] - 1) + 1;
        int paddedH = in.dim(1) + 2 * p[0];
        int paddedW = in.dim(2) + 2 * p[1];
        if (paddedH < reachH || paddedW < reachW)
            throw new ShapeException("output would be empty: padded input " + paddedH + "x" + paddedW
                    + " is smaller than the dilated kernel " + reachH + "x" + reachW);
        return new Conv2dGeometry(batch, in.dim(0), in.dim(1), in.dim(2), channels, k[0], k[1], s[0], s[1],
                p[0], p[1], d[0], d[1], groups);
    }

    @Override public List<ParamDecl> parameters(LayerArgs args, List<Shape> inputs) {
        Conv2dGeometry g = geometry(args, inputs.get(0), 1);
        int taps = g.kernelH() * g.kernelW();
        Shape weight = Shape.of(g.outChannels(), g.inChannelsPerGroup(), g.kernelH(), g.kernelW());
        Initializer init;
        if (args.has("weights")) {
            float[] values = args.getFloats("weights");
            if (values.length != weight.elementCount()) {
                throw new ShapeException("weights has " + values.length + " values but the weight " + weight
                        + " [channels, C/groups, kh, kw] needs " + weight.elementCount());
            }
            init = Initializer.values(values);
        } else {
            init = Initializer.byName(args.getString("init"), g.inChannelsPerGroup() * taps, g.outChannels() * taps);
        }
        boolean trainable = args.getBool("trainable");
        List<ParamDecl> params = new ArrayList<>();
        params.add(new ParamDecl("weight", weight, init, true, trainable));
        if (args.getBool("bias")) params.add(new ParamDecl("bias", Shape.of(g.outChannels()), Initializer.zeros(), false, trainable));
        return params;
    }

    /** Two FLOPs per multiply-add of one sample; the bias add is not counted. */
    @Override public long flops(LayerArgs args, List<Shape> inputs, Shape output) {
        return geometry(args, inputs.get(0), 1).flops();
    }

    @Override public LayerKernel compile(KernelContext context) { return compile(context, null); }

    @Override public LayerKernel compile(KernelContext context, UnaryOp activation) {
        Shape x = context.inputShapes().get(0);    // [N, C, H, W]
        return new Kernel(geometry(context.args(), x.dropFirst(), context.batch()), context.args().getBool("bias"), activation, false);
    }

    /** Inference with a batch norm folded in: the engine's folded weight and a bias always present. */
    @Override public LayerKernel compileWithBias(KernelContext context, UnaryOp activation) {
        Shape x = context.inputShapes().get(0);
        return new Kernel(geometry(context.args(), x.dropFirst(), context.batch()), true, activation, false);
    }

    @Override public boolean addsResidual() { return true; }

    @Override public LayerKernel compileWithBiasAndResidual(KernelContext context, UnaryOp activation) {
        Shape x = context.inputShapes().get(0);
        return new Kernel(geometry(context.args(), x.dropFirst(), context.batch()), true, activation, true);
    }

    /** {@code activation}: the fused epilogue, or null; {@code residual}: input 1 added before it (inference only). */
    private record Kernel(Conv2dGeometry g, boolean bias, UnaryOp activation, boolean residual) implements LayerKernel {
        @Override public void forward(ForwardPass pass) {
            // y[N, Cout, Ho, Wo] = activation(x ⋆ w + bias (+ residual))
            Tensor b = bias ? pass.param("bias") : null;
            if (residual) pass.backend().conv2dResidualForward(g, pass.input(0), pass.param("weight"), b, pass.input(1), activation, pass.output());
            else if (activation == null) pass.backend().conv2dForward(g, pass.input(0), pass.param("weight"), b, pass.output());
            else pass.backend().conv2dForward(g, pass.input(0), pass.param("weight"), b, activation, pass.output());
        }

        @Override public void backward(BackwardPass pass) {
            Backend b = pass.backend();
            Tensor dy = pass.gradOutput();
            Tensor dx = pass.gradInput(0);
            if (dx != null) b.conv2dBackwardData(g, dy, pass.param("weight"), dx);
            Tensor dw = pass.gradParam("weight");
            Tensor db = bias ? pass.gradParam("bias") : null;
            if (dw != null) {
                b.conv2dBackwardFilter(g, pass.input(0), dy, dw, db);
            } else if (db != null) {
                // A frozen weight with a trainable bias: db[Cout] = sum over N, Ho, Wo of dy.
                b.channelSum(dy, db, g.batch(), g.outChannels(), g.outHeight() * g.outWidth(), 0f);
            }
        }
    }
}
