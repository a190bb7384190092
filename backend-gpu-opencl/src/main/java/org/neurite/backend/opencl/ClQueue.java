package org.neurite.backend.opencl;

import static org.jocl.CL.clEnqueueCopyBuffer;
import static org.jocl.CL.clEnqueueFillBuffer;
import static org.jocl.CL.clEnqueueNDRangeKernel;
import static org.jocl.CL.clEnqueueReadBuffer;
import static org.jocl.CL.clFinish;
import static org.jocl.CL.clReleaseMemObject;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.jocl.Pointer;
import org.jocl.cl_command_queue;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.neurite.backend.BackendCounters;

/**
 * The backend's one in-order command queue, and the only way its ops reach it: every command is
 * enqueued here, so that here they are counted ({@link #counters}: kernels, fills, copies and
 * uploads as launches; blocking reads and finishes as host synchronisations). Nothing but
 * {@link #read} and {@link #finish} makes the host wait: uploads go through host staging buffers
 * ({@link ClStaging}) and return at once. Before each wait the {@link WaitHook} (the deferred index
 * checks) may enqueue a read of its own, which the same wait completes, and after it may throw.
 * Commands may be enqueued from any thread (OpenCL queues are thread-safe; allocations come from
 * any thread), ops from one at a time.
 */
final class ClQueue implements AutoCloseable {
    /** Work to do around every host wait: enqueue reads that the wait completes, then act on them. */
    interface WaitHook {
        /** Called before the blocking command: may enqueue non-blocking reads. */
        void beforeWait();

        /** Called once the blocking command returned (everything enqueued before it is done); may throw. */
        void afterWait();
    }

    private static final WaitHook NONE = new WaitHook() {
        @Override public void beforeWait() {}

        @Override public void afterWait() {}
    };

    private final cl_command_queue queue;
    private final ClStaging staging;
    /** Buffers waiting for their release before one is released by waiting for the queue ({@link #releaseWhenDone}). */
    static final int RETIRED_LIMIT = 256;

    private final LongAdder launches = new LongAdder();
    private final LongAdder syncs = new LongAdder();
    private volatile WaitHook hook = NONE;
    /** Set by {@link #close}: the queue is about to be released, so nothing may be enqueued or waited for any more. */
    private volatile boolean closed;
    /** Buffers given up while commands using them may still be queued: released once a wait has passed them ({@link #releaseWhenDone}). */
    private final List<cl_mem> retired = new ArrayList<>();
    /** Set (under the lock of {@link #retired}) once {@link #close} has finished the queue: later buffers are released at once. */
    private boolean finished;

    ClQueue(cl_command_queue queue) {
        this.queue = queue;
        this.staging = new ClStaging(queue, syncs);
    }

    /** The OpenCL queue itself, for what runs before any op (the SGEMM tuning at start-up). */
    cl_command_queue handle() { return queue; }

    /** Sets the work done around every wait (once, by the backend). */
    void onWait(WaitHook hook) { this.hook = hook; }

    /** Launches (kernels, fills, copies, uploads) and host synchronisations so far. */
    BackendCounters counters() { return new BackendCounters(launches.sum(), syncs.sum()); }

    /**
     * Throws unless the queue is open. A released queue, kernel, buffer or context handle is freed
     * driver memory: handing one to OpenCL is a use-after-free in the driver (a crash, or silent
     * corruption of a later backend's objects), so a closed backend refuses instead.
     */
    void ensureOpen() {
        if (closed) throw new IllegalStateException("the OpenCL backend is closed");
    }

    void launch(cl_kernel kernel, long[] global, long[] local) {
        ensureOpen();
        launches.increment();
        clEnqueueNDRangeKernel(queue, kernel, global.length, null, global, local, 0, null, null);
    }

    /** {@code bytes} bytes of {@code mem} from {@code offset} set to the repeated {@code pattern} of {@code patternBytes}. */
    void fill(cl_mem mem, Pointer pattern, int patternBytes, long offset, long bytes) {
        ensureOpen();
        launches.increment();
        clEnqueueFillBuffer(queue, mem, pattern, patternBytes, offset, bytes, 0, null, null);
    }

    void copy(cl_mem src, cl_mem dst, long srcOffset, long dstOffset, long bytes) {
        ensureOpen();
        launches.increment();
        clEnqueueCopyBuffer(queue, src, dst, srcOffset, dstOffset, bytes, 0, null, null);
    }

    /** {@code floats} floats of {@code src} from {@code srcOffset} into {@code dst} at byte {@code dstOffset}; returns at once. */
    void write(float[] src, int srcOffset, cl_mem dst, long dstOffset, int floats) {
        ensureOpen();
        launches.increment();
        staging.write(src, srcOffset, dst, dstOffset, floats);
    }

    /** Reads {@code bytes} bytes of {@code src} from {@code offset} into {@code dst}, waiting for every queued command. */
    void read(cl_mem src, long offset, long bytes, Pointer dst) {
        List<cl_mem> passed = beginWait();
        try {
            clEnqueueReadBuffer(queue, src, true, offset, bytes, dst, 0, null, null);
        } catch (RuntimeException e) {
            retire(passed); // not known to be done: keep them for the next wait
            throw e;
        }
        endWait(passed);
    }

    /** Waits until every enqueued command has finished. */
    void finish() {
        List<cl_mem> passed = beginWait();
        try {
            clFinish(queue);
        } catch (RuntimeException e) {
            retire(passed);
            throw e;
        }
        endWait(passed);
    }

    /**
     * The part of a host wait before its blocking command: counts it, takes the buffers it will
     * let go and runs the hook's {@link WaitHook#beforeWait}. (Written out around each blocking
     * command rather than passed a lambda: a wait allocates nothing.)
     */
    private List<cl_mem> beginWait() {
        ensureOpen();
        syncs.increment();
        List<cl_mem> passed = takeRetired();
        hook.beforeWait();
        return passed;
    }

    /** After the blocking command returned: releases the buffers it passed, then the hook's {@link WaitHook#afterWait}. */
    private void endWait(List<cl_mem> passed) {
        for (int i = 0, n = passed.size(); i < n; i++) clReleaseMemObject(passed.get(i));
        hook.afterWait();
    }

    /**
     * Releases {@code mem} once no queued command can use it any more: at the next host wait
     * (which every command enqueued before it has finished by), or now when the queue is closed
     * (closing finished it). A tensor or workspace is given up right after the ops that use it
     * are enqueued; OpenCL allows releasing it then and leaves the deletion to the driver, on a
     * thread of its own, possibly while the context is being torn down. The backend does not rely
     * on that: nothing is released under a pending command, and everything before the context.
     */
    void releaseWhenDone(cl_mem mem) {
        synchronized (retired) {
            if (!finished) {
                retired.add(mem);
                if (retired.size() >= RETIRED_LIMIT) {
                    // A host that never waits would hold them for ever: wait here (without the hook,
                    // which belongs to the thread issuing ops), counted as a synchronisation.
                    syncs.increment();
                    clFinish(queue);
                    for (cl_mem m : retired) clReleaseMemObject(m);
                    retired.clear();
                }
                return;
            }
        }
        clReleaseMemObject(mem);
    }

    /** Buffers given up and not yet released (for tests). */
    int retiredBuffers() {
        synchronized (retired) {
            return retired.size();
        }
    }

    private List<cl_mem> takeRetired() {
        synchronized (retired) {
            if (retired.isEmpty()) return List.of();
            List<cl_mem> taken = new ArrayList<>(retired);
            retired.clear();
            return taken;
        }
    }

    private void retire(List<cl_mem> mems) {
        synchronized (retired) {
            retired.addAll(mems);
        }
    }

    /**
     * Refuses every later command ({@link #ensureOpen}), waits for the queue without the hook (a
     * closing backend reports nothing more), so that no queued command still reads a buffer or host
     * memory about to be released, and frees the staging buffers; a second call finds nothing to do.
     */
    @Override public synchronized void close() {
        if (closed) return;
        closed = true;
        clFinish(queue);
        List<cl_mem> passed;
        synchronized (retired) {
            finished = true;
            passed = new ArrayList<>(retired);
            retired.clear();
        }
        for (cl_mem m : passed) clReleaseMemObject(m);
        staging.close();
    }
}
