package org.neurite.plugins.core;

import java.util.ArrayList;
import java.util.List;
import org.neurite.backend.Backend;
import org.neurite.backend.Gemm;
import org.neurite.backend.MatrixOperand;
import org.neurite.backend.UnaryOp;
import org.neurite.layer.ActivationGradientLayer;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.EpilogueLayer;
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
 * {@code dense(units, bias=true, init="he")}: the fully connected layer {@code y = x W^T + b}.
 * Input [N, in] (one feature axis per sample; images go through {@code flatten} first) or
 * [N, T, in] (a sequence: the same layer is applied at every step, as PyTorch's Linear applies to
 * the last axis), weight [units, in] (PyTorch's Linear layout, so state dicts load), bias
 * [units], output [N, units] or [N, T, units].
 * The weight is drawn by {@code Initializer.byName(init, fanIn=in, fanOut=units)}; the bias starts
 * at zero, the usual choice for ReLU networks. Forward saves nothing: backward needs only the
 * input and the weight, which the engine keeps alive anyway (never the output, so the engine may
 * fuse the activation after it into the product's epilogue: {@link EpilogueLayer}), and its input
 * gradient can take the derivative of the activation before it ({@link ActivationGradientLayer}).
 */
final class Dense implements EpilogueLayer, ActivationGradientLayer {
    private static final ParamSchema SCHEMA = ParamSchema.of(
            ParamSpec.required("units", ParamType.INT, "Number of output features.").range(1, Double.POSITIVE_INFINITY),
            ParamSpec.optional("bias", ParamType.BOOL, true, "Add a learned per-unit bias (initialised to zero)."),
            ParamSpec.optional("init", ParamType.STRING, "he",
                    "Weight initialiser: he, he_uniform, xavier, torch or zeros."));

    @Override public String name() { return "dense"; }

    /** Each sample is its own row. */
    @Override public boolean shardable() { return true; }

    @Override public String doc() {
        return "Fully connected layer y = x W^T + b on [features] inputs; weight [units, in], bias [units]. "
                + "Use flatten before it on images.";
    }

    @Override public ParamSchema schema() { return SCHEMA; }

    @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) {
        inFeatures(inputs);
        Shape in = inputs.get(0);
        return in.rank() == 1 ? Shape.of(args.getInt("units")) : Shape.of(in.dim(0), args.getInt("units"));
    }

    /** The per-sample (or per-step) feature count, refusing images with a hint. */
    private static int inFeatures(List<Shape> inputs) {
        Shape in = inputs.get(0);
        if (in.rank() != 1 && in.rank() != 2)
            throw new ShapeException("expects [features] per sample, got " + in + "; put flatten before dense");
        return in.dim(-1);
    }

    /** Rows the layer is applied to per sample: 1, or the number of steps of a sequence. */
    private static int rowsPerSample(Shape in) {
        return in.rank() == 1 ? 1 : in.dim(0);
    }

    @Override public List<ParamDecl> parameters(LayerArgs args, List<Shape> inputs) {
        int in = inFeatures(inputs);
        int units = args.getInt("units");
        List<ParamDecl> params = new ArrayList<>();
        params.add(ParamDecl.weight("weight", Shape.of(units, in), Initializer.byName(args.getString("init"), in, units)));
        if (args.getBool("bias")) params.add(ParamDecl.bias("bias", Shape.of(units), Initializer.zeros()));
        return params;
    }

    /** One multiply-add per weight and row; the bias add is not counted (as in the usual MAC counts). */
    @Override public long flops(LayerArgs args, List<Shape> inputs, Shape output) {
        return 2L * rowsPerSample(inputs.get(0)) * inFeatures(inputs) * args.getInt("units");
    }

    @Override public LayerKernel compile(KernelContext context) { return compile(context, null); }

    @Override public LayerKernel compile(KernelContext context, UnaryOp activation) {
        // Shape checks happened during inference; here the shapes include the batch: x [N, in] or
        // [N, T, in], which is the same matrix of N*T rows.
        Shape x = context.inputShapes().get(0);
        int rows = context.batch() * rowsPerSample(x.dropFirst());
        return new Kernel(rows, x.dim(-1), context.args().getInt("units"), context.args().getBool("bias"), activation,
                context.inputActivation());
    }

    /**
     * {@code batch} here counts rows: samples, or samples x steps; {@code activation} the fused
     * epilogue, or null; {@code inputActivation} the activation before the layer whose derivative
     * the input gradient takes, or null.
     */
    private static final class Kernel implements LayerKernel {
        private final int batch;
        private final int in;
        private final int units;
        private final boolean bias;
        private final UnaryOp activation;
        private final UnaryOp inputActivation;
        /** dW[units, in] = dy^T[units, N] · x[N, in]. */
        private final Gemm weightGradient;
        /** The weight gradient's operands, made once (see MatrixOperand). */
        private final MatrixOperand dyRows;
        private final MatrixOperand xRows;
        private final MatrixOperand dwRows;

        Kernel(int batch, int in, int units, boolean bias, UnaryOp activation, UnaryOp inputActivation) {
            this.batch = batch;
            this.in = in;
            this.units = units;
            this.bias = bias;
            this.activation = activation;
            this.inputActivation = inputActivation;
            this.weightGradient = new Gemm(true, false, units, in, batch, 1);
            this.dyRows = new MatrixOperand(units);
            this.xRows = new MatrixOperand(in);
            this.dwRows = new MatrixOperand(in);
        }

        @Override public void forward(ForwardPass pass) {
            // y[N, units] = activation(x[N, in] · W[units, in]^T + bias[units]), the bias broadcast over the batch
            pass.backend().denseForward(pass.input(0), pass.param("weight"), bias ? pass.param("bias") : null, activation,
                    pass.output(), batch, in, units);
        }

        @Override public void backward(BackwardPass pass) {
            Backend b = pass.backend();
            Tensor dy = pass.gradOutput();
            Tensor dx = pass.gradInput(0);
            // dx[N, in] = dy[N, units] · W[units, in] (times inputActivation'(x) when folded in)
            if (dx != null) b.denseBackwardData(dy, pass.param("weight"), pass.input(0), inputActivation, dx, batch, in, units);
            Tensor dw = pass.gradParam("weight");
            // dW[units, in] = dy^T[units, N] · x[N, in]
            if (dw != null) b.gemm(weightGradient, 1f, dyRows.of(dy), xRows.of(pass.input(0)), 0f, dwRows.of(dw));
            if (bias) {
                Tensor db = pass.gradParam("bias");
                // db[units] = sum over the batch of dy[N, units]
                if (db != null) b.channelSum(dy, db, batch, units, 1, 0f);
            }
        }
    }
}
