package org.neurite.plugins.norm;

import com.google.inject.Module;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.plugin.PluginModule;

/**
 * The normalisation layer family: {@code batchnorm} and {@code lrn}. Found through
 * {@code ServiceLoader}; its Guice module adds the layer types to the {@code Multibinder<LayerType>}.
 */
public final class NormPlugin implements NeuritePlugin {
    @Override public String name() { return "norm-layers"; }

    @Override public Module module() {
        return new PluginModule() {
            @Override protected void configure() {
                layer(new BatchNorm());
                layer(new LocalResponseNorm());
            }
        };
    }
}
