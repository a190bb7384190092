package org.neurite.backend.opencl;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.neurite.backend.Backend;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.backend.cpu.CpuBackend;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * SGEMM throughput of each OpenCL kernel next to the CPU backend, in one JVM with their rounds
 * interleaved (so on a shared machine every kernel sees the same load): {@code C[n,n] = A[n,n]
 * B[n,n]}, no transposes, beta 0, {@code 2 n^3} flops per call; each round repeats the call for at
 * least {@code --min-ms} after one warm-up, and the median GFLOP/s over {@code --rounds} is printed
 * per size and kernel. Not a test: a main run from the test classpath, e.g.
 *
 * <pre>mvn -q -o test-compile -pl backend-gpu-opencl && mvn -q -o dependency:build-classpath -pl backend-gpu-opencl -Dmdep.outputFile=/tmp/cp
 * java --add-modules jdk.incubator.vector -cp backend-gpu-opencl/target/test-classes:backend-gpu-opencl/target/classes:$(cat /tmp/cp) \
 *   org.neurite.backend.opencl.ClGemmBench --rounds 3 --threads 2 256 512 1024 2048</pre>
 */
public final class ClGemmBench {
    private ClGemmBench() {}

    public static void main(String[] args) {
        int rounds = 3, threads = 2, minMillis = 300;
        List<Integer> sizes = new ArrayList<>();
        List<ClGemm.Variant> variants = List.of(ClGemm.Variant.DIRECT, ClGemm.Variant.BLOCKED);
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--min-ms" -> minMillis = Integer.parseInt(args[++i]);
                case "--kernels" -> variants = Arrays.stream(args[++i].split(",")).map(ClGemm.Variant::valueOf).toList();
                default -> sizes.add(Integer.parseInt(args[i]));
            }
        }
        if (sizes.isEmpty()) sizes = List.of(256, 512, 1024, 2048);
        ClBackend cl = (ClBackend) new ClBackendProvider().create(new BackendOptions(0, System.getProperty("neurite.opencl.device")));
        try (cl; CpuBackend cpu = new CpuBackend(threads)) {
            System.out.println("device: " + cl.description());
            System.out.printf(Locale.ROOT, "%6s %12s %s%n", "n", "kernel", "GFLOP/s median [rounds]");
            for (int n : sizes) {
                List<String> names = new ArrayList<>();
                List<Runnable> calls = new ArrayList<>();
                List<Backend> owners = new ArrayList<>();
                for (ClGemm.Variant v : variants) {
                    Tensor[] t = operands(cl, n);
                    names.add("opencl " + v.name().toLowerCase(Locale.ROOT));
                    owners.add(cl);
                    calls.add(() -> cl.gemmKernels().multiply(v, false, false, n, n, n, 1f, ((ClTensor) t[0]).mem(), 0, n,
                            ((ClTensor) t[1]).mem(), 0, n, 0f, ((ClTensor) t[2]).mem(), 0, n, 1, 0, 0, 0));
                }
                Tensor[] c = operands(cpu, n);
                names.add("cpu backend");
                owners.add(cpu);
                calls.add(() -> cpu.gemm(Gemm.of(n, n, n), 1f, Matrix.of(c[0], n), Matrix.of(c[1], n), 0f, Matrix.of(c[2], n)));
                double[][] gflops = new double[calls.size()][rounds];
                int[] repeats = new int[calls.size()];
                for (int v = 0; v < calls.size(); v++) repeats[v] = Math.max(1, (int) (minMillis / 1000.0 / time(owners.get(v), calls.get(v), 1)));
                for (int r = 0; r < rounds; r++)
                    for (int v = 0; v < calls.size(); v++)
                        gflops[v][r] = 2.0 * n * n * n * repeats[v] / time(owners.get(v), calls.get(v), repeats[v]) / 1e9;
                for (int v = 0; v < calls.size(); v++) {
                    double[] sorted = gflops[v].clone();
                    Arrays.sort(sorted);
                    StringBuilder all = new StringBuilder();
                    for (double g : gflops[v]) all.append(all.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.1f", g));
                    System.out.printf(Locale.ROOT, "%6d %12s %6.1f [%s]%n", n, names.get(v), sorted[rounds / 2], all);
                }
            }
        }
    }

    private static Tensor[] operands(Backend b, int n) {
        Tensor[] t = new Tensor[3];
        float[] values = new float[n * n];
        for (int i = 0; i < values.length; i++) values[i] = ((i * 7919) % 1000) / 1000f - 0.5f;
        for (int i = 0; i < 3; i++) {
            t[i] = b.allocate(Shape.of(n, n));
            b.upload(values, t[i]);
        }
        return t;
    }

    /** Seconds for {@code calls} calls, waiting for the device at the end. */
    private static double time(Backend b, Runnable call, int calls) {
        call.run(); // warm-up (and first-launch code generation)
        b.synchronize();
        long start = System.nanoTime();
        for (int i = 0; i < calls; i++) call.run();
        b.synchronize();
        return (System.nanoTime() - start) / 1e9;
    }
}
