package org.neurite.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.neurite.graph.LayerRegistry;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamSpec;
import org.neurite.plugin.KernelOverride;
import org.neurite.plugin.NeuriteRuntime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code nn layers [NAME] [--plugins DIR]}: every registered layer with its parameters, types,
 * defaults, docs, the jar it came from and any backend-specific kernels.
 */
@Command(name = "layers", description = "List the layers scripts can use, with their parameters.")
final class LayersCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "show only this layer")
    String name;

    @Mixin PluginsOption plugins = new PluginsOption();

    @Spec CommandSpec spec;

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        NeuriteRuntime runtime = NeuriteRuntime.discover(plugins.folders);
        LayerRegistry registry = runtime.layers();
        if (name != null && registry.find(name).isEmpty()) {
            var close = registry.suggestions(name);
            throw new BadInputException("unknown layer '" + name + "'" + (close.isEmpty() ? "" : "; did you mean '" + close.get(0) + "'?"));
        }
        for (LayerType t : registry.all()) {
            if (name != null && !t.name().equals(name)) continue;
            out.println(t.name() + " — " + t.doc());
            for (ParamSpec p : t.schema().specs()) {
                String def = p.required() ? "required" : "default " + format(p.defaultValue());
                out.printf("    %-18s %-18s %-16s %s%n", p.name(), p.type().display(), def, p.doc());
            }
            out.println("    from " + NeuriteRuntime.origin(t));
            for (KernelOverride k : runtime.kernelOverrides(t.name())) {
                out.println("    kernel for " + k.backend() + " from " + NeuriteRuntime.origin(k));
            }
            out.println();
        }
        out.flush();
        return ExitCodes.OK;
    }

    private static String format(Object v) {
        return v instanceof String s ? '"' + s + '"' : String.valueOf(v);
    }
}
