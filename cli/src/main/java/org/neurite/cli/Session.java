package org.neurite.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.neurite.backend.Backend;
import org.neurite.config.DeploymentConfig;
import org.neurite.data.DataSourceLoader;
import org.neurite.data.Dataset;
import org.neurite.data.TrainSectionData;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.train.TrainSpec;

/**
 * What a model command works with: the deployment, the plugins, the parsed script, the chosen
 * model and (when asked for) the backend.
 */
final class Session {
    private final DeploymentConfig deployment;
    private final NeuriteRuntime runtime;
    private final Script script;
    private final TypedGraph graph;
    private final Backend backend;

    /** Train and test splits, and a line for the user when the bundled subset is used. */
    record Data(Dataset train, Dataset test, String note) {}

    private Session(DeploymentConfig deployment, NeuriteRuntime runtime, Script script, TypedGraph graph, Backend backend) {
        this.deployment = deployment;
        this.runtime = runtime;
        this.script = script;
        this.graph = graph;
        this.backend = backend;
    }

    /** Opens the session; the script's warnings (unused values…) go to standard error. */
    static Session open(ModelOptions options, boolean withBackend) throws java.io.IOException {
        return open(options, withBackend, new java.io.PrintWriter(System.err, true));
    }

    /** Opens the session, printing the script's warnings to {@code warnings}. */
    static Session open(ModelOptions options, boolean withBackend, java.io.PrintWriter warnings) throws java.io.IOException {
        // Up front, as a deployment's threads: are, whether or not this command makes a backend.
        if (options.threads != null) requireThreads(options.threads);
        DeploymentConfig deployment = options.deployment != null ? DeploymentConfig.load(options.deployment) : DeploymentConfig.defaults();
        List<Path> pluginFolders = new ArrayList<>(deployment.plugins());
        pluginFolders.addAll(options.plugins.folders);
        NeuriteRuntime runtime = NeuriteRuntime.discover(pluginFolders);
        Script script = new ScriptLoader(runtime).load(options.script);
        Sources.register(script.file(), script.source());
        if (!script.warnings().isEmpty()) {
            warnings.print(Sources.printer().render(script.warnings()));
            warnings.flush();
        }
        TypedGraph graph;
        if (options.model != null) {
            graph = script.model(options.model);
            if (graph == null) {
                throw new BadInputException("no model '" + options.model + "' in " + options.script + "; it defines: "
                        + String.join(", ", script.models().stream().map(g -> g.graph().name()).toList()));
            }
        } else {
            graph = script.mainModel();
        }
        Backend backend = null;
        String backendName = options.backend != null ? options.backend : deployment.backend();
        // Checked whether or not this command makes a backend: a misspelt name is an error in every command.
        runtime.requireKnownBackends(backendName, deployment.fallback());
        if (withBackend) {
            int threads = options.threads != null ? options.threads : deployment.threads();
            requireThreads(threads);
            backend = runtime.createBackend(backendName, new BackendOptions(threads, deployment.device()), deployment.fallback(),
                    warning -> System.err.println("nn: warning: " + warning));
        }
        return new Session(deployment, runtime, script, graph, backend);
    }

    /** Refuses a {@code --threads} value no backend takes ({@link BackendOptions#validThreads}), as the option is named. */
    static void requireThreads(int threads) {
        if (!BackendOptions.validThreads(threads)) throw new BadInputException("--threads must be " + BackendOptions.THREADS_RANGE + ", got " + threads);
    }

    Script script() { return script; }

    TypedGraph graph() { return graph; }

    Backend backend() { return backend; }

    DeploymentConfig deployment() { return deployment; }

    NeuriteRuntime runtime() { return runtime; }

    /** The model's train section, or the defaults when the script has none. */
    TrainSpec trainSpec() {
        return trainSpec(graph);
    }

    /** The train section of {@code model}, or the defaults when it has none. */
    TrainSpec trainSpec(TypedGraph model) {
        return script.training(model.graph().name()).orElse(TrainSpec.defaults(model.graph().name()));
    }

    /**
     * Finds the dataset: {@code --data DIR}, then the deployment's data folder, then the standard
     * places. {@code limit} keeps only the first N training samples.
     */
    Data datasets(TrainSpec spec, Path dataDir, Integer limit) throws java.io.IOException {
        if (dataDir != null && runtime.dataSources().find(spec.data()).isPresent()) {
            // --data only says where a dataset named in the train section lies; a data source call
            // reads its own files (or makes its data), so the folder would be silently ignored.
            throw new BadInputException("--data " + dataDir + " is where a dataset named by the train section (data = fashion_mnist, "
                    + "mnist, ...) lies; " + spec.model() + "'s train section reads " + spec.data() + "(...), which finds its own data: "
                    + "leave --data out (docs/language.md, \"Train sections\")");
        }
        DataSourceLoader.Splits splits = TrainSectionData.load(spec, Path.of(script.file()).toAbsolutePath().getParent(),
                dataDir != null ? dataDir : deployment.data(), runtime.dataSources());
        Dataset train = splits.train();
        Dataset test = splits.test();
        String note = train.isSubset() ? train.description() : null;
        return new Data(limit == null ? train : train.head(limit), test, note);
    }

    static String sha256(String text) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(md.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<String> modelNames(Script script) {
        return script.models().stream().map(g -> g.graph().name()).toList();
    }
}
