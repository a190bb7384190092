package org.neurite.it.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example deployments on a machine where OpenCL is missing, made real rather than simulated:
 * a second JVM runs {@link FallbackProbe} with {@code OCL_ICD_VENDORS} pointing at an empty folder,
 * so the OpenCL loader finds no driver, exactly as on a machine without one. With
 * {@code opencl-with-cpu-fallback.yaml} the run falls back to the CPU with a warning that gives
 * the reason and the fix; with {@code opencl.yaml} it fails with that reason. (Where the loader
 * library itself is missing, the probe takes the same path with another reason; that wording is
 * tested in backend-gpu-opencl's ClAvailabilityTest.) The test itself needs OpenCL's loader, so it
 * follows the other OpenCL tests: it fails where OpenCL is missing unless told to skip.
 */
class OpenClFallbackTest {
    @TempDir Path emptyVendors;
    @TempDir Path logs;

    private String reason() {
        return "no OpenCL platform: no driver is registered with the ICD loader (" + emptyVendors + " has no .icd files); "
                + "install one with 'apt-get install pocl-opencl-icd' for the CPU, or, where the NVIDIA driver is installed, "
                + "register it with 'echo libnvidia-opencl.so.1 > /etc/OpenCL/vendors/nvidia.icd'";
    }

    @Test void withoutAnOpenClDriverTheFallbackDeploymentRunsOnTheCpuWithAWarning() throws Exception {
        assertEquals(List.of(
                "availability: " + reason(),
                "warning: backend 'opencl' is unavailable (" + reason() + "); falling back to 'cpu'",
                "backend: cpu"), probe("opencl-with-cpu-fallback.yaml"));
    }

    @Test void withoutAnOpenClDriverTheOpenClDeploymentFailsWithTheReason() throws Exception {
        assertEquals(List.of(
                "availability: " + reason(),
                "error: backend 'opencl' is unavailable: " + reason()), probe("opencl.yaml"));
    }

    /** The probe's output lines for one example deployment file. */
    private List<String> probe(String deployment) throws IOException, InterruptedException {
        // The loader library must be here for its driver registry to be emptied (and the skip switch is honoured).
        OpenClRuns.opencl().close();
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(), "--add-modules", "jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), FallbackProbe.class.getName(),
                Path.of("../examples/deploy", deployment).toString()));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("OCL_ICD_VENDORS", emptyVendors.toString());
        Path err = logs.resolve(deployment + ".stderr");
        builder.redirectError(err.toFile());
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS)) process.destroyForcibly();
        assertEquals(0, process.exitValue(), "probe failed: " + out + Files.readString(err));
        return out.lines().toList();
    }
}
