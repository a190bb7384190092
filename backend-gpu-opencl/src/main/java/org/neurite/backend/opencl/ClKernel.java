package org.neurite.backend.opencl;

import static org.jocl.CL.CL_KERNEL_NUM_ARGS;
import static org.jocl.CL.clGetKernelInfo;
import static org.jocl.CL.clSetKernelArg;

import java.util.IdentityHashMap;
import java.util.Map;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.neurite.backend.Slice;

/**
 * One kernel of the backend's program and how ops launch it, allocating nothing per launch:
 * {@link #args()} hands out the calling thread's {@link Args} for this kernel, whose typed setters
 * take the arguments in the kernel's order, and one of its three launches ends the call:
 * {@link Args#map} (one work-item per element), {@link Args#groups} (one work-group of
 * {@link ClKernels#REDUCE_WG} items per row or channel, for the reductions) or {@link Args#run}
 * (explicit sizes, for the GEMM):
 * {@code kernels.get("axpby").args().f(alpha).mem(x).f(beta).mem(y).i(n).map(n)}.
 *
 * <p>The setters only record each argument (its size and a pointer to its value) in the thread's
 * own scratch; the launch then writes them all into the kernel object ({@code clSetKernelArg},
 * which copies each value) and enqueues it under the kernel's lock, so two threads never interleave
 * their arguments on the shared kernel object, and an exception while a caller computes its
 * arguments leaves nothing locked or half-written. The launch checks that exactly the kernel's
 * number of arguments was given, so an argument left over from an earlier launch is never used.
 * Scalars go through one reused array per argument index, buffers through pointers made once:
 * arguments given as a varargs array of boxed values would make garbage at every launch, most of
 * what an OpenCL training step would make.
 */
final class ClKernel {
    /**
     * Work-group size of 1-D maps; the global size is rounded up to a multiple of it and every map
     * kernel bounds-checks its index. A fixed size (rather than the driver's choice per launch)
     * means one compiled variant per kernel on drivers that specialise on it, PoCL among them.
     */
    static final int MAP_GROUP = 64;

    private static final long[] MAP_LOCAL = {MAP_GROUP};
    private static final long[] REDUCE_LOCAL = {ClKernels.REDUCE_WG};
    /** Pointers to raw buffers (workspaces) a thread passed; cleared past this many. */
    private static final int MAX_BUFFER_POINTERS = 64;

    private final String name;
    private final cl_kernel kernel;
    private final ClQueue queue;
    /** The kernel's number of arguments (a {@link Slice} counts two). */
    private final int arity;
    /**
     * The argument setter of the thread that launched this kernel last. Ops come from one thread at
     * a time, nearly always the same one; another thread gets a setter of its own (made then), so a
     * thread never sees another's arguments. (Not a ThreadLocal: its value would reference this
     * kernel, its key, and outlive a closed backend in every thread that used it.)
     */
    private volatile Args recent;

    ClKernel(String name, cl_kernel kernel, ClQueue queue) {
        this.name = name;
        this.kernel = kernel;
        this.queue = queue;
        int[] count = new int[1];
        clGetKernelInfo(kernel, CL_KERNEL_NUM_ARGS, Sizeof.cl_uint, Pointer.to(count), null);
        this.arity = count[0];
    }

    String name() { return name; }

    cl_kernel handle() { return kernel; }

    /**
     * Starts a launch: the calling thread's argument setter, at argument 0 (whatever an unfinished
     * earlier launch on this thread had set is dropped).
     *
     * @throws IllegalStateException when the backend is closed (its kernel objects are released)
     */
    Args args() {
        queue.ensureOpen();
        Thread caller = Thread.currentThread();
        Args a = recent;
        if (a == null || a.thread != caller) recent = a = new Args(caller);
        a.count = 0;
        return a;
    }

    /**
     * The arguments of one launch, in the kernel's order, then the launch. Belongs to one thread
     * and is reused by its launches of this kernel: valid from {@link #args()} to the launch.
     */
    final class Args {
        private final Thread thread;
        /** Arguments given so far. */
        private int count;
        /** Per argument index: its size and a pointer to its value (a scratch array below, or a buffer handle). */
        private final long[] sizes = new long[arity];
        private final Pointer[] values = new Pointer[arity];
        /** Per argument index, made on first use: the scratch a scalar argument is written to. */
        private final int[][] ints = new int[arity][];
        private final Pointer[] intPointers = new Pointer[arity];
        private final float[][] floats = new float[arity][];
        private final Pointer[] floatPointers = new Pointer[arity];
        private final long[][] longs = new long[arity][];
        private final Pointer[] longPointers = new Pointer[arity];
        private final Map<cl_mem, Pointer> bufferPointers = new IdentityHashMap<>();
        private final long[] oneGlobal = new long[1];
        private final long[] twoGlobal = new long[2];
        private final long[] twoLocal = new long[2];
        private final long[] threeGlobal = new long[3];
        private final long[] threeLocal = new long[3];

        private Args(Thread thread) {
            this.thread = thread;
        }

        /** An {@code int} argument. */
        Args i(int v) {
            int at = next();
            if (ints[at] == null) intPointers[at] = Pointer.to(ints[at] = new int[1]);
            ints[at][0] = v;
            return set(at, Sizeof.cl_int, intPointers[at]);
        }

        /** A {@code bool} argument, passed as an int 0 or 1. */
        Args bool(boolean v) {
            return i(v ? 1 : 0);
        }

        /** A {@code float} argument. */
        Args f(float v) {
            int at = next();
            if (floats[at] == null) floatPointers[at] = Pointer.to(floats[at] = new float[1]);
            floats[at][0] = v;
            return set(at, Sizeof.cl_float, floatPointers[at]);
        }

        /** A {@code ulong} argument (a seed, a counter). */
        Args ul(long v) {
            int at = next();
            if (longs[at] == null) longPointers[at] = Pointer.to(longs[at] = new long[1]);
            longs[at][0] = v;
            return set(at, Sizeof.cl_ulong, longPointers[at]);
        }

        /** A buffer argument: the tensor's device buffer (throws when the tensor is closed). */
        Args mem(ClTensor t) {
            int at = next();
            if (t == null) throw unsupported(at, null);
            return set(at, Sizeof.cl_mem, t.memPointer());
        }

        /** A buffer argument: a raw device buffer (a workspace, the index-check status). */
        Args mem(cl_mem m) {
            int at = next();
            if (m == null) throw unsupported(at, null);
            Pointer p = bufferPointers.get(m);
            if (p == null) {
                if (bufferPointers.size() >= MAX_BUFFER_POINTERS) bufferPointers.clear();
                p = Pointer.to(m);
                bufferPointers.put(m, p);
            }
            return set(at, Sizeof.cl_mem, p);
        }

        /** Two arguments: the slice's buffer (a tensor of this backend), then its offset as an int. */
        Args slice(Slice s) {
            if (s == null) throw unsupported(next(), null);
            return mem(ClTensor.of(s.tensor())).i(s.offset());
        }

        /**
         * An argument given as a Java value, for callers that hold their arguments as objects
         * (plugins' {@link org.neurite.backend.DevicePrograms} kernels): {@code Integer}, {@code Float},
         * {@code Long} (ulong), {@code Boolean} (int 0/1), {@link ClTensor} or {@code cl_mem}, {@link Slice} (two arguments).
         */
        Args value(Object v) {
            if (v instanceof Slice s) return slice(s);
            if (v instanceof ClTensor t) return mem(t);
            if (v instanceof cl_mem m) return mem(m);
            if (v instanceof Integer x) return i(x);
            if (v instanceof Float x) return f(x);
            if (v instanceof Long x) return ul(x);
            if (v instanceof Boolean x) return bool(x);
            throw unsupported(next(), v);
        }

        /** Enqueues one work-item per element of [0, n), in groups of {@link #MAP_GROUP}; nothing when n <= 0. */
        void map(int n) {
            checkComplete();
            if (n <= 0) return;
            oneGlobal[0] = ((long) n + MAP_GROUP - 1) / MAP_GROUP * MAP_GROUP;
            launch(oneGlobal, MAP_LOCAL);
        }

        /** Enqueues {@code count} work-groups of {@link ClKernels#REDUCE_WG} items; nothing when count <= 0. */
        void groups(int count) {
            checkComplete();
            if (count <= 0) return;
            oneGlobal[0] = (long) count * ClKernels.REDUCE_WG;
            launch(oneGlobal, REDUCE_LOCAL);
        }

        /** Enqueues the kernel over {@code global} items in work-groups of {@code local} (null: the driver chooses). */
        void run(long[] global, long[] local) {
            checkComplete();
            launch(global, local);
        }

        /** Enqueues the kernel over gx x gy items in work-groups of lx x ly. */
        void run(long gx, long gy, long lx, long ly) {
            checkComplete();
            twoGlobal[0] = gx;
            twoGlobal[1] = gy;
            twoLocal[0] = lx;
            twoLocal[1] = ly;
            launch(twoGlobal, twoLocal);
        }

        /** Enqueues the kernel over gx x gy x gz items in work-groups of lx x ly x lz. */
        void run(long gx, long gy, long gz, long lx, long ly, long lz) {
            checkComplete();
            threeGlobal[0] = gx;
            threeGlobal[1] = gy;
            threeGlobal[2] = gz;
            threeLocal[0] = lx;
            threeLocal[1] = ly;
            threeLocal[2] = lz;
            launch(threeGlobal, threeLocal);
        }

        /** Writes the arguments into the kernel object and enqueues it, under the kernel's lock. */
        private void launch(long[] global, long[] local) {
            synchronized (ClKernel.this) {
                queue.ensureOpen(); // before clSetKernelArg: a closed backend's kernel objects are released
                for (int at = 0; at < count; at++) clSetKernelArg(kernel, at, sizes[at], values[at]);
                queue.launch(kernel, global, local);
            }
        }

        private void checkComplete() {
            if (count != arity)
                throw new IllegalArgumentException("kernel " + name + " takes " + arity + " arguments, " + count + " given");
        }

        private int next() {
            if (count >= arity)
                throw new IllegalArgumentException("kernel " + name + " argument " + count + ": the kernel takes " + arity);
            return count++;
        }

        private Args set(int at, long size, Pointer value) {
            sizes[at] = size;
            values[at] = value;
            return this;
        }

        private IllegalArgumentException unsupported(int at, Object value) {
            return new IllegalArgumentException("kernel " + name + " argument " + at + ": unsupported "
                    + (value == null ? "null" : value.getClass().getSimpleName()));
        }
    }
}
