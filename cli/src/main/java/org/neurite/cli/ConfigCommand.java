package org.neurite.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.neurite.config.DeploymentConfig;
import org.neurite.plugin.BackendProvider;
import org.neurite.plugin.NeuriteRuntime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code nn config check deploy.yaml}: validates a deployment and prints it resolved. */
@Command(name = "config", description = "Work with deployment files.", subcommands = ConfigCommand.Check.class)
final class ConfigCommand implements Runnable {
    @Spec CommandSpec spec;

    @Override public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing subcommand (check)");
    }

    /**
     * Strict validation (unknown keys and wrong types with line and column), the plugin folders
     * loaded as a command would load them, then the resolved
     * configuration; with {@code --json} one JSON object: {@code file}, {@code deployment} (the
     * resolved keys, as the YAML names them; a key not set is absent), {@code unchecked} (sections
     * kept as written because no module here reads them) and {@code backend} (name, available,
     * reason: null when available).
     */
    @Command(name = "check", description = "Validate a deployment YAML and print the resolved configuration.")
    static final class Check implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "DEPLOY.yaml") Path file;
        @Mixin JsonOutput json = new JsonOutput();
        @Spec CommandSpec spec;

        @Override public Integer call() throws Exception {
            DeploymentConfig config = DeploymentConfig.load(file);
            // The deployment's plugins: a folder that is missing or holds a broken jar fails here as it
            // would in nn train, and a backend a plugin provides is known.
            try (NeuriteRuntime runtime = NeuriteRuntime.discover(config.plugins())) {
                return check(config, runtime);
            }
        }

        private int check(DeploymentConfig config, NeuriteRuntime runtime) {
            BackendProvider backend = runtime.backends().get(config.backend());
            if (backend == null) {
                throw new BadInputException(file + ": unknown backend '" + config.backend() + "'; available: "
                        + String.join(", ", runtime.backends().keySet()));
            }
            for (String f : config.fallback()) {
                if (!runtime.backends().containsKey(f)) {
                    throw new BadInputException(file + ": unknown fallback backend '" + f + "'; available: "
                            + String.join(", ", runtime.backends().keySet()));
                }
            }
            String why = backend.availability();
            if (json.enabled()) {
                ObjectNode doc = JsonOutput.object();
                doc.put("file", file.toString());
                doc.set("deployment", config.toTree());
                config.uncheckedSections().forEach(doc.putArray("unchecked")::add);
                doc.putObject("backend").put("name", config.backend()).put("available", why == null).put("reason", why);
                JsonOutput.print(spec, doc);
                return ExitCodes.OK;
            }
            PrintWriter out = spec.commandLine().getOut();
            out.print(config.toYaml());
            out.println("# backend '" + config.backend() + "': " + (why == null ? "available here" : "unavailable here — " + why));
            out.flush();
            return ExitCodes.OK;
        }
    }
}
