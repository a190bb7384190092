package org.neurite.backend.opencl;

import org.jocl.cl_mem;
import org.neurite.backend.Slice;

/**
 * The point-wise part of one LSTM step and one GRU step, forward and backward
 * ({@code recurrent.cl}): one work-item per (batch row, hidden unit) of a {@code batch x hidden}
 * state, every operand a slice (one time step of a sequence, one gate block). The matrix products
 * around them are the layers' GEMMs, except in {@link #lstmStep} and {@link #gruStep}, which add
 * the recurrent product to the gates and run the cell in the same launch.
 */
final class ClRecurrentCells {
    /** Batch rows per work-item of {@code lstm_step_forward} and {@code gru_step_forward}; must match LSTM_STEP_ROWS in recurrent.cl. */
    static final int STEP_ROWS = 4;
    /** Hidden units and batch rows per work-item of the blocked step kernels; must match recurrent.cl (4, LSTM_BLK_ROWS). */
    static final int BLOCKED_UNITS = 4, BLOCKED_ROWS = 64;

    private final ClKernels kernels;
    private final ClGemm gemm;

    ClRecurrentCells(ClKernels kernels, ClGemm gemm) {
        this.kernels = kernels;
        this.gemm = gemm;
    }

    void lstmForward(Slice gates, Slice cPrev, Slice c, Slice h, int hidden) {
        kernels.get("lstm_cell_forward").args().slice(gates).slice(cPrev).slice(c).slice(h).i(hidden).i(c.length()).map(c.length());
    }

    /**
     * gates[B, 4H] += hPrev[B, H] · W_hhᵀ, then the LSTM cell, in one launch. Where the device's SGEMM
     * tuning chose a CPU kernel for thin products ({@link ClGemm.Variant#DIRECT} or
     * {@link ClGemm.Variant#BLOCKED}: PoCL), {@code lstm_step_forward_blocked} (16 gate columns of
     * 4 units x 64 rows per work-item, W_hh's rows copied to a private buffer per 128-deep slice);
     * elsewhere {@code lstm_step_forward} (one unit x 4 rows per work-item, no private buffer).
     * hPrev and W_hh are a buffer, an offset and a leading dimension each.
     */
    void lstmStep(cl_mem hPrev, int hPrevOffset, int ldh, cl_mem wHh, int wHhOffset, int ldw, Slice gates, Slice cPrev,
                  Slice c, Slice h, int batch, int hidden) {
        if (batch == 0 || hidden == 0) return;
        boolean blocked = blockedSteps();
        kernels.get(blocked ? "lstm_step_forward_blocked" : "lstm_step_forward").args().mem(hPrev).i(hPrevOffset).i(ldh).mem(wHh)
                .i(wHhOffset).i(ldw).slice(gates).slice(cPrev).slice(c).slice(h).i(batch).i(hidden)
                .run(stepUnitItems(blocked, hidden), stepRowItems(blocked, batch), ClGemm.DIRECT_GROUP, 1);
    }

    /**
     * gh[B, 3H] += hPrev[B, H] · W_hhᵀ (the sums kept in gh), then the GRU cell, in one launch, by
     * {@code gru_step_forward_blocked} or {@code gru_step_forward} as for {@link #lstmStep}. hPrev
     * is a contiguous [B, H] slice.
     */
    void gruStep(Slice hPrev, cl_mem wHh, int wHhOffset, int ldw, Slice gi, Slice gh, Slice h, Slice saved, int batch, int hidden) {
        if (batch == 0 || hidden == 0) return;
        boolean blocked = blockedSteps();
        kernels.get(blocked ? "gru_step_forward_blocked" : "gru_step_forward").args().slice(hPrev).mem(wHh).i(wHhOffset).i(ldw)
                .slice(gi).slice(gh).slice(h).slice(saved).i(batch).i(hidden)
                .run(stepUnitItems(blocked, hidden), stepRowItems(blocked, batch), ClGemm.DIRECT_GROUP, 1);
    }

    /** Whether the fused steps take their blocked kernels: the device's thin SGEMM is a CPU kernel. */
    private boolean blockedSteps() {
        ClGemm.Variant thin = gemm.choice().thin();
        return thin == ClGemm.Variant.BLOCKED || thin == ClGemm.Variant.DIRECT;
    }

    /** Work-items of a fused step along x: units per item, rounded up to the group. */
    private static long stepUnitItems(boolean blocked, int hidden) {
        return roundUp(ceilDiv(hidden, blocked ? BLOCKED_UNITS : 1), ClGemm.DIRECT_GROUP);
    }

    /** Work-items of a fused step along y: row blocks. */
    private static long stepRowItems(boolean blocked, int batch) {
        return ceilDiv(batch, blocked ? BLOCKED_ROWS : STEP_ROWS);
    }

    private static long ceilDiv(long a, long b) { return (a + b - 1) / b; }

    private static long roundUp(long a, long multiple) { return ceilDiv(a, multiple) * multiple; }

    void lstmBackward(Slice gates, Slice cPrev, Slice c, Slice dh, Slice dc, Slice dGates, int hidden) {
        kernels.get("lstm_cell_backward").args().slice(gates).slice(cPrev).slice(c).slice(dh).slice(dc).slice(dGates).i(hidden)
                .i(c.length()).map(c.length());
    }

    void gruForward(Slice gi, Slice gh, Slice hPrev, Slice h, Slice saved, int hidden) {
        kernels.get("gru_cell_forward").args().slice(gi).slice(gh).slice(hPrev).slice(h).slice(saved).i(hidden).i(h.length())
                .map(h.length());
    }

    void gruBackward(Slice saved, Slice gh, Slice hPrev, Slice dh, Slice dGi, Slice dGh, Slice dhPrev, int hidden) {
        kernels.get("gru_cell_backward").args().slice(saved).slice(gh).slice(hPrev).slice(dh).slice(dGi).slice(dGh).slice(dhPrev)
                .i(hidden).i(dh.length()).map(dh.length());
    }
}
