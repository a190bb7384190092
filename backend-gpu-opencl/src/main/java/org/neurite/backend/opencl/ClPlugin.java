package org.neurite.backend.opencl;

import com.google.inject.Module;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.plugin.PluginModule;

/**
 * The plugin entry point of the {@code backend-gpu-opencl} jar (listed in
 * {@code META-INF/services/org.neurite.plugin.NeuritePlugin}): its Guice module registers the
 * {@link ClBackendProvider} under the name {@code opencl}. Registering never touches OpenCL, so
 * the jar is harmless on machines without it; the provider's availability says why.
 */
public final class ClPlugin implements NeuritePlugin {
    @Override public String name() { return "backend-gpu-opencl"; }

    @Override public Module module() {
        return new PluginModule() {
            @Override protected void configure() {
                backend(new ClBackendProvider());
            }
        };
    }
}
