package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.neurite.backend.Slice;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * {@code sumOfSquares} (a gradient's squared norm, the MSE loss) gives, bit for bit, the sum it
 * documents: {@link CpuElementwise#CHUNK}-sized chunks in index order, each the 16 lane partials
 * of {@link CpuElementwise#sumOfSquares(float[], int, int)} added in order, then the chunk's last
 * elements; on 1, 2 and 3 threads, on the plain path as on the Vector API, and within 1e-12 of
 * the exact sum. Lengths around the 16-element groups, the chunk and the parallel threshold;
 * values over twelve orders of magnitude, so that adding in another order would change the last
 * bits.
 */
class CpuSumOfSquaresTest {
    private static final int CHUNK = CpuElementwise.CHUNK;

    @ParameterizedTest(name = "n={0}")
    @ValueSource(ints = {0, 1, 15, 16, 17, 33, CHUNK - 1, CHUNK, CHUNK + 17, 2 * CHUNK + 15, 5 * CHUNK + 3})
    void everyPathAndThreadCountGivesTheDocumentedSum(int n) {
        float[] x = values(n, n);
        double expected = documentedSum(x);
        BigDecimal exact = BigDecimal.ZERO;
        for (float v : x) exact = exact.add(new BigDecimal((double) v).multiply(new BigDecimal((double) v)));
        assertEquals(exact.doubleValue(), expected, 1e-12 * exact.doubleValue(), "against the exact sum");
        for (CpuKernels.Path path : paths()) {
            for (int threads : new int[] {1, 2, 3}) {
                try (CpuBackend backend = new CpuBackend(new BackendOptions(threads, null), path)) {
                    Tensor t = backend.allocate(Shape.of(n));
                    backend.upload(x, t);
                    String where = path + ", " + threads + " threads";
                    assertEquals(expected, backend.sumOfSquares(t), 0.0, where);
                    // The list form (the gradients' squared norm of a training step) adds the tensors' sums in order.
                    Tensor out = backend.allocate(Shape.of(3));
                    backend.sumOfSquares(List.of(t, t), Slice.of(out, 1, 1));
                    assertEquals((float) (expected + expected), backend.download(out)[1], 0f, where + ", list form");
                }
            }
        }
    }

    @ParameterizedTest(name = "n={0}")
    @ValueSource(ints = {40, CHUNK + 40})
    void infinityAndNaNComeThrough(int n) {
        for (CpuKernels.Path path : paths()) {
            try (CpuBackend backend = new CpuBackend(new BackendOptions(2, null), path)) {
                float[] x = values(n, 5);
                x[n - 23] = Float.NEGATIVE_INFINITY; // in a lane partial
                Tensor t = backend.allocate(Shape.of(n));
                backend.upload(x, t);
                assertEquals(Double.POSITIVE_INFINITY, backend.sumOfSquares(t), path.toString());
                x[n - 1] = Float.NaN; // in the tail
                backend.upload(x, t);
                assertTrue(Double.isNaN(backend.sumOfSquares(t)), path.toString());
            }
        }
    }

    /** The plain path, and the Vector API's where the JVM has it. */
    private static List<CpuKernels.Path> paths() {
        return CpuKernels.VECTOR_API_PRESENT ? List.of(CpuKernels.Path.PLAIN_JAVA, CpuKernels.Path.VECTOR_API)
                : List.of(CpuKernels.Path.PLAIN_JAVA);
    }

    /** The order the backend documents, written out. */
    private static double documentedSum(float[] x) {
        double total = 0;
        for (int from = 0; from < x.length; from += CHUNK) {
            int to = Math.min(x.length, from + CHUNK), whole = from + (to - from) / 16 * 16;
            double[] partial = new double[16];
            for (int i = from; i < whole; i++) partial[(i - from) % 16] += (double) x[i] * x[i];
            double chunk = 0;
            for (double p : partial) chunk += p;
            for (int i = whole; i < to; i++) chunk += (double) x[i] * x[i];
            total += chunk;
        }
        return total;
    }

    /** Signed values whose magnitudes span 1e-6 to 1e6. */
    private static float[] values(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) ((rnd.nextBoolean() ? 1 : -1) * Math.pow(10, rnd.nextDouble(-6, 6)));
        return x;
    }
}
