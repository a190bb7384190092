package org.neurite.benchmarks;

import static org.neurite.benchmarks.CommandLineOptions.intOption;

import java.io.BufferedReader;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.neurite.backend.Backend;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.backend.cpu.CpuBackend;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * SGEMM throughput of the CPU backend, the Java half of {@code benchmarks/peer/sgemm_peer.py}:
 * {@code C[n,n] = A[n,n] * B[n,n]} (row-major, no transposes, beta 0) through
 * {@link Backend#gemm}, {@code 2 n^3} flops per call.
 *
 * <p>Standalone, it times each size given on the command line over {@code --rounds} rounds (each
 * repeating the call for at least {@code --min-ms}, after two warm-up rounds) and prints one JSON
 * line per size with the median GFLOP/s. With {@code --serve} it instead reads lines
 * {@code "<n> <calls>"} from standard input, runs that many calls and answers with the seconds
 * they took: the peer script uses this to interleave Neurite's rounds with OpenBLAS's, so that
 * both see the same load on a shared machine. With {@code --cpu-time} (and {@code --threads 1})
 * it times by the thread's CPU time instead of the wall clock, which a loaded machine disturbs far
 * less. Either way it first warms up for
 * {@code --warm-up-ms} (default 3000) so that the JIT has compiled the kernels.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp "benchmarks/target/neurite-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \
 *   org.neurite.benchmarks.GemmThroughput --threads 2 --rounds 7 256 512 1024 2048</pre>
 */
public final class GemmThroughput {
    private final Backend backend;
    private final Map<Integer, Tensor[]> operands = new HashMap<>();
    /** Time by this thread's CPU time instead of the wall clock (--cpu-time, one thread only). */
    private final boolean cpuTime;

    private GemmThroughput(Backend backend, boolean cpuTime) {
        this.backend = backend;
        this.cpuTime = cpuTime;
    }

    public static void main(String[] args) throws IOException {
        int threads = intOption(args, "--threads", 2);
        int rounds = intOption(args, "--rounds", 7);
        int minMillis = intOption(args, "--min-ms", 200);
        List<Integer> sizes = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--serve") || args[i].equals("--cpu-time")) continue;
            if (args[i].startsWith("--")) i++;
            else sizes.add(Integer.parseInt(args[i]));
        }
        if (sizes.isEmpty()) sizes = List.of(256, 512, 1024, 2048);
        boolean cpuTime = Arrays.asList(args).contains("--cpu-time");
        if (cpuTime && threads != 1) {
            System.err.println("GemmThroughput: --cpu-time needs --threads 1 (the calling thread is then the only worker)");
            System.exit(2);
        }
        try (Backend backend = new CpuBackend(threads)) {
            GemmThroughput bench = new GemmThroughput(backend, cpuTime);
            bench.warmUp(intOption(args, "--warm-up-ms", 3000));
            if (Arrays.asList(args).contains("--serve")) {
                bench.serve();
                return;
            }
            for (int n : sizes) {
                double flops = 2.0 * n * n * n;
                int calls = bench.callsFor(n, minMillis);
                double[] gflops = new double[rounds];
                for (int r = -2; r < rounds; r++) {
                    double seconds = bench.time(n, calls);
                    if (r >= 0) gflops[r] = flops * calls / seconds / 1e9;
                }
                System.out.printf(Locale.ROOT, "{\"n\": %d, \"threads\": %d, \"gflops\": %.1f, \"rounds\": %s}%n",
                        n, threads, WorkloadThroughput.median(gflops), Arrays.toString(roundTo1(gflops)));
            }
        }
    }

    /**
     * Runs products of 256 (the grid path) and 1024 (the shared-panel path) for about
     * {@code millis} before anything is timed. The Vector API kernels run interpreted, allocating
     * every vector, until C2 has compiled them, which takes seconds on a loaded machine: with
     * only the two short warm-up rounds, the first size measured (256) kept climbing from
     * 0.4 to 19 GFLOP/s over its first five rounds, and its median said more about the JIT than
     * the kernel.
     */
    private void warmUp(int millis) {
        long end = System.nanoTime() + millis * 1_000_000L;
        while (System.nanoTime() < end) {
            time(256, 20);
            time(1024, 1);
        }
    }

    /** The line protocol of {@code --serve}: "n calls" in, seconds out, until end of input. */
    private void serve() throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        System.out.println("ready");
        System.out.flush();
        for (String line; (line = in.readLine()) != null; ) {
            String[] parts = line.trim().split("\\s+");
            if (parts.length != 2) continue;
            System.out.printf(Locale.ROOT, "%.9f%n", time(Integer.parseInt(parts[0]), Integer.parseInt(parts[1])));
            System.out.flush();
        }
    }

    /** Calls of size n that last about {@code minMillis}, estimated from one call. */
    private int callsFor(int n, int minMillis) {
        double once = time(n, 1);
        return (int) Math.max(1, Math.min(100_000, minMillis / 1e3 / Math.max(1e-9, once)));
    }

    /** Seconds taken by {@code calls} SGEMMs of size n. */
    private double time(int n, int calls) {
        Tensor[] abc = operands.computeIfAbsent(n, this::randomOperands);
        ThreadMXBean clock = ManagementFactory.getThreadMXBean();
        long start = cpuTime ? clock.getCurrentThreadCpuTime() : System.nanoTime();
        for (int i = 0; i < calls; i++) backend.gemm(new Gemm(false, false, n, n, n, 1), 1f, Matrix.of(abc[0], n),
                Matrix.of(abc[1], n), 0f, Matrix.of(abc[2], n));
        return ((cpuTime ? clock.getCurrentThreadCpuTime() : System.nanoTime()) - start) / 1e9;
    }

    /** A and B uniform in [-0.5, 0.5), C zero. */
    private Tensor[] randomOperands(int n) {
        SplittableRandom rng = new SplittableRandom(n);
        Tensor[] abc = new Tensor[3];
        for (int t = 0; t < 3; t++) {
            abc[t] = backend.allocate(Shape.of(n, n));
            if (t == 2) continue;
            float[] values = new float[n * n];
            for (int i = 0; i < values.length; i++) values[i] = (float) (rng.nextDouble() - 0.5);
            backend.upload(values, abc[t]);
        }
        return abc;
    }

    private static double[] roundTo1(double[] v) {
        return Arrays.stream(v).map(x -> Math.round(x * 10) / 10.0).toArray();
    }
}
