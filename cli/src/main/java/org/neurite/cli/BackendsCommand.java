package org.neurite.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.neurite.backend.opencl.ClBackendProvider;
import org.neurite.plugin.BackendProvider;
import org.neurite.plugin.NeuriteRuntime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code nn backends [--plugins DIR]}: the backends found, for each unavailable one why, and the OpenCL devices. */
@Command(name = "backends", description = "List the compute backends found and whether each can run here.")
final class BackendsCommand implements Callable<Integer> {
    @Mixin PluginsOption plugins = new PluginsOption();

    @Spec CommandSpec spec;

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        var backends = NeuriteRuntime.discover(plugins.folders).backends();
        if (backends.isEmpty()) out.println("no backend plugin found on the class path");
        for (BackendProvider p : backends.values()) {
            String why = p.availability();
            out.println(p.name() + ": " + (why == null ? "available" : "unavailable — " + why));
            // Every OpenCL platform's devices, with the index a deployment's 'device:' may name.
            if (p instanceof ClBackendProvider cl) cl.devices().forEach(d -> out.println("    " + d.describe()));
        }
        out.flush();
        return ExitCodes.OK;
    }
}
