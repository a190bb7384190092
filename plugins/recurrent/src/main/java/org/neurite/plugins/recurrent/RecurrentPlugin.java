package org.neurite.plugins.recurrent;

import com.google.inject.Module;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.plugin.PluginModule;

/**
 * The recurrent layer family: {@code embedding} for token indices, and {@code rnn}, {@code lstm}
 * and {@code gru} over [time, features] sequences with PyTorch's parameter names and layouts, so
 * {@code nn.LSTM}/{@code nn.GRU}/{@code nn.RNN} state dicts load by name. Found through
 * {@code ServiceLoader} ({@code META-INF/services/org.neurite.plugin.NeuritePlugin}); its Guice
 * module adds each layer type to the {@code Multibinder<LayerType>}.
 */
public final class RecurrentPlugin implements NeuritePlugin {
    @Override public String name() { return "recurrent-layers"; }

    @Override public Module module() {
        return new PluginModule() {
            @Override protected void configure() {
                layer(new Embedding());
                layer(new Rnn());
                layer(new Lstm());
                layer(new Gru());
            }
        };
    }
}
