package org.neurite.plugins.recurrent;

import java.util.Arrays;
import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.Slice;
import org.neurite.layer.KernelContext;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * Variable-length sequences for {@code mask_zero=true} (Keras-style masking with the results of
 * PyTorch's {@code pack_padded_sequence}): a sample's length is 1 + the last step whose input row
 * is not all zeros, and past it the recurrence stands still. Shared by every direction of every
 * layer of one compiled stack, since all of them see the same lengths.
 *
 * <p>Each forward reads the input [B, T, I] back to the host once to find the lengths — a
 * synchronisation on device backends — and, only when they differ from the last batch's, rebuilds
 * the device masks: {@link #keep} [T, B, H], 1 where t &lt; length, its complement
 * {@link #carry} = 1 - keep, and the per-row {@link #rows} [T·B] that scales whole time-major
 * buffers of any width. A step then costs a few offset-form element-wise ops and no allocation:
 * <pre>
 *   forward   s_t      = keep_t · cell(s_{t-1}, x_t) + carry_t · s_{t-1}        (h, and c for the LSTM)
 *   backward  dL/dcell = keep_t · dL/ds_t,  dL/ds_{t-1} += carry_t · dL/ds_t
 * </pre>
 * so padded steps carry the state unchanged (a reverse direction, which meets them first, keeps
 * its zero initial state through them), pass dh and dc straight through to the previous step,
 * and contribute nothing to the parameter gradients (their gate gradients are zero). The layer's
 * outputs at padded steps are zeroed with {@link #zeroPadded}.
 */
final class PaddingMask {
    private final RecurrentGeometry g;
    /** Host copy of the input [B, T, I], read once per forward. */
    private final float[] hostInput;
    /** Per sample: the length the masks were last built for; -1 before the first forward. */
    private final int[] lengths;
    /** Host [T·B]: 1 where t &lt; length of sample b, row t·B + b. */
    private final float[] hostRows;
    /** [T·B]: {@link #hostRows} on the device, a factor per row of a time-major buffer. */
    private final Tensor rows;
    /** [T, B, H]: 1 at the valid steps of each sample, 0 past its end. */
    private final Tensor keep;
    /** [T, B, H]: 1 - {@link #keep}. */
    private final Tensor carry;
    /** [B, H]: carry_t · dL/ds_t on its way to step t-1. */
    private final Tensor passed;
    /** The input read at each forward, as a slice made once per input tensor. */
    private Slice inputSlice;
    /** Step t's [B, H] block of the buffers the per-step ops touch, made once. */
    private final TimeMajorViews views;

    PaddingMask(KernelContext context, RecurrentGeometry g) {
        this.g = g;
        this.hostInput = new float[g.batch() * g.time() * g.input()];
        this.lengths = new int[g.batch()];
        Arrays.fill(lengths, -1);
        this.hostRows = new float[g.rows()];
        this.rows = context.allocate(Shape.of(g.rows()));
        Shape steps = Shape.of(g.time(), g.batch(), g.hidden());
        this.keep = context.allocate(steps);
        this.carry = context.allocate(steps);
        this.passed = context.allocate(Shape.of(g.batch(), g.hidden()));
        this.views = new TimeMajorViews(g.batch());
    }

    /**
     * Finds each sample's length in {@code x} [B, T, I] (batch-major, as the stack receives it)
     * and rebuilds the masks if any length changed. Reads x back to the host: one synchronisation
     * per forward on a device backend.
     */
    void update(Backend b, Tensor x) {
        if (inputSlice == null || inputSlice.tensor() != x) inputSlice = Slice.of(x, 0, hostInput.length);
        b.download(inputSlice, hostInput, 0);
        int time = g.time();
        int width = g.input();
        boolean changed = false;
        for (int sample = 0; sample < g.batch(); sample++) {
            int length = 0;
            // the last step with any non-zero feature (NaN counts as non-zero), scanning from the end
            for (int t = time - 1; t >= 0 && length == 0; t--) {
                int row = (sample * time + t) * width;
                for (int i = row; i < row + width; i++) {
                    if (hostInput[i] != 0f) {
                        length = t + 1;
                        break;
                    }
                }
            }
            if (length != lengths[sample]) {
                lengths[sample] = length;
                changed = true;
            }
        }
        if (!changed) return;
        for (int t = 0; t < time; t++) {
            for (int sample = 0; sample < g.batch(); sample++) hostRows[t * g.batch() + sample] = t < lengths[sample] ? 1f : 0f;
        }
        b.upload(hostRows, 0, Slice.of(rows, 0, hostRows.length));
        // keep[t, b, :] = rows[t·B + b]; carry = 1 - keep
        b.fill(keep, 1f);
        b.channelBroadcast(BinaryOp.MUL, keep, rows, keep, 1, g.rows(), g.hidden());
        b.fill(carry, 1f);
        b.binary(BinaryOp.SUB, carry, keep, carry);
    }

    /** Each sample's length from the last {@link #update}: 1 + its last step with a non-zero input row (0: none). */
    int[] lengths() {
        return lengths.clone();
    }

    /** Zeroes the padded steps of a time-major buffer [T, B, width] of any width, in place. */
    void zeroPadded(Backend b, Tensor steps, int width) {
        b.channelBroadcast(BinaryOp.MUL, steps, rows, steps, 1, g.rows(), width);
    }

    /**
     * After the cell wrote the new state into {@code state[t]} [B, H] (of a [T, B, H] buffer):
     * {@code state[t] = keep_t · state[t] + carry_t · state[prev]}, the state standing still past
     * a sample's end. {@code prev < 0} is the zero initial state, so only the first product remains.
     */
    void carryForward(Backend b, Tensor state, int t, int prev) {
        b.binary(BinaryOp.MUL, step(state, t), step(keep, t), step(state, t));
        if (prev < 0) return;
        b.binary(BinaryOp.MUL, step(state, prev), step(carry, t), step(passed, 0));
        b.binary(BinaryOp.ADD, step(state, t), step(passed, 0), step(state, t));
    }

    /**
     * Before the cell's backward at step t, for dL/ds_t in block {@code gradStep} [B, H] of
     * {@code grad}: writes {@code carry_t · grad} (what passes straight through to step t-1) into
     * block {@code throughStep} of {@code through}, then leaves {@code keep_t · grad} (what reaches
     * the cell) in grad.
     */
    void split(Backend b, Tensor grad, int gradStep, int t, Tensor through, int throughStep) {
        b.binary(BinaryOp.MUL, step(grad, gradStep), step(carry, t), step(through, throughStep));
        b.binary(BinaryOp.MUL, step(grad, gradStep), step(keep, t), step(grad, gradStep));
    }

    /**
     * dL/dh through a padded step, for {@code dh} [T, B, H]: {@code dh[prev] += carry_t · dh[t]},
     * then {@code dh[t] = keep_t · dh[t]}, what the cell's backward reads. {@code prev < 0} (the
     * zero initial state) drops the carried part.
     */
    void passBack(Backend b, Tensor dh, int t, int prev) {
        if (prev < 0) {
            b.binary(BinaryOp.MUL, step(dh, t), step(keep, t), step(dh, t));
            return;
        }
        split(b, dh, t, t, passed, 0);
        b.binary(BinaryOp.ADD, step(dh, prev), step(passed, 0), step(dh, prev));
    }

    /** Block {@code t} [B, H] of a time-major buffer [T, B, H] (or of a one-step buffer [B, H], t = 0). */
    private Slice step(Tensor buffer, int t) {
        return views.slice(buffer, t, g.hidden());
    }
}
