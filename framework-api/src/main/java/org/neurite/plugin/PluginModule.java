package org.neurite.plugin;

import com.google.inject.AbstractModule;
import com.google.inject.multibindings.MapBinder;
import com.google.inject.multibindings.Multibinder;
import org.neurite.layer.LayerType;

/**
 * Base class for plugin Guice modules: {@code layer(new Conv2d())} adds a layer type to the
 * {@code Multibinder<LayerType>}, {@code backend(new CpuBackendProvider())} a backend to the
 * {@code MapBinder<String, BackendProvider>}.
 */
public abstract class PluginModule extends AbstractModule {
    protected final void layer(LayerType type) {
        Multibinder.newSetBinder(binder(), LayerType.class).addBinding().toInstance(type);
    }

    protected final void backend(BackendProvider provider) {
        MapBinder.newMapBinder(binder(), String.class, BackendProvider.class)
                .addBinding(provider.name()).toInstance(provider);
    }
}
