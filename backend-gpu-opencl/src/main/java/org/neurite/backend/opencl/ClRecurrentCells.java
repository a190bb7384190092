package org.neurite.backend.opencl;

/**
 * The point-wise part of one LSTM step and one GRU step, forward and backward
 * ({@code recurrent.cl}): one work-item per (batch row, hidden unit) of a {@code batch x hidden}
 * state, every operand a slice (one time step of a sequence, one gate block). The matrix products
 * around them are the layers' GEMMs.
 */
final class ClRecurrentCells {
    private final ClKernels kernels;

    ClRecurrentCells(ClKernels kernels) {
        this.kernels = kernels;
    }

    void lstmForward(ClSlice gates, ClSlice cPrev, ClSlice c, ClSlice h, int hidden) {
        kernels.get("lstm_cell_forward").map(c.length(), gates, cPrev, c, h, hidden, c.length());
    }

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
