package org.neurite.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;
import org.neurite.io.FileErrors;
import org.neurite.plugin.BackendOptions;

/**
 * How one deployment runs Neurite, read from a YAML file an operator writes:
 * <pre>
 * backend: opencl          # the backend to use
 * fallback: [cpu]          # tried in order when it is unavailable here
 * threads: 0               # CPU worker threads; 0 = one per core
 * device: "NVIDIA"         # backend device: index, type or name substring
 * plugins: [plugins/]      # extra plugin folders, each loaded in its own class loader
 * data: /srv/datasets      # where datasets are looked for first (like --data)
 * output: runs/            # where checkpoints and metrics go
 * seed: 42                 # overrides the script's seed
 * log_level: info          # error | warn (default) | info | debug
 * spark:                   # train on Apache Spark (read by distributed-spark)
 *   master: "local[2]"
 *   partitions: 2
 * serve:                   # nn serve: models, port, batching (read by serving)
 *   port: 8080
 * </pre>
 * Every key is optional; {@link #defaults()} is the configuration of an empty file. Reading is
 * strict, because a typo in a deployment file otherwise silently runs with a default: an unknown
 * key, a value of the wrong type, an empty value, an out-of-range number, a duplicate key or a
 * YAML anchor/alias is a {@link ModelException} positioned at the offending key or value
 * ({@code deploy.yaml:3:1: error: unknown key 'thread'; did you mean 'threads'?}). Relative
 * folders are resolved against the YAML file's folder, so a deployment file can travel with its
 * plugins.
 *
 * <p>The {@code spark:} section belongs to the optional {@code distributed-spark} module and is
 * kept as a {@link DeploymentSection}: the YAML as written, with positions. When the module is on
 * the class path its {@link SectionReader} checks the section while the file is read, with the
 * same strictness and positions, and the record keeps the resolved settings; otherwise the
 * section is kept as written and checked by the module when a run uses it.
 *
 * @param backend backend name, default {@code cpu}
 * @param fallback backends to try in order when {@code backend} is unavailable, default none
 * @param threads worker threads, {@code >= 0}; 0 (the default) means one per available core
 * @param device device selector for the backend, or null for the backend's default device
 * @param plugins extra plugin folders (absolute), default none
 * @param data the first folder datasets are looked for in, or null to use the normal search order
 * @param output the folder runs are written to, or null for the CLI's default
 * @param seed a seed that overrides the script's, or null to keep the script's
 * @param logLevel how much the CLI logs on standard error, default {@link LogLevel#WARN} (warnings and errors only)
 * @param spark the {@code spark:} section (train on Apache Spark), or null (the default) to train in this process
 * @param serve the {@code serve:} section ({@code nn serve}, read by the serving module), or null when there is none
 */
public record DeploymentConfig(String backend, List<String> fallback, int threads, String device,
                               List<Path> plugins, Path data, Path output, Long seed, LogLevel logLevel,
                               DeploymentSection spark, DeploymentSection serve) {
    /** Deployment files larger than this are refused unread (1 MiB; real ones are a few lines). */
    public static final int MAX_FILE_BYTES = 1 << 20;

    /** The keys a deployment file may contain, in the order {@link #toYaml()} prints them. */
    public static final List<String> KEYS = List.of("backend", "fallback", "threads", "device", "plugins",
            "data", "output", "seed", "log_level", "spark", "serve");

    /**
     * How much the CLI logs: {@code info} adds what an operator checks (plugins loaded, backend and
     * device chosen, data read), {@code debug} the details. The YAML spelling is the lower-case name.
     */
    public enum LogLevel {
        ERROR, WARN, INFO, DEBUG;

        /** {@code info}, as written in YAML. */
        public String yamlName() { return name().toLowerCase(Locale.ROOT); }
    }

    public DeploymentConfig {
        Objects.requireNonNull(backend, "backend");
        if (backend.isBlank()) throw new IllegalArgumentException("backend must not be empty");
        fallback = List.copyOf(fallback);
        if (!BackendOptions.validThreads(threads)) {
            throw new IllegalArgumentException("threads must be " + BackendOptions.THREADS_RANGE + ", got " + threads);
        }
        plugins = List.copyOf(plugins);
        Objects.requireNonNull(logLevel, "logLevel");
    }

    /** A deployment that trains in this process (no {@code spark:} section). */
    public DeploymentConfig(String backend, List<String> fallback, int threads, String device,
                            List<Path> plugins, Path data, Path output, Long seed, LogLevel logLevel) {
        this(backend, fallback, threads, device, plugins, data, output, seed, logLevel, null, null);
    }

    /** A deployment with a {@code spark:} section and no {@code serve:} section. */
    public DeploymentConfig(String backend, List<String> fallback, int threads, String device,
                            List<Path> plugins, Path data, Path output, Long seed, LogLevel logLevel,
                            DeploymentSection spark) {
        this(backend, fallback, threads, device, plugins, data, output, seed, logLevel, spark, null);
    }

    /** This deployment with another {@code spark:} section (null: none). */
    public DeploymentConfig withSpark(DeploymentSection spark) {
        return new DeploymentConfig(backend, fallback, threads, device, plugins, data, output, seed, logLevel, spark, serve);
    }

    /** The configuration of an empty deployment file: the CPU backend on every core. */
    public static DeploymentConfig defaults() {
        return new DeploymentConfig("cpu", List.of(), 0, null, List.of(), null, null, null, LogLevel.WARN);
    }

    /**
     * Reads a deployment file.
     *
     * @throws ModelException for anything wrong with its content, positioned in the file
     * @throws IOException when the file cannot be read; a {@link org.neurite.io.FileFormatException}
     *     when it is not UTF-8 text
     */
    public static DeploymentConfig load(Path file) throws IOException {
        FileErrors.requireFile(file);
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES) {
            throw new ModelException(SourceSpan.at(file.toString(), 1, 1), "the file is " + size
                    + " bytes; a deployment file may be at most " + MAX_FILE_BYTES + " bytes");
        }
        // Not decoded with replacement: "output: résultats" saved as Latin-1 would name a folder "r\uFFFDsultats"
        String text = FileErrors.readUtf8(file);
        Path folder = file.toAbsolutePath().getParent();
        return parse(text, file.toString(), folder);
    }

    /**
     * Reads deployment YAML from a string.
     *
     * @param fileName the name diagnostics give the text
     * @param folder the folder relative paths are resolved against
     * @throws ModelException for anything wrong with the content
     */
    public static DeploymentConfig parse(String yaml, String fileName, Path folder) {
        if (yaml.length() > MAX_FILE_BYTES) {
            throw new ModelException(SourceSpan.at(fileName, 1, 1), "the file is " + yaml.length()
                    + " characters; a deployment file may be at most " + MAX_FILE_BYTES + " bytes");
        }
        return new DeploymentConfigReader(fileName, folder).read(yaml);
    }

    /** What a backend is created with: the thread count and device selector. */
    public BackendOptions backendOptions() { return new BackendOptions(threads, device); }

    /**
     * The resolved configuration as a tree with the YAML's keys ({@link #KEYS}, in that order);
     * keys that are not set are left out. {@link #toYaml()} prints it, {@code nn config check --json}
     * prints it as JSON.
     */
    public ObjectNode toTree() {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("backend", backend);
        var fallbackArray = root.putArray("fallback");
        fallback.forEach(fallbackArray::add);
        root.put("threads", threads);
        if (device != null) root.put("device", device);
        var pluginArray = root.putArray("plugins");
        plugins.forEach(p -> pluginArray.add(p.toString()));
        if (data != null) root.put("data", data.toString());
        if (output != null) root.put("output", output.toString());
        if (seed != null) root.put("seed", seed.longValue());
        root.put("log_level", logLevel.yamlName());
        if (spark != null) root.set("spark", spark.value());
        if (serve != null) root.set("serve", serve.value());
        return root;
    }

    /** The sections ({@code spark}, {@code serve}) kept as written because no module on the class path reads them. */
    public List<String> uncheckedSections() {
        List<String> unchecked = new ArrayList<>();
        for (DeploymentSection section : new DeploymentSection[] {spark, serve}) {
            if (section != null && SectionReader.find(section.name()).isEmpty()) unchecked.add(section.name());
        }
        return unchecked;
    }

    /**
     * The resolved configuration as YAML that {@link #parse} reads back to an equal record; keys
     * that are not set are listed in a trailing comment with what happens instead, and so is a
     * {@code spark:} section that no module on the class path has checked.
     */
    public String toYaml() {
        YAMLMapper mapper = YAMLMapper.builder()
                .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                // "0" must stay a string when read back (a device index is written as a string).
                .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
                .build();
        ObjectNode root = toTree();
        StringBuilder text = new StringBuilder();
        try {
            text.append(mapper.writeValueAsString(root));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot print a deployment configuration", e);
        }
        if (device == null) text.append("# device: not set (the backend's default device)\n");
        if (data == null) text.append("# data: not set (--data, $NEURITE_DATA, /usr/share/datasets, bundled subset)\n");
        if (output == null) text.append("# output: not set (the CLI's default)\n");
        if (seed == null) text.append("# seed: not set (the script's seed)\n");
        for (String section : uncheckedSections()) {
            text.append("# ").append(section).append(": as written, not checked (the module that reads it is not on the class path)\n");
        }
        return text.toString();
    }
}
