package com.example.swish;

import java.util.List;
import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.UnaryOp;
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
 * {@code swish(beta=1.0, learn_beta=true)}: {@code y = x · σ(βx)} element-wise (Ramachandran,
 * Zoph &amp; Le 2017), any input shape, output shape = input shape. β is one scalar parameter
 * {@code beta [1]}, initialised to the {@code beta} argument and learned unless
 * {@code learn_beta=false}; β = 1 is SiLU. Written with the {@code Backend} op set only, so it
 * runs on every backend. Forward saves {@code s = σ(βx)}; backward uses
 * {@code dy/dx = s + βx·s(1-s)} and {@code dy/dβ = x²·s(1-s)}.
 */
final class Swish implements LayerType {
    private static final ParamSchema SCHEMA = ParamSchema.of(
            ParamSpec.optional("beta", ParamType.FLOAT, 1.0, "Initial value of the scale beta in x * sigmoid(beta * x); 1 is SiLU."),
            ParamSpec.optional("learn_beta", ParamType.BOOL, true, "Learn beta (one scalar per layer) by gradient descent."));

    @Override public String name() { return "swish"; }

    @Override public String doc() {
        return "Swish activation y = x * sigmoid(beta * x), element-wise, with a learned scalar beta [1]; output shape = input shape.";
    }

    @Override public ParamSchema schema() { return SCHEMA; }

    @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) { return inputs.get(0); }

    /** beta [1]: no weight decay (it is a shape parameter, not a weight), trainable unless learn_beta=false. */
    @Override public List<ParamDecl> parameters(LayerArgs args, List<Shape> inputs) {
        return List.of(new ParamDecl("beta", Shape.of(1), Initializer.constant(args.getFloat("beta")), false, args.getBool("learn_beta")));
    }

    /** Per element: βx, the sigmoid (4, as core's sigmoid counts it) and the product. */
    @Override public long flops(LayerArgs args, List<Shape> inputs, Shape output) {
        return 6L * output.elementCount();
    }

    @Override public LayerKernel compile(KernelContext context) {
        Shape shape = context.outputShape();
        // s = σ(βx) is kept from forward to backward; t is backward's scratch.
        return new Kernel(shape.size(), context.allocate(shape), context.allocate(shape), context.allocate(shape));
    }

    /** {@code n} elements (batch included); {@code s}, {@code g}, {@code t} are [n] tensors of the compiled model. */
    private record Kernel(int n, Tensor s, Tensor g, Tensor t) implements LayerKernel {
        @Override public void forward(ForwardPass pass) {
            Backend b = pass.backend();
            Tensor x = pass.input(0);
            // s = βx: the scalar β broadcast as a single channel over n elements
            b.channelBroadcast(BinaryOp.MUL, x, pass.param("beta"), s, 1, 1, n);
            b.unary(UnaryOp.SIGMOID, s, s);
            b.binary(BinaryOp.MUL, x, s, pass.output());
        }

        @Override public void backward(BackwardPass pass) {
            Backend b = pass.backend();
            Tensor x = pass.input(0);
            Tensor dy = pass.gradOutput();
            Tensor dx = pass.gradInput(0);
            Tensor dBeta = pass.gradParam("beta");
            if (dx == null && dBeta == null) return;
            // g = dy · x · σ'(βx) = dy · x · s(1 - s): the gradient through the sigmoid's argument, before the chain to β or x
            b.binary(BinaryOp.MUL, dy, x, g);
            b.unaryBackward(UnaryOp.SIGMOID, null, s, g, g);
            if (dBeta != null) {
                // dβ[1] = Σ g · x
                b.binary(BinaryOp.MUL, g, x, t);
                b.channelSum(t, dBeta, 1, 1, n, 0f);
            }
            if (dx != null) {
                // dx = dy · s + β · g
                b.channelBroadcast(BinaryOp.MUL, g, pass.param("beta"), dx, 1, 1, n);
                b.binary(BinaryOp.MUL, dy, s, t);
                b.binary(BinaryOp.ADD, dx, t, dx);
            }
        }
    }
}
