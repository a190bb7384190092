package org.neurite.plugins.recurrent;

import org.neurite.backend.Backend;
import org.neurite.backend.UnaryOp;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ParamSpec;
import org.neurite.layer.ParamType;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * {@code rnn(hidden, layers=1, nonlinearity="tanh", bidirectional=false, dropout=0.0,
 * sequences=true, bias=true, mask_zero=false)}: the Elman recurrent layer, PyTorch's
 * {@code nn.RNN(batch_first=True)}:
 * <pre>
 *   h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),   act = tanh or relu,  h_{-1} = 0
 * </pre>
 * Input [T, I] per sample, output [T, D·H] or the final [D·H] (see {@link RecurrentLayer});
 * {@code weight_ih_lk [H, I_k]}, {@code weight_hh_lk [H, H]}, {@code bias_ih_lk},
 * {@code bias_hh_lk [H]}. Forward saves, per layer and direction, the pre-activations and h_t
 * [T, B, H] of every step (relu's derivative reads the first, tanh's the second). With
 * {@code mask_zero=true} h stands still past a sample's end ({@link PaddingMask}).
 */
final class Rnn extends RecurrentLayer<Tensor> {
    private static final ParamSchema SCHEMA = ParamSchema.of(HIDDEN, LAYERS,
            ParamSpec.optional("nonlinearity", ParamType.STRING, "tanh", "The activation: \"tanh\" or \"relu\"."),
            BIDIRECTIONAL, DROPOUT, SEQUENCES, BIAS, MASK_ZERO);

    @Override public String name() { return "rnn"; }

    @Override public String doc() {
        return "Elman recurrent layer h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) over [time, features] sequences "
                + "(PyTorch's nn.RNN, batch_first), act tanh or relu; outputs every step [time, H] or, with sequences=false, "
                + "the final state [H] (2H when bidirectional).";
    }

    @Override public ParamSchema schema() { return SCHEMA; }

    @Override int gates() { return 1; }

    @Override void checkArguments(LayerArgs args) {
        activation(args);
    }

    private static UnaryOp activation(LayerArgs args) {
        String name = args.getString("nonlinearity");
        return switch (name) {
            case "tanh" -> UnaryOp.TANH;
            case "relu" -> UnaryOp.RELU;
            default -> throw new ArgumentException("nonlinearity", -1,
                    "parameter 'nonlinearity' must be \"tanh\" or \"relu\", got \"" + name + "\"");
        };
    }

    /** Backward's scratch, shared by every direction: dL/d(pre-activations) [T, B, H]. */
    @Override Tensor workspace(KernelContext context, RecurrentGeometry g) {
        return context.allocate(Shape.of(g.time(), g.batch(), g.hidden()));
    }

    @Override RecurrentDirection direction(KernelContext context, RecurrentGeometry g, int layer, boolean reverse, Tensor dPre,
                                           PaddingMask mask) {
        return new Direction(context, g, layer, reverse, activation(context.args()), dPre, mask);
    }

    /** One RNN direction: one input GEMM, then per step one recurrent GEMM and the activation. */
    private static final class Direction extends RecurrentDirection {
        private final UnaryOp activation;
        /** Shared [T, B, H]: dL/d(pre-activations). */
        private final Tensor dPre;
        /** [T, B, H]: the pre-activations of every step. */
        private final Tensor pre;

        Direction(KernelContext context, RecurrentGeometry g, int layer, boolean reverse, UnaryOp activation, Tensor dPre,
                  PaddingMask mask) {
            super(context, g, layer, reverse, g.hidden(), true, mask);
            this.activation = activation;
            this.dPre = dPre;
            this.pre = context.allocate(Shape.of(g.time(), g.batch(), g.hidden()));
        }

        @Override void forward(ForwardPass pass, Tensor in) {
            Backend b = pass.backend();
            // pre[T·B, H] = x W_ihᵀ + (b_ih + b_hh) for every step at once
            projectInput(b, in, pass.param(weightIh), pre);
            if (bias) addBiases(b, pass, pre);
            Tensor wHh = pass.param(weightHh);
            for (int step = 0; step < g.time(); step++) {
                int t = timeAt(step);
                int prev = previous(step);
                if (prev >= 0) addRecurrent(b, t, prev, wHh, pre);   // pre[t] += h_prev W_hhᵀ
                b.unary(activation, at(pre, t, g.hidden()), at(h, t, g.hidden()));
                if (mask != null) mask.carryForward(b, h, t, prev);   // past a sample's end: h_t = h_{t-1}
            }
        }

        @Override void backward(BackwardPass pass, Tensor in, Tensor dh, Tensor dIn, boolean accumulate) {
            Backend b = pass.backend();
            Tensor wHh = pass.param(weightHh);
            for (int step = g.time() - 1; step >= 0; step--) {
                int t = timeAt(step);
                int prev = previous(step);
                // past a sample's end dh goes straight to step t-1 and the activation sees zero
                if (mask != null) mask.passBack(b, dh, t, prev);
                // dPre[t] = dh[t] * act'(pre[t]); dh[t] is complete here (output + step t+1)
                b.unaryBackward(activation, at(pre, t, g.hidden()), at(h, t, g.hidden()), at(dh, t, g.hidden()),
                        at(dPre, t, g.hidden()));
                if (prev >= 0) backRecurrent(b, dPre, t, prev, wHh, dh);   // dh[prev] += dPre[t] W_hh
            }
            sumOverTime(pass, in, dh, dPre, dPre, dIn, accumulate);
        }
    }
}
