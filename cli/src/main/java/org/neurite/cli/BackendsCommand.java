package org.neurite.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import org.neurite.backend.cpu.CpuBackendProvider;
import org.neurite.backend.cpu.CpuKernelChoice;
import org.neurite.backend.opencl.ClBackendProvider;
import org.neurite.backend.opencl.ClDeviceInfo;
import org.neurite.plugin.BackendProvider;
import org.neurite.plugin.NeuriteRuntime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code nn backends [--plugins DIR]}: the backends found, for each unavailable one why, the CPU
 * backend's vector width and GEMM micro-tile with the reason they were chosen, and the OpenCL
 * devices; with {@code --json} the same as one JSON object ({@link #json}).
 */
@Command(name = "backends", description = "List the compute backends found and whether each can run here.")
final class BackendsCommand implements Callable<Integer> {
    @Mixin PluginsOption plugins = new PluginsOption();

    @Mixin JsonOutput json = new JsonOutput();

    @Spec CommandSpec spec;

    @Override public Integer call() {
        var backends = NeuriteRuntime.discover(plugins.folders).backends();
        if (json.enabled()) {
            JsonOutput.print(spec, json(backends));
            return ExitCodes.OK;
        }
        PrintWriter out = spec.commandLine().getOut();
        if (backends.isEmpty()) out.println("no backend plugin found on the class path");
        for (BackendProvider p : backends.values()) {
            String why = p.availability();
            out.println(p.name() + ": " + (why == null ? "available" : "unavailable — " + why));
            // Every OpenCL platform's devices, with the index a deployment's 'device:' may name.
            if (p instanceof ClBackendProvider cl) cl.devices().forEach(d -> out.println("    " + d.describe()));
            // The CPU backend's vector width and GEMM micro-tile, and why they were chosen.
            if (p instanceof CpuBackendProvider cpu) {
                out.println("    " + cpu.kernelChoice().describe());
                if (!cpu.heapPages().isEmpty()) out.println("    heap on " + cpu.heapPages());
            }
        }
        out.flush();
        return ExitCodes.OK;
    }

    /**
     * {@code {"backends": [...]}}, each with {@code name}, {@code available}, {@code reason} (null
     * when available), {@code origin} (class and jar), for the CPU backend {@code kernels} (path,
     * vector_bits, gemm_tile, source: override, features, cache or no-vector-api, and
     * reason) and {@code heap_pages} (which pages the heap is on, null where unknown), and for
     * OpenCL {@code devices} (index,
     * platform, name, type, compute_units, global_memory_bytes, opencl_version, fp64).
     */
    static ObjectNode json(Map<String, BackendProvider> backends) {
        ObjectNode doc = JsonOutput.object();
        ArrayNode list = doc.putArray("backends");
        for (BackendProvider p : backends.values()) {
            String why = p.availability();
            ObjectNode backend = list.addObject();
            backend.put("name", p.name());
            backend.put("available", why == null);
            backend.put("reason", why);
            backend.put("origin", NeuriteRuntime.origin(p));
            if (p instanceof CpuBackendProvider cpu) {
                CpuKernelChoice k = cpu.kernelChoice();
                backend.putObject("kernels").put("path", k.path()).put("vector_bits", k.vectorBits()).put("gemm_tile", k.gemmTile())
                        .put("source", k.source()).put("reason", k.reason());
                backend.put("heap_pages", cpu.heapPages().isEmpty() ? null : cpu.heapPages());
            }
            if (p instanceof ClBackendProvider cl) {
                ArrayNode devices = backend.putArray("devices");
                for (ClDeviceInfo d : cl.devices()) {
                    devices.addObject().put("index", d.index()).put("platform", d.platform()).put("name", d.name()).put("type", d.type())
                            .put("compute_units", d.computeUnits()).put("global_memory_bytes", d.globalMemoryBytes())
                            .put("opencl_version", d.openclVersion()).put("fp64", d.fp64());
                }
            }
        }
        return doc;
    }
}
