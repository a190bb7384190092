package org.neurite.benchmarks;

import static org.neurite.benchmarks.CommandLineOptions.intOption;
import static org.neurite.benchmarks.CommandLineOptions.stringOption;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.neurite.backend.Backend;
import org.neurite.backend.Slice;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * What one host synchronisation costs on a backend: a small op followed by a read of one float,
 * against the same op without the read (the queue finished once at the end), per iteration,
 * medians of several rounds. The difference is the round trip a read adds; it is what
 * {@code TrainStep.DEVICE_READ_INTERVAL} is chosen against (under 1% of a step once spread over
 * the steps between two reads).
 *
 * <pre>java -cp "benchmarks/target/neurite-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*:backend-gpu-opencl/target/neurite-backend-gpu-opencl-0.1.0-SNAPSHOT.jar:$HOME/.m2/repository/org/jocl/jocl/2.0.5/jocl-2.0.5.jar" \
 *   org.neurite.benchmarks.SyncCost --backend opencl</pre>
 */
public final class SyncCost {
    private SyncCost() {}

    public static void main(String[] args) {
        String name = stringOption(args, "--backend", "opencl");
        int iterations = intOption(args, "--iterations", 2000), rounds = intOption(args, "--rounds", 7);
        NeuriteRuntime runtime = NeuriteRuntime.discover();
        try (Backend b = runtime.createBackend(name, new BackendOptions(0, null), List.of(), w -> {})) {
            Tensor t = b.allocate(Shape.of(1024));
            float[] one = new float[1];
            double[] withRead = new double[rounds], without = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                long start = System.nanoTime();
                for (int i = 0; i < iterations; i++) {
                    b.affine(Slice.of(t), 1f, 1f, Slice.of(t));
                    b.download(Slice.of(t, 0, 1), one, 0);
                }
                withRead[r] = (System.nanoTime() - start) / 1e3 / iterations;
                start = System.nanoTime();
                for (int i = 0; i < iterations; i++) b.affine(Slice.of(t), 1f, 1f, Slice.of(t));
                b.synchronize();
                without[r] = (System.nanoTime() - start) / 1e3 / iterations;
            }
            double read = WorkloadThroughput.median(withRead), alone = WorkloadThroughput.median(without);
            System.out.printf(Locale.ROOT, "{\"backend\": \"%s\", \"op_and_read_us\": %.1f, \"op_us\": %.1f, \"sync_us\": %.1f, \"rounds\": %s}%n",
                    b.name(), read, alone, read - alone, Arrays.toString(Arrays.stream(withRead).map(v -> Math.round(v * 10) / 10.0).toArray()));
        }
    }
}
