package com.example.swish;

import java.util.List;
import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.UnaryOp;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerKernel;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamSchema;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * {@code mish}: {@code y = x · tanh(softplus(x))} element-wise (Misra 2019), any input shape,
 * output shape = input shape, no arguments or parameters. This is the generic kernel, three
 * {@code Backend} ops forward, so it runs on every backend and is the reference that
 * {@link CpuMish} is tested against. Forward saves {@code t = tanh(softplus(x))}; backward uses
 * {@code dy/dx = t + x · σ(x) · (1 - t²)}, since softplus' derivative is σ.
 */
final class Mish implements LayerType {
    @Override public String name() { return "mish"; }

    @Override public String doc() { return "Mish activation y = x * tanh(softplus(x)), element-wise; output shape = input shape."; }

    @Override public ParamSchema schema() { return ParamSchema.empty(); }

    @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) { return inputs.get(0); }

    /** Per element: softplus (exp, add, log), tanh (4, as core's tanh counts it) and the product. */
    @Override public long flops(LayerArgs args, List<Shape> inputs, Shape output) {
        return 8L * output.elementCount();
    }

    @Override public LayerKernel compile(KernelContext context) {
        Shape shape = context.outputShape();
        // t = tanh(softplus(x)) is kept from forward to backward; w is backward's scratch.
        return new Kernel(context.allocate(shape), context.allocate(shape));
    }

    private record Kernel(Tensor t, Tensor w) implements LayerKernel {
        @Override public void forward(ForwardPass pass) {
            Backend b = pass.backend();
            Tensor x = pass.input(0);
            b.unary(UnaryOp.SOFTPLUS, x, t);
            b.unary(UnaryOp.TANH, t, t);
            b.binary(BinaryOp.MUL, x, t, pass.output());
        }

        @Override public void backward(BackwardPass pass) {
            Tensor dx = pass.gradInput(0);
            if (dx == null) return;
            Backend b = pass.backend();
            Tensor x = pass.input(0);
            Tensor dy = pass.gradOutput();
            // w = dy · x · (1 - t²) · σ(x): the path through tanh and softplus
            b.binary(BinaryOp.MUL, dy, x, w);
            b.unaryBackward(UnaryOp.TANH, null, t, w, w);
            b.unaryBackward(UnaryOp.SOFTPLUS, x, null, w, w);
            // dx = dy · t + w
            b.binary(BinaryOp.MUL, dy, t, dx);
            b.binary(BinaryOp.ADD, dx, w, dx);
        }
    }
}
