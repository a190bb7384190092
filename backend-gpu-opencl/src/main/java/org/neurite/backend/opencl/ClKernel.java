package org.neurite.backend.opencl;

import static org.jocl.CL.clSetKernelArg;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;
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
    /*
     * Launch scratch, reused under the lock: clSetKernelArg copies an argument's value and
     * clEnqueueNDRangeKernel the sizes when called, so one array (and its pointer) per argument
     * index and kind serves every launch. Made per launch, they were most of the garbage of an
     * OpenCL training step.
     */
    private int[][] ints = new int[0][];
    private Pointer[] intPointers = new Pointer[0];
    private float[][] floats = new float[0][];
    private Pointer[] floatPointers = new Pointer[0];
    private long[][] longs = new long[0][];
    private Pointer[] longPointers = new Pointer[0];
    /** Pointers to the raw buffers (workspaces) passed as arguments; cleared past {@link #MAX_BUFFER_POINTERS}. */
    private final Map<cl_mem, Pointer> bufferPointers = new IdentityHashMap<>();
    private static final int MAX_BUFFER_POINTERS = 64;
    private final long[] oneGlobal = new long[1];
    private static final long[] MAP_LOCAL = {MAP_GROUP};
    private static final long[] REDUCE_LOCAL = {ClKernels.REDUCE_WG};

    ClKernel(String name, cl_kernel kernel, ClQueue queue) {
        this.name = name;
        this.kernel = kernel;
        this.queue = queue;
    }

    String name() { return name; }

    cl_kernel handle() { return kernel; }

    /** One work-item per element of [0, n), in groups of {@link #MAP_GROUP}; nothing is launched when n == 0. */
    synchronized void map(int n, Object... args) {
        if (n <= 0) return;
        oneGlobal[0] = ((long) n + MAP_GROUP - 1) / MAP_GROUP * MAP_GROUP;
        run(oneGlobal, MAP_LOCAL, args);
    }

    /** {@code count} work-groups of {@link ClKernels#REDUCE_WG} items; nothing is launched when count == 0. */
    synchronized void groups(int count, Object... args) {
        if (count <= 0) return;
        oneGlobal[0] = (long) count * ClKernels.REDUCE_WG;
        run(oneGlobal, REDUCE_LOCAL, args);
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
            clSetKernelArg(kernel, index, Sizeof.cl_mem, t.memPointer());
        } else if (value instanceof cl_mem m) {
            Pointer p = bufferPointers.get(m);
            if (p == null) {
                if (bufferPointers.size() >= MAX_BUFFER_POINTERS) bufferPointers.clear();
                p = Pointer.to(m);
                bufferPointers.put(m, p);
            }
            clSetKernelArg(kernel, index, Sizeof.cl_mem, p);
        } else if (value instanceof Integer v) {
            setInt(index, v);
        } else if (value instanceof Float v) {
            if (index >= floats.length) growFloats(index + 1);
            floats[index][0] = v;
            clSetKernelArg(kernel, index, Sizeof.cl_float, floatPointers[index]);
        } else if (value instanceof Long v) {
            if (index >= longs.length) growLongs(index + 1);
            longs[index][0] = v;
            clSetKernelArg(kernel, index, Sizeof.cl_ulong, longPointers[index]);
        } else if (value instanceof Boolean v) {
            setInt(index, v ? 1 : 0);
        } else {
            throw new IllegalArgumentException("kernel " + name + " argument " + index + ": unsupported "
                    + (value == null ? "null" : value.getClass().getSimpleName()));
        }
    }

    private void setInt(int index, int v) {
        if (index >= ints.length) growInts(index + 1);
        ints[index][0] = v;
        clSetKernelArg(kernel, index, Sizeof.cl_int, intPointers[index]);
    }

    private void growInts(int n) {
        int from = ints.length;
        ints = Arrays.copyOf(ints, n);
        intPointers = Arrays.copyOf(intPointers, n);
        for (int i = from; i < n; i++) intPointers[i] = Pointer.to(ints[i] = new int[1]);
    }

    private void growFloats(int n) {
        int from = floats.length;
        floats = Arrays.copyOf(floats, n);
        floatPointers = Arrays.copyOf(floatPointers, n);
        for (int i = from; i < n; i++) floatPointers[i] = Pointer.to(floats[i] = new float[1]);
    }

    private void growLongs(int n) {
        int from = longs.length;
        longs = Arrays.copyOf(longs, n);
        longPointers = Arrays.copyOf(longPointers, n);
        for (int i = from; i < n; i++) longPointers[i] = Pointer.to(longs[i] = new long[1]);
    }
}
