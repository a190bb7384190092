package org.neurite.plugins.recurrent;

import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.CounterRandom;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerKernel;
import org.neurite.layer.StepGradientProbe;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * A compiled recurrent stack: L layers of D directions ({@link RecurrentDirection}), with
 * dropout between layers while training, reading x [B, T, I] and writing [B, T, D·H] or the final
 * states [B, D·H]. Inside, everything is time-major ([T, B, ·]) so a step is one contiguous
 * [B, ·] slice for the GEMMs and cell ops; the input is transposed in once and the output out
 * once, one {@code copyBlocks} per batch row or per step, whichever is fewer.
 *
 * <p>Forward saves, per layer, the directions' own state (gates, h, c) and, between layers, the
 * directions side by side [T, B, D·H] (when D = 2) and the dropout mask and output (when
 * dropout &gt; 0). Backward walks the layers top down; its buffers (dL/dh per direction, the
 * gradient between layers, the time-major input gradient) are shared by all layers, since one
 * layer is finished before the next starts. Everything is allocated here, at compile time.
 *
 * <p>With {@code mask_zero=true} forward first finds each sample's length ({@link PaddingMask},
 * which reads the input back to the host once), the directions carry their state past each
 * sample's end, and each layer's h is zeroed there before the layer above, or the output, reads
 * it. Backward zeroes dL/dy at the padded steps of a sequence output (those outputs are constant
 * zero); the gradient between layers needs no mask, since the layer above has zero gate
 * gradients, hence zero input gradient, at its padded steps.
 */
final class StackedRecurrence implements LayerKernel, StepGradientProbe {
    private final RecurrentGeometry g;
    private final RecurrentDirection[][] stack;
    private final float dropout;
    private final boolean sequences;
    /** [T, B, I]: the input, time-major. */
    private final Tensor x;
    /** Per layer below the top, when D = 2: [T, B, 2H], the directions' h side by side. */
    private final Tensor[] joined;
    /** Per layer below the top, when dropout &gt; 0: [T, B, D·H] mask and dropped output. */
    private final Tensor[] masks;
    private final Tensor[] dropped;
    /** Per direction: [T, B, H] dL/dh_t of the layer being differentiated. */
    private final Tensor[] dh;
    /** [T, B, D·H]: dL/d(input of the layer above) when it cannot go straight into {@link #dh}. */
    private final Tensor dBetween;
    /** [T, B, I]: dL/dx, time-major, before it is transposed out. */
    private final Tensor dx;
    /** Null unless {@code mask_zero=true}. */
    private final PaddingMask mask;
    /** x [B, T, I] → [T, B, I]. */
    private final StridedCopies inputToTimeMajor;
    /** dx [T, B, I] → dL/dx [B, T, I]. */
    private final StridedCopies gradientToBatchMajor;
    /** Per direction d, h of the top layer → band d of y: [T, B, H] → [B, T, D·H], or its last state [B, H] → [B, D·H]. */
    private final StridedCopies[] outputBands;
    /** Per direction d, band d of dy → dh[d]: [B, T, D·H] → [T, B, H], or [B, D·H] → the last state's [B, H]. */
    private final StridedCopies[] gradientBands;
    /** Per layer below the top and direction d (two directions only): h [T·B, H] → band d of the next layer's input [T·B, 2H]. */
    private final StridedCopies[][] joinBands;
    /** Per direction d (two directions only): band d of dL/d(input) [T·B, 2H] → dh[d] [T·B, H]. */
    private final StridedCopies[] splitBands;

    StackedRecurrence(KernelContext context, RecurrentGeometry g, RecurrentDirection[][] stack, PaddingMask mask) {
        this.g = g;
        this.stack = stack;
        this.mask = mask;
        this.dropout = context.args().getFloat("dropout");
        this.sequences = context.args().getBool("sequences");
        int below = g.layers() - 1;
        Shape between = Shape.of(g.time(), g.batch(), g.outputWidth());
        x = context.allocate(Shape.of(g.time(), g.batch(), g.input()));
        joined = new Tensor[below];
        masks = new Tensor[below];
        dropped = new Tensor[below];
        for (int layer = 0; layer < below; layer++) {
            if (g.directions() == 2) joined[layer] = context.allocate(between);
            if (dropout > 0) {
                masks[layer] = context.allocate(between);
                dropped[layer] = context.allocate(between);
            }
        }
        dh = new Tensor[g.directions()];
        for (int d = 0; d < dh.length; d++) dh[d] = context.allocate(Shape.of(g.time(), g.batch(), g.hidden()));
        dBetween = below > 0 && (g.directions() == 2 || dropout > 0) ? context.allocate(between) : null;
        dx = context.allocate(Shape.of(g.time(), g.batch(), g.input()));

        int hidden = g.hidden();
        int width = g.outputWidth();
        inputToTimeMajor = StridedCopies.swapLeadingAxes(g.batch(), g.time(), g.input(), 0, g.input(), 0, g.input());
        gradientToBatchMajor = StridedCopies.swapLeadingAxes(g.time(), g.batch(), g.input(), 0, g.input(), 0, g.input());
        outputBands = new StridedCopies[g.directions()];
        gradientBands = new StridedCopies[g.directions()];
        splitBands = new StridedCopies[g.directions()];
        for (int d = 0; d < g.directions(); d++) {
            if (sequences) {
                outputBands[d] = StridedCopies.swapLeadingAxes(g.time(), g.batch(), hidden, 0, width, d * hidden, hidden);
                gradientBands[d] = StridedCopies.swapLeadingAxes(g.batch(), g.time(), width, d * hidden, hidden, 0, hidden);
            } else {
                // the state after the direction's last step: t = T-1, or t = 0 in reverse
                RecurrentDirection top = stack[g.layers() - 1][d];
                int last = top.offset(top.timeAt(g.time() - 1), hidden);
                outputBands[d] = StridedCopies.single(last, hidden, d * hidden, width, hidden, g.batch());
                gradientBands[d] = StridedCopies.single(d * hidden, width, last, hidden, hidden, g.batch());
            }
            splitBands[d] = StridedCopies.single(d * hidden, width, 0, hidden, hidden, g.rows());
        }
        joinBands = new StridedCopies[below][g.directions()];
        for (int layer = 0; layer < below; layer++) {
            for (int d = 0; d < g.directions(); d++) joinBands[layer][d] = StridedCopies.single(0, hidden, d * hidden, width, hidden, g.rows());
        }
    }

    @Override public void forward(ForwardPass pass) {
        Backend b = pass.backend();
        boolean drop = dropoutActive(pass);
        int width = g.outputWidth();
        if (mask != null) mask.update(b, pass.input(0));   // the lengths of this batch
        // x [B, T, I] → [T, B, I]
        inputToTimeMajor.run(b, pass.input(0), x);
        for (int layer = 0; layer < g.layers(); layer++) {
            Tensor in = layerInput(layer, drop);
            for (RecurrentDirection direction : stack[layer]) direction.forward(pass, in);
            if (layer == g.layers() - 1) break;
            // the layer above reads zeros past each sample's end, as PyTorch's packed sequences give it
            if (mask != null) for (RecurrentDirection direction : stack[layer]) mask.zeroPadded(b, direction.h, g.hidden());
            // h of each direction [T·B, H] → its band of [T·B, 2H], the next layer's input
            if (g.directions() == 2) {
                for (int d = 0; d < 2; d++) joinBands[layer][d].run(b, stack[layer][d].h, joined[layer]);
            }
            if (drop) b.dropoutForward(layerOutput(layer), masks[layer], dropped[layer], dropout, dropoutSeed(pass, layer));
        }
        Tensor y = pass.output();
        RecurrentDirection[] top = stack[g.layers() - 1];
        for (int d = 0; d < top.length; d++) {
            if (sequences) {
                // h [T, B, H] → band d of y [B, T, D·H], zero past each sample's end
                if (mask != null) mask.zeroPadded(b, top[d].h, g.hidden());
                outputBands[d].run(b, top[d].h, y);
            } else {
                // The state after the direction's last step ([B, H] at t = T-1, or t = 0 in reverse) → band d of y [B, D·H].
                // With a mask that is the state at the sample's last valid step, carried to T-1 (or the reverse
                // direction's, which started there).
                outputBands[d].run(b, top[d].h, y);
            }
        }
    }

    @Override public void backward(BackwardPass pass) {
        Backend b = pass.backend();
        boolean drop = dropoutActive(pass);
        int width = g.outputWidth();
        int hidden = g.hidden();
        Tensor dy = pass.gradOutput();
        // dL/dh of the top layer, per direction and time-major: band d of dy, at every step or only the last one
        for (int d = 0; d < g.directions(); d++) {
            if (sequences) {
                gradientBands[d].run(b, dy, dh[d]);
                if (mask != null) mask.zeroPadded(b, dh[d], hidden);   // those outputs were zeroed, whatever dy says
            } else {
                b.fill(dh[d], 0f);
                gradientBands[d].run(b, dy, dh[d]);
            }
        }
        Tensor dxOut = pass.gradInput(0);
        for (int layer = g.layers() - 1; layer >= 0; layer--) {
            // Where dL/d(this layer's input) goes: dx for the first layer (if wanted); otherwise it
            // is dL/dh of the layer below, directly when nothing stands between them.
            Tensor dIn = layer == 0 ? (dxOut == null ? null : dx) : (dBetween == null || (!drop && g.directions() == 1) ? dh[0] : dBetween);
            Tensor in = layerInput(layer, drop);
            for (int d = 0; d < g.directions(); d++) stack[layer][d].backward(pass, in, dh[d], dIn, d > 0);
            if (layer == 0) break;
            if (drop) b.binary(BinaryOp.MUL, dIn, masks[layer - 1], g.directions() == 1 ? dh[0] : dIn);
            if (g.directions() == 2) {
                // [T·B, 2H] → each direction's [T·B, H]
                for (int d = 0; d < 2; d++) splitBands[d].run(b, dIn, dh[d]);
            }
        }
        // dx [T, B, I] → [B, T, I]
        if (dxOut != null) gradientToBatchMajor.run(b, dx, dxOut);
    }

    @Override public void recordStepGradients(boolean on) {
        stack[g.layers() - 1][0].recordStepNorms(on);
    }

    @Override public double[] stepGradientNorms() {
        double[] norms = stack[g.layers() - 1][0].stepNorms();
        return norms == null ? null : norms.clone();
    }

    private boolean dropoutActive(ForwardPass pass) {
        return pass.training() && dropout > 0 && g.layers() > 1;
    }

    /** A seed per layer from the node's step seed, so stacked masks are independent. */
    private static long dropoutSeed(ForwardPass pass, int layer) {
        return CounterRandom.mix(pass.stepSeed() + layer);
    }

    /** [T, B, D·H]: what layer {@code layer} produced, before dropout. */
    private Tensor layerOutput(int layer) {
        return g.directions() == 1 ? stack[layer][0].h : joined[layer];
    }

    /** [T, B, I_k]: what layer {@code layer} reads. */
    private Tensor layerInput(int layer, boolean drop) {
        if (layer == 0) return x;
        return drop ? dropped[layer - 1] : layerOutput(layer - 1);
    }
}
