package org.neurite.backend.cpu;

import com.google.inject.Module;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.plugin.PluginModule;

/**
 * The plugin entry point of the {@code backend-cpu} jar (listed in
 * {@code META-INF/services/org.neurite.plugin.NeuritePlugin}): its Guice module registers the
 * {@link CpuBackendProvider} under the name {@code cpu}.
 */
public final class CpuPlugin implements NeuritePlugin {
    @Override public String name() { return "backend-cpu"; }

    @Override public Module module() {
        return new PluginModule() {
            @Override protected void configure() {
                backend(new CpuBackendProvider());
            }
        };
    }
}
