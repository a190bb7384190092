package org.neurite.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.neurite.engine.DistributedTraining;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.plugin.BackendOptions;

/**
 * Per-step time of LeNet-5 on the single-machine {@link Trainer} and through Spark
 * {@code local[2]} (synchronous, two partitions), at global batches 64 and 256: medians of the
 * steps of two epochs over the bundled 5,000-image subset after the first 5. Not a test (no
 * threshold); run it with
 * <pre>
 * mvn -o -q -Pspark test-compile -pl distributed-spark
 * java $(spark jvm flags) -cp … org.neurite.spark.SparkOverhead
 * </pre>
 * (the exact command is in BENCHMARKS.md).
 */
public final class SparkOverhead {
    private SparkOverhead() {}

    public static void main(String[] args) throws Exception {
        Path folder = Files.createTempDirectory("spark-overhead");
        for (int batch : new int[] {64, 256}) {
            LeNetRuns runs = new LeNetRuns(folder, 5000, batch);
            for (int threads : new int[] {1, 2}) {
                try (ParameterStore store = new ParameterStore(runs.graph, runs.runtime.createBackend("cpu",
                        new BackendOptions(threads, null), List.of(), w -> { }), runs.spec.seed());
                     Trainer trainer = new Trainer(runs.graph, store, runs.spec)) {
                    StepClock clock = new StepClock();
                    for (int epoch = 1; epoch <= 2; epoch++) trainer.trainEpoch(runs.train, epoch, clock);
                    report("single machine, CPU " + threads + " thread" + (threads > 1 ? "s" : ""), batch, clock);
                }
            }
            try (ParameterStore store = runs.store(); Trainer trainer = new Trainer(runs.graph, store, runs.spec);
                 DistributedTraining.Run run = new SparkTraining().open(runs.job(
                         new SparkConfig("local[2]", 2, SparkConfig.Mode.SYNC, 10, 0, 4, null), trainer, store, (e, s, k) -> { }))) {
                StepClock clock = new StepClock();
                for (int epoch = 1; epoch <= 2; epoch++) run.trainEpoch(runs.train, epoch, 0, clock);
                report("Spark local[2] sync, 2 partitions x 1 thread", batch, clock);
            }
        }
    }

    private static void report(String what, int batch, StepClock clock) {
        double[] ms = clock.stepMillis(5);
        Arrays.sort(ms);
        System.out.printf(Locale.ROOT, "batch %3d  %-46s median %7.2f ms/step  (p10 %.2f, p90 %.2f; %d steps)%n", batch, what,
                ms[ms.length / 2], ms[ms.length / 10], ms[ms.length * 9 / 10], ms.length);
    }

    /** Times between consecutive steps, as the listener sees them. */
    private static final class StepClock implements TrainingListener {
        final List<Long> times = new ArrayList<>();

        @Override public void batchDone(int epoch, long done, long total, double meanLoss, double accuracy) {
            times.add(System.nanoTime());
        }

        double[] stepMillis(int skip) {
            double[] out = new double[times.size() - 1 - skip];
            for (int i = 0; i < out.length; i++) out[i] = (times.get(skip + i + 1) - times.get(skip + i)) / 1e6;
            return out;
        }
    }
}
