package org.neurite.plugins.norm;

import java.util.ArrayList;
import java.util.List;
import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.backend.UnaryOp;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.EpilogueLayer;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.InferenceAffineLayer;
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
 * {@code batchnorm(eps=1e-5, momentum=0.1, affine=true)}: batch normalisation, PyTorch's
 * {@code BatchNorm1d} / {@code BatchNorm2d} in one layer. Input [N, C] (after {@code dense}),
 * [N, C, L] or [N, C, H, W], viewed as [N, C, inner]; the output has the input's shape:
 * {@code y = (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c]}.
 *
 * <p>Parameters, in PyTorch's {@code state_dict} order and names so checkpoints interchange:
 * {@code weight} [C] (ones) and {@code bias} [C] (zeros), trainable and exempt from weight decay,
 * present only with {@code affine}; {@code running_mean} [C] (zeros) and {@code running_var} [C]
 * (ones), not trainable. While training, mean and biased variance come from the batch (over N and
 * the spatial axes) and the running statistics move towards them,
 * {@code running = (1 - momentum) * running + momentum * batch}, with the unbiased variance for
 * {@code running_var}; at inference the running statistics normalise. Forward saves the batch
 * mean and 1/sqrt(var + eps) per channel ([C] tensors from the kernel context) for backward.
 *
 * <p>Backward follows the forward's mode. Training with an input gradient is the backend's
 * {@code batchNormBackward}. Without one (batchnorm applied straight to a model input) and at
 * inference, the parameter gradients come from [C]-sized arithmetic only:
 * {@code dbias = sum(dy)}, {@code dweight = invStd * (sum(dy * x) - mean * sum(dy))}, with
 * {@code sum(dy * x)} as one batched dot product per (sample, channel); at inference the
 * normalisation is a fixed per-channel affine map, so {@code dx = dy * weight * invStd}.
 *
 * <p>As an {@link EpilogueLayer} it runs with the relu, sigmoid or tanh that alone reads it
 * ({@code batchnorm -> relu} in residual blocks): forward is the backend's batch norm with the
 * activation, and backward applies the activation's derivative itself
 * ({@link #appliesActivationBackward()}) through the backend's batch-norm backward with the
 * activation, which masks dy as it reads it (no pass of its own, no pre-activation gradient).
 */
final class BatchNorm implements EpilogueLayer, InferenceAffineLayer {
    private static final ParamSchema SCHEMA = ParamSchema.of(
            ParamSpec.optional("eps", ParamType.FLOAT, 1e-5, "Added to the variance before the square root; must be > 0.")
                    .range(0, Double.POSITIVE_INFINITY),
            ParamSpec.optional("momentum", ParamType.FLOAT, 0.1, "Weight of the batch statistics in each update of the "
                    + "running statistics: running = (1 - momentum) * running + momentum * batch.").range(0, 1),
            ParamSpec.optional("affine", ParamType.BOOL, true,
                    "Learn a per-channel scale 'weight' (ones) and shift 'bias' (zeros) after normalising."));

    @Override public String name() { return "batchnorm"; }

    /** The batch's statistics come from the backend's batch-norm ops, which combine the shards'. */
    @Override public boolean shardable() { return true; }

    @Override public String doc() {
        return "Batch normalisation per channel (axis 0) of [C], [C, L] or [C, H, W] inputs: batch statistics while "
                + "training, running statistics at inference; parameters weight, bias, running_mean, running_var [C].";
    }

    @Override public ParamSchema schema() { return SCHEMA; }

    @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) {
        channels(inputs);
        // The schema range is inclusive; eps = 0 would divide by zero on a constant channel.
        if (args.getDouble("eps") <= 0) throw new ArgumentException("eps", -1, "parameter 'eps' must be > 0, got 0");
        return inputs.get(0);
    }

    /** The channel count (axis 0 of the per-sample shape), refusing shapes with no channel axis or too many axes. */
    private static int channels(List<Shape> inputs) {
        Shape in = inputs.get(0);
        if (in.rank() < 1 || in.rank() > 3)
            throw new ShapeException("expects [channels], [channels, length] or [channels, height, width] per sample, got " + in);
        return in.dim(0);
    }

    @Override public List<ParamDecl> parameters(LayerArgs args, List<Shape> inputs) {
        Shape perChannel = Shape.of(channels(inputs));
        List<ParamDecl> params = new ArrayList<>();
        if (args.getBool("affine")) {
            params.add(new ParamDecl("weight", perChannel, Initializer.constant(1f), false, true));
            params.add(new ParamDecl("bias", perChannel, Initializer.zeros(), false, true));
        }
        params.add(new ParamDecl("running_mean", perChannel, Initializer.zeros(), false, false));
        params.add(new ParamDecl("running_var", perChannel, Initializer.constant(1f), false, false));
        return params;
    }

    /** Per element: subtract the mean, multiply by 1/std, and with {@code affine} scale and shift. */
    @Override public long flops(LayerArgs args, List<Shape> inputs, Shape output) {
        return (args.getBool("affine") ? 4L : 2L) * output.elementCount();
    }

    @Override public LayerKernel compile(KernelContext context) {
        return compile(context, null);
    }

    @Override public LayerKernel compile(KernelContext context, UnaryOp activation) {
        Shape x = context.inputShapes().get(0);      // [N, C, ...]
        LayerArgs args = context.args();
        return new Kernel(context, x, x.dim(0), x.dim(1), x.sizeFrom(2), args.getFloat("eps"), args.getFloat("momentum"),
                args.getBool("affine"), activation);
    }

    @Override public boolean appliesActivationBackward() { return true; }

    /**
     * At inference y = x · scale[c] + shift[c] with scale = weight / sqrt(running_var + eps) and
     * shift = bias - running_mean · scale; both from the backend's own batch-norm formula applied to
     * constant [1, C, 1] inputs, so the folded map rounds 1/sqrt(var + eps) as the unfolded layer does.
     */
    @Override public AffineWriter compileInferenceAffine(KernelContext context) {
        int channels = context.inputShapes().get(0).dim(1);
        float eps = context.args().getFloat("eps");
        float momentum = context.args().getFloat("momentum");
        boolean affine = context.args().getBool("affine");
        Shape perChannel = Shape.of(channels);
        Tensor ones = context.allocate(perChannel);
        context.backend().fill(ones, 1f);
        Tensor zeros = context.allocate(perChannel);
        Tensor saveMean = context.allocate(perChannel);   // not written at inference; the op takes them all the same
        Tensor saveInvStd = context.allocate(perChannel);
        return (pass, scale, shift) -> {
            Backend b = pass.backend();
            Tensor gamma = affine ? pass.param("weight") : ones;
            Tensor beta = affine ? pass.param("bias") : zeros;
            // scale = 1/sqrt(running_var + eps): ones normalised with mean 0, weight 1, bias 0; then times weight
            b.batchNormForward(ones, scale, ones, zeros, zeros, pass.param("running_var"), saveMean, saveInvStd,
                    1, channels, 1, eps, momentum, false);
            if (affine) b.binary(BinaryOp.MUL, scale, gamma, scale);
            // shift = the layer's output for x = 0: bias - running_mean · weight / sqrt(running_var + eps)
            b.batchNormForward(zeros, shift, gamma, beta, pass.param("running_mean"), pass.param("running_var"), saveMean,
                    saveInvStd, 1, channels, 1, eps, momentum, false);
        };
    }

    private static final class Kernel implements LayerKernel {
        private final Shape inputShape;
        private final int outer;
        private final int channels;
        private final int inner;
        private final float eps;
        private final float momentum;
        private final boolean affine;
        // The activation of the epilogue (null: none): forward writes activation(batchnorm(x)), backward receives dL/dy
        // of that y and applies the derivative from y.
        private final UnaryOp activation;
        // [C] batch mean and 1/sqrt(var + eps), written by a training forward, read by backward.
        private final Tensor saveMean;
        private final Tensor saveInvStd;
        // [C] constants: ones and zeros stand in for weight and bias without affine, and for an
        // identity transform when backward derives 1/sqrt(running_var + eps) at inference.
        private final Tensor ones;
        private final Tensor zeros;
        // [N * C] per (sample, channel) sums of dy * x, then [C] workspaces for the parameter gradients.
        private final Tensor dots;
        private final Tensor channelWork;
        private final Tensor channelScale;

        Kernel(KernelContext context, Shape inputShape, int outer, int channels, int inner, float eps, float momentum,
               boolean affine, UnaryOp activation) {
            this.inputShape = inputShape;
            this.activation = activation;
            this.outer = outer;
            this.channels = channels;
            this.inner = inner;
            this.eps = eps;
            this.momentum = momentum;
            this.affine = affine;
            Shape perChannel = Shape.of(channels);
            saveMean = context.allocate(perChannel);
            saveInvStd = context.allocate(perChannel);
            ones = context.allocate(perChannel);
            context.backend().fill(ones, 1f);
            zeros = context.allocate(perChannel);
            dots = context.allocate(Shape.of(outer * channels));
            channelWork = context.allocate(perChannel);
            channelScale = context.allocate(perChannel);
        }

        @Override public void forward(ForwardPass pass) {
            // One value per channel has no variance, and its unbiased estimate divides by zero (PyTorch refuses too).
            if (pass.training() && outer * inner == 1)
                throw new IllegalStateException("batchnorm: expected more than 1 value per channel when training, got input "
                        + inputShape);
            pass.backend().batchNormForward(pass.input(0), pass.output(), gamma(pass), beta(pass),
                    pass.param("running_mean"), pass.param("running_var"), saveMean, saveInvStd,
                    outer, channels, inner, eps, momentum, pass.training(), activation);
        }

        @Override public void backward(BackwardPass pass) {
            Backend b = pass.backend();
            Tensor x = pass.input(0);
            Tensor dy = pass.gradOutput();
            Tensor dx = pass.gradInput(0);
            Tensor dgamma = affine ? pass.gradParam("weight") : null;
            Tensor dbeta = affine ? pass.gradParam("bias") : null;
            if (pass.training() && dx != null) {
                b.batchNormBackward(x, dy, gamma(pass), saveMean, saveInvStd, activation, pass.output(), dx, dgamma, dbeta,
                        outer, channels, inner);
                return;
            }
            // The rarer paths take dy through the activation first, in place: nothing reads the activation's gradient after
            // this layer (EpilogueLayer#appliesActivationBackward).
            if (activation != null) b.unaryBackward(activation, pass.output(), pass.output(), dy, dy);
            if (pass.training()) {
                if (affine) {
                    parameterGradients(b, x, dy, saveMean, saveInvStd, dgamma, dbeta);
                }
                return;
            }
            // Inference: y = x * (gamma * invStd) + const per channel, with invStd = 1/sqrt(running_var + eps),
            // obtained from the backend's own formula by normalising ones with mean 0 and weight 1.
            b.batchNormForward(ones, channelScale, ones, zeros, zeros, pass.param("running_var"), saveMean, saveInvStd,
                    1, channels, 1, eps, momentum, false);
            if (affine) parameterGradients(b, x, dy, pass.param("running_mean"), channelScale, dgamma, dbeta);
            if (dx != null) {
                // channelScale [C] = invStd * gamma, then dx[N, C, inner] = dy * channelScale[c]
                b.binary(BinaryOp.MUL, channelScale, gamma(pass), channelScale);
                b.channelBroadcast(BinaryOp.MUL, dy, channelScale, dx, outer, channels, inner);
            }
        }

        /**
         * dbeta[c] = sum(dy) and dgamma[c] = invStd[c] * (sum(dy * x) - mean[c] * sum(dy)), the
         * same as sum(dy * (x - mean) * invStd) without an input-sized workspace.
         */
        private void parameterGradients(Backend b, Tensor x, Tensor dy, Tensor mean, Tensor invStd, Tensor dgamma,
                                        Tensor dbeta) {
            b.channelSum(dy, dbeta, outer, channels, inner, 0f);
            // dots[n, c] = dy[n, c, :] · x[n, c, :]: N*C products of a 1 x inner row and an inner x 1 column
            b.gemm(new Gemm(false, false, 1, 1, inner, outer * channels), 1f, Matrix.batched(dy, 0, inner, inner),
                    Matrix.batched(x, 0, 1, inner), 0f, Matrix.batched(dots, 0, 1, 1));
            b.channelSum(dots, dgamma, outer, channels, 1, 0f);
            b.binary(BinaryOp.MUL, mean, dbeta, channelWork);
            b.binary(BinaryOp.SUB, dgamma, channelWork, dgamma);
            b.binary(BinaryOp.MUL, dgamma, invStd, dgamma);
        }

        private Tensor gamma(ForwardPass pass) { return affine ? pass.param("weight") : ones; }

        private Tensor beta(ForwardPass pass) { return affine ? pass.param("bias") : zeros; }
    }
}
