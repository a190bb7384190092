package org.neurite.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.neurite.config.DeploymentConfig;
import org.neurite.config.DeploymentSection;
import org.neurite.diag.ModelException;
import org.neurite.graph.LayerRegistry;

/**
 * The {@code spark:} section of a deployment: train on Apache Spark instead of in this process.
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
 * The engine keeps the section as written ({@link DeploymentConfig#spark()}); {@link #from} reads
 * it as strictly as the engine reads its own keys, each complaint positioned at the key or value
 * at fault ({@code deploy.yaml:2:3: error: unknown key 'spark.partition'; did you mean 'partitions'?}).
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
    /** The deployment key of the section. */
    public static final String SECTION = "spark";

    /** The keys of the section, in the order {@link #section()} (and so {@code nn config check}) prints them. */
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

    private static final Pattern LOCAL_N = Pattern.compile("local\\[(\\d+|\\*)\\]");

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
     * The settings of a deployment's {@code spark:} section; every key is optional.
     *
     * @throws ModelException for a value that is not a mapping, an unknown key (with the closest
     *     known one) or a bad value, positioned where the section was written
     */
    public static SparkConfig from(DeploymentSection section) {
        return new SectionParser(section).read();
    }

    /** This configuration as a deployment's {@code spark:} section, every key spelled out in {@link #KEYS} order. */
    public DeploymentSection section() {
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.put("master", master);
        s.put("partitions", partitions);
        s.put("mode", mode.yamlName());
        s.put("average_every", averageEvery);
        s.put("checkpoint_every", checkpointEvery);
        s.put("max_failures", maxFailures);
        if (data != null) s.put("data", data);
        return DeploymentSection.of(SECTION, s);
    }

    /**
     * The master Spark is started with: for {@code local[N]} the retry count goes into the URL
     * ({@code local[N,F]}), because local mode ignores {@code spark.task.maxFailures}.
     */
    public String effectiveMaster() {
        Matcher m = LOCAL_N.matcher(master.strip());
        if (m.matches()) return "local[" + m.group(1) + "," + maxFailures + "]";
        if (master.strip().equals("local")) return "local[1," + maxFailures + "]";
        return master;
    }

    /** Reads one section key by key, in the order they were written, so the first fault is the one reported. */
    private record SectionParser(DeploymentSection section) {
        SparkConfig read() {
            String expected = "a mapping of Spark settings (master, partitions, mode, ...)";
            section.requireValue("", SECTION, expected);
            if (!section.value().isObject()) throw section.wrongType("", SECTION, expected);
            SparkConfig d = defaults();
            String master = d.master();
            int partitions = d.partitions();
            Mode mode = d.mode();
            int averageEvery = d.averageEvery();
            int checkpointEvery = d.checkpointEvery();
            int maxFailures = d.maxFailures();
            String data = d.data();
            for (Iterator<Map.Entry<String, JsonNode>> it = section.value().fields(); it.hasNext(); ) {
                String key = it.next().getKey();
                String at = DeploymentSection.pointer(key);
                if (!KEYS.contains(key)) {
                    List<String> close = LayerRegistry.closest(key, KEYS);
                    throw section.errorAtKey(at, "unknown key 'spark." + key + "'; " + (close.isEmpty()
                            ? "the spark section takes " + String.join(", ", KEYS)
                            : "did you mean '" + close.get(0) + "'?"));
                }
                switch (key) {
                    case "master" -> master = section.string(at, "spark.master", "a Spark master URL such as \"local[2]\" or \"spark://host:7077\"");
                    case "partitions" -> partitions = atLeast(at, "spark.partitions", 1, "an integer >= 1 (workers per global batch)");
                    case "mode" -> mode = mode(at);
                    case "average_every" -> averageEvery = atLeast(at, "spark.average_every", 1, "an integer >= 1 (steps between averages)");
                    case "checkpoint_every" -> checkpointEvery = atLeast(at, "spark.checkpoint_every", 0,
                            "an integer >= 0 (steps between driver checkpoints; 0 = at epoch ends only)");
                    case "max_failures" -> maxFailures = atLeast(at, "spark.max_failures", 1, "an integer >= 1 (attempts per task)");
                    case "data" -> data = section.string(at, "spark.data", "a dataset folder URI such as \"hdfs://namenode/datasets/fashion-mnist\"");
                    default -> throw new IllegalStateException("key 'spark." + key + "' is in SparkConfig.KEYS but not read");
                }
            }
            return new SparkConfig(master, partitions, mode, averageEvery, checkpointEvery, maxFailures, data);
        }

        /** An integer of at least {@code min}; {@code expected} reads "an integer >= min (what it counts)". */
        private int atLeast(String at, String key, int min, String expected) {
            section.requireValue(at, key, expected);
            JsonNode node = section.value().at(at);
            if (!node.isIntegralNumber()) throw section.wrongType(at, key, expected);
            if (!node.canConvertToInt()) throw section.errorAtValue(at, "'" + key + "' is too large: " + section.text(at));
            int value = node.intValue();
            if (value < min) {
                throw section.errorAtValue(at, "'" + key + "' must be " + expected.substring(expected.indexOf(">=")) + ", found " + value);
            }
            return value;
        }

        private Mode mode(String at) {
            String text = section.string(at, "spark.mode", "sync or average");
            List<String> names = Arrays.stream(Mode.values()).map(Mode::yamlName).toList();
            if (names.contains(text)) return Mode.valueOf(text.toUpperCase(Locale.ROOT));
            List<String> close = LayerRegistry.closest(text, names);
            throw section.errorAtValue(at, "unknown spark.mode '" + text + "'; "
                    + (close.isEmpty() ? "expected sync (gradients summed every step) or average (periodic parameter averaging)"
                    : "did you mean '" + close.get(0) + "'?"));
        }



    }
}
