package org.neurite.plugins.conv;

import com.google.inject.Module;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.plugin.PluginModule;

/**
 * The convolution layer family, today {@code conv} (2-D, with stride, padding, dilation and
 * groups). Found through {@code ServiceLoader}; its Guice module adds the layer types to the
 * {@code Multibinder<LayerType>}.
 */
public final class ConvPlugin implements NeuritePlugin {
    @Override public String name() { return "conv-layers"; }

    @Override public Module module() {
        return new PluginModule() {
            @Override protected void configure() {
                layer(new Conv2d());
            }
        };
    }
}
