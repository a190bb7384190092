package org.neurite.backend.opencl;

import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.clCreateBuffer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Set;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.cl_mem;
import org.neurite.backend.Backend;
import org.neurite.backend.OutOfMemoryException;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The device memory a backend's tensors hold: allocation (zero-filled buffers), release, and the
 * count of bytes held against a limit, the device's global memory or less by
 * {@code -D}{@value ClBackend#MEMORY_LIMIT_PROPERTY} ({@link #limitProperty}). A tensor beyond the
 * device's largest buffer, beyond the limit, or one the driver cannot place is an
 * {@link OutOfMemoryException} saying how much the backend holds of what total. Allocation and
 * release may come from any thread.
 */
final class ClMemory implements AutoCloseable {
    private final Backend owner;
    private final ClContext device;
    /** Bytes of tensors the backend may hold: the device's global memory, or less by the limit property. */
    private final long limit;
    private final Set<ClTensor> open = Collections.newSetFromMap(new IdentityHashMap<>());
    private long allocatedBytes;
    private boolean closed;

    /** Memory of {@code owner}'s tensors on {@code device}, at most {@code limit} bytes (Long.MAX_VALUE: the device's global memory). */
    ClMemory(Backend owner, ClContext device, long limit) {
        this.owner = owner;
        this.device = device;
        this.limit = Math.min(limit, device.info.globalMemoryBytes());
    }

    /** A new zero-filled tensor. */
    synchronized Tensor allocate(Shape shape) {
        if (closed) throw new IllegalStateException("the OpenCL backend is closed");
        long bytes = Math.max(1L, shape.elementCount()) * Float.BYTES;
        shape.size(); // refuses shapes beyond 2^31-1 elements
        if (bytes > device.maxAllocation) throw outOfMemory(shape, bytes, "larger than the device's largest buffer ("
                + mib(device.maxAllocation) + ")", null);
        if (bytes > limit - allocatedBytes) throw outOfMemory(shape, bytes, "more than the " + mib(limit - allocatedBytes)
                + " (" + (limit - allocatedBytes) + " bytes) left", null);
        cl_mem mem = null;
        try {
            mem = clCreateBuffer(device.context, CL_MEM_READ_WRITE, bytes, null, null);
            // Zero-filled, as the contract says; also makes lazily-allocating drivers commit the memory now.
            device.queue.fill(mem, Pointer.to(new float[] {0f}), Float.BYTES, 0, bytes);
        } catch (CLException e) {
            if (mem != null) device.queue.releaseWhenDone(mem); // created, but the fill was refused
            throw outOfMemory(shape, bytes, e.getMessage(), e);
        }
        ClTensor t = new ClTensor(owner, this, shape, mem);
        open.add(t);
        allocatedBytes += bytes;
        return t;
    }

    /**
     * Gives up a tensor's buffer (idempotent): it no longer counts against the limit, and is
     * released once no queued command can use it ({@link ClQueue#releaseWhenDone}).
     */
    synchronized void release(ClTensor t) {
        cl_mem mem = t.detach();
        if (mem == null) return;
        open.remove(t);
        allocatedBytes -= Math.max(1L, t.size()) * Float.BYTES;
        device.queue.releaseWhenDone(mem);
    }

    /** Bytes of tensors that can still be allocated under the limit. */
    synchronized long available() {
        return Math.max(0, limit - allocatedBytes);
    }

    /** "holds M MiB in K tensors of the device's T MiB [(limited to L MiB by -D...)]", for out-of-memory messages. */
    synchronized String report() {
        String limited = limit < device.info.globalMemoryBytes()
                ? " (limited to " + mib(limit) + " by -D" + ClBackend.MEMORY_LIMIT_PROPERTY + ")" : "";
        return "holds " + mib(allocatedBytes) + " in " + open.size() + " tensors of the device's " + mib(device.info.globalMemoryBytes()) + limited;
    }

    private OutOfMemoryException outOfMemory(Shape shape, long bytes, String why, Throwable cause) {
        return new OutOfMemoryException("OpenCL device out of memory: a tensor " + shape + " of " + mib(bytes) + " (" + bytes
                + " bytes) on " + device.info.name() + " (" + why + "); this backend already " + report() + "; use a smaller batch or model",
                cause);
    }

    /** Releases every tensor still open; later allocations fail. */
    @Override public synchronized void close() {
        closed = true;
        for (ClTensor t : new ArrayList<>(open)) release(t);
    }

    /** {@value ClBackend#MEMORY_LIMIT_PROPERTY} in bytes, or Long.MAX_VALUE when unset. */
    static long limitProperty() {
        String v = System.getProperty(ClBackend.MEMORY_LIMIT_PROPERTY);
        if (v == null || v.isBlank()) return Long.MAX_VALUE;
        return parseBytes(v.trim(), ClBackend.MEMORY_LIMIT_PROPERTY);
    }

    /** {@code 1234}, {@code 64k}, {@code 512m}, {@code 2g} (case-insensitive) as bytes. */
    static long parseBytes(String v, String what) {
        String digits = v;
        long unit = 1;
        char last = Character.toLowerCase(v.charAt(v.length() - 1));
        if (last == 'k' || last == 'm' || last == 'g') {
            unit = last == 'k' ? 1L << 10 : last == 'm' ? 1L << 20 : 1L << 30;
            digits = v.substring(0, v.length() - 1);
        }
        try {
            long n = Long.parseLong(digits);
            if (n < 0 || n > Long.MAX_VALUE / unit) throw new NumberFormatException();
            return n * unit;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " must be a byte count such as 1073741824, 512m or 2g, got '" + v + "'");
        }
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    }
}
