package org.neurite.backend.opencl;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import org.neurite.plugin.BackendOptions;

/**
 * The OpenCL backend the tests share (one per test JVM: building the kernels costs seconds on
 * PoCL even from the cache). Tests run wherever OpenCL works, PoCL included; where it does not,
 * they fail with the provider's explanation of what is missing, unless the run says
 * {@code -Dneurite.opencl.skip=true} (for machines known to lack OpenCL), which skips them.
 * {@code -Dneurite.opencl.device=...} picks the device (index, type or name) as a deployment would.
 */
final class OpenClTests {
    private static ClBackend shared;
    private static ClDevices.Found device;

    private OpenClTests() {}

    /** The shared backend, or the test is skipped (explicit opt-out) or failed (OpenCL missing). */
    static synchronized ClBackend backend() {
        assumeFalse(Boolean.getBoolean("neurite.opencl.skip"), "OpenCL tests skipped by -Dneurite.opencl.skip=true");
        if (shared == null) {
            ClBackendProvider provider = new ClBackendProvider();
            String why = provider.availability();
            if (why != null) fail("OpenCL is unavailable, so the OpenCL backend cannot be tested: " + why
                    + " (run with -Dneurite.opencl.skip=true to skip these tests on a machine without OpenCL)");
            shared = (ClBackend) provider.create(new BackendOptions(0, System.getProperty("neurite.opencl.device")));
            device = ClDevices.select(ClDevices.list(), System.getProperty("neurite.opencl.device"));
        }
        return shared;
    }

    /** The device the shared backend runs on, with its handles, for tests that open their own backend or context. */
    static synchronized ClDevices.Found device() {
        backend();
        return device;
    }
}
