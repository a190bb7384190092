package org.neurite.backend.opencl;

import static org.jocl.CL.clSetKernelArg;

import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

/**
 * One kernel of the backend's program and the three ways ops launch it: {@link #map} (one
 * work-item per element), {@link #groups} (one work-group
 * of {@link ClKernels#REDUCE_WG} items per row or channel, for the reductions) and {@link #run}
 * (explicit sizes, for the GEMM). Arguments are given in the kernel's order as Java values:
 * {@code Integer} (int), {@code Float} (float), {@code Long} (ulong), {@code Boolean} (int 0/1),
 * {@link ClTensor} or {@code cl_mem} (a buffer), {@link ClSlice} (two arguments: its buffer, then
 * its offset as an int). Setting the arguments and enqueueing happen under
 * one lock, so two threads never interleave their arguments on the shared kernel object.
 */
final class ClKernel {
    /**
     * Work-group size of 1-D maps; the global size is rounded up to a multiple of it and every map
     * kernel bounds-checks its index. A fixed size (rather than the driver's choice per launch)
     * means one compiled variant per kernel on drivers that specialise on it, PoCL among them.
     */
    static final int MAP_GROUP = 64;

    private final String name;
    private final cl_kernel kernel;
    private final ClQueue queue;

    ClKernel(String name, cl_kernel kernel, ClQueue queue) {
        this.name = name;
        this.kernel = kernel;
        this.queue = queue;
    }

    String name() { return name; }

    cl_kernel handle() { return kernel; }

    /** One work-item per element of [0, n), in groups of {@link #MAP_GROUP}; nothing is launched when n == 0. */
    void map(int n, Object... args) {
        if (n <= 0) return;
        long global = ((long) n + MAP_GROUP - 1) / MAP_GROUP * MAP_GROUP;
        run(new long[] {global}, new long[] {MAP_GROUP}, args);
    }

    /** {@code count} work-groups of {@link ClKernels#REDUCE_WG} items; nothing is launched when count == 0. */
    void groups(int count, Object... args) {
        if (count <= 0) return;
        run(new long[] {(long) count * ClKernels.REDUCE_WG}, new long[] {ClKernels.REDUCE_WG}, args);
    }

    /** Enqueues the kernel over {@code global} items in work-groups of {@code local} (null: the driver chooses). */
    synchronized void run(long[] global, long[] local, Object... args) {
        queue.ensureOpen(); // before clSetKernelArg: a closed backend's kernel objects are released
        int index = 0;
        for (Object arg : args) {
            if (arg instanceof ClSlice s) {
                setArg(index++, s.buffer());
                setArg(index++, s.offset());
            } else {
                setArg(index++, arg);
            }
        }
        queue.launch(kernel, global, local);
    }

    private void setArg(int index, Object value) {
        if (value instanceof ClTensor t) {
            clSetKernelArg(kernel, index, Sizeof.cl_mem, Pointer.to(t.mem()));
        } else if (value instanceof cl_mem m) {
            clSetKernelArg(kernel, index, Sizeof.cl_mem, Pointer.to(m));
        } else if (value instanceof Integer v) {
            clSetKernelArg(kernel, index, Sizeof.cl_int, Pointer.to(new int[] {v}));
        } else if (value instanceof Float v) {
            clSetKernelArg(kernel, index, Sizeof.cl_float, Pointer.to(new float[] {v}));
        } else if (value instanceof Long v) {
            clSetKernelArg(kernel, index, Sizeof.cl_ulong, Pointer.to(new long[] {v}));
        } else if (value instanceof Boolean v) {
            clSetKernelArg(kernel, index, Sizeof.cl_int, Pointer.to(new int[] {v ? 1 : 0}));
        } else {
            throw new IllegalArgumentException("kernel " + name + " argument " + index + ": unsupported "
                    + (value == null ? "null" : value.getClass().getSimpleName()));
        }
    }
}
