package org.neurite.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.plugin.BackendOptions;

/**
 * Per-step time of LeNet-5 on the single-machine {@link Trainer}, through Spark
 * {@code local[2]} (synchronous, two partitions), and on a Spark standalone cluster of two worker
 * processes with one single-core executor each ({@link StandaloneCluster}, the set-up of
 * {@link SparkStandaloneClusterTest}), at global batches 64 and 256: medians of the steps of two
 * epochs over the bundled 5,000-image subset after the first 5. Not a test (no threshold); run
 * it with
 * <pre>
 * mvn -o -q -Pspark test-compile -pl distributed-spark
 * java $(spark jvm flags) -cp … org.neurite.spark.SparkOverhead
 * </pre>
 * (the exact command is in docs/distributed.md, "Costs").
 */
public final class SparkOverhead {
    private SparkOverhead() {}

    public static void main(String[] args) throws Exception {
        Path folder = Files.createTempDirectory("spark-overhead");
        try (StandaloneCluster cluster = StandaloneCluster.start(folder.resolve("cluster"), 2, "1g", Duration.ofMinutes(3))) {
            String jars = cluster.applicationJars().stream().map(Path::toString).collect(Collectors.joining(","));
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
                report("Spark local[2] sync, 2 partitions x 1 thread", batch, spark(runs, "local[2]"));
                SubmitSettings submitted = new SubmitSettings(SubmitSettings.forCluster(jars, 2, "512m"));
                try {
                    report("Spark standalone, 2 worker JVMs x 1 core, sync", batch, spark(runs, cluster.masterUrl()));
                } finally {
                    submitted.close();
                }
            }
        }
    }

    /** Two epochs of synchronous steps on two partitions through {@code master}. */
    private static StepClock spark(LeNetRuns runs, String master) {
        try (ParameterStore store = runs.store(); Trainer trainer = new Trainer(runs.graph, store, runs.spec);
             SparkRun run = runs.open(new SparkConfig(master, 2, SparkConfig.Mode.SYNC, 10, 0, 4, null), trainer, store)) {
            StepClock clock = new StepClock();
            for (int epoch = 1; epoch <= 2; epoch++) trainer.trainEpoch(runs.train, epoch, 0, clock);
            return clock;
        }
    }

    private static void report(String what, int batch, StepClock clock) {
        double[] ms = clock.sortedStepMillis(5);
        System.out.printf(Locale.ROOT, "batch %3d  %-50s median %7.2f ms/step  (p10 %.2f, p90 %.2f; %d steps)%n", batch, what,
                clock.medianMillis(5), ms[ms.length / 10], ms[ms.length * 9 / 10], ms.length);
    }
}
