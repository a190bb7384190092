package org.neurite.plugins.pool;

import com.google.inject.Module;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.plugin.PluginModule;

/**
 * The pooling layer family: {@code maxpool}, {@code avgpool} and {@code globalavgpool}. Found
 * through {@code ServiceLoader}; its Guice module adds the layer types to the
 * {@code Multibinder<LayerType>}.
 */
public final class PoolPlugin implements NeuritePlugin {
    @Override public String name() { return "pool-layers"; }

    @Override public Module module() {
        return new PluginModule() {
            @Override protected void configure() {
                layer(new MaxPool2d());
                layer(new AvgPool2d());
                layer(new GlobalAvgPool2d());
            }
        };
    }
}
