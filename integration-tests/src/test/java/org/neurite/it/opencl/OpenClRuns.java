package org.neurite.it.opencl;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.util.List;
import org.neurite.backend.Backend;
import org.neurite.dsl.ScriptLoader;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;

/**
 * Set-up shared by the OpenCL integration tests: the real plugins found on the class path, both
 * backends created by name as a deployment would, and scripts parsed by the real DSL. Where
 * OpenCL is unusable the tests fail with the provider's explanation (what is missing and how to
 * install it), unless the run says {@code -Dneurite.opencl.skip=true}.
 */
final class OpenClRuns {
    static final NeuriteRuntime RUNTIME = NeuriteRuntime.discover();

    private OpenClRuns() {}

    /** A new OpenCL backend on the default device, or the test is skipped (opt-out) or failed (OpenCL missing). */
    static Backend opencl() {
        assumeFalse(Boolean.getBoolean("neurite.opencl.skip"), "OpenCL tests skipped by -Dneurite.opencl.skip=true");
        String why = RUNTIME.backends().get("opencl").availability();
        if (why != null) fail("OpenCL is unavailable, so the OpenCL backend cannot be tested: " + why
                + " (run with -Dneurite.opencl.skip=true to skip these tests on a machine without OpenCL)");
        return RUNTIME.createBackend("opencl", new BackendOptions(0, System.getProperty("neurite.opencl.device")), List.of(), w -> {});
    }

    static Backend cpu() {
        return RUNTIME.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> {});
    }

    static TypedGraph model(String source) {
        return new ScriptLoader(RUNTIME.layers()).parse("parity.nn", source).mainModel();
    }
}
