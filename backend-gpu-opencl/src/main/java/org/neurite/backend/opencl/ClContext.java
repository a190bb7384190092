package org.neurite.backend.opencl;

import static org.jocl.CL.CL_DEVICE_MAX_MEM_ALLOC_SIZE;
import static org.jocl.CL.CL_DEVICE_SINGLE_FP_CONFIG;
import static org.jocl.CL.CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT;
import static org.jocl.CL.CL_DEVICE_VENDOR;
import static org.jocl.CL.CL_DRIVER_VERSION;
import static org.jocl.CL.CL_PLATFORM_VERSION;
import static org.jocl.CL.clCreateCommandQueue;
import static org.jocl.CL.clCreateContext;
import static org.jocl.CL.clReleaseCommandQueue;
import static org.jocl.CL.clReleaseContext;

import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_device_id;

/**
 * What one backend opens on its device: an OpenCL context, the one in-order command queue every
 * op enqueues on, the program of all kernels (built or loaded through the {@link ClProgramCache}
 * under a key naming platform, device, vendor, OpenCL version and driver) and the SGEMM kernels
 * with the choice {@link ClGemmTuning} made for the device. Whatever was created is released
 * again when a later step fails, and by {@link #close}.
 */
final class ClContext implements AutoCloseable {
    final ClDeviceInfo info;
    final cl_context context;
    /** The one in-order queue every op enqueues on, counting what it is given ({@link ClQueue}). */
    final ClQueue queue;
    final ClKernels kernels;
    final ClGemm gemm;
    final cl_device_id deviceId;
    /** Platform, device, vendor, OpenCL version and driver: the key of cached programs and tunings. */
    final String deviceKey;
    final ClProgramCache cache;
    /** The largest buffer the device allocates (CL_DEVICE_MAX_MEM_ALLOC_SIZE), in bytes. */
    final long maxAllocation;
    /** Whether programs are built for correctly rounded float / and sqrt (the device offers it: {@link ClKernels#options}). */
    final boolean roundedDivideSqrt;

    ClContext(ClDevices.Found device, ClProgramCache cache) {
        this.info = device.info();
        this.cache = cache;
        cl_device_id id = device.device();
        this.deviceId = id;
        this.maxAllocation = ClDevices.deviceLong(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
        this.roundedDivideSqrt = (ClDevices.deviceLong(id, CL_DEVICE_SINGLE_FP_CONFIG) & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0;
        this.context = clCreateContext(null, 1, new cl_device_id[] {id}, null, null, null);
        this.deviceKey = info.platform() + " " + ClDevices.platformString(device.platform(), CL_PLATFORM_VERSION) + " / "
                + info.name() + " / " + ClDevices.deviceString(id, CL_DEVICE_VENDOR) + " / " + info.openclVersion()
                + " / driver " + ClDevices.deviceString(id, CL_DRIVER_VERSION);
        cl_command_queue q = null;
        ClQueue commands = null;
        ClKernels k = null;
        ClGemm g;
        try {
            q = clCreateCommandQueue(context, id, 0, null);
            commands = new ClQueue(q);
            k = new ClKernels(context, id, commands, deviceKey, info.fp64(), roundedDivideSqrt, cache);
            g = new ClGemm(k, new ClGemm.Choice(ClGemm.Variant.TILED_64, ClGemm.Variant.TILED_16));
            g.use(ClGemmTuning.choose(g, context, q, cache.tuningFile(deviceKey)));
        } catch (RuntimeException e) {
            if (k != null) k.close();
            if (commands != null) commands.close();
            if (q != null) clReleaseCommandQueue(q);
            clReleaseContext(context);
            throw e;
        }
        this.queue = commands;
        this.kernels = k;
        this.gemm = g;
    }

    /** Bytes of a reduction accumulator on this device: double where it has fp64 (as the CPU reference sums), else float. */
    int accumulatorBytes() { return info.fp64() ? Double.BYTES : Float.BYTES; }

    /** Waits until every enqueued command has finished. */
    void finish() { queue.finish(); }

    @Override public void close() {
        kernels.close();
        queue.close();
        clReleaseCommandQueue(queue.handle());
        clReleaseContext(context);
    }
}
