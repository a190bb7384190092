package org.neurite.plugins.shape;

import com.google.inject.Module;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.plugin.PluginModule;

/**
 * The layers that join, split and pad values, which branching networks (ResNet's skip
 * connections, GoogLeNet's inception blocks) need: {@code add}, {@code concat}, {@code split} and
 * {@code zeropad}. Found through {@code ServiceLoader}; its Guice module adds the layer types to
 * the {@code Multibinder<LayerType>}.
 */
public final class ShapePlugin implements NeuritePlugin {
    @Override public String name() { return "shape-layers"; }

    @Override public Module module() {
        return new PluginModule() {
            @Override protected void configure() {
                layer(new Add());
                layer(new Concat());
                layer(new Split());
                layer(new ZeroPad2d());
            }
        };
    }
}
