package org.neurite.backend.cpu;

import org.neurite.backend.OpChecks;

/**
 * Embedding lookups: gathering table rows by index (forward) and scatter-adding gradient rows
 * back into the table (backward). Indices arrive as floats (the engine's one dtype) and are
 * checked here, where they are read ({@link OpChecks#isRowIndex}), before anything is written,
 * so a bad index leaves the outputs untouched. The gather
 * splits over output rows. The scatter splits over <em>columns</em>: each task owns a column
 * range of the whole table and adds the rows in index order, so repeated indices never race
 * and the sums come out the same for any thread count. Both are reusable
 * {@link CpuThreads.RangeTask}s holding their arguments, so a call allocates nothing.
 */
final class CpuEmbedding {
    static final long PARALLEL_MIN = 1L << 15;

    private final CpuThreads threads;
    private final GatherLoop gatherLoop = new GatherLoop();
    private final ScatterAddLoop scatterAddLoop = new ScatterAddLoop();

    CpuEmbedding(CpuThreads threads) {
        this.threads = threads;
    }

    private int parts(int rows, int width) {
        return (long) rows * width < PARALLEL_MIN ? 1 : threads.size();
    }

    /** out[r, :] = table[indices[r], :] for r in [0, rows); table is [tableRows, width]. */
    void gather(float[] table, int tableRows, float[] indices, float[] out, int rows, int width) {
        checkIndices(indices, rows, tableRows);
        gatherLoop.execute(table, indices, out, rows, width);
    }

    /** dTable[indices[r], :] += dOut[r, :] for r in [0, rows), rows added in order. */
    void scatterAdd(float[] dOut, float[] indices, float[] dTable, int tableRows, int rows, int width) {
        checkIndices(indices, rows, tableRows);
        scatterAddLoop.execute(dOut, indices, dTable, rows, width);
    }

    private static void checkIndices(float[] indices, int rows, int tableRows) {
        for (int r = 0; r < rows; r++)
            if (!OpChecks.isRowIndex(indices[r], tableRows)) throw OpChecks.badRowIndex(indices[r], r, tableRows);
    }

    private final class GatherLoop implements CpuThreads.RangeTask {
        private float[] table, indices, out;
        private int width;

        synchronized void execute(float[] table, float[] indices, float[] out, int rows, int width) {
            this.table = table;
            this.indices = indices;
            this.out = out;
            this.width = width;
            try {
                threads.run(rows, parts(rows, width), this);
            } finally {
                this.table = this.indices = this.out = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            for (int r = begin; r < end; r++) System.arraycopy(table, (int) indices[r] * width, out, r * width, width);
        }
    }

    /** Split over columns: each part adds every row into its own column range. */
    private final class ScatterAddLoop implements CpuThreads.RangeTask {
        private float[] dOut, indices, dTable;
        private int rows, width;

        synchronized void execute(float[] dOut, float[] indices, float[] dTable, int rows, int width) {
            this.dOut = dOut;
            this.indices = indices;
            this.dTable = dTable;
            this.rows = rows;
            this.width = width;
            try {
                threads.run(width, parts(rows, width), this);
            } finally {
                this.dOut = this.indices = this.dTable = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] dOut = this.dOut, dTable = this.dTable;
            for (int r = 0; r < rows; r++) {
                int dst = (int) indices[r] * width, src = r * width;
                for (int j = begin; j < end; j++) dTable[dst + j] += dOut[src + j];
            }
        }
    }
}
