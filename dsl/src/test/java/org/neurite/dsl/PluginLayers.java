package org.neurite.dsl;

import com.google.inject.Guice;
import com.google.inject.Key;
import com.google.inject.Module;
import com.google.inject.TypeLiteral;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import org.neurite.graph.LayerRegistry;
import org.neurite.layer.LayerType;
import org.neurite.plugin.NeuritePlugin;

/**
 * The registry the tests resolve scripts against: the real layer plugins on the test class
 * path (core, conv, pool), found the way a deployment finds them, through {@link ServiceLoader}
 * and the Guice {@code Multibinder<LayerType>} their modules add to.
 */
final class PluginLayers {
    static final LayerRegistry REGISTRY = load();

    private PluginLayers() {}

    private static LayerRegistry load() {
        List<Module> modules = new ArrayList<>();
        for (NeuritePlugin plugin : ServiceLoader.load(NeuritePlugin.class)) modules.add(plugin.module());
        Set<LayerType> types = Guice.createInjector(modules).getInstance(Key.get(new TypeLiteral<Set<LayerType>>() {}));
        return new LayerRegistry(types);
    }
}
