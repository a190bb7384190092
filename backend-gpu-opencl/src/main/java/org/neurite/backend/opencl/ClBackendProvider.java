package org.neurite.backend.opencl;

import java.util.List;
import org.neurite.backend.Backend;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.BackendProvider;

/**
 * Creates {@link ClBackend}s for deployments that name the {@code opencl} backend: raw backends,
 * which the runtime wraps in a {@code CheckedBackend} like every other.
 * {@link #availability()} probes the machine once (the OpenCL library, a registered driver, a
 * platform, a device) and says exactly what is missing and how to install it, so
 * {@code nn backends} can print it and a deployment with {@code fallback: [cpu]} falls back with
 * that reason. {@link #devices()} lists every device for {@code nn backends}.
 * {@link BackendOptions#device()} selects the device (index, type or name substring; see
 * {@link ClDevices}); {@link BackendOptions#threads()} is ignored. Kernels are cached in
 * {@code $NEURITE_CACHE/opencl} or {@code ~/.cache/neurite/opencl}.
 */
public final class ClBackendProvider implements BackendProvider {
    private final ClProgramCache cache;
    private volatile ClAvailability.Findings findings;

    public ClBackendProvider() {
        this(ClProgramCache.standard());
    }

    ClBackendProvider(ClProgramCache cache) {
        this.cache = cache;
    }

    @Override public String name() { return "opencl"; }

    @Override public String availability() { return findings().problem(); }

    /** Every OpenCL device found, in the order {@code device:} indices count; empty when OpenCL is unavailable. */
    public List<ClDeviceInfo> devices() {
        return findings().devices().stream().map(ClDevices.Found::info).toList();
    }

    @Override public Backend create(BackendOptions options) {
        String why = availability();
        if (why != null) throw new IllegalStateException("opencl backend unavailable: " + why);
        return new ClBackend(ClDevices.select(findings().devices(), options.device()), cache);
    }

    private ClAvailability.Findings findings() {
        ClAvailability.Findings f = findings;
        if (f == null) findings = f = ClAvailability.probe();
        return f;
    }
}
