package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.neurite.backend.Backend;
import org.neurite.backend.CheckedBackend;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * {@code Backend.gemm} against a naive triple loop in double: every transpose combination,
 * sizes that are not multiples of the micro-tile (1, 7, 33, 129, ...) or that cross the k-block
 * (257, 300), alpha/beta, padded leading dimensions, offsets, batches with gaps between
 * matrices, bit-identical results for any thread count, and the refusals of the checking wrapper.
 */
class CpuGemmTest {
    private static CpuBackend cpu;

    @BeforeAll static void start() { cpu = new CpuBackend(3); }

    @AfterAll static void stop() { cpu.close(); }

    static Stream<Arguments> shapes() {
        int[][] mnk = {{1, 1, 1}, {7, 7, 7}, {6, 16, 1}, {33, 17, 5}, {1, 129, 33}, {129, 1, 33}, {200, 3, 7},
                {13, 40, 257}, {129, 65, 300}, {12, 2 * CpuGemm.NR, 64},
                // Tall enough for the shared-panel path on 3 threads (m >= 2 * MC * 3), wider than
                // one B panel (n > NC) and deeper than one k-block.
                {2 * CpuGemm.MC * 3 + 5, CpuGemm.NC + 17, CpuGemm.KC + 13}};
        float[][] alphaBeta = {{1f, 0f}, {0.5f, -1.5f}, {-2f, 1f}};
        List<Arguments> out = new ArrayList<>();
        int i = 0;
        for (int[] s : mnk) {
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    float[] ab = alphaBeta[i++ % alphaBeta.length];
                    out.add(Arguments.of(ta, tb, s[0], s[1], s[2], ab[0], ab[1]));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "transA={0} transB={1} m={2} n={3} k={4} alpha={5} beta={6}")
    @MethodSource("shapes")
    void matchesNaiveProduct(boolean transA, boolean transB, int m, int n, int k, float alpha, float beta) {
        Random rnd = new Random(31L * m + 17L * n + k + (transA ? 1 : 0) + (transB ? 2 : 0));
        // Stored shapes with padded leading dimensions and leading offsets, to catch any ld/offset mix-up.
        int aRows = transA ? k : m, aCols = transA ? m : k, lda = aCols + 3, offA = 5;
        int bRows = transB ? n : k, bCols = transB ? k : n, ldb = bCols + 1, offB = 2;
        int ldc = n + 4, offC = 3;
        float[] a = random(rnd, offA + aRows * lda), b = random(rnd, offB + bRows * ldb), c = random(rnd, offC + m * ldc);

        float[] expected = naive(transA, transB, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc);
        float[] actual = run(cpu, transA, transB, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc, 1, 0, 0, 0);

        assertGemmClose(expected, actual, c, m, n, k, offC, ldc, alpha);
    }

    /**
     * A packed once for several products ({@link CpuGemm#packWhole}, used for convolution
     * weights) gives the bits of packing it per product, for the whole matrix and for a block of
     * rows starting at a multiple of MR, with A plain and transposed, over several k-blocks.
     */
    @ParameterizedTest(name = "transA {0}")
    @MethodSource("bools")
    void aWholePackedAGivesTheSameBitsAsPackingPerProduct(boolean transA) {
        Random rnd = new Random(transA ? 41 : 42);
        int m = 37, n = 50, k = 300, lda = transA ? m : k;
        float[] a = random(rnd, m * k), b = random(rnd, k * n);
        float[] packed = new float[CpuGemm.roundUp(m, CpuGemm.MR) * k];
        CpuGemm.packWhole(transA, a, 0, lda, m, k, packed);
        try (CpuThreads threads = new CpuThreads(1)) {
            CpuGemm gemm = new CpuGemm(threads, CpuKernels.Path.select());
            int mr = CpuGemm.MR, last = (m - 1) / mr * mr;
            int[][] blocks = {{0, m}, {2 * mr, 19}, {last, m - last}};
            for (int[] block : blocks) {
                int row0 = block[0], rows = block[1];
                float[] expected = new float[rows * n], actual = new float[rows * n];
                gemm.multiply(0, transA, false, rows, n, k, 1f, a, transA ? row0 : row0 * lda, lda, b, 0, n, 0f, expected, 0, n);
                gemm.multiplyPacked(0, packed, row0, m, rows, n, k, 1f, null, false, b, 0, n, 0f, actual, 0, n);
                assertArrayEquals(expected, actual, "rows " + row0 + ".." + (row0 + rows));
            }
        }
    }

    static Stream<Boolean> bools() {
        return Stream.of(false, true);
    }

    @Test
    void batchedWithStridesAndOffsetsLeavesGapsAlone() {
        int m = 9, n = 14, k = 11, batch = 3;
        int lda = k, ldb = n, ldc = n;
        // Each matrix is followed by a gap; C's gaps hold a sentinel that must survive.
        int strideA = m * lda + 7, strideB = k * ldb + 5, strideC = m * ldc + 6;
        int offA = 4, offB = 1, offC = 2;
        Random rnd = new Random(7);
        float[] a = random(rnd, offA + batch * strideA), b = random(rnd, offB + batch * strideB);
        float[] c = new float[offC + batch * strideC];
        Arrays.fill(c, 42f);
        float[] actual = run(cpu, false, false, m, n, k, 1.25f, a, offA, lda, b, offB, ldb, 0f, c, offC, ldc, batch, strideA, strideB, strideC);
        float[] expected = c.clone();
        for (int bi = 0; bi < batch; bi++) {
            float[] one = naive(false, false, m, n, k, 1.25f, a, offA + bi * strideA, lda, b, offB + bi * strideB, ldb, 0f,
                    expected, offC + bi * strideC, ldc);
            System.arraycopy(one, offC + bi * strideC, expected, offC + bi * strideC, m * ldc);
        }
        for (int i = 0; i < c.length; i++) {
            assertEquals(expected[i], actual[i], 1e-4 * (1 + Math.abs(expected[i])), "element " + i);
        }
        assertEquals(42f, actual[0], "before the first matrix");
        assertEquals(42f, actual[offC + strideC - 1], "gap after the first matrix");
    }

    @Test
    void betaZeroDoesNotReadC() {
        int m = 10, n = 20, k = 30;
        Random rnd = new Random(3);
        float[] a = random(rnd, m * k), b = random(rnd, k * n), c = new float[m * n];
        Arrays.fill(c, Float.NaN);
        float[] actual = run(cpu, false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n, 1, 0, 0, 0);
        float[] expected = naive(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, new float[m * n], 0, n);
        for (int i = 0; i < actual.length; i++) assertEquals(expected[i], actual[i], 1e-4 * (1 + Math.abs(expected[i])), "element " + i);
    }

    @Test
    void emptyInnerDimensionScalesC() {
        float[] c = {1f, 2f, 3f, 4f};
        float[] scaled = run(cpu, false, false, 2, 2, 0, 1f, new float[1], 0, 1, new float[1], 0, 2, 0.5f, c, 0, 2, 1, 0, 0, 0);
        assertArrayEquals(new float[] {0.5f, 1f, 1.5f, 2f}, scaled);
        float[] zeroed = run(cpu, false, false, 2, 2, 0, 1f, new float[1], 0, 1, new float[1], 0, 2, 0f, new float[] {Float.NaN, 1, 2, 3}, 0, 2, 1, 0, 0, 0);
        assertArrayEquals(new float[4], zeroed);
    }

    /**
     * Each element is computed by one fixed fma sequence, so 1, 2, 3 or 5 threads give the same
     * bits, for the grid of blocks (m = 150) and for the shared B panel (m = 512 and 700: shared
     * on 2 and 3 threads, a grid on 1 and 5; their row blocks are cut into near-equal runs of 3
     * and 4 micro-tiles, the last one partial), whichever worker claims which block.
     */
    @ParameterizedTest(name = "m={0}")
    @ValueSource(ints = {150, 512, 700})
    void identicalBitsForAnyThreadCount(int m) {
        int n = 301, k = 600;
        Random rnd = new Random(11);
        float[] a = random(rnd, k * m), b = random(rnd, n * k), c = random(rnd, m * n);
        float[] reference = null;
        for (int threads : new int[] {1, 2, 3, 5}) {
            try (CpuBackend backend = new CpuBackend(threads)) {
                float[] out = run(backend, true, true, m, n, k, 0.75f, a, 0, m, b, 0, k, 0.5f, c, 0, n, 1, 0, 0, 0);
                if (reference == null) reference = out;
                else assertArrayEquals(reference, out, threads + " threads vs 1 thread");
            }
        }
    }

    /**
     * Row counts around every tile edge and the {@link CpuGemm#SKINNY_ROWS} limit: up to the limit
     * a product packs all of A and one B strip at a time, above it the MC-row blocks of the
     * general loop. Every row of a skinny product gives the bits of the same row inside a product
     * too tall for that loop (same A rows on top, same B), on 1 and 2 threads (where the tall one
     * shares its B panel), and matches the double-precision product. Columns end in a partial
     * strip and k spans two k-blocks, the second not a whole number of transpose passes.
     */
    @ParameterizedTest(name = "transA={0} transB={1} m={2}")
    @MethodSource("skinnyShapes")
    void skinnyProductsGiveTheBitsOfTheGeneralLoop(boolean transA, boolean transB, int m) {
        int tall = CpuGemm.SKINNY_ROWS + 2 * CpuGemm.MC + 5, n = 2 * CpuGemm.NR + 5, k = CpuGemm.KC + 13;
        float alpha = 0.75f, beta = -0.5f;
        Random rnd = new Random(97L * m + (transA ? 1 : 0) + (transB ? 2 : 0));
        // A of the tall product, stored with leading dimension for `tall` rows; the skinny A is its top m rows.
        float[] aTall = random(rnd, tall * k), b = random(rnd, k * n), c = random(rnd, tall * n);
        int ldaTall = transA ? tall : k, ldb = transB ? k : n;
        float[] a = transA ? aTall : Arrays.copyOf(aTall, m * k);
        int lda = transA ? tall : k;
        float[] expected = naive(transA, transB, m, n, k, alpha, a, 0, lda, b, 0, ldb, beta, Arrays.copyOf(c, m * n), 0, n);
        for (int threads : new int[] {1, 2}) {
            try (CpuBackend backend = new CpuBackend(threads)) {
                float[] whole = run(backend, transA, transB, tall, n, k, alpha, aTall, 0, ldaTall, b, 0, ldb, beta, c, 0, n, 1, 0, 0, 0);
                float[] skinny = run(backend, transA, transB, m, n, k, alpha, a, 0, lda, b, 0, ldb, beta, Arrays.copyOf(c, m * n), 0, n,
                        1, 0, 0, 0);
                assertArrayEquals(Arrays.copyOf(whole, m * n), skinny, threads + " threads: the top " + m + " rows of " + tall);
                assertGemmClose(expected, skinny, Arrays.copyOf(c, m * n), m, n, k, 0, n, alpha);
            }
        }
    }

    /**
     * A product with a transposed B, few rows and many more columns (a dense layer's forward
     * pass) runs as C^T = B op(A)^T into a scratch: it gives the bits of the same rows inside a
     * product too tall for that (same A rows on top), with beta 0 (C not read: NaN stays out) and
     * not 0, at offsets and padded leading dimensions, on 1 and 2 threads, and matches the double
     * product elsewhere untouched.
     */
    @ParameterizedTest(name = "transA={0} beta={1}")
    @MethodSource("transposedCases")
    void aWideProductWithTransposedBGivesTheBitsOfTheGeneralLoop(boolean transA, float beta) {
        int m = 37, n = 4 * m + 3, k = CpuGemm.KC + 21, tall = CpuGemm.SKINNY_ROWS + 9, offA = 3, offB = 2, offC = 5, ldb = k + 2;
        int ldaTall = (transA ? tall : k) + 1, lda = (transA ? m : k) + 1, ldc = n + 3;
        float alpha = 1.25f;
        Random rnd = new Random(transA ? 71 : 72);
        float[] aTall = random(rnd, offA + (transA ? k : tall) * ldaTall), b = random(rnd, offB + n * ldb);
        float[] c = random(rnd, offC + tall * ldc);
        if (beta == 0f) Arrays.fill(c, Float.NaN);
        // The top m rows of the tall A, stored with their own leading dimension.
        float[] a = new float[offA + (transA ? k : m) * lda];
        for (int i = 0; i < m; i++) {
            for (int p = 0; p < k; p++) {
                if (transA) a[offA + p * lda + i] = aTall[offA + p * ldaTall + i];
                else a[offA + i * lda + p] = aTall[offA + i * ldaTall + p];
            }
        }
        float[] cSmall = Arrays.copyOf(c, offC + m * ldc);
        float[] expected = naive(transA, true, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, cSmall, offC, ldc);
        for (int threads : new int[] {1, 2}) {
            try (CpuBackend backend = new CpuBackend(threads)) {
                float[] whole = run(backend, transA, true, tall, n, k, alpha, aTall, offA, ldaTall, b, offB, ldb, beta, c, offC, ldc,
                        1, 0, 0, 0);
                float[] wide = run(backend, transA, true, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, cSmall, offC, ldc, 1, 0, 0, 0);
                for (int i = 0; i < m; i++) {
                    int row = offC + i * ldc;
                    assertArrayEquals(Arrays.copyOfRange(whole, row, row + n), Arrays.copyOfRange(wide, row, row + n),
                            threads + " threads, row " + i);
                }
                assertGemmClose(expected, wide, cSmall, m, n, k, offC, ldc, alpha);
            }
        }
    }

    static Stream<Arguments> transposedCases() {
        return Stream.of(Arguments.of(false, 0f), Arguments.of(false, -0.5f), Arguments.of(true, 0f), Arguments.of(true, 0.75f));
    }

    static Stream<Arguments> skinnyShapes() {
        int mr = CpuGemm.MR, limit = CpuGemm.SKINNY_ROWS;
        int[] rows = {1, mr - 1, mr, mr + 1, 2 * mr + 3, CpuGemm.MC + 1, 64, limit - 1, limit, limit + 1};
        List<Arguments> out = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) out.add(Arguments.of((i & 1) != 0, (i & 2) != 0, rows[i]));
        out.add(Arguments.of(false, true, 64));
        out.add(Arguments.of(true, false, 64));
        return out.stream();
    }

    /** Refusals come from the checking wrapper the runtime puts around every backend. */
    @Test
    void theCheckingWrapperRefusesBadArguments() {
        Backend checked = CheckedBackend.wrap(cpu);
        Tensor a = cpu.allocate(Shape.of(4, 5)), b = cpu.allocate(Shape.of(5, 6)), c = cpu.allocate(Shape.of(4, 6));
        Gemm product = Gemm.of(4, 6, 5);
        IllegalArgumentException ld = assertThrows(IllegalArgumentException.class,
                () -> checked.gemm(product, 1f, Matrix.of(a, 4), Matrix.of(b, 6), 0f, Matrix.of(c, 6)));
        assertEquals("gemm: leading dimension of A is 4, must be >= 5", ld.getMessage());
        IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
                () -> checked.gemm(product, 1f, Matrix.at(a, 1, 5), Matrix.of(b, 6), 0f, Matrix.of(c, 6)));
        assertEquals("gemm: A [4 x 5, ld 5] x 1 from offset 1 (stride 0) reaches element 20 of a tensor of 20", range.getMessage());
        IllegalArgumentException batched = assertThrows(IllegalArgumentException.class,
                () -> checked.gemm(product.batched(2), 1f, Matrix.of(a, 5), Matrix.of(b, 6), 0f, Matrix.batched(c, 0, 6, 24)));
        assertEquals("gemm: C [4 x 6, ld 6] x 2 from offset 0 (stride 24) reaches element 47 of a tensor of 24", batched.getMessage());
        try (CpuBackend other = new CpuBackend(1)) {
            Tensor foreign = other.allocate(Shape.of(4, 5));
            IllegalArgumentException owner = assertThrows(IllegalArgumentException.class,
                    () -> checked.gemm(product, 1f, Matrix.of(foreign, 5), Matrix.of(b, 6), 0f, Matrix.of(c, 6)));
            assertEquals("a [4, 5] belongs to backend 'cpu' (" + other.description() + "), not to backend 'cpu' (" + cpu.description() + ")",
                    owner.getMessage());
        }
    }

    /**
     * A skinny product with B stored transposed runs as C^T = B op(A)^T, C moved into and out of
     * the scratch by 16 x 16 block transposes when both sides are whole lane groups (the LSTM's
     * recurrent product 64x512x128 with beta 1, C dense): the bits of the same product with B
     * stored untransposed (each element the same fma chain), for C dense or padded, beta 0 or not,
     * and sides that are not whole lane groups (the copies a float at a time).
     */
    @ParameterizedTest(name = "m={0} n={1} k={2} beta={3} padded C={4}")
    @MethodSource("skinnyTransposedShapes")
    void skinnyTransposedProductGivesTheUntransposedBits(int m, int n, int k, float beta, boolean paddedC) {
        Random rnd = new Random(7L * m + n + k);
        int ldc = paddedC ? n + 4 : n, offC = paddedC ? 3 : 0;
        float[] bt = random(rnd, n * k), b = new float[k * n], a = random(rnd, m * k), c = random(rnd, offC + m * ldc);
        for (int j = 0; j < n; j++) for (int p = 0; p < k; p++) b[p * n + j] = bt[j * k + p];
        float[] transposed = run(cpu, false, true, m, n, k, 1f, a, 0, k, bt, 0, k, beta, c, offC, ldc, 1, 0, 0, 0);
        float[] plain = run(cpu, false, false, m, n, k, 1f, a, 0, k, b, 0, n, beta, c, offC, ldc, 1, 0, 0, 0);
        assertArrayEquals(plain, transposed);
    }

    static Stream<Arguments> skinnyTransposedShapes() {
        return Stream.of(Arguments.of(64, 512, 128, 1f, false), Arguments.of(64, 512, 128, 0f, false), Arguments.of(32, 128, 40, 0.5f, true),
                Arguments.of(48, 208, 33, 1f, false), Arguments.of(20, 96, 17, 1f, false), Arguments.of(64, 300, 64, 0f, true));
    }

    // ---- helpers ------------------------------------------------------------------------

    static float[] random(Random rnd, int size) {
        float[] v = new float[size];
        for (int i = 0; i < size; i++) v[i] = (float) (rnd.nextDouble() * 2 - 1);
        return v;
    }

    /** Uploads, runs the backend's gemm and returns the whole of C. */
    static float[] run(CpuBackend backend, boolean transA, boolean transB, int m, int n, int k, float alpha,
                       float[] a, int offA, int lda, float[] b, int offB, int ldb, float beta, float[] c, int offC, int ldc,
                       int batch, int strideA, int strideB, int strideC) {
        Tensor ta = backend.allocate(Shape.of(a.length)), tb = backend.allocate(Shape.of(b.length)), tc = backend.allocate(Shape.of(c.length));
        backend.upload(a, ta);
        backend.upload(b, tb);
        backend.upload(c, tc);
        backend.gemm(new Gemm(transA, transB, m, n, k, batch), alpha, Matrix.batched(ta, offA, lda, strideA),
                Matrix.batched(tb, offB, ldb, strideB), beta, Matrix.batched(tc, offC, ldc, strideC));
        return backend.download(tc);
    }

    /** C (a copy, whole array) = alpha op(A) op(B) + beta C by the textbook loop in double. */
    static float[] naive(boolean transA, boolean transB, int m, int n, int k, float alpha,
                         float[] a, int offA, int lda, float[] b, int offB, int ldb, float beta, float[] c, int offC, int ldc) {
        float[] out = c.clone();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    double av = transA ? a[offA + p * lda + i] : a[offA + i * lda + p];
                    double bv = transB ? b[offB + j * ldb + p] : b[offB + p * ldb + j];
                    sum += av * bv;
                }
                double prior = beta == 0f ? 0 : beta * (double) c[offC + i * ldc + j];
                out[offC + i * ldc + j] = (float) (alpha * sum + prior);
            }
        }
        return out;
    }

    /** Elements of C inside the product within float rounding of a k-term sum; everything else untouched. */
    private static void assertGemmClose(float[] expected, float[] actual, float[] original, int m, int n, int k, int offC, int ldc,
                                        float alpha) {
        for (int idx = 0; idx < actual.length; idx++) {
            int rel = idx - offC;
            boolean inside = rel >= 0 && rel / ldc < m && rel % ldc < n;
            if (!inside) {
                assertEquals(original[idx], actual[idx], "element " + idx + " outside C was written");
                continue;
            }
            // Inputs are in [-1, 1], so |terms| <= |alpha| * k + |beta * c|; float rounding grows with k.
            double bound = 1e-6 * (Math.abs(alpha) * k + 2) * Math.max(1, Math.sqrt(k));
            assertEquals(expected[idx], actual[idx], bound, "C[" + rel / ldc + "][" + rel % ldc + "]");
        }
    }
}
