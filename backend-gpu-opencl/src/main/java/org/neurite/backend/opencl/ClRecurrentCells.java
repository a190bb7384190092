package org.neurite.backend.opencl;

import org.jocl.cl_mem;

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

    void lstmForward(ClSlice gates, ClSlice cPrev, ClSlice c, ClSlice h, int hidden) {
        kernels.get("lstm_cell_forward").map(c.length(), gates, cPrev, c, h, hidden, c.length());
    }

    /**
     * gates[B, 4H] += hPrev[B, H] · W_hhᵀ, then the LSTM cell, in one launch. Where the device's SGEMM
     * tuning chose a CPU kernel for thin products ({@link ClGemm.Variant#DIRECT} or
     * {@link ClGemm.Variant#BLOCKED}: PoCL), {@code lstm_step_forward_blocked} (16 gate columns of
     * 4 units x 64 rows per work-item, W_hh's rows copied to a private buffer per 128-deep slice);
     * elsewhere {@code lstm_step_forward} (one unit x 4 rows per work-item, no private buffer).
     * hPrev and W_hh are a buffer, an offset and a leading dimension each.
     */
    void lstmStep(cl_mem hPrev, int hPrevOffset, int ldh, cl_mem wHh, int wHhOffset, int ldw, ClSlice gates, ClSlice cPrev,
                  ClSlice c, ClSlice h, int batch, int hidden) {
        if (batch == 0 || hidden == 0) return;
        boolean blocked = blockedSteps();
        kernels.get(blocked ? "lstm_step_forward_blocked" : "lstm_step_forward").run(stepItems(blocked, batch, hidden),
                new long[] {ClGemm.DIRECT_GROUP, 1}, hPrev, hPrevOffset, ldh, wHh, wHhOffset, ldw, gates, cPrev, c, h, batch, hidden);
    }

    /**
     * gh[B, 3H] += hPrev[B, H] · W_hhᵀ (the sums kept in gh), then the GRU cell, in one launch, by
     * {@code gru_step_forward_blocked} or {@code gru_step_forward} as for {@link #lstmStep}. hPrev
     * is a contiguous [B, H] slice.
     */
    void gruStep(ClSlice hPrev, cl_mem wHh, int wHhOffset, int ldw, ClSlice gi, ClSlice gh, ClSlice h, ClSlice saved, int batch, int hidden) {
        if (batch == 0 || hidden == 0) return;
        boolean blocked = blockedSteps();
        kernels.get(blocked ? "gru_step_forward_blocked" : "gru_step_forward").run(stepItems(blocked, batch, hidden),
                new long[] {ClGemm.DIRECT_GROUP, 1}, hPrev, wHh, wHhOffset, ldw, gi, gh, h, saved, batch, hidden);
    }

    /** Whether the fused steps take their blocked kernels: the device's thin SGEMM is a CPU kernel. */
    private boolean blockedSteps() {
        ClGemm.Variant thin = gemm.choice().thin();
        return thin == ClGemm.Variant.BLOCKED || thin == ClGemm.Variant.DIRECT;
    }

    /** Work-items of a fused step: units per item along x (rounded up to the group), row blocks along y. */
    private static long[] stepItems(boolean blocked, int batch, int hidden) {
        int units = blocked ? BLOCKED_UNITS : 1, rows = blocked ? BLOCKED_ROWS : STEP_ROWS;
        return new long[] {roundUp(ceilDiv(hidden, units), ClGemm.DIRECT_GROUP), ceilDiv(batch, rows)};
    }

    private static long ceilDiv(long a, long b) { return (a + b - 1) / b; }

    private static long roundUp(long a, long multiple) { return ceilDiv(a, multiple) * multiple; }

    void lstmBackward(ClSlice gates, ClSlice cPrev, ClSlice c, ClSlice dh, ClSlice dc, ClSlice dGates, int hidden) {
        kernels.get("lstm_cell_backward").map(c.length(), gates, cPrev, c, dh, dc, dGates, hidden, c.length());
    }

    void gruForward(ClSlice gi, ClSlice gh, ClSlice hPrev, ClSlice h, ClSlice saved, int hidden) {
        kernels.get("gru_cell_forward").map(h.length(), gi, gh, hPrev, h, saved, hidden, h.length());
    }

    void gruBackward(ClSlice saved, ClSlice gh, ClSlice hPrev, ClSlice dh, ClSlice dGi, ClSlice dGh, ClSlice dhPrev, int hidden) {
        kernels.get("gru_cell_backward").map(dh.length(), saved, gh, hPrev, dh, dGi, dGh, dhPrev, hidden, dh.length());
    }
}
