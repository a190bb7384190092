package org.neurite.plugin;

import com.google.inject.AbstractModule;
import com.google.inject.multibindings.MapBinder;
import com.google.inject.multibindings.Multibinder;
import org.neurite.layer.LayerType;

/**
 * Base class for plugin Guice modules: {@code layer(new Conv2d())} adds a layer type to the
 * {@code Multibinder<LayerType>}, {@code backend(new CpuBackendProvider())} a backend to the
 * {@code MapBinder<String, BackendProvider>}, and {@code kernel(new CpuMish())} a faster kernel
 * for one (layer, backend) pair to the {@code MapBinder<KernelKey, KernelOverride>}.
 */
public abstract class PluginModule extends AbstractModule {
    protected final void layer(LayerType type) {
        Multibinder.newSetBinder(binder(), LayerType.class).addBinding().toInstance(type);
    }

    protected final void backend(BackendProvider provider) {
        MapBinder.newMapBinder(binder(), String.class, BackendProvider.class)
                .addBinding(provider.name()).toInstance(provider);
    }

    /** Registers {@code override} for its layer on its backend; the layer may come from any plugin. */
    protected final void kernel(KernelOverride override) {
        MapBinder.newMapBinder(binder(), KernelKey.class, KernelOverride.class)
                .addBinding(KernelKey.of(override)).toInstance(override);
    }
}
