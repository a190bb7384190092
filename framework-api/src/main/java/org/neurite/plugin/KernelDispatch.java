package org.neurite.plugin;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerKernel;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamDecl;
import org.neurite.layer.ParamSchema;
import org.neurite.tensor.Shape;

/**
 * What the {@link NeuriteRuntime}'s registry holds for a layer that has {@link KernelOverride}s:
 * the layer type as its plugin registered it, except that {@link #compile} looks up the backend
 * being compiled for ({@code context.backend().name()}) and compiles that backend's override when
 * there is one and it {@link KernelOverride#supports supports} the configuration. Everything else
 * (name, schema, shapes, parameters, FLOPs) is the generic type's, so scripts, summaries and
 * checkpoints cannot tell the difference; the engine does not know overrides exist.
 */
final class KernelDispatch implements LayerType {
    private final LayerType generic;
    private final Map<String, KernelOverride> byBackend;

    KernelDispatch(LayerType generic, Map<String, KernelOverride> byBackend) {
        this.generic = generic;
        this.byBackend = new TreeMap<>(byBackend);
    }

    /** The layer type as registered: its {@code compile} is the reference kernel. */
    LayerType generic() { return generic; }

    @Override public LayerKernel compile(KernelContext context) {
        KernelOverride override = byBackend.get(context.backend().name());
        return override != null && override.supports(context) ? override.compile(context) : generic.compile(context);
    }

    @Override public String name() { return generic.name(); }

    @Override public String doc() { return generic.doc(); }

    @Override public ParamSchema schema() { return generic.schema(); }

    @Override public int minInputs() { return generic.minInputs(); }

    @Override public int maxInputs() { return generic.maxInputs(); }

    @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) { return generic.outputShape(args, inputs); }

    @Override public List<ParamDecl> parameters(LayerArgs args, List<Shape> inputs) { return generic.parameters(args, inputs); }

    @Override public long flops(LayerArgs args, List<Shape> inputs, Shape output) { return generic.flops(args, inputs, output); }

    /** False: whether a plugin's kernel keeps to the shards' rules is not known here. */
    @Override public boolean shardable() { return false; }

    @Override public String toString() { return generic.name() + " with kernels for " + byBackend.keySet(); }
}
