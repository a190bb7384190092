package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A thread count is refused up front, exit 2, when it is more than {@code BackendOptions.MAX_THREADS},
 * on the command line and in a deployment alike: 100,000 threads used to spend a minute failing in
 * {@code pthread_create} and then advise a larger heap.
 */
class ThreadsLimitTest {
    @TempDir Path dir;

    @Test void tooManyThreadsOnTheCommandLineAreRefusedWithTheLimit() {
        assertRefused(CliRunner.run("eval", "../examples/lenet5.nn", "--weights", "none.safetensors", "--threads", "100000"), "100000");
        assertRefused(CliRunner.run("predict", "../examples/lenet5.nn", "--weights", "none.safetensors", "--input", "none.png",
                "--threads", "100000"), "100000");
        assertRefused(CliRunner.run("train", "../examples/lenet5.nn", "--threads", "1025", "--out", dir.resolve("run").toString()), "1025");
        assertFalse(Files.exists(dir.resolve("run")));
    }

    @Test void commandsThatMakeNoBackendRefuseThemToo() {
        assertRefused(CliRunner.run("summary", "../examples/lenet5.nn", "--threads", "5000"), "5000");
        assertRefused(CliRunner.run("graph", "../examples/lenet5.nn", "--threads", "-1"), "-1");
        assertRefused(CliRunner.run("export", "../examples/lenet5.nn", "--weights", "none.safetensors", "--threads", "5000",
                "-o", dir.resolve("m.onnx").toString()), "5000");
    }

    private static void assertRefused(CliRunner.Result r, String threads) {
        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.err());
        assertEquals("nn: --threads must be from 0 (all cores) to 1024, got " + threads + "\n", r.err());
    }

    @Test void tooManyThreadsInADeploymentAreRefusedWithTheLimit() throws Exception {
        Path deploy = dir.resolve("deploy.yaml");
        Files.writeString(deploy, "threads: 100000\n");
        CliRunner.Result r = CliRunner.run("config", "check", deploy.toString());
        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.err());
        assertTrue(r.err().startsWith(deploy + ":1:10: error: 'threads' must be from 0 (all cores) to 1024, found 100000\n"), r.err());
    }

    @Test void aThreadTheSystemRefusesIsNotCalledAShortageOfHeap() {
        String message = Main.outOfMemoryMessage(
                new OutOfMemoryError("unable to create native thread: possibly out of memory or process/resource limits reached"));
        assertTrue(message.startsWith("nn: out of memory (unable to create native thread: possibly out of memory or process/resource "
                + "limits reached): the system refused another thread; use fewer threads (--threads, at most 1024"), message);
        assertFalse(message.contains("-Xmx"), message);
        assertTrue(Main.outOfMemoryMessage(new OutOfMemoryError("Java heap space")).contains("NEURITE_JAVA_OPTS=-Xmx"));
    }
}
