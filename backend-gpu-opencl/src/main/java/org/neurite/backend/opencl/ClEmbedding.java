package org.neurite.backend.opencl;

import static org.neurite.backend.OpChecks.badRowIndex;

/**
 * Row gathers and their adjoint ({@code embedding.cl}): {@code out[r, :] = table[indices[r], :]},
 * one work-item per output element, and {@code dTable[indices[r], :] += dOut[r, :]}, one
 * work-item per column adding the rows in order (no atomics, the CPU's order). Every index is
 * checked on the device first ({@code check_indices}); a bad one is refused with
 * {@code OpChecks.badRowIndex} before anything is written.
 */
final class ClEmbedding {
    private final ClKernels kernels;
    private final ClIndexCheck indexCheck;

    ClEmbedding(ClKernels kernels, ClIndexCheck indexCheck) {
        this.kernels = kernels;
        this.indexCheck = indexCheck;
    }

    void gatherRows(ClTensor table, ClTensor indices, ClTensor out, int rows, int width) {
        checkIndices(indices, rows, table.size() / width);
        kernels.get("gather_rows").map(rows * width, table, indices, out, width, rows * width);
    }

    void scatterAddRows(ClTensor dOut, ClTensor indices, ClTensor dTable, int rows, int width) {
        checkIndices(indices, rows, dTable.size() / width);
        kernels.get("scatter_add_rows").map(width, dOut, indices, dTable, rows, width);
    }

    /** Fails, before anything is written, when an index is not a row of the table (reads back one int). */
    private void checkIndices(ClTensor indices, int rows, int tableRows) {
        int bad = indexCheck.firstFailing("check_indices", rows, indices, rows, tableRows);
        if (bad >= 0) throw badRowIndex(indexCheck.valueAt(indices, bad), bad, tableRows);
    }
}
