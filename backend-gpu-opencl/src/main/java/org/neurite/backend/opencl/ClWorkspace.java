package org.neurite.backend.opencl;

import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clReleaseMemObject;

import org.jocl.cl_context;
import org.jocl.cl_mem;

/**
 * A device buffer for an op's intermediate results (im2col columns, reduction partials, per-row
 * losses) that grows to the largest size asked for and is then reused, so steady-state steps
 * allocate nothing. Reuse is safe because the backend's queue is in order: the next op's writes
 * start after the previous op's reads. A replaced buffer is released at once; OpenCL keeps it
 * alive until the commands already queued on it have finished.
 */
final class ClWorkspace implements AutoCloseable {
    private final cl_context context;
    private final String purpose;
    private cl_mem buffer;
    private long bytes;

    ClWorkspace(cl_context context, String purpose) {
        this.context = context;
        this.purpose = purpose;
    }

    /** A buffer of at least {@code need} bytes (its contents are unspecified). */
    synchronized cl_mem atLeast(long need) {
        if (buffer == null || bytes < need) {
            if (buffer != null) clReleaseMemObject(buffer);
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
        if (buffer != null) clReleaseMemObject(buffer);
        buffer = null;
        bytes = 0;
    }
}
