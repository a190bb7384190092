package org.neurite.backend.cpu;

import org.neurite.backend.Backend;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.BackendProvider;

/**
 * Creates {@link CpuBackend}s for deployments that name the {@code cpu} backend. The CPU backend
 * is available wherever the JVM was started with {@code --add-modules jdk.incubator.vector};
 * {@link #availability()} says so when that module is missing. {@link BackendOptions#device()}
 * is ignored (there is one CPU device); {@link BackendOptions#threads()} sizes the worker pool.
 */
public final class CpuBackendProvider implements BackendProvider {
    @Override public String name() { return "cpu"; }

    @Override public String availability() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty())
            return "the JVM lacks the Vector API: start it with --add-modules jdk.incubator.vector";
        return null;
    }

    @Override public Backend create(BackendOptions options) {
        String why = availability();
        if (why != null) throw new IllegalStateException("cpu backend unavailable: " + why);
        return new CpuBackend(options);
    }
}
