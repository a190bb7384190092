package org.neurite.it.opencl;

import java.nio.file.Path;
import org.neurite.backend.Backend;
import org.neurite.config.DeploymentConfig;
import org.neurite.plugin.BackendProvider;

/**
 * Run in a JVM of its own by {@link OpenClFallbackTest} (with OpenCL's driver registry pointed at
 * an empty folder): prints what the {@code opencl} provider says about availability, then opens
 * the backend of the deployment file given as the argument, as {@code nn train --deploy} does,
 * printing each fallback warning and the backend it got. One {@code key: value} line each.
 */
public final class FallbackProbe {
    private FallbackProbe() {}

    public static void main(String[] args) throws Exception {
        BackendProvider opencl = OpenClRuns.RUNTIME.backends().get("opencl");
        System.out.println("availability: " + opencl.availability());
        DeploymentConfig deployment = DeploymentConfig.load(Path.of(args[0]));
        try (Backend backend = OpenClRuns.RUNTIME.createBackend(deployment.backend(), deployment.backendOptions(),
                deployment.fallback(), warning -> System.out.println("warning: " + warning))) {
            System.out.println("backend: " + backend.name());
        } catch (IllegalArgumentException e) {
            System.out.println("error: " + e.getMessage());
        }
    }
}
