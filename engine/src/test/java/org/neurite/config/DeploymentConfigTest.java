package org.neurite.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.neurite.config.DeploymentConfig.LogLevel;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;
import org.neurite.plugin.BackendOptions;

class DeploymentConfigTest {
    private static final Path FOLDER = Path.of("/etc/neurite");

    @TempDir Path tmp;

    private static DeploymentConfig parse(String yaml) {
        return DeploymentConfig.parse(yaml, "deploy.yaml", FOLDER);
    }

    @Test void everyKeyIsRead() {
        DeploymentConfig c = parse("""
                backend: opencl
                fallback: [cpu]
                threads: 8
                device: NVIDIA
                plugins: [plugins, /opt/neurite/plugins]
                data: ../datasets
                output: runs
                seed: 42
                log_level: debug
                """);
        assertEquals(new DeploymentConfig("opencl", List.of("cpu"), 8, "NVIDIA",
                List.of(Path.of("/etc/neurite/plugins"), Path.of("/opt/neurite/plugins")),
                Path.of("/etc/datasets"), Path.of("/etc/neurite/runs"), 42L, LogLevel.DEBUG), c);
        assertEquals(new BackendOptions(8, "NVIDIA"), c.backendOptions());
    }

    @Test void anEmptyFileIsTheDefaults() {
        assertEquals(DeploymentConfig.defaults(), parse(""));
        assertEquals(DeploymentConfig.defaults(), parse("# nothing but a comment\n"));
        assertEquals(new DeploymentConfig("cpu", List.of(), 0, null, List.of(), null, null, null, LogLevel.WARN),
                DeploymentConfig.defaults());
    }

    @Test void aDeviceIndexIsAcceptedAsANumber() {
        assertEquals("1", parse("device: 1").device());
    }

    /** Bad files and the exact first line the CLI prints for each. */
    static Stream<Arguments> badFiles() {
        return Stream.of(
                Arguments.of("backend: cpu\nthread: 4\n",
                        "deploy.yaml:2:1: error: unknown key 'thread'; did you mean 'threads'?"),
                Arguments.of("log-level: info\n",
                        "deploy.yaml:1:1: error: unknown key 'log-level'; did you mean 'log_level'?"),
                Arguments.of("gpu: yes\n",
                        "deploy.yaml:1:1: error: unknown key 'gpu'; known keys are backend, fallback, threads, device, "
                                + "plugins, data, output, seed, log_level, spark, serve"),
                Arguments.of("backend: cpu\nthreads: four\n",
                        "deploy.yaml:2:10: error: 'threads' must be an integer from 0 (all cores) to 1024, found a string (\"four\")"),
                Arguments.of("threads: 2.5\n",
                        "deploy.yaml:1:10: error: 'threads' must be an integer from 0 (all cores) to 1024, found a number (2.5)"),
                Arguments.of("threads: -2\n",
                        "deploy.yaml:1:10: error: 'threads' must be from 0 (all cores) to 1024, found -2"),
                Arguments.of("threads: 100000\n",
                        "deploy.yaml:1:10: error: 'threads' must be from 0 (all cores) to 1024, found 100000"),
                Arguments.of("threads: 4000000000\n",
                        "deploy.yaml:1:10: error: 'threads' must be from 0 (all cores) to 1024, found 4000000000"),
                Arguments.of("threads:\n",
                        "deploy.yaml:1:9: error: missing value for 'threads'; expected an integer from 0 (all cores) to 1024"),
                Arguments.of("log_level: verbose\n",
                        "deploy.yaml:1:12: error: unknown log_level 'verbose'; expected error, warn, info or debug"),
                Arguments.of("log_level: debgu\n",
                        "deploy.yaml:1:12: error: unknown log_level 'debgu'; did you mean 'debug'?"),
                Arguments.of("backend: [cpu]\n",
                        "deploy.yaml:1:10: error: 'backend' must be a backend name, found a list"),
                Arguments.of("backend: 3\n",
                        "deploy.yaml:1:10: error: 'backend' must be a backend name, found an integer (3)"),
                Arguments.of("backend: \"\"\n",
                        "deploy.yaml:1:10: error: missing value for 'backend'; expected a backend name"),
                Arguments.of("backend: \"  \"\n",
                        "deploy.yaml:1:10: error: 'backend' must be a backend name, found an empty string"),
                Arguments.of("device: ~\n",
                        "deploy.yaml:1:9: error: missing value for 'device'; expected a device index, type or name"),
                Arguments.of("fallback: opencl\n",
                        "deploy.yaml:1:11: error: 'fallback' must be a list of backend names, found a string (\"opencl\")"),
                Arguments.of("fallback:\n  - opencl\n  - 3\n",
                        "deploy.yaml:3:5: error: entries of 'fallback' must be backend names, found an integer (3)"),
                Arguments.of("plugins: [a, {b: c}]\n",
                        "deploy.yaml:1:14: error: entries of 'plugins' must be folders, found a mapping"),
                Arguments.of("seed: 99999999999999999999\n",
                        "deploy.yaml:1:7: error: 'seed' must fit in 64 bits, found 99999999999999999999"),
                Arguments.of("seed: true\n",
                        "deploy.yaml:1:7: error: 'seed' must be an integer, found a boolean (true)"),
                Arguments.of("threads: 2\nbackend: cpu\nthreads: 4\n",
                        "deploy.yaml:3:1: error: duplicate key 'threads' (first set on line 1)"),
                Arguments.of("- backend: cpu\n",
                        "deploy.yaml:1:1: error: a deployment file is a mapping of settings (key: value); found a list"),
                Arguments.of("backend: cpu\n---\nbackend: opencl\n",
                        "deploy.yaml:3:1: error: a deployment file holds one YAML document; found a second one"),
                Arguments.of("plugins: &shared [a]\ndata: x\n",
                        "deploy.yaml:1:10: error: YAML anchors (&shared) are not allowed in a deployment file"),
                Arguments.of("output: *elsewhere\n",
                        "deploy.yaml:1:9: error: YAML aliases (*elsewhere) are not allowed in a deployment file; write the value out"),
                // A section an optional module serves is held to the same rules as the rest of the file.
                Arguments.of("spark:\n  mode: sync\n  mode: average\n",
                        "deploy.yaml:3:3: error: duplicate key 'spark.mode' (first set on line 2)"),
                Arguments.of("spark:\n  hosts: [a, b]\n  more:\n    x: 1\n    x: 2\n",
                        "deploy.yaml:5:5: error: duplicate key 'spark.more.x' (first set on line 4)"),
                Arguments.of("spark:\n  hosts: &h [a]\n",
                        "deploy.yaml:2:10: error: YAML anchors (&h) are not allowed in a deployment file"));
    }

    @ParameterizedTest @MethodSource("badFiles")
    void badFilesArePositionedAtTheOffendingKeyOrValue(String yaml, String headline) {
        ModelException e = assertThrows(ModelException.class, () -> parse(yaml));
        assertEquals(headline, e.diagnostics().get(0).headline());
    }

    @Test void yamlSyntaxErrorsKeepTheirPosition() {
        ModelException e = assertThrows(ModelException.class, () -> parse("backend: cpu\n  threads: 2\n"));
        String headline = e.diagnostics().get(0).headline();
        assertTrue(headline.startsWith("deploy.yaml:2:10: error: invalid YAML: "), headline);
    }

    /** The position is the offending token's, never the end of the line before it (Jackson's location). */
    @Test void yamlSyntaxErrorsArePositionedAtTheOffendingToken() {
        // a key without a colon, last in the file: noticed only at the end of the file
        assertSyntaxError("backend: cpu\nthreads: 2\nlog_level: warn\nseed: 3\nfallback\n",
                "5:1: error: invalid YAML: while scanning a simple key; could not find expected ':'");
        // a tab indenting a line
        assertSyntaxError("backend: cpu\nthreads: 2\nlog_level: warn\n\tseed: 3\n",
                "4:1: error: invalid YAML: while scanning for the next token; found character '\\t(TAB)'");
        // a quote never closed: where it opens
        assertSyntaxError("backend: cpu\ndata: 'x\n", "2:7: error: invalid YAML: while scanning a quoted scalar; found unexpected end of stream");
        // an unknown escape: the escaped character
        assertSyntaxError("data: \"x\\q\"\n", "1:10: error: invalid YAML: while scanning a double-quoted scalar; found unknown escape character q");
    }

    private static void assertSyntaxError(String yaml, String headline) {
        ModelException e = assertThrows(ModelException.class, () -> parse(yaml));
        String got = e.diagnostics().get(0).headline();
        assertTrue(got.startsWith("deploy.yaml:" + headline), got);
    }

    /**
     * "Billion laughs": nine levels of nine aliases would expand to 9^9 strings. It is refused at
     * the first anchor, before anything is expanded.
     */
    @Test void anAliasBombIsRefusedAtItsFirstAnchor() {
        StringBuilder bomb = new StringBuilder("plugins: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (char c = 'b'; c <= 'i'; c++) {
            char p = (char) (c - 1);
            bomb.append("data").append(c).append(": &").append(c).append(" [");
            for (int i = 0; i < 9; i++) bomb.append(i == 0 ? "" : ", ").append('*').append(p);
            bomb.append("]\n");
        }
        ModelException e = assertThrows(ModelException.class, () -> parse(bomb.toString()));
        assertEquals("deploy.yaml:1:10: error: YAML anchors (&a) are not allowed in a deployment file",
                e.diagnostics().get(0).headline());
    }

    @Test void oversizedFilesAreRefusedUnread() throws IOException {
        Path big = tmp.resolve("big.yaml");
        Files.writeString(big, "#" + "x".repeat(DeploymentConfig.MAX_FILE_BYTES) + "\n");
        ModelException e = assertThrows(ModelException.class, () -> DeploymentConfig.load(big));
        assertEquals(big + ":1:1: error: the file is 1048578 bytes; a deployment file may be at most 1048576 bytes",
                e.diagnostics().get(0).headline());
    }

    @Test void loadResolvesRelativeFoldersAgainstTheFilesFolder() throws IOException {
        Path file = tmp.resolve("deploy").resolve("gpu.yaml");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "backend: opencl\nplugins: [extra]\n", StandardCharsets.UTF_8);
        DeploymentConfig c = DeploymentConfig.load(file);
        assertEquals(List.of(tmp.resolve("deploy").resolve("extra").toAbsolutePath()), c.plugins());
        ModelException e = assertThrows(ModelException.class, () -> {
            Files.writeString(file, "backend: opencl\nthread: 2\n", StandardCharsets.UTF_8);
            DeploymentConfig.load(file);
        });
        assertEquals(file + ":2:1: error: unknown key 'thread'; did you mean 'threads'?", e.diagnostics().get(0).headline());
    }

    @Test void toYamlPrintsTheResolvedConfigurationAndReadsBack() {
        DeploymentConfig full = new DeploymentConfig("opencl", List.of("cpu"), 4, "0", List.of(Path.of("/opt/p")),
                Path.of("/srv/data"), Path.of("/srv/runs"), -7L, LogLevel.WARN);
        assertEquals(full, parse(full.toYaml()));
        assertEquals(DeploymentConfig.defaults(), parse(DeploymentConfig.defaults().toYaml()));
        assertEquals("""
                backend: cpu
                fallback: []
                threads: 0
                plugins: []
                log_level: warn
                # device: not set (the backend's default device)
                # data: not set (--data, $NEURITE_DATA, /usr/share/datasets, bundled subset)
                # output: not set (the CLI's default)
                # seed: not set (the script's seed)
                """, DeploymentConfig.defaults().toYaml());
    }

    /**
     * Without the module that serves it on the class path (the engine's tests have none), the
     * {@code spark:} section is kept as written, with where each key and value stands, so that
     * module can later complain at the right place.
     */
    @Test void aSparkSectionIsKeptAsWrittenWithItsPositions() {
        DeploymentConfig c = parse("backend: cpu\nspark:\n  master: \"local[3]\"\n  partitions: 0x10\n  hosts: [a, 7]\n");
        DeploymentSection spark = c.spark();
        assertEquals("spark", spark.name());
        assertEquals("{\"master\":\"local[3]\",\"partitions\":16,\"hosts\":[\"a\",7]}", spark.value().toString());
        assertEquals(new SourceSpan("deploy.yaml", 4, 3, 4, 13), spark.written().get("/partitions").key());
        assertEquals(new SourceSpan("deploy.yaml", 4, 15, 4, 19), spark.written().get("/partitions").value());
        assertEquals("0x10", spark.text("/partitions"));
        assertEquals("an integer (0x10)", spark.describe("/partitions"));
        assertEquals("a string (\"local[3]\")", spark.describe("/master"));
        assertEquals("a list", spark.describe("/hosts"));
        assertEquals("deploy.yaml:5:14: error: no host 7",
                spark.errorAtValue("/hosts/1", "no host 7").diagnostics().get(0).headline());
        assertEquals("deploy.yaml:3:3: error: no such key",
                spark.errorAtKey("/master", "no such key").diagnostics().get(0).headline());
        assertEquals("deploy.yaml:2:1: error: not now",
                spark.errorAtKey("", "not now").diagnostics().get(0).headline());
        assertNull(parse("backend: cpu\n").spark(), "no section: train in this process");
    }

    /** Printed as written, with a note that nothing checked it, and read back to an equal record. */
    @Test void toYamlPrintsAnUncheckedSectionAsWritten() {
        DeploymentConfig c = parse("spark:\n  partitions: 3\n  master: \"local[3]\"\n");
        String yaml = c.toYaml();
        assertTrue(yaml.contains("spark:\n  partitions: 3\n  master: \"local[3]\"\n"), yaml);
        assertTrue(yaml.endsWith("# spark: as written, not checked (the module that reads it is not on the class path)\n"), yaml);
        assertEquals(c, DeploymentConfig.parse(yaml, "again.yaml", FOLDER));
    }

    /** The documented example shipped with the examples is valid and means the defaults. */
    @Test void theExampleCpuDeploymentIsTheDefaults() throws IOException {
        Path example = Path.of("..", "examples", "deploy", "cpu.yaml");
        assertEquals(DeploymentConfig.defaults(), DeploymentConfig.load(example));
    }
}
