package org.neurite.plugins.recurrent;

import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.Slice;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.Initializer;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ParamSpec;
import org.neurite.layer.ParamType;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * {@code lstm(hidden, layers=1, bidirectional=false, dropout=0.0, sequences=true, bias=true,
 * forget_bias=0.0, mask_zero=false)}:
 * long short-term memory (Hochreiter &amp; Schmidhuber 1997, with a forget gate), PyTorch's
 * {@code nn.LSTM(batch_first=True)}. Per step, with [h_{t-1}, x_t] the previous state and the
 * input, each gate's weights being its rows of {@code weight_hh} and {@code weight_ih}, and
 * b = b_ih + b_hh:
 * <pre>
 *   i_t  = σ(W_i·[h_{t-1}, x_t] + b_i)          input gate
 *   f_t  = σ(W_f·[h_{t-1}, x_t] + b_f)          forget gate
 *   C̃_t = tanh(W_g·[h_{t-1}, x_t] + b_g)       candidate cell
 *   C_t  = f_t * C_{t-1} + i_t * C̃_t
 *   o_t  = σ(W_o·[h_{t-1}, x_t] + b_o)          output gate
 *   h_t  = o_t * tanh(C_t)
 * </pre>
 * with h_{-1} = C_{-1} = 0. Input [T, I] per sample, output [T, D·H] or the final [D·H] (see
 * {@link RecurrentLayer}); {@code weight_ih_lk [4H, I_k]}, {@code weight_hh_lk [4H, H]},
 * {@code bias_ih_lk}, {@code bias_hh_lk [4H]}, gate blocks in PyTorch's order i, f, g, o, so
 * state dicts load by name. Forward saves, per layer and direction, the gate activations
 * [T, B, 4H] and C_t and h_t [T, B, H] of every step. With {@code mask_zero=true} both h and C
 * stand still past a sample's end ({@link PaddingMask}).
 */
final class Lstm extends RecurrentLayer<Lstm.Workspace> {
    static final ParamSpec FORGET_BIAS = ParamSpec.optional("forget_bias", ParamType.FLOAT, 0.0,
            "Added to the forget gate's part of bias_ih at initialisation. 0 is PyTorch's default; 1 keeps the "
                    + "cell state (and its gradient) from decaying by half per step before training has learnt to "
                    + "remember (Gers et al. 2000; Jozefowicz et al. 2015).").range(-10, 10);
    private static final ParamSchema SCHEMA = ParamSchema.of(HIDDEN, LAYERS, BIDIRECTIONAL, DROPOUT, SEQUENCES, BIAS, FORGET_BIAS,
            MASK_ZERO);

    @Override public String name() { return "lstm"; }

    @Override public String doc() {
        return "Long short-term memory over [time, features] sequences (PyTorch's nn.LSTM, batch_first): gates i, f, g, o; "
                + "outputs every step [time, H] or, with sequences=false, the final state [H] (2H when bidirectional).";
    }

    @Override public ParamSchema schema() { return SCHEMA; }

    /** The forget gate's slice [H, 2H) of bias_ih gets {@code forget_bias} added to its uniform start. */
    @Override Initializer inputBiasInitializer(LayerArgs args, Initializer uniform) {
        float forget = args.getFloat("forget_bias");
        if (forget == 0f) return uniform;
        return (values, shape, rng) -> {
            uniform.initialize(values, shape, rng);
            int hidden = shape.dim(0) / 4;
            for (int i = hidden; i < 2 * hidden; i++) values[i] += forget;
        };
    }

    @Override int gates() { return 4; }

    /**
     * Backward's scratch, shared by every direction: dL/d(gate pre-activations) [T, B, 4H], the
     * running dL/dC [B, H], the zero state C_{-1} [B, H] (never written), and, with
     * {@code mask_zero}, the part of dL/dC_t [B, H] that passes a padded step unchanged (else null).
     */
    record Workspace(Tensor dGates, Tensor dc, Tensor zeros, Tensor dcPassed) {}

    @Override Workspace workspace(KernelContext context, RecurrentGeometry g) {
        Shape state = Shape.of(g.batch(), g.hidden());
        return new Workspace(context.allocate(Shape.of(g.time(), g.batch(), 4 * g.hidden())), context.allocate(state),
                context.allocate(state), context.args().getBool("mask_zero") ? context.allocate(state) : null);
    }

    @Override RecurrentDirection direction(KernelContext context, RecurrentGeometry g, int layer, boolean reverse, Workspace w,
                                           PaddingMask mask) {
        return new Direction(context, g, layer, reverse, w, mask);
    }

    /** One LSTM direction: one input GEMM, then per step one op for the recurrent GEMM and the cell ({@link Backend#lstmStepForward}). */
    private static final class Direction extends RecurrentDirection {
        private final Workspace w;
        /** [T, B, 4H]: pre-activations, which the cell overwrites with σ(i), σ(f), tanh(g), σ(o). */
        private final Tensor gates;
        /** [T, B, H]: C_t of every step. */
        private final Tensor c;

        Direction(KernelContext context, RecurrentGeometry g, int layer, boolean reverse, Workspace w, PaddingMask mask) {
            super(context, g, layer, reverse, 4 * g.hidden(), true, mask);
            this.w = w;
            this.gates = context.allocate(Shape.of(g.time(), g.batch(), gateWidth));
            this.c = context.allocate(Shape.of(g.time(), g.batch(), g.hidden()));
        }

        @Override void forward(ForwardPass pass, Tensor in) {
            Backend b = pass.backend();
            int hidden = g.hidden();
            // gates[T·B, 4H] = x W_ihᵀ + (b_ih + b_hh) for every step at once
            projectInput(b, in, pass.param(weightIh), gates);
            if (bias) addBiases(b, pass, gates);
            Tensor wHh = pass.param(weightHh);
            for (int step = 0; step < g.time(); step++) {
                int t = timeAt(step);
                int prev = previous(step);
                if (prev < 0) {
                    // h_{-1} = 0: no recurrent product, the cell alone from C_{-1} = 0
                    b.lstmCellForward(at(gates, t, gateWidth), first(w.zeros(), hidden), at(c, t, hidden), at(h, t, hidden), g.batch(), hidden);
                } else {
                    // gates[t] += h_prev W_hhᵀ, then the cell: one op, which a device backend runs as one launch
                    b.lstmStepForward(views.matrix(h, prev, hidden), views.whole(wHh, hidden), at(gates, t, gateWidth), at(c, prev, hidden),
                            at(c, t, hidden), at(h, t, hidden), g.batch(), hidden);
                }
                if (mask != null) {
                    // past a sample's end: C_t = C_{t-1}, h_t = h_{t-1}
                    mask.carryForward(b, c, t, prev);
                    mask.carryForward(b, h, t, prev);
                }
            }
        }

        @Override void backward(BackwardPass pass, Tensor in, Tensor dh, Tensor dIn, boolean accumulate) {
            Backend b = pass.backend();
            int hidden = g.hidden();
            Tensor wHh = pass.param(weightHh);
            b.fill(w.dc(), 0f);   // nothing flows into C after the last step
            for (int step = g.time() - 1; step >= 0; step--) {
                int t = timeAt(step);
                int prev = previous(step);
                Slice cPrev = step > 0 ? at(c, prev, hidden) : first(w.zeros(), hidden);
                if (mask != null) {
                    // past a sample's end dh and dc go straight to step t-1 and the cell sees zero
                    mask.passBack(b, dh, t, prev);
                    mask.split(b, w.dc(), 0, t, w.dcPassed(), 0);
                }
                // dh[t] is complete here (output + step t+1); dc goes from dL/dC_t to dL/dC_{t-1}
                Slice dc = first(w.dc(), hidden);
                b.lstmCellBackward(at(gates, t, gateWidth), cPrev, at(c, t, hidden), at(dh, t, hidden), dc, at(w.dGates(), t, gateWidth),
                        g.batch(), hidden);
                if (mask != null) b.binary(BinaryOp.ADD, dc, first(w.dcPassed(), hidden), dc);
                if (step > 0) backRecurrent(b, w.dGates(), t, prev, wHh, dh);   // dh[prev] += dGates[t] W_hh
            }
            sumOverTime(pass, in, dh, w.dGates(), w.dGates(), dIn, accumulate);
        }
    }
}
