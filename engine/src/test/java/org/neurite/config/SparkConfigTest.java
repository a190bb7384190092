package org.neurite.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.neurite.diag.ModelException;

/** The {@code spark:} section of a deployment file: what it means and how it is refused. */
class SparkConfigTest {
    private static DeploymentConfig parse(String yaml) {
        return DeploymentConfig.parse(yaml, "spark.yaml", Path.of("/etc/neurite"));
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
        assertEquals(new SparkConfig("spark://head:7077", 8, SparkConfig.Mode.AVERAGE, 5, 50, 2, "hdfs://nn/fashion-mnist"), c.spark());
        assertEquals(1, c.threads());
    }

    @Test void anEmptySectionIsLocalTwoWorkersSynchronous() {
        assertEquals(SparkConfig.defaults(), parse("spark: {}\n").spark());
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
                Arguments.of("spark:\n  mode: synch\n", "spark.yaml:2:9: error: unknown spark.mode 'synch'; did you mean 'sync'?"),
                Arguments.of("spark:\n  max_failures: 0\n",
                        "spark.yaml:2:17: error: 'spark.max_failures' must be >= 1 (attempts per task), found 0"),
                Arguments.of("spark: local[2]\n",
                        "spark.yaml:1:8: error: 'spark' must be a mapping of Spark settings (master, partitions, mode, ...), found a string (\"local[2]\")"),
                Arguments.of("spark:\n  master: \"\"\n",
                        "spark.yaml:2:11: error: missing value for 'spark.master'; expected a Spark master URL such as \"local[2]\" or \"spark://host:7077\""),
                Arguments.of("spark:\n  mode: sync\n  mode: average\n", "spark.yaml:3:3: error: duplicate key 'spark.mode' (first set on line 2)"));
    }

    @ParameterizedTest @MethodSource("badSections")
    void badSectionsArePositionedAtTheOffendingKeyOrValue(String yaml, String headline) {
        ModelException e = assertThrows(ModelException.class, () -> parse(yaml));
        assertEquals(headline, e.diagnostics().get(0).headline());
    }
}
