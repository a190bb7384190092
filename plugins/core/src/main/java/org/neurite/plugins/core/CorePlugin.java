package org.neurite.plugins.core;

import com.google.inject.Module;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.plugin.PluginModule;

/**
 * The core layer family: {@code dense}, {@code relu}, {@code sigmoid}, {@code tanh},
 * {@code softmax}, {@code flatten} and {@code dropout}. Found through {@code ServiceLoader}
 * ({@code META-INF/services/org.neurite.plugin.NeuritePlugin}); its Guice module adds each layer
 * type to the {@code Multibinder<LayerType>}.
 */
public final class CorePlugin implements NeuritePlugin {
    @Override public String name() { return "core-layers"; }

    @Override public Module module() {
        return new PluginModule() {
            @Override protected void configure() {
                layer(new Dense());
                layer(new Relu());
                layer(new Sigmoid());
                layer(new Tanh());
                layer(new Softmax());
                layer(new Flatten());
                layer(new Dropout());
            }
        };
    }
}
