package org.neurite.backend.opencl;

import java.util.List;
import org.neurite.backend.Backend;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.BackendProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 *
 * <p>Logged for operators: what the probe found (DEBUG: the ICD registry, platforms, every device)
 * and the device a backend runs on, with the selector that chose it (INFO).
 */
public final class ClBackendProvider implements BackendProvider {
    private static final Logger LOG = LoggerFactory.getLogger(ClBackendProvider.class);
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
        ClDevices.Found device = ClDevices.select(findings().devices(), options.device());
        LOG.info("OpenCL device chosen {}: {}", options.device() == null || options.device().isBlank()
                ? "by default (the first GPU, else the first accelerator, else the first device)"
                : "by device: '" + options.device() + "'", device.info().describe());
        return new ClBackend(device, cache);
    }

    private ClAvailability.Findings findings() {
        ClAvailability.Findings f = findings;
        if (f == null) {
            findings = f = ClAvailability.probe();
            LOG.debug("OpenCL probe: ICD folder {} registers {}; platforms {}; {}", f.icdDirectory(), f.icdFiles(), f.platforms(),
                    f.problem() == null ? "usable" : "unusable: " + f.problem());
            for (ClDevices.Found d : f.devices()) LOG.debug("OpenCL device {}", d.info().describe());
        }
        return f;
    }
}
