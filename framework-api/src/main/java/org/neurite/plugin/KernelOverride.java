package org.neurite.plugin;

import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerKernel;

/**
 * A faster kernel for one (layer, backend) pair, contributed by a plugin next to (or instead of
 * shipping) the layer itself: {@code kernel(new CpuMish())} in a {@link PluginModule}. When the
 * engine compiles layer {@link #layer()} for a backend whose {@code name()} is {@link #backend()}
 * and {@link #supports} accepts the configuration, this kernel runs; otherwise the layer type's
 * own {@code compile} does. The layer's generic kernel, written against the {@code Backend} op
 * set, stays the reference: the override must give the same outputs and gradients (to float
 * rounding), which {@code PluginTestKit} checks on every backend present. An override changes
 * nothing else about the layer: its name, schema, shapes and parameters come from the layer type.
 */
public interface KernelOverride {
    /** The name of the layer this kernel computes, e.g. {@code mish}; some plugin must register it. */
    String layer();

    /** The backend it is for, as {@code Backend.name()} says, e.g. {@code cpu}. */
    String backend();

    /**
     * Whether this kernel handles the configuration in {@code context} (arguments, shapes, batch);
     * when false the generic kernel is compiled instead. Every configuration by default.
     */
    default boolean supports(KernelContext context) { return true; }

    /** Compiles the kernel; called only when {@link #supports} returned true. */
    LayerKernel compile(KernelContext context);
}
