package com.example.swish;

import java.util.ArrayList;
import java.util.List;
import org.neurite.backend.opencl.ClBackendProvider;

/**
 * The lines the plugin test kit adds for the OpenCL backend, which is on this plugin's test class
 * path: its checks where OpenCL is available here (PoCL in CI), else why it was not checked.
 */
final class OpenClLines {
    private OpenClLines() {}

    /** Null when the OpenCL backend can run here; else the reason the kit reports. */
    static final String UNAVAILABLE = new ClBackendProvider().availability();

    /** {@code cpuLines} (schema, gradients, parity, checkpoint, in the kit's order) with the OpenCL checks merged in. */
    static List<String> expected(List<String> schemaAndCpuGradients, List<String> openclGradients, List<String> cpuParity,
                                 List<String> openclParity, String checkpoint, List<String> kernelsOnOpencl) {
        List<String> lines = new ArrayList<>(schemaAndCpuGradients);
        if (UNAVAILABLE == null) lines.addAll(openclGradients);
        lines.addAll(cpuParity);
        if (UNAVAILABLE == null) lines.addAll(openclParity);
        lines.add(checkpoint);
        if (UNAVAILABLE != null) {
            lines.add("backend opencl not checked: " + UNAVAILABLE);
            for (String kernel : kernelsOnOpencl) lines.add("kernel " + kernel + " not checked: no 'opencl' backend here");
        }
        return lines;
    }
}
