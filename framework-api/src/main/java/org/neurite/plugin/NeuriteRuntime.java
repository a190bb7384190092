package org.neurite.plugin;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Key;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.TypeLiteral;
import com.google.inject.multibindings.MapBinder;
import com.google.inject.multibindings.Multibinder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import org.neurite.backend.Backend;
import org.neurite.graph.LayerRegistry;
import org.neurite.layer.LayerType;

/**
 * The wired-up framework: every plugin found through {@link ServiceLoader}, their Guice modules
 * combined into one injector, the {@link LayerRegistry} and the backends by name. The core
 * module declares the multibinders even when no plugin contributes, so an empty deployment
 * fails with "no layers"/"no backend" messages rather than Guice errors.
 */
public final class NeuriteRuntime {
    private final List<NeuritePlugin> plugins;
    private final LayerRegistry layers;
    private final Map<String, BackendProvider> backends;

    private NeuriteRuntime(List<NeuritePlugin> plugins) {
        this.plugins = List.copyOf(plugins);
        List<com.google.inject.Module> modules = new ArrayList<>();
        modules.add(new CoreModule());
        for (NeuritePlugin p : plugins) modules.add(p.module());
        Injector injector = Guice.createInjector(modules);
        this.layers = injector.getInstance(LayerRegistry.class);
        this.backends = new TreeMap<>(injector.getInstance(Key.get(new TypeLiteral<Map<String, BackendProvider>>() {})));
    }

    /** Plugins visible to {@code loader} through {@code META-INF/services/org.neurite.plugin.NeuritePlugin}. */
    public static NeuriteRuntime discover(ClassLoader loader) {
        List<NeuritePlugin> found = new ArrayList<>();
        ServiceLoader.load(NeuritePlugin.class, loader).forEach(found::add);
        return new NeuriteRuntime(found);
    }

    /** Plugins on the class path of this class. */
    public static NeuriteRuntime discover() {
        return discover(NeuriteRuntime.class.getClassLoader());
    }

    public static NeuriteRuntime of(List<NeuritePlugin> plugins) {
        return new NeuriteRuntime(plugins);
    }

    public List<NeuritePlugin> plugins() { return plugins; }

    public LayerRegistry layers() { return layers; }

    public Map<String, BackendProvider> backends() { return backends; }

    /**
     * Creates the backend named {@code name}, or the first available of {@code fallback} when it is
     * unavailable here. {@code onFallback} receives the warning to show the user.
     *
     * @throws IllegalArgumentException for an unknown name (listing the known ones) or when nothing
     *     in the chain is available (with each reason)
     */
    public Backend createBackend(String name, BackendOptions options, List<String> fallback,
                                 java.util.function.Consumer<String> onFallback) {
        List<String> chain = new ArrayList<>();
        chain.add(name);
        chain.addAll(fallback);
        List<String> reasons = new ArrayList<>();
        for (String candidate : chain) {
            BackendProvider provider = backends.get(candidate);
            if (provider == null) {
                throw new IllegalArgumentException("unknown backend '" + candidate + "'; available: "
                        + (backends.isEmpty() ? "none (no backend plugin on the class path)" : String.join(", ", backends.keySet())));
            }
            String why = provider.availability();
            if (why == null) {
                if (!candidate.equals(name)) onFallback.accept("backend '" + name + "' is unavailable (" + reasons.get(0)
                        + "); falling back to '" + candidate + "'");
                return provider.create(options);
            }
            reasons.add(why);
        }
        throw new IllegalArgumentException("backend '" + name + "' is unavailable: " + String.join("; ", reasons));
    }

    /** Declares the extension points so they exist even when empty. */
    private static final class CoreModule extends AbstractModule {
        @Override protected void configure() {
            Multibinder.newSetBinder(binder(), LayerType.class);
            MapBinder.newMapBinder(binder(), String.class, BackendProvider.class);
        }

        @Provides @Singleton LayerRegistry registry(Set<LayerType> types) {
            return new LayerRegistry(types);
        }
    }
}
