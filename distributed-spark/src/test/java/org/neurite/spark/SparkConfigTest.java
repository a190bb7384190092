package org.neurite.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.neurite.config.DeploymentConfig;
import org.neurite.diag.ModelException;

/**
 * The {@code spark:} section of a deployment file: what it means and how it is refused. With this
 * module on the class path the engine hands the section to {@link SparkSectionReader} while it
 * reads the file, so a deployment is checked as a whole, in file order.
 */
class SparkConfigTest {
    private static DeploymentConfig parse(String yaml) {
        return DeploymentConfig.parse(yaml, "spark.yaml", Path.of("/etc/neurite"));
    }

    private static SparkConfig spark(String yaml) {
        return SparkConfig.from(parse(yaml).spark());
    }

    @Test void everySparkKeyIsRead() {
        DeploymentConfig c = parse("""
                backend: cpu
                threads: 1
                spark:
                  master: "spark://head:7077"
                  partitions: 8
                  mode: average
                  average_every: 5
                  checkpoint_every: 50
                  max_failures: 2
                  data: "hdfs://nn/fashion-mnist"
                """);
        assertEquals(new SparkConfig("spark://head:7077", 8, SparkConfig.Mode.AVERAGE, 5, 50, 2, "hdfs://nn/fashion-mnist"),
                SparkConfig.from(c.spark()));
        assertEquals(1, c.threads());
    }

    @Test void anEmptySectionIsLocalTwoWorkersSynchronous() {
        assertEquals(SparkConfig.defaults(), spark("spark: {}\n"));
        assertEquals(new SparkConfig("local[2]", 2, SparkConfig.Mode.SYNC, 10, 100, 4, null), SparkConfig.defaults());
        assertNull(parse("backend: cpu\n").spark(), "no section: train in this process");
    }

    @Test void localMastersCarryTheRetryCountInTheirUrl() {
        assertEquals("local[2,4]", SparkConfig.defaults().effectiveMaster());
        assertEquals("local[*,3]", new SparkConfig("local[*]", 2, SparkConfig.Mode.SYNC, 1, 0, 3, null).effectiveMaster());
        assertEquals("spark://h:7077", new SparkConfig("spark://h:7077", 2, SparkConfig.Mode.SYNC, 1, 0, 3, null).effectiveMaster());
    }

    @Test void toYamlPrintsTheSectionAndReadsBack() {
        DeploymentConfig c = parse("spark:\n  master: \"local[3]\"\n  partitions: 3\n  checkpoint_every: 0\n");
        assertEquals(c, DeploymentConfig.parse(c.toYaml(), "again.yaml", Path.of("/etc/neurite")));
        assertEquals(new SparkConfig("local[3]", 3, SparkConfig.Mode.SYNC, 10, 0, 4, null), SparkConfig.from(c.spark()));
    }

    /** What {@code nn config check} prints for {@code spark: {}}: every setting, defaults spelled out. */
    @Test void toYamlSpellsOutTheDefaults() {
        assertEquals("""
                backend: cpu
                fallback: []
                threads: 0
                plugins: []
                log_level: warn
                spark:
                  master: "local[2]"
                  partitions: 2
                  mode: sync
                  average_every: 10
                  checkpoint_every: 100
                  max_failures: 4
                # device: not set (the backend's default device)
                # data: not set (--data, $NEURITE_DATA, /usr/share/datasets, bundled subset)
                # output: not set (the CLI's default)
                # seed: not set (the script's seed)
                """, parse("spark: {}\n").toYaml());
    }

    @Test void aConfigBuiltInCodeIsTheSectionItPrints() {
        SparkConfig c = new SparkConfig("yarn", 4, SparkConfig.Mode.AVERAGE, 3, 0, 1, "s3a://bucket/mnist");
        assertEquals(c, SparkConfig.from(c.section()));
        assertEquals(c, spark(DeploymentConfig.defaults().withSpark(c.section()).toYaml()));
    }

    /** The example shipped for {@code nn train --deploy} means two local workers, synchronous. */
    @Test void theExampleSparkDeploymentIsLocalTwoWorkers() throws Exception {
        DeploymentConfig c = DeploymentConfig.load(Path.of("..", "examples", "deploy", "spark-local.yaml"));
        assertEquals(SparkConfig.defaults(), SparkConfig.from(c.spark()));
        assertEquals(1, c.threads());
    }

    static Stream<Arguments> badSections() {
        return Stream.of(
                Arguments.of("spark:\n  partition: 2\n", "spark.yaml:2:3: error: unknown key 'spark.partition'; did you mean 'partitions'?"),
                Arguments.of("spark:\n  executors: 2\n",
                        "spark.yaml:2:3: error: unknown key 'spark.executors'; the spark section takes master, partitions, mode, "
                                + "average_every, checkpoint_every, max_failures, data"),
                Arguments.of("spark:\n  partitions: 0\n",
                        "spark.yaml:2:15: error: 'spark.partitions' must be >= 1 (workers per global batch), found 0"),
                Arguments.of("spark:\n  partitions: two\n",
                        "spark.yaml:2:15: error: 'spark.partitions' must be an integer >= 1 (workers per global batch), found a string (\"two\")"),
                Arguments.of("spark:\n  partitions: 4000000000\n", "spark.yaml:2:15: error: 'spark.partitions' is too large: 4000000000"),
                Arguments.of("spark:\n  average_every: 2.50\n",
                        "spark.yaml:2:18: error: 'spark.average_every' must be an integer >= 1 (steps between averages), found a number (2.50)"),
                Arguments.of("spark:\n  mode: synch\n", "spark.yaml:2:9: error: unknown spark.mode 'synch'; did you mean 'sync'?"),
                Arguments.of("spark:\n  mode: [sync]\n", "spark.yaml:2:9: error: 'spark.mode' must be sync or average, found a list"),
                Arguments.of("spark:\n  max_failures: 0\n",
                        "spark.yaml:2:17: error: 'spark.max_failures' must be >= 1 (attempts per task), found 0"),
                Arguments.of("spark: local[2]\n",
                        "spark.yaml:1:8: error: 'spark' must be a mapping of Spark settings (master, partitions, mode, ...), found a string (\"local[2]\")"),
                Arguments.of("spark:\n",
                        "spark.yaml:1:7: error: missing value for 'spark'; expected a mapping of Spark settings (master, partitions, mode, ...)"),
                Arguments.of("spark:\n  master: \"\"\n",
                        "spark.yaml:2:11: error: missing value for 'spark.master'; expected a Spark master URL such as \"local[2]\" or \"spark://host:7077\""),
                Arguments.of("spark:\n  mode: sync\n  mode: average\n", "spark.yaml:3:3: error: duplicate key 'spark.mode' (first set on line 2)"),
                // The section is checked where it stands in the file: its fault comes before a later one of the engine's.
                Arguments.of("spark:\n  partition: 2\nthread: 4\n",
                        "spark.yaml:2:3: error: unknown key 'spark.partition'; did you mean 'partitions'?"));
    }

    @ParameterizedTest @MethodSource("badSections")
    void badSectionsArePositionedAtTheOffendingKeyOrValue(String yaml, String headline) {
        ModelException e = assertThrows(ModelException.class, () -> parse(yaml));
        assertEquals(headline, e.diagnostics().get(0).headline());
    }
}
