package org.neurite.embedded;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.neurite.backend.Backend;
import org.neurite.diag.ModelException;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.plugin.PluginException;
import org.slf4j.LoggerFactory;

/**
 * Where a Java program starts: {@link #load(Path)} reads a {@code .nn} script into a {@link Model}
 * ready to train, evaluate and predict, with the layers, backends, losses, optimizers and schedules
 * found on the class path (the plugins' {@code ServiceLoader} registrations, as {@code nn} finds
 * them) and, with {@link #load(Path, String, String, List)}, in plugin folders ({@code nn --plugins}).
 * The script is checked against, and the model trained with, that runtime's registries, so a
 * plugin's loss or optimizer works as the core's do.
 *
 * <p>Start the JVM with {@code --add-modules jdk.incubator.vector} (and
 * {@code -XX:InlineSmallCode=10000}) for the CPU backend's Vector API kernels; without the module
 * it runs plain Java loops, with the same results more slowly, and prints one line
 * on standard error naming the flag ({@code docs/java-api.md}, "JVM flags for speed"). Where the
 * kernel gives transparent huge pages on request, {@code -XX:+UseTransparentHugePages} puts the
 * tensors on 2 MiB pages, as {@code ./nn} does (the small ResNet trains about 9% faster there).
 *
 * <pre>{@code
 * try (Model model = Neurite.load(Path.of("examples/lenet5.nn"))) {
 *     var data = model.data();
 *     model.fit(data.train());
 *     System.out.println(model.evaluate(data.test()).accuracy());
 * }
 * }</pre>
 */
public final class Neurite {
    private Neurite() {}

    /** The script's main model (the one its train section names, else the last) on the CPU backend with every core. */
    public static Model load(Path script) throws IOException {
        return load(script, null, "cpu");
    }

    /**
     * @param model which model of the script, or null for the main one
     * @param backend the backend's name ({@code cpu}, {@code opencl}, or a plugin's)
     * @throws ModelException when the script has an error, or no model of that name, positioned (file:line:col)
     */
    public static Model load(Path script, String model, String backend) throws IOException {
        return load(script, model, backend, List.of());
    }

    /**
     * As {@link #load(Path, String, String)}, with the plugins of every {@code *.jar} in
     * {@code pluginFolders} as well as those on the class path; the model holds their class
     * loaders until it is closed.
     *
     * @throws PluginException when a folder or jar cannot be loaded or two plugins conflict
     */
    public static Model load(Path script, String model, String backend, List<Path> pluginFolders) throws IOException {
        Objects.requireNonNull(script, "script");
        Objects.requireNonNull(backend, "backend (its name: cpu, opencl, or a plugin's)");
        Objects.requireNonNull(pluginFolders, "pluginFolders (List.of() for none)");
        NeuriteRuntime runtime = NeuriteRuntime.discover(pluginFolders);
        Backend chosen = null;
        try {
            Script parsed = new ScriptLoader(runtime).load(script);
            TypedGraph graph = model == null ? parsed.mainModel() : parsed.model(model);
            chosen = runtime.createBackend(backend, BackendOptions.defaults(), List.of(),
                    warning -> LoggerFactory.getLogger(Neurite.class).warn(warning));
            return new Model(parsed, graph, chosen, runtime);
        } catch (IOException | RuntimeException | Error e) {
            // The weights that did not fit (or a parameter too large for a tensor) must not leave
            // the backend's worker threads and memory behind.
            if (chosen != null) chosen.close();
            runtime.close();
            throw e;
        }
    }
}
