package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cli module does not depend on distributed-spark, so its tests see what a user sees who
 * starts the CLI without the launcher's Spark class path: a deployment with a spark: section is
 * refused with a message that says how to run it, exit 2, no stack trace and no run folder.
 */
class SparkDeploymentWithoutSparkTest {
    @TempDir Path dir;

    @Test
    void sparkDeploymentWithoutTheSparkModuleSaysHowToRunIt() throws Exception {
        Path out = dir.resolve("run");
        CliRunner.Result r = CliRunner.run("train", "../examples/lenet5.nn", "--deploy", "../examples/deploy/spark-local.yaml",
                "--epochs", "1", "--limit", "64", "--out", out.toString());
        assertEquals(2, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains("asks for Spark (its spark: section), but the Spark module is not on the class path"), r.err());
        assertTrue(r.err().contains("./nn train ../examples/lenet5.nn --deploy ../examples/deploy/spark-local.yaml"), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        assertFalse(Files.exists(out.resolve("model.safetensors")), "nothing trained");
    }
}
