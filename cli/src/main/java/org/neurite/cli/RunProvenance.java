package org.neurite.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.neurite.config.DeploymentConfig;

/**
 * How a run was made, as the run folder records it for {@code nn report} and for whoever repeats
 * the run: the exact command ({@code command.txt}: the working folder and the command line, quoted
 * for a POSIX shell) and the deployment it resolved to ({@code deployment.yaml}: the deployment
 * file or the defaults, with the command line's overrides applied and the backend actually in use,
 * after any fallback).
 */
final class RunProvenance {
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./=:,@+%^-]+");

    private RunProvenance() {}

    /** {@code cd '/work' && nn train examples/lenet5.nn --epochs 2}, plus a newline. */
    static String command(List<String> args) {
        StringBuilder sb = new StringBuilder("cd ").append(quote(Path.of("").toAbsolutePath().toString())).append(" && nn");
        for (String a : args) sb.append(' ').append(quote(a));
        return sb.append('\n').toString();
    }

    /** {@code s} as one POSIX shell word: unchanged when plain, else in single quotes. */
    static String quote(String s) {
        if (!s.isEmpty() && PLAIN.matcher(s).matches()) return s;
        return "'" + s.replace("'", "'\\''") + "'";
    }

    /**
     * The deployment as the run used it, as YAML that {@code --deploy} reads back.
     *
     * @param backendInUse the backend that was created (the fallback's name when the asked-for one was unavailable)
     * @param backendDescription the backend's own description (device, threads), recorded as a comment
     * @param seed the seed the command line (or a resumed run's checkpoint) set in place of the deployment's, or null
     */
    static String deployment(DeploymentConfig deployment, ModelOptions options, Path data, Long seed, String backendInUse,
                             String backendDescription) {
        List<Path> plugins = new ArrayList<>(deployment.plugins());
        for (Path p : options.plugins.folders) plugins.add(p.toAbsolutePath().normalize());
        Path dataDir = data != null ? data.toAbsolutePath().normalize() : deployment.data();
        int threads = options.threads != null ? options.threads : deployment.threads();
        DeploymentConfig resolved = new DeploymentConfig(backendInUse, deployment.fallback(), threads, deployment.device(),
                plugins, dataDir, deployment.output(), seed != null ? seed : deployment.seed(), deployment.logLevel(), deployment.spark());
        String source = options.deployment != null ? options.deployment.toAbsolutePath().normalize().toString() : "the defaults";
        return "# The deployment this run used: " + source + " with the command line's overrides.\n"
                + "# Backend in use: " + backendDescription.replace('\n', ' ') + "\n"
                + resolved.toYaml();
    }
}
