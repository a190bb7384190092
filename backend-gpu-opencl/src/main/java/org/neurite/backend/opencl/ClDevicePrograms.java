package org.neurite.backend.opencl;

import static org.jocl.CL.clCreateKernel;
import static org.jocl.CL.clReleaseKernel;
import static org.jocl.CL.clReleaseProgram;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jocl.CLException;
import org.jocl.cl_program;
import org.neurite.backend.DevicePrograms;

/**
 * The {@link DevicePrograms} extension of one OpenCL backend: plugins' OpenCL C programs, built
 * with the backend's own options ({@link ClKernels#options}) through its {@link ClProgramCache}
 * (so a second run loads the binary), on its context, launched on its queue like the built-in
 * kernels ({@link ClKernel#args}). A program is built once per source and backend; its kernels are
 * created on first use. Everything is released when the backend closes.
 */
final class ClDevicePrograms implements DevicePrograms, AutoCloseable {
    private final ClContext device;
    private final Map<String, Program> bySource = new HashMap<>();
    private final List<ClKernel> created = new ArrayList<>();

    ClDevicePrograms(ClContext device) {
        this.device = device;
    }

    @Override public String language() { return "OpenCL C 1.2"; }

    @Override public synchronized DeviceProgram compile(String name, String source) {
        device.queue.ensureOpen(); // a closed backend's context is released
        Program known = bySource.get(source);
        if (known != null) return known;
        ClProgramCache.Built built;
        try {
            built = device.cache.build(device.context, device.deviceId, device.deviceKey, source, ClKernels.options(device.info.fp64(), device.roundedDivideSqrt));
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException("device program " + name + " does not compile: " + e.getMessage(), e);
        }
        Program program = new Program(name, built.program());
        bySource.put(source, program);
        return program;
    }

    /** One built program and the kernels created from it so far. */
    private final class Program implements DeviceProgram {
        private final String name;
        private final cl_program handle;
        private final Map<String, ClKernel> kernels = new HashMap<>();

        Program(String name, cl_program handle) {
            this.name = name;
            this.handle = handle;
        }

        @Override public DeviceKernel kernel(String kernelName) {
            synchronized (ClDevicePrograms.this) {
                device.queue.ensureOpen(); // a closed backend's programs are released
                ClKernel kernel = kernels.get(kernelName);
                if (kernel == null) {
                    try {
                        kernel = new ClKernel(name + ":" + kernelName, clCreateKernel(handle, kernelName, null), device.queue);
                    } catch (CLException e) {
                        throw new IllegalArgumentException("device program " + name + " has no kernel '" + kernelName + "' (" + e.getMessage() + ")", e);
                    }
                    kernels.put(kernelName, kernel);
                    created.add(kernel);
                }
                ClKernel k = kernel;
                return (workItems, args) -> {
                    if (workItems > Integer.MAX_VALUE)
                        throw new IllegalArgumentException(k.name() + ": at most " + Integer.MAX_VALUE + " work items, got " + workItems);
                    ClKernel.Args a = k.args();
                    for (Object arg : args) a.value(arg);
                    a.map((int) workItems);
                };
            }
        }
    }

    @Override public synchronized void close() {
        for (ClKernel k : created) clReleaseKernel(k.handle());
        created.clear();
        for (Program p : bySource.values()) clReleaseProgram(p.handle);
        bySource.clear();
    }
}
