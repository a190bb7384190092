package org.neurite.benchmarks.jmh;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.neurite.backend.Backend;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.backend.cpu.CpuBackend;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Square SGEMM {@code C[n,n] = A[n,n] * B[n,n]} (row-major, no transposes, beta 0) on the CPU
 * backend, n from 256 to 2048. The score is the time of one call; GFLOP/s is {@code 2 n^3}
 * divided by it ({@code benchmarks/peer/sgemm_peer.py} prints GFLOP/s next to OpenBLAS).
 *
 * <pre>java --add-modules jdk.incubator.vector -cp "benchmarks/target/neurite-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \
 *   org.openjdk.jmh.Main SgemmBenchmark</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:InlineSmallCode=10000"})
public class SgemmBenchmark {
    @Param({"256", "512", "1024", "2048"})
    public int n;

    @Param("2")
    public int threads;

    private Backend backend;
    private Tensor a, b, c;

    @Setup(Level.Trial)
    public void setUp() {
        backend = new CpuBackend(threads);
        a = random(n, 1);
        b = random(n, 2);
        c = backend.allocate(Shape.of(n, n));
    }

    private Tensor random(int size, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] values = new float[size * size];
        for (int i = 0; i < values.length; i++) values[i] = (float) (rng.nextDouble() - 0.5);
        Tensor t = backend.allocate(Shape.of(size, size));
        backend.upload(values, t);
        return t;
    }

    @Benchmark
    public Tensor sgemm() {
        backend.gemm(new Gemm(false, false, n, n, n, 1), 1f, Matrix.of(a, n), Matrix.of(b, n), 0f, Matrix.of(c, n));
        return c;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
    }
}
