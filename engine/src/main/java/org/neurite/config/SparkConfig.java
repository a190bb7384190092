package org.neurite.config;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The {@code spark:} section of a deployment: train on Apache Spark instead of in this process
 * (served by the optional {@code distributed-spark} module).
 * <pre>
 * spark:
 *   master: "local[2]"      # local[N] in-process, spark://host:7077, yarn, k8s://…
 *   partitions: 2           # workers sharing each global batch
 *   mode: sync              # sync: one optimiser step on the summed gradient (equals one machine)
 *                           # average: local steps, parameters averaged every average_every steps
 *   average_every: 10       # steps between averages (mode: average)
 *   checkpoint_every: 100   # driver checkpoint every N steps inside an epoch (0: at epoch ends only)
 *   max_failures: 4         # attempts of a task before the job fails (Spark's spark.task.maxFailures)
 *   data: "hdfs://nn/fashion-mnist"   # optional: the IDX folder as a Hadoop file-system URI
 * </pre>
 *
 * @param master the Spark master URL
 * @param partitions how many slices each global batch is cut into, {@code >= 1}
 * @param mode synchronous gradient summing or periodic parameter averaging
 * @param averageEvery steps between parameter averages in {@link Mode#AVERAGE}, {@code >= 1}
 * @param checkpointEvery steps between driver checkpoints inside an epoch, {@code >= 0} (0: none)
 * @param maxFailures attempts per task, {@code >= 1}
 * @param data a Hadoop file-system URI of the dataset's folder, or null to use the path the driver found
 */
public record SparkConfig(String master, int partitions, Mode mode, int averageEvery, int checkpointEvery,
                          int maxFailures, String data) {
    /** The keys of the section, in the order {@link DeploymentConfig#toYaml()} prints them. */
    public static final List<String> KEYS = List.of("master", "partitions", "mode", "average_every", "checkpoint_every",
            "max_failures", "data");

    /** How workers' results become one set of weights. */
    public enum Mode {
        /** Every step: gradients of the slices summed, one optimiser step (equivalent to one machine). */
        SYNC,
        /** Workers step alone on their slices; weights averaged every {@code average_every} steps (not equivalent). */
        AVERAGE;

        /** {@code sync}, as written in YAML. */
        public String yamlName() { return name().toLowerCase(Locale.ROOT); }
    }

    public SparkConfig {
        Objects.requireNonNull(master, "master");
        if (master.isBlank()) throw new IllegalArgumentException("master must not be empty");
        if (partitions < 1) throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
        Objects.requireNonNull(mode, "mode");
        if (averageEvery < 1) throw new IllegalArgumentException("average_every must be >= 1, got " + averageEvery);
        if (checkpointEvery < 0) throw new IllegalArgumentException("checkpoint_every must be >= 0, got " + checkpointEvery);
        if (maxFailures < 1) throw new IllegalArgumentException("max_failures must be >= 1, got " + maxFailures);
    }

    /** What {@code spark: {}} means: two in-process workers, synchronous, a checkpoint every 100 steps. */
    public static SparkConfig defaults() {
        return new SparkConfig("local[2]", 2, Mode.SYNC, 10, 100, 4, null);
    }

    /**
     * The master Spark is started with: for {@code local[N]} the retry count goes into the URL
     * ({@code local[N,F]}), because local mode ignores {@code spark.task.maxFailures}.
     */
    public String effectiveMaster() {
        var m = java.util.regex.Pattern.compile("local\\[(\\d+|\\*)\\]").matcher(master.strip());
        if (m.matches()) return "local[" + m.group(1) + "," + maxFailures + "]";
        if (master.strip().equals("local")) return "local[1," + maxFailures + "]";
        return master;
    }
}
