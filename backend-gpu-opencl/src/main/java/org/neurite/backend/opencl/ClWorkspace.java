package org.neurite.backend.opencl;

import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.clCreateBuffer;

import org.jocl.cl_context;
import org.jocl.cl_mem;

/**
 * A device buffer for an op's intermediate results (im2col columns, reduction partials, per-row
 * losses) that grows to the largest size asked for and is then reused, so steady-state steps
 * allocate nothing. Reuse is safe because the backend's queue is in order: the next op's writes
 * start after the previous op's reads. A replaced buffer is released once the commands already
 * queued on it have finished ({@link ClQueue#releaseWhenDone}).
 */
final class ClWorkspace implements AutoCloseable {
    private final cl_context context;
    private final ClQueue queue;
    private final String purpose;
    private cl_mem buffer;
    private long bytes;
    private boolean closed;

    ClWorkspace(ClContext device, String purpose) {
        this.context = device.context;
        this.queue = device.queue;
        this.purpose = purpose;
    }

    /** A buffer of at least {@code need} bytes (its contents are unspecified). */
    synchronized cl_mem atLeast(long need) {
        // A buffer created now would be created in a released context (a use-after-free in the driver).
        if (closed) throw new IllegalStateException("the OpenCL backend is closed");
        if (buffer == null || bytes < need) {
            if (buffer != null) queue.releaseWhenDone(buffer);
            buffer = null;
            long size = Math.max(need, Math.max(64, bytes + bytes / 2));
            buffer = clCreateBuffer(context, CL_MEM_READ_WRITE, size, null, null);
            bytes = size;
        }
        return buffer;
    }

    long bytes() { return bytes; }

    @Override public String toString() { return purpose + " workspace (" + bytes + " bytes)"; }

    @Override public synchronized void close() {
        closed = true;
        if (buffer != null) queue.releaseWhenDone(buffer);
        buffer = null;
        bytes = 0;
    }
}
