package org.neurite.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.neurite.config.DeploymentConfig;
import org.neurite.serving.InferenceServer;
import org.neurite.serving.ServeConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code nn serve --deploy serve.yaml} or {@code nn serve MODEL.nn --weights W [--port 8080]}:
 * serves models over HTTP with the Open Inference Protocol (KServe v2) and dynamic batching
 * (the serving module, docs/serving.md) until SIGTERM or Ctrl-C, then stops gracefully — every
 * accepted request is answered — and exits 0.
 */
@Command(name = "serve", description = "Serve models over HTTP (Open Inference Protocol v2) with dynamic batching, until Ctrl-C.")
final class ServeCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL.nn", description = "a script to serve alone (else the deployment's serve: models)")
    Path script;

    @Option(names = "--weights", paramLabel = "FILE", description = "weights of MODEL.nn (.safetensors)")
    Path weights;

    @Option(names = "--model", paramLabel = "NAME", description = "which model of the script (default: its main model)")
    String model;

    @Option(names = "--name", paramLabel = "NAME", description = "the name clients use in /v2/models/NAME (default: the script's file name)")
    String name;

    @Option(names = "--deploy", paramLabel = "YAML", description = "deployment file: backend, threads and the serve: section")
    Path deployment;

    @Option(names = "--host", paramLabel = "ADDRESS", description = "address to listen on (default 127.0.0.1)")
    String host;

    @Option(names = "--port", paramLabel = "N", description = "port to listen on (default 8080; 0 = any free port)")
    Integer port;

    @Option(names = "--backend", paramLabel = "NAME", description = "backend of MODEL.nn, overriding the deployment (default cpu)")
    String backend;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads per worker, overriding the deployment (0 = all cores)")
    Integer threads;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "32", description = "MODEL.nn: samples per forward pass (1 = no batching; default 32)")
    int maxBatch;

    @Option(names = "--max-delay-ms", paramLabel = "MS", defaultValue = "0", description = "MODEL.nn: how long an idle worker holds a batch for arriving requests (default 0)")
    int maxDelayMs;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "1", description = "MODEL.nn: batching workers (default 1)")
    int workers;

    @Option(names = "--queue-limit", paramLabel = "N", defaultValue = "256", description = "MODEL.nn: waiting requests before 429 (default 256)")
    int queueLimit;

    @Mixin PluginsOption plugins = new PluginsOption();

    @Override public Integer call() throws Exception {
        DeploymentConfig d = deployment != null ? DeploymentConfig.load(deployment) : DeploymentConfig.defaults();
        Path folder = deployment != null ? deployment.toAbsolutePath().getParent() : Path.of("").toAbsolutePath();
        ServeConfig base = d.serve() != null ? ServeConfig.from(d.serve()) : null;
        ServeConfig config;
        if (script != null) {
            if (weights == null) throw new BadInputException("nn serve MODEL.nn needs --weights FILE");
            String served = name != null ? name : script.getFileName().toString().replaceFirst("\\.nn$", "");
            // Checked here to name what the user typed; the deployment file's names follow the same rule.
            if (!ServeConfig.isModelName(served)) {
                throw new BadInputException(name != null
                        ? "--name " + ServeConfig.NAME_RULE + ", found \"" + served + "\""
                        : "the model is named after its script, \"" + served + "\", but a model name " + ServeConfig.NAME_RULE
                                + "; choose one with --name");
            }
            ServeConfig.ModelSpec m;
            try {
                m = new ServeConfig.ModelSpec(served, script.toAbsolutePath().toString(), model, weights.toAbsolutePath().toString(), backend,
                        null, maxBatch, maxDelayMs, workers, queueLimit);
            } catch (IllegalArgumentException e) {
                // Printed as "nn: ...", as every command's bad input is.
                throw new BadInputException(e.getMessage().replace("max_batch", "--max-batch")
                        .replace("max_delay_ms", "--max-delay-ms").replace("workers", "--workers").replace("queue_limit", "--queue-limit"));
            }
            config = new ServeConfig(base != null ? base.host() : ServeConfig.DEFAULT_HOST, base != null ? base.port() : ServeConfig.DEFAULT_PORT,
                    base != null ? base.maxBodyBytes() : ServeConfig.DEFAULT_MAX_BODY_BYTES, List.of(m));
        } else if (base != null) {
            if (weights != null || model != null || name != null) {
                throw new BadInputException("--weights, --model and --name go with MODEL.nn; the deployment's serve: section names its models");
            }
            config = base;
        } else {
            throw new BadInputException("nn serve needs MODEL.nn --weights FILE, or --deploy with a serve: section (docs/serving.md)");
        }
        if (port != null && (port < 0 || port > 65535)) throw new BadInputException("--port must be 0..65535, got " + port);
        if (threads != null) Session.requireThreads(threads);
        config = new ServeConfig(host != null ? host : config.host(), port != null ? port : config.port(), config.maxBodyBytes(), config.models());
        List<Path> pluginFolders = new ArrayList<>(d.plugins());
        pluginFolders.addAll(plugins.folders);
        d = new DeploymentConfig(d.backend(), d.fallback(), threads != null ? threads : d.threads(), d.device(), pluginFolders, d.data(),
                d.output(), d.seed(), d.logLevel(), d.spark(), d.serve());

        PrintWriter out = spec.commandLine().getOut();
        InferenceServer server = InferenceServer.start(config, d, folder, w -> System.err.println("nn: warning: " + w));
        out.println("nn serve: listening on http://" + server.address() + "/v2 (Ctrl-C to stop)");
        server.backends().forEach((m, b) -> out.println("  model " + m + " on " + b + ": POST /v2/models/" + m + "/infer"));
        out.flush();
        server.runUntilSignalled();
        out.println("nn serve: stopped; answered " + server.answered() + " of " + server.accepted() + " accepted requests");
        out.flush();
        return ExitCodes.OK;
    }
}
