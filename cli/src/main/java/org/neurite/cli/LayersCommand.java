package org.neurite.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
 * defaults, docs, the jar it came from and any backend-specific kernels; with {@code --json} the
 * same as one JSON object ({@link #json}).
 */
@Command(name = "layers", description = "List the layers scripts can use, with their parameters.")
final class LayersCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "show only this layer")
    String name;

    @Mixin PluginsOption plugins = new PluginsOption();

    @Mixin JsonOutput json = new JsonOutput();

    @Spec CommandSpec spec;

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        NeuriteRuntime runtime = NeuriteRuntime.discover(plugins.folders);
        LayerRegistry registry = runtime.layers();
        if (name != null && registry.find(name).isEmpty()) {
            var close = registry.suggestions(name);
            throw new BadInputException("unknown layer '" + name + "'" + (close.isEmpty() ? "" : "; did you mean '" + close.get(0) + "'?"));
        }
        if (json.enabled()) {
            JsonOutput.print(spec, json(runtime, name));
            return ExitCodes.OK;
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

    /**
     * {@code {"layers": [...]}}, each layer (or only {@code only}, when not null) with {@code name},
     * {@code doc}, {@code params} (name, type, required, default: null when required, doc, min
     * and max: null when unbounded), {@code origin} (class and jar) and {@code kernels} (backend,
     * origin).
     */
    static ObjectNode json(NeuriteRuntime runtime, String only) {
        ObjectNode doc = JsonOutput.object();
        ArrayNode layers = doc.putArray("layers");
        for (LayerType t : runtime.layers().all()) {
            if (only != null && !t.name().equals(only)) continue;
            ObjectNode layer = layers.addObject();
            layer.put("name", t.name());
            layer.put("doc", t.doc());
            ArrayNode params = layer.putArray("params");
            for (ParamSpec p : t.schema().specs()) {
                ObjectNode param = params.addObject();
                param.put("name", p.name());
                param.put("type", p.type().display());
                param.put("required", p.required());
                param.set("default", JsonOutput.MAPPER.valueToTree(p.required() ? null : p.defaultValue()));
                param.put("doc", p.doc());
                // JSON has no infinity: an unbounded side is null.
                if (Double.isInfinite(p.min())) param.putNull("min"); else param.put("min", p.min());
                if (Double.isInfinite(p.max())) param.putNull("max"); else param.put("max", p.max());
            }
            layer.put("origin", NeuriteRuntime.origin(t));
            ArrayNode kernels = layer.putArray("kernels");
            for (KernelOverride k : runtime.kernelOverrides(t.name())) {
                kernels.addObject().put("backend", k.backend()).put("origin", NeuriteRuntime.origin(k));
            }
        }
        return doc;
    }

    private static String format(Object v) {
        return v instanceof String s ? '"' + s + '"' : String.valueOf(v);
    }
}
