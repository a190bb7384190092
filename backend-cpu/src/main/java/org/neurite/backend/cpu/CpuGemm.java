package org.neurite.backend.cpu;

import java.util.Arrays;

/**
 * Row-major SGEMM {@code C = alpha * op(A) * op(B) + beta * C}, blocked the GotoBLAS way: a
 * {@code KC x NC} panel of op(B) and an {@code MC x KC} block of op(A) are packed (zero-padded to
 * whole micro-tiles) into per-worker buffers, and an {@code MR x NR} micro-kernel
 * ({@link CpuKernels#gemmBlock}; with the Vector API it keeps {@code MR * 2} accumulator vectors
 * in registers) streams both panels.
 *
 * <p>Determinism: every element of C is computed by the same sequence of fused multiply-adds
 * over k (in {@code KC}-sized blocks, each block added to C with one more fma), whichever
 * worker, block or tile lane computes it, whether the product runs transposed
 * ({@link #multiplyTransposed}), and whichever kernels run it. Edge tiles run the same
 * micro-kernel on zero-padded panels and write back with {@link Math#fma}, which rounds exactly
 * like the vector fma. So the result does not depend on the thread count, on how the work was
 * split, or on the Vector API being present.
 */
final class CpuGemm {
    /**
     * Micro-tile: MR rows of C by NR = two lane groups (two vectors) of columns. At 512 bits 8
     * rows (16 accumulators of AVX-512's 32 registers): the convolutions' and dense layers' 32-
     * and 64-row products then need no padded rows (6 rows made them 36 and 66; fashion_cnn's
     * c2 backward-data 1.10x, see BENCHMARKS.md); at 256 bits 6 (12 of AVX2's 16 registers).
     * The tile's shape changes no bit: each element is the same fma sequence in any tile.
     * Without the Vector API (16 lanes, plain loops) 6: the plain 8-row kernel, which exists
     * for the plain path's parity with the 512-bit one, ran SGEMM at 0.87x of the 6-row one.
     */
    static final int MR = CpuKernels.VECTOR_API_PRESENT && CpuKernels.LANES == 16 ? 8 : 6;
    static final int NR = 2 * CpuKernels.LANES;
    /**
     * Depth of a packed panel; also the accumulation block every element of C sees. Each k-block
     * costs one read-modify-write pass over C, and C of a large product lives in memory, so the
     * misses of those passes stall the micro-kernel (Java has no prefetch to hide them): at
     * KC = 256 a 2048^3 product ran its kernel at about half the FMA peak. A deep block makes
     * that one pass for k <= 1024; the B strip (16 x KC) then streams from L2 instead of sitting
     * in L1, which costs less. Measured with benchmarks/peer/sgemm_peer.py (BENCHMARKS.md).
     */
    static final int KC = 1024;
    /** Rows of op(A) packed at once: 24 x KC is 96 KB, well inside L2 next to the B strip. */
    static final int MC = 4 * MR;
    /** Columns of op(B) packed at once: the shared KC x NC panel is 4 MB, for L3. */
    static final int NC = Math.max(NR, 1024 / NR * NR);
    /**
     * Products of at most this many rows (a layer's batch, a convolution's output channels) pack
     * all of op(A) at once and op(B) one strip at a time, right before the strip meets every row:
     * with MC-row blocks, a 64-row product streamed the 4 MB packed panel of B from L3 once per
     * block, and packed it there first. The packed A (128 x KC) then stays in L2.
     */
    static final int SKINNY_ROWS = 128;
    /** Below this many flops the call runs on the calling thread. */
    private static final long PARALLEL_MIN_FLOPS = 1L << 18;

    /** Packed panels, one set per worker, allocated on first use and then reused. */
    private static final class Panels {
        // Grow-only, sized by the products met: full blocks (KC x NC of B, 4 MiB a worker) only for
        // products that need them; the small ResNet's largest needs a few hundred KiB.
        float[] a = new float[0];
        float[] b = new float[0];

        /** Room for an A block of {@code m} rows (at most one row block) and a B panel of {@code n} columns, {@code k} deep. */
        Panels fit(int m, int n, int k) {
            int depth = Math.min(k, KC);
            int rows = roundUp(Math.min(m, Math.max(MC, SKINNY_ROWS)), MR), cols = roundUp(Math.min(n, NC), NR);
            if (a.length < rows * depth) a = new float[rows * depth];
            if (b.length < cols * depth) b = new float[cols * depth];
            return this;
        }
    }

    private final CpuThreads threads;
    private final CpuKernels[] kernels; // per worker
    private final Panels[] panels;
    private final GridLoop gridLoop = new GridLoop();
    private final SharedPanelLoop sharedPanelLoop = new SharedPanelLoop();
    private final BiasReluLoop biasReluLoop = new BiasReluLoop();
    private float[] transposedC = new float[0]; // C^T of multiplyTransposed, grow-only

    CpuGemm(CpuThreads threads, CpuKernels.Path path) {
        this.threads = threads;
        this.kernels = path.perWorker(threads.size());
        this.panels = new Panels[threads.size()];
    }

    /**
     * Batched strided GEMM. Arguments are those of {@code Backend.gemm}, already validated. A
     * single product large enough for every worker to get two row blocks shares one packed panel
     * of op(B) between the workers ({@link SharedPanelLoop}); anything else (batches, small or
     * flat products) runs as a grid of independent blocks ({@link GridLoop}).
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
              float[] a, int offA, int lda, float[] b, int offB, int ldb,
              float beta, float[] c, int offC, int ldc, int batch, int strideA, int strideB, int strideC) {
        if (m == 0 || n == 0 || batch == 0) return;
        if (batch == 1 && k > 0 && transB && m <= SKINNY_ROWS && n >= 4 * m) {
            multiplyTransposed(transA, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc);
            return;
        }
        long flops = 2L * m * n * Math.max(k, 1) * batch;
        int parts = flops < PARALLEL_MIN_FLOPS ? 1 : threads.size();
        if (batch == 1 && k > 0 && parts > 1 && m >= 2 * MC * parts) {
            sharedPanelLoop.execute(transA, transB, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc);
        } else {
            gridLoop.execute(transA, transB, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc,
                    batch, strideA, strideB, strideC, parts);
        }
    }

    /**
     * C = op(A) op(B) with B stored [n, k] (transposed), few rows and many columns (a dense
     * layer's forward pass: x [batch, in] times the weights [out, in] transposed), computed as
     * C^T = B op(A)^T into a scratch C^T and copied back. Packing a transposed B is a transpose of
     * the large operand (the weights, read once from memory); as the left operand B is packed row
     * by row, and the transposed packing falls to the small one. Each element is the same fma
     * chain over k (a product's two factors commute exactly), with the same alpha and beta, so the
     * same bits; C is copied into the scratch first when beta is not 0. fashion_cnn's dense
     * forward (64x1024x3136) ran 1.2x faster on 2 threads so (2.65 against 3.19 ms).
     */
    private void multiplyTransposed(boolean transA, int m, int n, int k, float alpha, float[] a, int offA, int lda,
                                    float[] b, int offB, int ldb, float beta, float[] c, int offC, int ldc) {
        if (transposedC.length < m * n) transposedC = new float[m * n];
        float[] ct = transposedC;
        // Both copies are transposes: by CpuKernels.channelsLastToPlanes where the sides are whole
        // lane groups (16 x 16 register transposes at 512 bits, 8-row gathers at 256), else a float
        // at a time.
        boolean blocks = m % CpuKernels.LANES == 0 && n % CpuKernels.LANES == 0;
        if (beta != 0f) {
            if (blocks && ldc == n) kernels[0].channelsLastToPlanes(c, offC, m, n, ct, 0, m);
            else for (int i = 0; i < m; i++) for (int j = 0, row = offC + i * ldc; j < n; j++) ct[j * m + i] = c[row + j];
        }
        gemm(false, !transA, n, m, k, alpha, b, offB, ldb, a, offA, lda, beta, ct, 0, m, 1, 0, 0, 0);
        if (blocks) kernels[0].channelsLastToPlanes(ct, 0, n, m, c, offC, ldc);
        else for (int i = 0; i < m; i++) for (int j = 0, row = offC + i * ldc; j < n; j++) c[row + j] = ct[j * m + i];
    }

    /**
     * The dense layer's forward through a relu, {@code c[m, n] = max(a[m, k] · b[n, k]^T + bias[n], 0)}
     * (bias may be null): the bits of the product, the bias add and the relu op run apart (each
     * value rounded after the add, then {@code Math.max(v, 0f)}: NaN kept, -0 to +0). A skinny
     * product (a layer's batch) runs transposed and adds the bias and the relu in its copy back
     * to c; any other after the product, in one pass over c.
     */
    void denseForwardRelu(int m, int n, int k, float[] a, float[] b, float[] bias, float[] c) {
        if (m == 0 || n == 0) return;
        if (k > 0 && m <= SKINNY_ROWS && n >= 4 * m) {
            if (transposedC.length < m * n) transposedC = new float[m * n];
            float[] ct = transposedC;
            gemm(false, true, n, m, k, 1f, b, 0, k, a, 0, k, 0f, ct, 0, m, 1, 0, 0, 0); // as multiplyTransposed
            for (int i = 0; i < m; i++) {
                int row = i * n;
                if (bias == null) for (int j = 0; j < n; j++) c[row + j] = Math.max(ct[j * m + i], 0f);
                else for (int j = 0; j < n; j++) c[row + j] = Math.max(ct[j * m + i] + bias[j], 0f);
            }
            return;
        }
        gemm(false, true, m, n, k, 1f, a, 0, k, b, 0, k, 0f, c, 0, n, 1, 0, 0, 0);
        biasReluLoop.execute(bias, c, m, n);
    }

    /** c[i, j] = max(c[i, j] + bias[j], 0) (bias null: max(c, 0)), rows split between the workers. */
    private final class BiasReluLoop implements CpuThreads.RangeTask {
        private float[] bias, c;
        private int n;

        synchronized void execute(float[] bias, float[] c, int m, int n) {
            this.bias = bias;
            this.c = c;
            this.n = n;
            try {
                threads.run(m, (long) m * n < 1 << 15 ? 1 : threads.size(), this);
            } finally {
                this.bias = this.c = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] bias = this.bias, c = this.c;
            int n = this.n;
            for (int i = begin; i < end; i++) {
                int row = i * n;
                if (bias == null) for (int j = 0; j < n; j++) c[row + j] = Math.max(c[row + j], 0f);
                else for (int j = 0; j < n; j++) c[row + j] = Math.max(c[row + j] + bias[j], 0f);
            }
        }
    }

    /**
     * Batches and small products: the grid is fixed before the region starts, then task t is the
     * block (batch t / perMatrix, row block, column block) and runs {@link #multiply}, with its
     * own packing, on whichever worker claimed it. Reused for every call (arguments in fields,
     * under this object's monitor), so a GEMM allocates nothing.
     */
    private final class GridLoop implements CpuThreads.RangeTask {
        private boolean transA, transB;
        private int m, n, k, offA, lda, offB, ldb, offC, ldc, strideA, strideB, strideC;
        private float alpha, beta;
        private float[] a, b, c;
        private int rowBlock, colBlock, colBlocks, perMatrix;

        synchronized void execute(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                  float[] a, int offA, int lda, float[] b, int offB, int ldb,
                                  float beta, float[] c, int offC, int ldc, int batch, int strideA, int strideB, int strideC,
                                  int want) {
            // Start from whole matrices and halve the dimension with more micro-tiles until every worker has a task.
            int rowBlock = roundUp(m, MR);
            int colBlock = Math.min(roundUp(n, NR), NC);
            while ((long) batch * ceilDiv(m, rowBlock) * ceilDiv(n, colBlock) < want) {
                if (rowBlock > MR && rowBlock / MR >= colBlock / NR) rowBlock = roundUp(ceilDiv(rowBlock, 2), MR);
                else if (colBlock > NR) colBlock = roundUp(ceilDiv(colBlock, 2), NR);
                else if (rowBlock > MR) rowBlock = roundUp(ceilDiv(rowBlock, 2), MR);
                else break;
            }
            // A single product cut into a few column blocks of NC and a remainder (fashion_cnn's
            // dense dx, n = 3136: 1024, 1024, 1024, 64) leaves one worker a block more than the
            // others: make the column blocks equal and their count a multiple of the workers.
            int blocks = ceilDiv(n, colBlock);
            if (batch == 1 && want > 1 && blocks < 4 * want) {
                int width = roundUp(ceilDiv(n, roundUp(blocks, want)), NR);
                if (width >= 4 * NR && width < colBlock) colBlock = width;
            }
            this.transA = transA;
            this.transB = transB;
            this.m = m;
            this.n = n;
            this.k = k;
            this.alpha = alpha;
            this.a = a;
            this.offA = offA;
            this.lda = lda;
            this.b = b;
            this.offB = offB;
            this.ldb = ldb;
            this.beta = beta;
            this.c = c;
            this.offC = offC;
            this.ldc = ldc;
            this.strideA = strideA;
            this.strideB = strideB;
            this.strideC = strideC;
            this.rowBlock = rowBlock;
            this.colBlock = colBlock;
            this.colBlocks = ceilDiv(n, colBlock);
            this.perMatrix = ceilDiv(m, rowBlock) * colBlocks;
            try {
                threads.runClaimed(batch * perMatrix, want, this);
            } finally {
                this.a = this.b = this.c = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            for (int t = begin; t < end; t++) {
                int bi = t / perMatrix;
                int i0 = (t % perMatrix) / colBlocks * rowBlock;
                int j0 = (t % colBlocks) * colBlock;
                int a0 = offA + bi * strideA + (transA ? i0 : i0 * lda);
                int b0 = offB + bi * strideB + (transB ? j0 * ldb : j0);
                int c0 = offC + bi * strideC + i0 * ldc + j0;
                multiply(worker, transA, transB, Math.min(rowBlock, m - i0), Math.min(colBlock, n - j0), k, alpha,
                        a, a0, lda, b, b0, ldb, beta, c, c0, ldc);
            }
        }
    }

    /**
     * One large product, GotoBLAS style: for each {@code KC x NC} panel of op(B), the workers
     * first pack it together into one shared buffer (claiming a strip of NR columns at a time),
     * then claim blocks of up to MC rows of op(A), each packed into the claiming worker's own
     * panel and multiplied against the whole shared panel. op(B) is packed once instead of once per worker, and the
     * small row blocks keep every worker busy to the end. Per element of C the k-blocks arrive in
     * the same order as in {@link #multiply}, so the result is the same bit for bit.
     */
    private final class SharedPanelLoop implements CpuThreads.RangeTask {
        private float[] sharedB = new float[0]; // the packed panel of op(B), up to KC x NC, grow-only
        private boolean transA, transB;
        private int m, offA, lda, offB, ldb, offC, ldc;
        private float alpha, beta;
        private float[] a, b, c;
        private boolean packing; // which phase the running region is
        private int jc, pc, nc, kc;
        private int strips, rowBlocks; // MR-row strips of op(A), and the row blocks they are cut into

        synchronized void execute(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                  float[] a, int offA, int lda, float[] b, int offB, int ldb,
                                  float beta, float[] c, int offC, int ldc) {
            int panelFloats = roundUp(Math.min(n, NC), NR) * Math.min(k, KC);
            if (sharedB.length < panelFloats) sharedB = new float[panelFloats];
            this.transA = transA;
            this.transB = transB;
            this.m = m;
            this.alpha = alpha;
            this.a = a;
            this.offA = offA;
            this.lda = lda;
            this.b = b;
            this.offB = offB;
            this.ldb = ldb;
            this.c = c;
            this.offC = offC;
            this.ldc = ldc;
            // Row blocks of at most MC rows, as many as a multiple of the workers, and near-equal
            // in whole micro-tiles: with plain MC blocks 512 rows made 21 blocks and a sliver of
            // 8 rows, so one worker got a block more than the other.
            this.strips = ceilDiv(m, MR);
            this.rowBlocks = roundUp(ceilDiv(strips, MC / MR), threads.size());
            try {
                for (jc = 0; jc < n; jc += NC) {
                    nc = Math.min(NC, n - jc);
                    for (pc = 0; pc < k; pc += KC) {
                        kc = Math.min(KC, k - pc);
                        this.beta = pc == 0 ? beta : 1f; // later k-blocks accumulate onto C
                        packing = true;
                        // Claimed strips: a worker that wakes late leaves its share to the others.
                        threads.runClaimed(ceilDiv(nc, NR), threads.size(), this);
                        packing = false;
                        threads.runClaimed(rowBlocks, threads.size(), this);
                    }
                }
            } finally {
                this.a = this.b = this.c = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            if (packing) {
                for (int strip = begin; strip < end; strip++) {
                    int jr = strip * NR;
                    packBStrip(kernels[worker], transB, b, offB, ldb, pc, jc + jr, kc, Math.min(NR, nc - jr), sharedB, jr * kc);
                }
                return;
            }
            Panels p = panels(worker).fit(m, 0, kc);
            for (int block = begin; block < end; block++) {
                int ic = (int) ((long) strips * block / rowBlocks) * MR;
                int mc = Math.min((int) ((long) strips * (block + 1) / rowBlocks) * MR, m) - ic;
                packA(transA, a, offA, lda, ic, pc, mc, kc, p.a);
                kernels[worker].gemmBlock(p.a, 0, sharedB, mc, nc, kc, c, offC + ic * ldc + jc, ldc, alpha, beta);
            }
        }
    }

    /**
     * A source of op(B) that is never stored as a matrix: it writes any panel of it straight
     * into the packed layout. The forward convolution uses one to fuse im2col into the GEMM's
     * packing ("implicit GEMM"), so the column matrix is never built and then copied again.
     */
    interface PanelSource {
        /**
         * Writes depth [p0, p0+kc) x columns [j0, j0+nc) of op(B) as strips of NR columns:
         * {@code dst[(j/NR)*kc*NR + p*NR + j%NR]} for column j0+j at depth p0+p; the columns
         * past nc in the last strip must be written as zero.
         */
        void packPanel(int p0, int kc, int j0, int nc, float[] dst);
    }

    /** One GEMM on the calling worker, with that worker's panels (used inside other ops' parallel loops). */
    void multiply(int worker, boolean transA, boolean transB, int m, int n, int k, float alpha,
                  float[] a, int offA, int lda, float[] b, int offB, int ldb,
                  float beta, float[] c, int offC, int ldc) {
        multiply(worker, transA, m, n, k, alpha, a, offA, lda, null, 0, 0, null, transB, b, offB, ldb, beta, c, offC, ldc);
    }

    /** {@link #multiply} with op(B) [k, n] produced by {@code source} (see {@link PanelSource}). */
    void multiply(int worker, boolean transA, int m, int n, int k, float alpha, float[] a, int offA, int lda,
                  PanelSource source, float beta, float[] c, int offC, int ldc) {
        multiply(worker, transA, m, n, k, alpha, a, offA, lda, null, 0, 0, source, false, null, 0, 0, beta, c, offC, ldc);
    }

    /**
     * Packs all of op(A) [m, k] once, for several products that share it (a convolution's
     * weights, the same for every sample): the block of depth [pc, pc+kc) and rows [ic, ic+mc)
     * lies at {@code dst[pc * roundUp(m, MR) + ic * kc ...]} in exactly the layout the per-call
     * packing would give it, so products from it give the same bits. dst holds at least
     * {@code roundUp(m, MR) * k} floats.
     */
    static void packWhole(boolean transA, float[] a, int offA, int lda, int m, int k, float[] dst) {
        int rows = roundUp(m, MR);
        for (int pc = 0; pc < k; pc += KC) {
            int kc = Math.min(KC, k - pc);
            for (int ic = 0; ic < m; ic += MC) {
                packAInto(transA, a, offA, lda, ic, pc, Math.min(MC, m - ic), kc, dst, pc * rows + ic * kc);
            }
        }
    }

    /**
     * {@link #multiply} with rows [row0, row0+m) of an op(A) packed by {@link #packWhole} (of
     * {@code packedM} rows; row0 a multiple of MR) and B from the array b or from {@code source}.
     */
    void multiplyPacked(int worker, float[] packedA, int row0, int packedM, int m, int n, int k, float alpha,
                        PanelSource source, boolean transB, float[] b, int offB, int ldb,
                        float beta, float[] c, int offC, int ldc) {
        multiply(worker, false, m, n, k, alpha, null, 0, 0, packedA, row0, roundUp(packedM, MR), source, transB, b, offB, ldb,
                beta, c, offC, ldc);
    }

    /**
     * {@link #multiplyPacked} with the packed op(A) from {@code packedA[packedOffset]} on, all
     * {@code m} of its rows, B the array b: for an A written in {@link #packWhole}'s layout by its
     * producer (one depth block, {@code k <= KC}: {@code [row / MR][depth][row % MR]}).
     */
    void multiplyPacked(int worker, float[] packedA, int packedOffset, int m, int n, int k, float alpha, boolean transB,
                        float[] b, int offB, int ldb, float beta, float[] c, int offC, int ldc) {
        multiply(worker, false, m, n, k, alpha, null, packedOffset, 0, packedA, 0, roundUp(m, MR), null, transB, b, offB, ldb,
                beta, c, offC, ldc);
    }

    /**
     * The blocked loops of all forms: B from {@code source} when it is not null, else from the
     * array b; A from {@code packedA} (rows from {@code packedRow0} of a {@link #packWhole} of
     * {@code packedRows} rounded rows, from {@code packedA[offA]} on) when it is not null, else
     * packed here from the array a.
     */
    private void multiply(int worker, boolean transA, int m, int n, int k, float alpha, float[] a, int offA, int lda,
                          float[] packedA, int packedRow0, int packedRows,
                          PanelSource source, boolean transB, float[] b, int offB, int ldb,
                          float beta, float[] c, int offC, int ldc) {
        if (m == 0 || n == 0) return;
        if (k == 0) {
            scale(c, offC, ldc, m, n, beta);
            return;
        }
        Panels p = panels(worker).fit(m, n, k);
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                if (m <= SKINNY_ROWS) {
                    multiplySkinny(worker, p, transA, m, nc, jc, kc, pc, alpha, a, offA, lda, packedA, packedRow0, packedRows,
                            source, transB, b, offB, ldb, pc == 0 ? beta : 1f, c, offC, ldc);
                    continue;
                }
                if (source != null) source.packPanel(pc, kc, jc, nc, p.b);
                else for (int jr = 0; jr < nc; jr += NR) {
                    packBStrip(kernels[worker], transB, b, offB, ldb, pc, jc + jr, kc, Math.min(NR, nc - jr), p.b, jr * kc);
                }
                float blockBeta = pc == 0 ? beta : 1f; // later k-blocks accumulate onto C
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    if (packedA != null) {
                        // Block (pc, ic) of a whole pre-packed A: see packWhole.
                        kernels[worker].gemmBlock(packedA, offA + pc * packedRows + (packedRow0 + ic) * kc, p.b, mc, nc, kc,
                                c, offC + ic * ldc + jc, ldc, alpha, blockBeta);
                    } else {
                        packA(transA, a, offA, lda, ic, pc, mc, kc, p.a);
                        kernels[worker].gemmBlock(p.a, 0, p.b, mc, nc, kc, c, offC + ic * ldc + jc, ldc, alpha, blockBeta);
                    }
                }
            }
        }
    }

    /**
     * One (column panel, k-block) of a product of at most {@link #SKINNY_ROWS} rows: all rows of
     * op(A) packed (or taken from packedA: its blocks of a k-block lie one after another, see
     * {@link #packWhole}), then each B strip packed and at once multiplied by all of them, so the
     * strip is read from L1/L2 by every row tile. A panel source writes the whole panel. The same
     * k-blocks and tiles as the general loop, so the same bits.
     */
    private void multiplySkinny(int worker, Panels p, boolean transA, int m, int nc, int jc, int kc, int pc, float alpha,
                                float[] a, int offA, int lda, float[] packedA, int packedRow0, int packedRows,
                                PanelSource source, boolean transB, float[] b, int offB, int ldb,
                                float beta, float[] c, int offC, int ldc) {
        CpuKernels kernels = this.kernels[worker];
        float[] pa = packedA;
        int ao = offA + pc * packedRows + packedRow0 * kc;
        if (packedA == null) {
            packAInto(transA, a, offA, lda, 0, pc, m, kc, p.a, 0);
            pa = p.a;
            ao = 0;
        }
        if (source != null) {
            source.packPanel(pc, kc, jc, nc, p.b);
            kernels.gemmBlock(pa, ao, p.b, m, nc, kc, c, offC + jc, ldc, alpha, beta);
            return;
        }
        for (int jr = 0; jr < nc; jr += NR) {
            int cols = Math.min(NR, nc - jr);
            packBStrip(kernels, transB, b, offB, ldb, pc, jc + jr, kc, cols, p.b, 0);
            kernels.gemmBlock(pa, ao, p.b, m, cols, kc, c, offC + jc + jr, ldc, alpha, beta);
        }
    }

    private Panels panels(int worker) {
        Panels p = panels[worker];
        if (p == null) panels[worker] = p = new Panels();
        return p;
    }

    /** C = beta * C (C = 0 without reading it when beta == 0), for k == 0. */
    private static void scale(float[] c, int offC, int ldc, int m, int n, float beta) {
        for (int i = 0; i < m; i++) {
            int row = offC + i * ldc;
            if (beta == 0f) Arrays.fill(c, row, row + n, 0f);
            else for (int j = 0; j < n; j++) c[row + j] *= beta;
        }
    }

    /**
     * Packs rows [ic, ic+mc) x depth [pc, pc+kc) of op(A) into strips of MR rows:
     * {@code dst[strip*MR*kc + p*MR + r]}, rows past mc zero.
     */
    private static void packA(boolean transA, float[] a, int offA, int lda, int ic, int pc, int mc, int kc, float[] dst) {
        packAInto(transA, a, offA, lda, ic, pc, mc, kc, dst, 0);
    }

    /** {@link #packA} to {@code dst} from {@code at} on. */
    private static void packAInto(boolean transA, float[] a, int offA, int lda, int ic, int pc, int mc, int kc, float[] dst, int at) {
        for (int ir = 0; ir < mc; ir += MR) {
            int base = at + ir * kc;
            int rows = Math.min(MR, mc - ir);
            if (!transA) {
                // A is [m, k]: walk each row along k.
                for (int r = 0; r < MR; r++) {
                    if (r < rows) {
                        int src = offA + (ic + ir + r) * lda + pc;
                        for (int p = 0; p < kc; p++) dst[base + p * MR + r] = a[src + p];
                    } else {
                        for (int p = 0; p < kc; p++) dst[base + p * MR + r] = 0f;
                    }
                }
            } else {
                // A is stored [k, m]: the MR values of one depth step are contiguous.
                for (int p = 0; p < kc; p++) {
                    int src = offA + (pc + p) * lda + ic + ir;
                    int d = base + p * MR;
                    for (int r = 0; r < rows; r++) dst[d + r] = a[src + r];
                    for (int r = rows; r < MR; r++) dst[d + r] = 0f;
                }
            }
        }
    }

    /**
     * Packs depth [pc, pc+kc) x columns [j0, j0+cols) of op(B), cols <= NR, as one strip at
     * {@code dst[base + p*NR + j]}, columns past cols zero.
     */
    private static void packBStrip(CpuKernels kernels, boolean transB, float[] b, int offB, int ldb, int pc, int j0, int kc, int cols,
                                   float[] dst, int base) {
        if (!transB) {
            // B is [k, n]: one depth step of a strip is a contiguous run of a row.
            if (cols == NR) {
                // Whole strips (all but the panel's last): a System.arraycopy call per row of a
                // strip cost about 10% of a 1024^3 product; the kernels copy it with two vectors.
                kernels.copyStrip(b, offB + pc * ldb + j0, ldb, dst, base, kc);
                return;
            }
            for (int p = 0; p < kc; p++) {
                int src = offB + (pc + p) * ldb + j0;
                int d = base + p * NR;
                System.arraycopy(b, src, dst, d, cols);
                Arrays.fill(dst, d + cols, d + NR, 0f);
            }
        } else {
            // B is stored [n, k]: a transpose, TRANSPOSE_DEPTH depth steps at a time. Walking each
            // stored row along all of kc wrote the strip (128 KB at kc = 1024) with a stride of
            // NR floats, a cache line per store, once per column: the dense layer's forward pass
            // (64x1024x3136, B the weights) ran 1.1x slower so.
            for (int p0 = 0; p0 < kc; p0 += TRANSPOSE_DEPTH) {
                int p1 = Math.min(kc, p0 + TRANSPOSE_DEPTH);
                for (int j = 0; j < NR; j++) {
                    if (j < cols) {
                        int src = offB + (j0 + j) * ldb + pc;
                        for (int p = p0; p < p1; p++) dst[base + p * NR + j] = b[src + p];
                    } else {
                        for (int p = p0; p < p1; p++) dst[base + p * NR + j] = 0f;
                    }
                }
            }
        }
    }

    /** Depth steps of a transposed B strip copied per pass: 16 rows of the strip, 2 KB at NR = 32, stay in L1. */
    private static final int TRANSPOSE_DEPTH = 16;

    static int ceilDiv(int a, int b) { return (a + b - 1) / b; }

    static int roundUp(int a, int multiple) { return ceilDiv(a, multiple) * multiple; }
}
