package org.neurite.benchmarks;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.neurite.backend.Backend;
import org.neurite.backend.cpu.CpuBackend;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * SGEMM throughput of the CPU backend, the Java half of {@code benchmarks/peer/sgemm_peer.py}:
 * for each size n it times {@code C[n,n] = A[n,n] * B[n,n]} (row-major, no transposes, beta 0)
 * through {@link Backend#gemm}, repeated until a round lasts at least {@code --min-ms}, and
 * prints one JSON line per size with the median GFLOP/s ({@code 2 n^3} flops per call) over
 * {@code --rounds} rounds. Warm-up rounds come first so that C2 has compiled the kernels.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp "benchmarks/target/benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \
 *   org.neurite.benchmarks.GemmThroughput --threads 2 --rounds 7 256 512 1024 2048</pre>
 */
public final class GemmThroughput {
    private GemmThroughput() {}

    public static void main(String[] args) {
        int threads = intOption(args, "--threads", 2);
        int rounds = intOption(args, "--rounds", 7);
        int minMillis = intOption(args, "--min-ms", 200);
        List<Integer> sizes = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].startsWith("--")) i++;
            else sizes.add(Integer.parseInt(args[i]));
        }
        if (sizes.isEmpty()) sizes = List.of(256, 512, 1024, 2048);
        try (Backend backend = new CpuBackend(threads)) {
            for (int n : sizes) {
                double[] gflops = measure(backend, n, rounds, minMillis);
                System.out.printf(Locale.ROOT, "{\"n\": %d, \"threads\": %d, \"gflops\": %.1f, \"rounds\": %s}%n",
                        n, threads, WorkloadThroughput.median(gflops), Arrays.toString(roundTo1(gflops)));
            }
        }
    }

    /** GFLOP/s of {@code rounds} timed rounds of n x n x n SGEMMs, after two warm-up rounds. */
    private static double[] measure(Backend backend, int n, int rounds, int minMillis) {
        Shape square = Shape.of(n, n);
        Tensor a = backend.allocate(square), b = backend.allocate(square), c = backend.allocate(square);
        SplittableRandom rng = new SplittableRandom(n);
        float[] values = new float[n * n];
        for (int i = 0; i < values.length; i++) values[i] = (float) (rng.nextDouble() - 0.5);
        backend.upload(values, a);
        for (int i = 0; i < values.length; i++) values[i] = (float) (rng.nextDouble() - 0.5);
        backend.upload(values, b);
        double flops = 2.0 * n * n * n;
        // Calls per round: enough to last minMillis, estimated from one call.
        long start = System.nanoTime();
        backend.gemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
        int calls = (int) Math.max(1, Math.min(100_000, minMillis * 1e6 / Math.max(1, System.nanoTime() - start)));
        double[] result = new double[rounds];
        for (int r = -2; r < rounds; r++) {
            start = System.nanoTime();
            for (int i = 0; i < calls; i++) backend.gemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
            double seconds = (System.nanoTime() - start) / 1e9;
            if (r >= 0) result[r] = flops * calls / seconds / 1e9;
        }
        return result;
    }

    private static int intOption(String[] args, String name, int fallback) {
        for (int i = 0; i < args.length - 1; i++) if (args[i].equals(name)) return Integer.parseInt(args[i + 1]);
        return fallback;
    }

    private static double[] roundTo1(double[] v) {
        return Arrays.stream(v).map(x -> Math.round(x * 10) / 10.0).toArray();
    }
}
