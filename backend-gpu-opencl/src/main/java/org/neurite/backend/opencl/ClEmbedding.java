package org.neurite.backend.opencl;

import static org.neurite.backend.OpChecks.badRowIndex;

/**
 * Row gathers and their adjoint ({@code embedding.cl}): {@code out[r, :] = table[indices[r], :]},
 * one work-item per output element, and {@code dTable[indices[r], :] += dOut[r, :]}, one
 * work-item per column adding the rows in order (no atomics, the CPU's order). Every index is
 * checked on the device first ({@code check_indices}); a bad one is refused with
 * {@code OpChecks.badRowIndex} at the host's next wait ({@link ClIndexCheck}), and nothing is written.
 */
final class ClEmbedding {
    private final ClKernels kernels;
    private final ClIndexCheck indexCheck;

    ClEmbedding(ClKernels kernels, ClIndexCheck indexCheck) {
        this.kernels = kernels;
        this.indexCheck = indexCheck;
    }

    void gatherRows(ClTensor table, ClTensor indices, ClTensor out, int rows, int width) {
        int slot = checkIndices(indices, rows, table.size() / width);
        kernels.get("gather_rows").args().mem(table).mem(indices).mem(out).i(width).i(rows * width).mem(indexCheck.buffer()).i(slot)
                .map(rows * width);
    }

    void scatterAddRows(ClTensor dOut, ClTensor indices, ClTensor dTable, int rows, int width) {
        int slot = checkIndices(indices, rows, dTable.size() / width);
        kernels.get("scatter_add_rows").args().mem(dOut).mem(indices).mem(dTable).i(rows).i(width).mem(indexCheck.buffer()).i(slot)
                .map(width);
    }

    /** The slot of the check that every index is a row of the table, for the kernel that reads them. */
    private int checkIndices(ClTensor indices, int rows, int tableRows) {
        return indexCheck.check(kernels.get("check_indices").args().mem(indices).i(rows).i(tableRows), rows, indices,
                (row, value) -> badRowIndex(value, row, tableRows));
    }
}
