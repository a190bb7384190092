package org.neurite.plugin;

import com.google.inject.Module;

/**
 * The entry point of a plugin jar, listed in {@code META-INF/services/org.neurite.plugin.NeuritePlugin}.
 * Its Guice module contributes layer types, kernels, backends, losses and optimizers, usually by
 * extending {@link PluginModule}.
 */
public interface NeuritePlugin {
    /** Short name for listings, e.g. {@code core-layers}. */
    String name();

    Module module();
}
