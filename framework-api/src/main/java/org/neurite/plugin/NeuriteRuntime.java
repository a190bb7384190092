package org.neurite.plugin;

import com.google.inject.AbstractModule;
import com.google.inject.CreationException;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Key;
import com.google.inject.Module;
import com.google.inject.ProvisionException;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.TypeLiteral;
import com.google.inject.multibindings.MapBinder;
import com.google.inject.multibindings.Multibinder;
import com.google.inject.spi.Element;
import com.google.inject.spi.Elements;
import com.google.inject.spi.Message;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import org.neurite.backend.Backend;
import org.neurite.backend.CheckedBackend;
import org.neurite.graph.LayerRegistry;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamSpec;
import org.neurite.layer.ParamType;
import org.neurite.train.DataSource;
import org.neurite.train.LearningRateSchedule;
import org.neurite.train.LossFunction;
import org.neurite.train.Metric;
import org.neurite.train.OptimizerFactory;
import org.neurite.train.Schedules;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The wired-up framework: every plugin found through {@link ServiceLoader} (on the class path, and
 * in plugin folders, one class loader per jar), their Guice modules combined into one injector,
 * the {@link LayerRegistry}, the backends by name, the {@link KernelOverride}s and the
 * {@link NamedRegistry registries} of {@link LossFunction losses}, {@link OptimizerFactory
 * optimizers}, {@link LearningRateSchedule schedules}, {@link Metric metrics} and
 * {@link DataSource data sources}. The core module declares every multibinder even when no plugin
 * contributes, so an empty deployment fails with "no layers"/"no backend"/"unknown loss" messages
 * rather than Guice errors. The injector provides the registries
 * ({@code NamedRegistry<LossFunction>}, {@code NamedRegistry<OptimizerFactory>},
 * {@code NamedRegistry<LearningRateSchedule>}, {@code NamedRegistry<Metric>},
 * {@code NamedRegistry<DataSource>}, {@link LayerRegistry}); services that need them declare them
 * in an {@code @Inject} constructor and are created with {@link #instance}.
 *
 * <p>Every conflict fails loudly with a {@link PluginException} naming the jar of each party: two
 * layers, two backends, two losses, two optimizers, two schedules, two metrics, two data sources
 * or two kernel overrides under one name, a kernel override for a layer no plugin registers, a
 * plugin whose Guice module fails. A layer with overrides is registered as a
 * type whose {@code compile} picks the override for the backend being compiled for and falls back
 * to the layer's own, generic kernel (which stays the reference) for every other backend.
 *
 * <p>A runtime that loaded jars owns their class loaders; {@link #close()} releases them.
 *
 * <p>Logged for operators: what the plugins contributed (DEBUG), and which backend
 * {@link #createBackend} chose, with the reason each one before it in the chain was passed over (INFO).
 */
public final class NeuriteRuntime implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NeuriteRuntime.class);

    private final List<NeuritePlugin> plugins;
    private final LayerRegistry layers;
    private final Map<String, BackendProvider> backends;
    private final List<KernelOverride> kernels;
    private final NamedRegistry<LossFunction> losses;
    private final NamedRegistry<OptimizerFactory> optimizers;
    private final NamedRegistry<LearningRateSchedule> schedules;
    private final NamedRegistry<Metric> metrics;
    private final NamedRegistry<DataSource> dataSources;
    private final Injector services;
    private final PluginLoader jars;

    private static final Key<NamedRegistry<LossFunction>> LOSSES = Key.get(new TypeLiteral<>() {});
    private static final Key<NamedRegistry<OptimizerFactory>> OPTIMIZERS = Key.get(new TypeLiteral<>() {});
    private static final Key<NamedRegistry<LearningRateSchedule>> SCHEDULES = Key.get(new TypeLiteral<>() {});
    private static final Key<NamedRegistry<Metric>> METRICS = Key.get(new TypeLiteral<>() {});
    private static final Key<NamedRegistry<DataSource>> DATA_SOURCES = Key.get(new TypeLiteral<>() {});

    /** What a layer's name must look like: a lower-case identifier, as {@code docs/plugins.md} asks. */
    static final String LAYER_NAME = "[a-z][a-z0-9_]*";

    private NeuriteRuntime(List<NeuritePlugin> plugins, PluginLoader jars) {
        this.plugins = List.copyOf(plugins);
        this.jars = jars;
        List<Module> modules = new ArrayList<>();
        modules.add(new CoreModule());
        for (NeuritePlugin p : plugins) modules.add(recordedModule(p));
        Injector injector;
        try {
            injector = Guice.createInjector(modules);
        } catch (CreationException e) {
            throw new PluginException("the plugins' Guice modules cannot be combined: "
                    + e.getErrorMessages().iterator().next().getMessage());
        }
        Set<LayerType> types = injector.getInstance(Key.get(new TypeLiteral<Set<LayerType>>() {}));
        for (LayerType t : types) {
            // Scripts call layers by identifier (the grammar's ID), lower case by convention: a
            // name outside that would load and then be impossible to call.
            String name = t.name();
            if (name == null || !name.matches(LAYER_NAME)) {
                throw new PluginException("layer " + LayerRegistry.origin(t) + " is named " + (name == null ? "null" : "'" + name + "'")
                        + ": a layer's name() must be a lower-case identifier (" + LAYER_NAME + "), the name scripts call it by");
            }
        }
        LayerRegistry generic;
        try {
            generic = new LayerRegistry(types);
        } catch (IllegalStateException duplicate) {
            throw new PluginException(duplicate.getMessage());
        }
        this.kernels = kernelOverrides(injector, generic);
        this.layers = withKernelDispatch(generic, kernels);
        this.backends = backends(injector);
        this.losses = provision(injector, LOSSES);
        this.optimizers = provision(injector, OPTIMIZERS);
        this.schedules = provision(injector, SCHEDULES);
        this.metrics = provision(injector, METRICS);
        this.dataSources = provision(injector, DATA_SOURCES);
        LayerRegistry scripts = layers;
        this.services = injector.createChildInjector(new AbstractModule() {
            @Override protected void configure() {
                bind(LayerRegistry.class).toInstance(scripts);
            }
        });
        LOG.debug("{} plugin(s): {} layers, backends {}, {} kernel override(s), losses {}, optimizers {}, schedules {}, "
                + "metrics {}, data sources {}", this.plugins.size(), layers.all().size(), backends.keySet(), kernels.size(),
                losses.names(), optimizers.names(), schedules.names(), metrics.names(), dataSources.names());
    }

    /** Gets a registry now, so that a conflict fails the discovery with the registry's own message. */
    private static <T> T provision(Injector injector, Key<T> key) {
        try {
            return injector.getInstance(key);
        } catch (ProvisionException e) {
            for (Throwable c = e; c != null; c = c.getCause()) {
                if (c instanceof PluginException p) throw p;
            }
            throw e;
        }
    }

    /** Plugins visible to {@code loader} through {@code META-INF/services/org.neurite.plugin.NeuritePlugin}. */
    public static NeuriteRuntime discover(ClassLoader loader) {
        return new NeuriteRuntime(PluginLoader.fromClassPath(loader), null);
    }

    /** Plugins on the class path of this class. */
    public static NeuriteRuntime discover() {
        return discover(NeuriteRuntime.class.getClassLoader());
    }

    /**
     * Plugins on the class path of this class, then those in every {@code *.jar} directly inside
     * each of {@code pluginFolders} (folders in order, jars by name). Each jar gets its own class
     * loader whose parent is this class's, so the {@code org.neurite} API is shared.
     *
     * @throws PluginException for a missing folder, a file that is not a plugin jar, a provider that
     *     cannot be loaded or created, and any conflict between plugins, naming the jars involved
     */
    public static NeuriteRuntime discover(List<Path> pluginFolders) {
        ClassLoader framework = NeuriteRuntime.class.getClassLoader();
        List<NeuritePlugin> found = new ArrayList<>(PluginLoader.fromClassPath(framework));
        PluginLoader jars = new PluginLoader(framework);
        try {
            found.addAll(jars.fromFolders(pluginFolders));
            return new NeuriteRuntime(found, jars);
        } catch (RuntimeException | LinkageError e) {
            jars.close();
            throw e;
        }
    }

    public static NeuriteRuntime of(List<NeuritePlugin> plugins) {
        return new NeuriteRuntime(plugins, null);
    }

    /**
     * The plugin's module, configured once here so that a failure is reported with the plugin's
     * jar; the recorded bindings then go into the shared injector.
     */
    private static Module recordedModule(NeuritePlugin plugin) {
        String origin = PluginLoader.origin(plugin.getClass());
        List<Element> elements;
        try {
            elements = Elements.getElements(plugin.module());
        } catch (RuntimeException | LinkageError e) {
            throw new PluginException("plugin " + origin + " failed to create its Guice module: " + PluginLoader.withCauses(e));
        }
        for (Element element : elements) {
            if (element instanceof Message m) {
                String why = m.getCause() != null ? PluginLoader.withCauses(m.getCause()) : m.getMessage();
                throw new PluginException("plugin " + origin + " has a broken Guice module: " + why);
            }
        }
        return Elements.getModule(elements);
    }

    /** Every override, checked: one per (layer, backend), each for a registered layer. */
    private static List<KernelOverride> kernelOverrides(Injector injector, LayerRegistry layers) {
        Map<KernelKey, Set<KernelOverride>> bound = injector.getInstance(
                Key.get(new TypeLiteral<Map<KernelKey, Set<KernelOverride>>>() {}));
        List<KernelOverride> all = new ArrayList<>();
        for (Map.Entry<KernelKey, Set<KernelOverride>> e : bound.entrySet()) {
            KernelKey key = e.getKey();
            List<KernelOverride> overrides = new ArrayList<>(e.getValue());
            if (overrides.size() > 1) {
                throw new PluginException("kernel for layer '" + key.layer() + "' on backend '" + key.backend()
                        + "' is registered twice: by " + origin(overrides.get(0)) + " and by " + origin(overrides.get(1)));
            }
            KernelOverride k = overrides.get(0);
            if (!KernelKey.of(k).equals(key)) {
                throw new PluginException("kernel " + origin(k) + " is bound under " + key + " but is for " + KernelKey.of(k));
            }
            if (layers.find(key.layer()).isEmpty()) {
                List<String> close = layers.suggestions(key.layer());
                throw new PluginException("kernel " + origin(k) + " is for layer '" + key.layer()
                        + "', which no plugin registers" + (close.isEmpty() ? "" : "; did you mean '" + close.get(0) + "'?"));
            }
            all.add(k);
        }
        all.sort(Comparator.comparing(KernelOverride::layer).thenComparing(KernelOverride::backend));
        return List.copyOf(all);
    }

    /** The registry scripts resolve against: layers with overrides dispatch on the backend name. */
    private static LayerRegistry withKernelDispatch(LayerRegistry generic, List<KernelOverride> kernels) {
        if (kernels.isEmpty()) return generic;
        Map<String, Map<String, KernelOverride>> byLayer = new TreeMap<>();
        for (KernelOverride k : kernels) byLayer.computeIfAbsent(k.layer(), n -> new TreeMap<>()).put(k.backend(), k);
        List<LayerType> types = new ArrayList<>();
        for (LayerType t : generic.all()) {
            Map<String, KernelOverride> overrides = byLayer.get(t.name());
            types.add(overrides == null ? t : new KernelDispatch(t, overrides));
        }
        return new LayerRegistry(types);
    }

    /** Backend providers by name; two under one name are an error naming both. */
    private static Map<String, BackendProvider> backends(Injector injector) {
        Map<String, Set<BackendProvider>> bound = injector.getInstance(
                Key.get(new TypeLiteral<Map<String, Set<BackendProvider>>>() {}));
        Map<String, BackendProvider> byName = new TreeMap<>();
        for (Map.Entry<String, Set<BackendProvider>> e : bound.entrySet()) {
            List<BackendProvider> providers = new ArrayList<>(e.getValue());
            if (providers.size() > 1) {
                throw new PluginException("backend '" + e.getKey() + "' is registered twice: by " + origin(providers.get(0))
                        + " and by " + origin(providers.get(1)));
            }
            byName.put(e.getKey(), providers.get(0));
        }
        return byName;
    }

    /**
     * {@code com.example.swish.Swish (/plugins/example-plugin-swish.jar)}: the class of a layer
     * type, backend provider, kernel override or plugin and the jar or class folder it was loaded
     * from. For a layer with overrides it names the layer type its plugin registered.
     */
    public static String origin(Object contribution) {
        Object registered = contribution instanceof KernelDispatch d ? d.generic() : contribution;
        return PluginLoader.origin(registered.getClass());
    }

    public List<NeuritePlugin> plugins() { return plugins; }

    public LayerRegistry layers() { return layers; }

    public Map<String, BackendProvider> backends() { return backends; }

    /** The losses scripts can name, from every plugin (the core's included). */
    public NamedRegistry<LossFunction> losses() { return losses; }

    /** The optimizers scripts can name, from every plugin (the core's included). */
    public NamedRegistry<OptimizerFactory> optimizers() { return optimizers; }

    /** The learning-rate schedules scripts can name, from every plugin (the core's included). */
    public NamedRegistry<LearningRateSchedule> schedules() { return schedules; }

    /** The metrics every evaluation records (and a train section can watch), from every plugin (the core's included). */
    public NamedRegistry<Metric> metrics() { return metrics; }

    /** The data sources a train section can call ({@code data = adding(length=100)}), from every plugin (the core's included). */
    public NamedRegistry<DataSource> dataSources() { return dataSources; }

    /**
     * A service created by this runtime's injector: its {@code @Inject} constructor receives the
     * registries above, so it sees exactly what the plugins contributed.
     */
    public <T> T instance(Class<T> type) {
        return services.getInstance(type);
    }

    /** Every kernel override, by layer then backend name. */
    public List<KernelOverride> kernelOverrides() { return kernels; }

    /** The overrides of one layer, by backend name (empty for a layer with none). */
    public List<KernelOverride> kernelOverrides(String layer) {
        return kernels.stream().filter(k -> k.layer().equals(layer)).toList();
    }

    /**
     * The layer type as its plugin registered it, whose {@code compile} is the generic kernel: the
     * reference that kernel overrides are tested against. {@code layers().find(name)} is the type
     * scripts get, which is this one unless the layer has overrides.
     */
    public Optional<LayerType> referenceLayer(String name) {
        return layers.find(name).map(t -> t instanceof KernelDispatch d ? d.generic() : t);
    }

    /**
     * Checks that {@code name} and every name of {@code fallback} is a backend this runtime knows,
     * available here or not: what {@link #createBackend} checks first, for the commands that read a
     * deployment without making a backend (a misspelt name is an error on every machine and in
     * every command).
     *
     * @throws IllegalArgumentException naming the first unknown one and listing the known ones
     */
    public void requireKnownBackends(String name, List<String> fallback) {
        List<String> chain = new ArrayList<>();
        chain.add(name);
        chain.addAll(fallback);
        for (String candidate : chain) {
            if (!backends.containsKey(candidate)) {
                throw new IllegalArgumentException("unknown backend '" + candidate + "'" + (candidate.equals(name) ? "" : " in the fallback")
                        + "; available: "
                        + (backends.isEmpty() ? "none (no backend plugin on the class path)" : String.join(", ", backends.keySet())));
            }
        }
    }

    /**
     * Creates the backend named {@code name}, or the first available of {@code fallback} when it is
     * unavailable here. {@code onFallback} receives the warning to show the user. The backend comes
     * wrapped in a {@link CheckedBackend}: every call's arguments are checked before the backend's
     * kernels see them.
     *
     * @throws IllegalArgumentException for an unknown name (listing the known ones) or when nothing
     *     in the chain is available (with each reason)
     */
    public Backend createBackend(String name, BackendOptions options, List<String> fallback,
                                 java.util.function.Consumer<String> onFallback) {
        List<String> chain = new ArrayList<>();
        chain.add(name);
        chain.addAll(fallback);
        // Every name first: a misspelt fallback would otherwise pass unnoticed for as long as the
        // backend before it is available, and fail only on the machine where it is needed.
        requireKnownBackends(name, fallback);
        List<String> reasons = new ArrayList<>();
        for (String candidate : chain) {
            BackendProvider provider = backends.get(candidate);
            String why = provider.availability();
            if (why == null) {
                LOG.info("backend '{}' chosen{} ({})", candidate, candidate.equals(name) ? "" : " as the fallback for '" + name + "'",
                        origin(provider));
                if (!candidate.equals(name)) onFallback.accept("backend '" + name + "' is unavailable (" + reasons.get(0)
                        + "); falling back to '" + candidate + "'");
                return CheckedBackend.wrap(provider.create(options));
            }
            LOG.info("backend '{}' is unavailable here: {}", candidate, why);
            reasons.add(why);
        }
        throw new IllegalArgumentException("backend '" + name + "' is unavailable: " + String.join("; ", reasons));
    }

    /** Releases the class loaders of plugin jars; their layers and backends must not be used afterwards. */
    @Override public void close() {
        if (jars != null) jars.close();
    }

    /**
     * Declares the extension points so they exist even when empty. Duplicate map keys are
     * permitted here only so that they reach the checks above, which name both jars.
     */
    private static final class CoreModule extends AbstractModule {
        @Override protected void configure() {
            Multibinder.newSetBinder(binder(), LayerType.class);
            MapBinder.newMapBinder(binder(), String.class, BackendProvider.class).permitDuplicates();
            MapBinder.newMapBinder(binder(), KernelKey.class, KernelOverride.class).permitDuplicates();
            MapBinder.newMapBinder(binder(), String.class, LossFunction.class).permitDuplicates();
            MapBinder.newMapBinder(binder(), String.class, OptimizerFactory.class).permitDuplicates();
            MapBinder.newMapBinder(binder(), String.class, LearningRateSchedule.class).permitDuplicates();
            MapBinder.newMapBinder(binder(), String.class, Metric.class).permitDuplicates();
            MapBinder.newMapBinder(binder(), String.class, DataSource.class).permitDuplicates();
        }

        @Provides @Singleton
        NamedRegistry<LossFunction> losses(Map<String, Set<LossFunction>> bound) {
            return new NamedRegistry<>("loss", bound);
        }

        /** The optimizers, each checked to take a float {@code lr}: the rate a schedule starts from. */
        @Provides @Singleton
        NamedRegistry<OptimizerFactory> optimizers(Map<String, Set<OptimizerFactory>> bound) {
            NamedRegistry<OptimizerFactory> registry = new NamedRegistry<>("optimizer", bound);
            for (OptimizerFactory f : registry.all().values()) {
                ParamSpec lr = f.schema().find("lr");
                if (lr == null || lr.type() != ParamType.FLOAT) {
                    throw new PluginException("optimizer '" + f.name() + "' of " + origin(f)
                            + " has no float argument 'lr' (the learning rate schedules start from)");
                }
            }
            return registry;
        }

        /** The schedules, each checked to leave {@code warmup} to the framework, which adds it to every schedule. */
        @Provides @Singleton
        NamedRegistry<LearningRateSchedule> schedules(Map<String, Set<LearningRateSchedule>> bound) {
            NamedRegistry<LearningRateSchedule> registry = new NamedRegistry<>("schedule", bound);
            for (LearningRateSchedule s : registry.all().values()) {
                if (s.schema().find(Schedules.WARMUP) != null) {
                    throw new PluginException("schedule '" + s.name() + "' of " + origin(s) + " declares '" + Schedules.WARMUP
                            + "', which every schedule takes from the framework");
                }
            }
            return registry;
        }

        /**
         * The metrics, each named so that {@code val_<name>} is a record key of its own: a
         * lower-case identifier other than {@code loss}, which every evaluation records anyway.
         */
        @Provides @Singleton
        NamedRegistry<Metric> metrics(Map<String, Set<Metric>> bound) {
            NamedRegistry<Metric> registry = new NamedRegistry<>("metric", bound);
            for (Map.Entry<String, Metric> e : registry.all().entrySet()) {
                if (!e.getKey().matches("[a-z][a-z0-9_]*") || e.getKey().equals("loss")) {
                    throw new PluginException("metric '" + e.getKey() + "' of " + origin(e.getValue())
                            + " needs a lower-case identifier other than 'loss' for a name (its records are val_<name>, test_<name>)");
                }
            }
            return registry;
        }

        @Provides @Singleton
        NamedRegistry<DataSource> dataSources(Map<String, Set<DataSource>> bound) {
            return new NamedRegistry<>("data source", bound);
        }
    }
}
