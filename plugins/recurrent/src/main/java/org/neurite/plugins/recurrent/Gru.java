package org.neurite.plugins.recurrent;

import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.Slice;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.KernelContext;
import org.neurite.layer.ParamSchema;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * {@code gru(hidden, layers=1, bidirectional=false, dropout=0.0, sequences=true, bias=true,
 * mask_zero=false)}:
 * the gated recurrent unit (Cho et al. 2014) exactly as PyTorch's {@code nn.GRU(batch_first=True)}
 * computes it, the reset gate applied to the recurrent projection after W_hn:
 * <pre>
 *   r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
 *   z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
 *   n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
 *   h_t = (1 - z_t) * n_t + z_t * h_{t-1}
 * </pre>
 * with h_{-1} = 0. Input [T, I] per sample, output [T, D·H] or the final [D·H] (see
 * {@link RecurrentLayer}); {@code weight_ih_lk [3H, I_k]}, {@code weight_hh_lk [3H, H]},
 * {@code bias_ih_lk}, {@code bias_hh_lk [3H]}, gate blocks r, z, n. Because b_hn sits inside the
 * reset product the two projections stay apart: forward saves, per layer and direction, the input
 * projection gi [T, B, 3H], the recurrent projection gh [T, B, 3H], r, z, n [T, B, 3H] and h_t.
 * With {@code mask_zero=true} h stands still past a sample's end ({@link PaddingMask}).
 */
final class Gru extends RecurrentLayer<Gru.Workspace> {
    private static final ParamSchema SCHEMA = ParamSchema.of(HIDDEN, LAYERS, BIDIRECTIONAL, DROPOUT, SEQUENCES, BIAS, MASK_ZERO);

    @Override public String name() { return "gru"; }

    @Override public String doc() {
        return "Gated recurrent unit over [time, features] sequences (PyTorch's nn.GRU, batch_first): gates r, z, n; "
                + "outputs every step [time, H] or, with sequences=false, the final state [H] (2H when bidirectional).";
    }

    @Override public ParamSchema schema() { return SCHEMA; }

    @Override int gates() { return 3; }

    /**
     * Backward's scratch, shared by every direction: dL/dgi and dL/dgh [T, B, 3H], the direct part
     * of dL/dh_{t-1} [B, H], and the zero state h_{-1} [B, H] (never written).
     */
    record Workspace(Tensor dGi, Tensor dGh, Tensor dhPrev, Tensor zeros) {}

    @Override Workspace workspace(KernelContext context, RecurrentGeometry g) {
        Shape gates = Shape.of(g.time(), g.batch(), 3 * g.hidden());
        Shape state = Shape.of(g.batch(), g.hidden());
        return new Workspace(context.allocate(gates), context.allocate(gates), context.allocate(state), context.allocate(state));
    }

    @Override RecurrentDirection direction(KernelContext context, RecurrentGeometry g, int layer, boolean reverse, Workspace w,
                                           PaddingMask mask) {
        return new Direction(context, g, layer, reverse, w, mask);
    }

    /** One GRU direction: one input GEMM, then per step one op for the recurrent GEMM and the cell ({@link Backend#gruStepForward}). */
    private static final class Direction extends RecurrentDirection {
        private final Workspace w;
        /** [T, B, 3H]: x W_ihᵀ + b_ih. */
        private final Tensor gi;
        /** [T, B, 3H]: h_{t-1} W_hhᵀ + b_hh. */
        private final Tensor gh;
        /** [T, B, 3H]: r, z, n of every step. */
        private final Tensor saved;

        Direction(KernelContext context, RecurrentGeometry g, int layer, boolean reverse, Workspace w, PaddingMask mask) {
            super(context, g, layer, reverse, 3 * g.hidden(), false, mask);
            this.w = w;
            Shape gates = Shape.of(g.time(), g.batch(), gateWidth);
            this.gi = context.allocate(gates);
            this.gh = context.allocate(gates);
            this.saved = context.allocate(gates);
        }

        @Override void forward(ForwardPass pass, Tensor in) {
            Backend b = pass.backend();
            int hidden = g.hidden();
            // gi[T·B, 3H] = x W_ihᵀ + b_ih for every step at once; gh starts as b_hh and gains h W_hhᵀ per step
            projectInput(b, in, pass.param(weightIh), gi);
            b.fill(gh, 0f);
            if (bias) {
                addBias(b, gi, pass.param(biasIh));
                addBias(b, gh, pass.param(biasHh));
            }
            Tensor wHh = pass.param(weightHh);
            for (int step = 0; step < g.time(); step++) {
                int t = timeAt(step);
                int prev = previous(step);
                if (prev < 0) {
                    // h_{-1} = 0: gh[t] is b_hh alone, the cell runs alone
                    b.gruCellForward(at(gi, t, gateWidth), at(gh, t, gateWidth), first(w.zeros(), hidden), at(h, t, hidden),
                            at(saved, t, gateWidth), g.batch(), hidden);
                } else {
                    // gh[t] += h_prev W_hhᵀ, then the cell: one op, which a device backend runs as one launch
                    b.gruStepForward(at(h, prev, hidden), views.whole(wHh, hidden), at(gi, t, gateWidth), at(gh, t, gateWidth),
                            at(h, t, hidden), at(saved, t, gateWidth), g.batch(), hidden);
                }
                if (mask != null) mask.carryForward(b, h, t, prev);   // past a sample's end: h_t = h_{t-1}
            }
        }

        @Override void backward(BackwardPass pass, Tensor in, Tensor dh, Tensor dIn, boolean accumulate) {
            Backend b = pass.backend();
            int hidden = g.hidden();
            Tensor wHh = pass.param(weightHh);
            for (int step = g.time() - 1; step >= 0; step--) {
                int t = timeAt(step);
                int prev = previous(step);
                Slice hPrev = step > 0 ? at(h, prev, hidden) : first(w.zeros(), hidden);
                // past a sample's end dh goes straight to step t-1 and the cell sees zero
                if (mask != null) mask.passBack(b, dh, t, prev);
                // dh[t] is complete here (output + step t+1)
                Slice dhPrev = first(w.dhPrev(), hidden);
                b.gruCellBackward(at(saved, t, gateWidth), at(gh, t, gateWidth), hPrev, at(dh, t, hidden),
                        at(w.dGi(), t, gateWidth), at(w.dGh(), t, gateWidth), dhPrev, g.batch(), hidden);
                if (step > 0) {
                    // dh[prev] += z * dh[t] (through the blend) + dGh[t] W_hh (through the recurrent projection)
                    b.binary(BinaryOp.ADD, at(dh, prev, hidden), dhPrev, at(dh, prev, hidden));
                    backRecurrent(b, w.dGh(), t, prev, wHh, dh);
                }
            }
            sumOverTime(pass, in, dh, w.dGi(), w.dGh(), dIn, accumulate);
        }
    }
}
