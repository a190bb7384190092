package org.neurite.plugins.recurrent;

import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.Gemm;
import org.neurite.backend.Slice;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.KernelContext;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * One direction of one layer of a recurrent stack, compiled for fixed sizes: it runs a whole
 * sequence forward, and back through time, over time-major buffers. Its input is [T, B, I]
 * (time-major, I = {@link RecurrentGeometry#layerInput}); it keeps h_t for every t in
 * {@link #h} [T, B, H], indexed by time whichever way it runs, so the stack can read the
 * sequence and the next layer can read its input without reordering. A reverse direction runs
 * t = T-1 down to 0, its "previous" state being h_{t+1}.
 *
 * <p>The fast path shared by every cell (LSTM, GRU, Elman RNN): the input projection of all
 * steps is one GEMM {@code [T·B, I] × W_ihᵀ}; each step adds one GEMM for the recurrent part
 * into its own gate slice, then one fused cell op (the LSTM and the GRU ask for both in one op,
 * {@code lstmStepForward} / {@code gruStepForward}, which a device backend runs as one launch). Backward runs the cell backward per step and
 * one GEMM for dh_{t-1}; after the loop single GEMMs over all T·B rows give dW_ih, dW_hh and the
 * input gradient, and {@code channelSum} the bias gradients. Subclasses supply the per-step cell.
 *
 * <p>With a {@link PaddingMask}, each step's new state (h, and c for the LSTM) is blended with the
 * previous one so it stands still past the sample's end, and backward first passes that part of
 * dL/dh (and dL/dc) straight to the previous step; the cells call {@link #previous} and the mask.
 *
 * <p>Parameters carry PyTorch's names: {@code weight_ih_l0 [G, I]}, {@code weight_hh_l0 [G, H]},
 * {@code bias_ih_l0 [G]}, {@code bias_hh_l0 [G]}, with {@code _reverse} for the backward
 * direction, where G is the width of the gate block (H, 3H or 4H).
 */
abstract class RecurrentDirection {
    final RecurrentGeometry g;
    /** Features per step of this direction's input. */
    final int inputSize;
    /** Width G of one row of gate pre-activations: H (RNN), 3H (GRU), 4H (LSTM). */
    final int gateWidth;
    final boolean reverse;
    final boolean bias;
    final String weightIh;
    final String weightHh;
    final String biasIh;
    final String biasHh;
    /**
     * [T, B, H]: h_t of every step, kept for the layer above, the output and backward. With a mask
     * the loop leaves the carried state past each sample's end, which the stack then zeroes where
     * it is read as an output (backward only reads those steps multiplied by a zero gradient).
     */
    final Tensor h;
    /** Null unless {@code mask_zero=true}: the stack's padding mask, shared by every direction. */
    final PaddingMask mask;
    /** [G]: b_ih + b_hh, made at each forward pass ({@link #addBiases}); null without biases or where they go to two buffers (the GRU). */
    private final Tensor biasSum;
    /** Per-step views of the buffers the loops pass to the backend, made once. */
    final TimeMajorViews views;
    /** gates[t] [B, G] += h_prev [B, H] · W_hhᵀ, one per step. */
    private final Gemm recurrentProduct;
    /** dh_prev [B, H] += dGates[t] [B, G] · W_hh, one per step back. */
    private final Gemm recurrentBackProduct;
    /** gates [T·B, G] = in [T·B, I] · W_ihᵀ. */
    private final Gemm inputProduct;
    /** dIn [T·B, I] (+)= dGi [T·B, G] · W_ih. */
    private final Gemm inputGradientProduct;
    /** dW_ih [G, I] = dGiᵀ · in over T·B rows. */
    private final Gemm inputWeightGradientProduct;
    /** dW_hh [G, H] = dGhᵀ · h_prev over the (T-1)·B rows with a predecessor. */
    private final Gemm recurrentWeightGradientProduct;

    /**
     * {@code sumsBiases}: the cell adds both biases to the same pre-activations (the RNN, the
     * LSTM), so {@link #addBiases} sums them first into a buffer of its own.
     */
    RecurrentDirection(KernelContext context, RecurrentGeometry g, int layer, boolean reverse, int gateWidth, boolean sumsBiases,
                       PaddingMask mask) {
        this.g = g;
        this.mask = mask;
        this.inputSize = g.layerInput(layer);
        this.gateWidth = gateWidth;
        this.reverse = reverse;
        this.bias = context.args().getBool("bias");
        String suffix = parameterSuffix(layer, reverse);
        this.weightIh = "weight_ih" + suffix;
        this.weightHh = "weight_hh" + suffix;
        this.biasIh = "bias_ih" + suffix;
        this.biasHh = "bias_hh" + suffix;
        this.h = context.allocate(Shape.of(g.time(), g.batch(), g.hidden()));
        this.biasSum = bias && sumsBiases ? context.allocate(Shape.of(gateWidth)) : null;
        this.views = new TimeMajorViews(g.batch());
        this.recurrentProduct = new Gemm(false, true, g.batch(), gateWidth, g.hidden(), 1);
        this.recurrentBackProduct = new Gemm(false, false, g.batch(), g.hidden(), gateWidth, 1);
        this.inputProduct = new Gemm(false, true, g.rows(), gateWidth, inputSize, 1);
        this.inputGradientProduct = new Gemm(false, false, g.rows(), inputSize, gateWidth, 1);
        this.inputWeightGradientProduct = new Gemm(true, false, gateWidth, inputSize, g.rows(), 1);
        this.recurrentWeightGradientProduct = new Gemm(true, false, gateWidth, g.hidden(), Math.max(1, g.time() - 1) * g.batch(), 1);
    }

    /** ‖dL/dh_t‖ per time step from the last backward, when recording (zeros before one); else null. */
    private double[] stepNorms;
    /** Host copy of dh [T, B, H] used while recording. */
    private float[] hostDh;

    /** Starts or stops recording ‖dL/dh_t‖ at every backward (a diagnostic: it copies dh to the host). */
    final void recordStepNorms(boolean on) {
        if (on == (stepNorms != null)) return;
        stepNorms = on ? new double[g.time()] : null;
        hostDh = on ? new float[g.time() * g.batch() * g.hidden()] : null;
    }

    /** The norms of the last backward pass, indexed by time t; null when not recording. */
    final double[] stepNorms() { return stepNorms; }

    /** dh [T, B, H] is complete here: the L2 norm of each step's [B, H] slice. */
    private void recordStepNorms(Backend b, Tensor dh) {
        b.download(Slice.of(dh, 0, hostDh.length), hostDh, 0);
        int slice = g.batch() * g.hidden();
        for (int t = 0; t < g.time(); t++) {
            double sum = 0;
            for (int i = t * slice; i < (t + 1) * slice; i++) sum += (double) hostDh[i] * hostDh[i];
            stepNorms[t] = Math.sqrt(sum);
        }
    }

    /** PyTorch's suffix: {@code _l0}, {@code _l0_reverse}, {@code _l1}... */
    static String parameterSuffix(int layer, boolean reverse) {
        return "_l" + layer + (reverse ? "_reverse" : "");
    }

    /** Runs the sequence: reads {@code in} [T, B, I], writes {@link #h} and what backward needs. */
    abstract void forward(ForwardPass pass, Tensor in);

    /**
     * Back through time from {@code dh} [T, B, H] (dL/dh_t from outside the recurrence; used as
     * scratch, it ends up holding the full dL/dh_t, with a mask the part that reached the cell:
     * zero past each sample's end). Writes the parameter gradients and, when
     * {@code dIn} is not null, dL/d(in) [T, B, I], added to what is there if {@code accumulate}
     * (the second direction of a bidirectional layer adds to the first's).
     */
    abstract void backward(BackwardPass pass, Tensor in, Tensor dh, Tensor dIn, boolean accumulate);

    // ---- pieces every cell uses --------------------------------------------------------------

    /** The time index of processing step {@code step}: t = step forward, T-1-step in reverse. */
    final int timeAt(int step) {
        return reverse ? g.time() - 1 - step : step;
    }

    /** The time index of the step before processing step {@code step}; -1 for the first (the zero initial state). */
    final int previous(int step) {
        return step > 0 ? timeAt(step - 1) : -1;
    }

    /** Element offset of time t's [B, width] slice in a time-major [T, B, width] buffer. */
    final int offset(int t, int width) {
        return t * g.batch() * width;
    }

    /** Time t's [B, width] block of a time-major [T, B, width] buffer, as a slice. */
    final Slice at(Tensor buffer, int t, int width) {
        return views.slice(buffer, t, width);
    }

    /** The first [B, width] block of a buffer: a one-step workspace, or the zero initial state. */
    final Slice first(Tensor buffer, int width) {
        return views.slice(buffer, 0, width);
    }

    /** gates[T·B, G] = in[T·B, I] · W_ihᵀ: the input projection of every step in one GEMM. */
    final void projectInput(Backend b, Tensor in, Tensor wIh, Tensor gates) {
        b.gemm(inputProduct, 1f, views.whole(in, inputSize), views.whole(wIh, inputSize), 0f, views.whole(gates, gateWidth));
    }

    /**
     * rows[T·B, G] += (b_ih + b_hh), once for all steps: the two biases summed into
     * {@link #biasSum} [G] first, then added in one pass over the pre-activations of every step
     * (the LSTM and the plain RNN add both to the same buffer; two passes over it cost rowlstm's
     * inference 1.1 ms of a 21 ms batch of 256 on one thread). The sum rounds the biases together
     * before they meet the product, where adding them in turn rounded after each; PyTorch's
     * cells, which add h·W_hhᵀ + b_hh to x·W_ihᵀ + b_ih, round in an order of their own.
     */
    final void addBiases(Backend b, ForwardPass pass, Tensor rows) {
        b.binary(BinaryOp.ADD, views.all(pass.param(biasIh)), views.all(pass.param(biasHh)), views.all(biasSum));
        addBias(b, rows, biasSum);
    }

    /** rows[T·B, G] += bias[G], once for all steps. */
    final void addBias(Backend b, Tensor rows, Tensor bias) {
        b.channelBroadcast(BinaryOp.ADD, rows, bias, rows, g.rows(), gateWidth, 1);
    }

    /** gates[t] [B, G] += h_{tPrev} [B, H] · W_hhᵀ: the recurrent part of one step, into its slice. */
    final void addRecurrent(Backend b, int t, int tPrev, Tensor wHh, Tensor gates) {
        b.gemm(recurrentProduct, 1f, views.matrix(h, tPrev, g.hidden()), views.whole(wHh, g.hidden()),
                1f, views.matrix(gates, t, gateWidth));
    }

    /** dh[tPrev] [B, H] += dGates[t] [B, G] · W_hh: what step t sends back to the state it read. */
    final void backRecurrent(Backend b, Tensor dGates, int t, int tPrev, Tensor wHh, Tensor dh) {
        b.gemm(recurrentBackProduct, 1f, views.matrix(dGates, t, gateWidth), views.whole(wHh, g.hidden()),
                1f, views.matrix(dh, tPrev, g.hidden()));
    }

    /**
     * After the loop: every gradient that sums over time, each one call over all T·B rows.
     * {@code dGi} [T, B, G] is dL/d(input projection + b_ih) and {@code dGh} [T, B, G] is
     * dL/d(recurrent projection + b_hh); they are the same tensor for LSTM and RNN, whose two
     * projections are simply added.
     */
    final void sumOverTime(BackwardPass pass, Tensor in, Tensor dh, Tensor dGi, Tensor dGh, Tensor dIn, boolean accumulate) {
        Backend b = pass.backend();
        if (stepNorms != null) recordStepNorms(b, dh);
        int rows = g.rows();
        int hidden = g.hidden();
        // dIn[T·B, I] (+)= dGi[T·B, G] · W_ih[G, I]
        if (dIn != null) {
            b.gemm(inputGradientProduct, 1f, views.whole(dGi, gateWidth), views.whole(pass.param(weightIh), inputSize),
                    accumulate ? 1f : 0f, views.whole(dIn, inputSize));
        }
        // dW_ih[G, I] = dGiᵀ[G, T·B] · in[T·B, I]
        Tensor dWih = pass.gradParam(weightIh);
        if (dWih != null) b.gemm(inputWeightGradientProduct, 1f, views.whole(dGi, gateWidth), views.whole(in, inputSize), 0f,
                views.whole(dWih, inputSize));
        // dW_hh[G, H] = Σ_t dGh[t]ᵀ · h_prev(t). The first step read h = 0, so only the T-1 steps
        // with a predecessor count; their predecessors are contiguous rows of h, one step behind
        // (forward: dGh rows of t = 1..T-1 against h rows of t = 0..T-2; reverse: t = 0..T-2
        // against t = 1..T-1). One GEMM over (T-1)·B rows.
        Tensor dWhh = pass.gradParam(weightHh);
        if (dWhh != null) {
            if (g.time() == 1) {
                b.fill(dWhh, 0f);
            } else {
                int firstGate = reverse ? 0 : 1;
                int firstState = reverse ? 1 : 0;
                b.gemm(recurrentWeightGradientProduct, 1f, views.matrix(dGh, firstGate, gateWidth), views.matrix(h, firstState, hidden),
                        0f, views.whole(dWhh, hidden));
            }
        }
        if (bias) {
            // db[G] = Σ over T·B rows
            Tensor dBih = pass.gradParam(biasIh);
            if (dBih != null) b.channelSum(dGi, dBih, rows, gateWidth, 1, 0f);
            Tensor dBhh = pass.gradParam(biasHh);
            if (dBhh != null) b.channelSum(dGh, dBhh, rows, gateWidth, 1, 0f);
        }
    }
}
