package org.neurite.backend.cpu;

import org.neurite.backend.Backend;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.BackendProvider;

/**
 * Creates {@link CpuBackend}s for deployments that name the {@code cpu} backend. It is available
 * on every JVM: with {@code --add-modules jdk.incubator.vector} its inner loops use the Vector
 * API, without it plain Java loops (same results, slower; the backend's description says how to
 * get the fast path). {@link BackendOptions#device()} is ignored (there is one CPU device);
 * {@link BackendOptions#threads()} sizes the worker pool.
 */
public final class CpuBackendProvider implements BackendProvider {
    @Override public String name() { return "cpu"; }

    @Override public Backend create(BackendOptions options) {
        return new CpuBackend(options);
    }

    /**
     * Which inner loops backends of this JVM run (vector width, GEMM micro-tile) and why, for
     * {@code nn backends}. When no cached probe result exists yet, this waits (at most about 25
     * seconds, normally 2-5: two child JVMs warm up and time a product) for the background probe
     * that the choice started, so the answer includes what it measured.
     */
    public CpuKernelChoice kernelChoice() {
        return CpuKernelChoice.current();
    }

    /**
     * Which pages this JVM's heap, and so every tensor, is on ("2 MiB pages
     * (-XX:+UseTransparentHugePages)"), with the flag to pass where the kernel would give huge
     * pages and the JVM does not ask; empty where the JVM or the kernel does not say. For
     * {@code nn backends}.
     */
    public String heapPages() {
        return CpuHugePages.heapPages();
    }
}
