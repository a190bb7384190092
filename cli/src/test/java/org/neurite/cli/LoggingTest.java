package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.config.DeploymentConfig.LogLevel;

/**
 * What {@code nn} logs on standard error. slf4j-simple fixes a logger's level when the logger is
 * created, once per JVM, so each case runs {@code nn predict} in a JVM of its own, as a user
 * would: without {@code --verbose} nothing is logged and the output is the usual; with it, or with
 * a deployment that says {@code log_level: debug}, the plugins loaded and the backend chosen are.
 */
class LoggingTest {
    private static final Path FIXTURES = Path.of("src/test/resources/interop");
    private static final String PLUGIN_LOADED = "[INFO] PluginLoader - plugin org.neurite.plugins.core.CorePlugin (";
    private static final String BACKEND_CHOSEN = "[INFO] NeuriteRuntime - backend 'cpu' chosen (org.neurite.backend.cpu.CpuBackendProvider (";

    @TempDir Path dir;

    private record Run(int exit, String out, String err) {}

    @Test void onlyVerboseRunsAndLoggingDeploymentsLogThePluginsAndTheBackend() throws Exception {
        Run quiet = predict();
        assertEquals(0, quiet.exit(), quiet.err());
        assertTrue(quiet.out().startsWith("0: class "), quiet.out());
        assertFalse(quiet.err().contains("[INFO]") || quiet.err().contains("[DEBUG]"), quiet.err());

        Run verbose = predict("--verbose");
        assertEquals(0, verbose.exit(), verbose.err());
        assertEquals(quiet.out(), verbose.out(), "logging goes to standard error only");
        assertTrue(verbose.err().contains(PLUGIN_LOADED), verbose.err());
        assertTrue(verbose.err().contains(BACKEND_CHOSEN), verbose.err());
        assertTrue(verbose.err().contains("[DEBUG] NeuriteRuntime - "), verbose.err());

        Path deployment = dir.resolve("debug.yaml");
        Files.writeString(deployment, "backend: cpu\nlog_level: debug\n");
        Run debug = predict("--deploy", deployment.toString());
        assertEquals(0, debug.exit(), debug.err());
        assertEquals(quiet.out(), debug.out());
        assertTrue(debug.err().contains(PLUGIN_LOADED), debug.err());
        assertTrue(debug.err().contains(BACKEND_CHOSEN), debug.err());
    }

    @Test void theLevelComesFromVerboseAnywhereThenTheDeployment() throws Exception {
        Path debug = dir.resolve("debug.yaml");
        Files.writeString(debug, "log_level: debug\n");
        Path error = dir.resolve("error.yaml");
        Files.writeString(error, "log_level: error\n");
        Path broken = dir.resolve("broken.yaml");
        Files.writeString(broken, "log_level: loud\n");
        assertEquals(LogLevel.WARN, level("summary", "m.nn"));
        assertEquals(LogLevel.DEBUG, level("--verbose", "summary", "m.nn"));
        assertEquals(LogLevel.DEBUG, level("summary", "m.nn", "-v"));
        assertEquals(LogLevel.DEBUG, level("config", "check", "d.yaml", "--verbose"));
        assertEquals(LogLevel.DEBUG, level("summary", "m.nn", "--deploy", debug.toString()));
        assertEquals(LogLevel.ERROR, level("summary", "m.nn", "--deploy", error.toString()));
        assertEquals(LogLevel.DEBUG, level("summary", "m.nn", "--deploy", error.toString(), "--verbose"));
        assertEquals(LogLevel.WARN, level("summary", "m.nn", "--deploy", broken.toString()), "the command reports the bad file");
        assertEquals(LogLevel.WARN, level("summary", "m.nn", "--deploy", dir.resolve("missing.yaml").toString()));
    }

    private static LogLevel level(String... args) {
        return CommandLogging.level(NnCommand.commandLine().parseArgs(args));
    }

    /** {@code nn predict} on the PyTorch CNN fixture, in a new JVM, with {@code extra} arguments. */
    private Run predict(String... extra) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(), "--add-modules", "jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "predict", FIXTURES.resolve("cnn.nn").toString(), "--weights", FIXTURES.resolve("cnn.safetensors").toString(),
                "--input", FIXTURES.resolve("cnn_input.safetensors").toString()));
        command.addAll(List.of(extra));
        Path err = dir.resolve("stderr-" + extra.length + ".txt");
        Process process = new ProcessBuilder(command).redirectError(err.toFile()).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "nn did not finish");
        return new Run(process.exitValue(), out, Files.readString(err));
    }
}
