package org.neurite.plugins.norm;

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
import org.neurite.tensor.Tensor;

/**
 * {@code lrn(size, alpha=1e-4, beta=0.75, k=1.0)}: local response normalisation across channels,
 * PyTorch's {@code LocalResponseNorm} (AlexNet uses {@code lrn(5, alpha=1e-4, beta=0.75, k=2)}).
 * Input [N, C, H, W] (or [N, C, L]), output the same shape:
 * {@code y[c] = x[c] / (k + alpha/size * sum_{c'} x[c']^2)^beta} over the channels
 * c' in [c - size/2, c + (size-1)/2] that exist, the sum divided by {@code size} even where the
 * window is clipped at the first or last channel (as PyTorch does). No parameters. Forward saves
 * the denominator base {@code scale} (input-shaped, from the kernel context) for backward, which
 * also reads x and y.
 */
final class LocalResponseNorm implements LayerType {
    private static final ParamSchema SCHEMA = ParamSchema.of(
            ParamSpec.required("size", ParamType.INT, "Number of neighbouring channels summed over, the channel itself included.")
                    .range(1, Double.POSITIVE_INFINITY),
            ParamSpec.optional("alpha", ParamType.FLOAT, 1e-4, "Multiplier of the mean of squares.")
                    .range(0, Double.POSITIVE_INFINITY),
            ParamSpec.optional("beta", ParamType.FLOAT, 0.75, "Exponent of the denominator.").range(0, Double.POSITIVE_INFINITY),
            ParamSpec.optional("k", ParamType.FLOAT, 1.0, "Additive constant of the denominator; must be > 0.")
                    .range(0, Double.POSITIVE_INFINITY));

    @Override public String name() { return "lrn"; }

    /** Across the channels of one sample. */
    @Override public boolean shardable() { return true; }

    @Override public String doc() {
        return "Local response normalisation across channels (AlexNet): y = x / (k + alpha/size * sum of x^2 over "
                + "size neighbouring channels)^beta, on [C, H, W] inputs; output shape = input shape.";
    }

    @Override public ParamSchema schema() { return SCHEMA; }

    @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) {
        Shape in = inputs.get(0);
        if (in.rank() < 2 || in.rank() > 3)
            throw new ShapeException("expects [channels, height, width] or [channels, length] per sample, got " + in);
        // The schema range is inclusive; the base is at least k, and k = 0 would divide by zero
        // on an all-zero window. Only k == 0 gets past the range check and fails here.
        if (args.getDouble("k") <= 0) throw new ArgumentException("k", -1, "parameter 'k' must be > 0, got 0");
        return in;
    }

    /**
     * Per element: {@code size} multiply-adds for the window's sum of squares, then scale and add
     * k, raise to -beta and multiply by x.
     */
    @Override public long flops(LayerArgs args, List<Shape> inputs, Shape output) {
        return (2L * args.getInt("size") + 4) * output.elementCount();
    }

    @Override public LayerKernel compile(KernelContext context) {
        Shape x = context.inputShapes().get(0);      // [N, C, ...]
        int batch = x.dim(0);
        int channels = x.dim(1);
        int inner = x.sizeFrom(2);
        LayerArgs args = context.args();
        int size = args.getInt("size");
        float alpha = args.getFloat("alpha");
        float beta = args.getFloat("beta");
        float k = args.getFloat("k");
        // [N, C, ...] like the input: k + alpha/size * window sum of squares, kept for backward.
        Tensor scale = context.allocate(x);
        return new LayerKernel() {
            @Override public void forward(ForwardPass pass) {
                pass.backend().lrnForward(pass.input(0), pass.output(), scale, batch, channels, inner, size, alpha, beta, k);
            }

            @Override public void backward(BackwardPass pass) {
                if (pass.gradInput(0) == null) return;
                pass.backend().lrnBackward(pass.input(0), pass.output(), scale, pass.gradOutput(), pass.gradInput(0),
                        batch, channels, inner, size, alpha, beta, k);
            }
        };
    }
}
