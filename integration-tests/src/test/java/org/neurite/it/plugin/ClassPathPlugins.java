package org.neurite.it.plugin;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.plugin.NeuriteRuntime;

/** A runtime of the test class path's plugins (the core's layers, backends and training parts) plus plugins a test defines. */
final class ClassPathPlugins {
    private ClassPathPlugins() {}

    static NeuriteRuntime with(NeuritePlugin... extra) {
        List<NeuritePlugin> plugins = new ArrayList<>();
        ServiceLoader.load(NeuritePlugin.class).forEach(plugins::add);
        plugins.addAll(List.of(extra));
        return NeuriteRuntime.of(plugins);
    }
}
