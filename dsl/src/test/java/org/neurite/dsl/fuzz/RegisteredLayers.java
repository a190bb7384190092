package org.neurite.dsl.fuzz;

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
 * The layers the fuzzed scripts resolve against: every plugin on the test class path, found
 * through {@link ServiceLoader} and Guice as a deployment finds them, so semantic checks of real
 * layers (schemas, ranges, shape inference) see the random arguments.
 */
final class RegisteredLayers {
    static final LayerRegistry REGISTRY = load();

    private RegisteredLayers() {}

    private static LayerRegistry load() {
        List<Module> modules = new ArrayList<>();
        for (NeuritePlugin plugin : ServiceLoader.load(NeuritePlugin.class)) modules.add(plugin.module());
        Set<LayerType> types = Guice.createInjector(modules).getInstance(Key.get(new TypeLiteral<Set<LayerType>>() {}));
        if (types.size() < 10) throw new IllegalStateException("expected the layer plugins on the test class path, found " + types.size());
        return new LayerRegistry(types);
    }
}
