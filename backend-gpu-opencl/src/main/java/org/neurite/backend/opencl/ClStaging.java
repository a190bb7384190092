package org.neurite.backend.opencl;

import static org.jocl.CL.CL_COMPLETE;
import static org.jocl.CL.CL_EVENT_COMMAND_EXECUTION_STATUS;
import static org.jocl.CL.clEnqueueWriteBuffer;
import static org.jocl.CL.clFlush;
import static org.jocl.CL.clGetEventInfo;
import static org.jocl.CL.clReleaseEvent;
import static org.jocl.CL.clWaitForEvents;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.LongAdder;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_event;
import org.jocl.cl_mem;

/**
 * Uploads that do not make the host wait. A blocking write returns only once the device has run
 * every command queued before it, which would cost a host synchronisation per uploaded batch; a
 * non-blocking one must not have its host memory touched until it is done, and cannot read a Java
 * array (the collector may move it). So each upload is copied into a direct buffer that the write
 * then reads, and the buffers wait in a ring, in the order of their writes, until their write is
 * done: a new upload reuses the oldest when its write has completed (the queue runs in order, so
 * when the oldest has not, none has) and allocates another otherwise. A training step's uploads
 * (its inputs and targets) thus cycle through a few buffers of their own sizes.
 *
 * <p>The ring is bounded ({@link #MAX_BYTES}): a host that runs that far ahead of the device waits
 * for the oldest write, and one upload larger than {@link #MAX_UPLOAD} is written blocking; both
 * count as host synchronisations. After each write the queue is flushed, so a driver that holds
 * commands until a flush (or a blocking call) starts on the work queued so far.
 */
final class ClStaging implements AutoCloseable {
    /** The largest upload staged; larger ones (weights at start-up, say) are written blocking. */
    static final long MAX_UPLOAD = 64L << 20;
    /** Bytes of staging buffers in flight before an upload waits for the oldest. */
    static final long MAX_BYTES = 256L << 20;
    /** The smallest staging buffer, so that tiny uploads (labels, scalars) share a size. */
    private static final int MIN_BYTES = 4096;

    /** A direct buffer (with its float view and its pointer, made once) and the write reading it (null once known to be done). */
    private static final class Entry {
        final ByteBuffer bytes;
        final FloatBuffer floats;
        final Pointer pointer;
        cl_event write;

        Entry(int capacity) {
            this.bytes = ByteBuffer.allocateDirect(capacity).order(ByteOrder.nativeOrder());
            this.floats = bytes.asFloatBuffer();
            this.pointer = Pointer.to(bytes);
        }
    }

    private final cl_command_queue queue;
    private final LongAdder syncs;
    private final ArrayDeque<Entry> ring = new ArrayDeque<>();
    private long ringBytes;
    /** Where {@link #done} reads an event's status (under the lock). */
    private final int[] status = new int[1];
    private final Pointer statusPointer = Pointer.to(status);

    /** @param syncs the queue's count of host synchronisations, which a wait here adds to */
    ClStaging(cl_command_queue queue, LongAdder syncs) {
        this.queue = queue;
        this.syncs = syncs;
    }

    /** {@code floats} floats of {@code src} from {@code srcOffset} into {@code dst} at byte {@code dstOffset}. */
    synchronized void write(float[] src, int srcOffset, cl_mem dst, long dstOffset, int floats) {
        long bytes = (long) floats * Float.BYTES;
        if (bytes > MAX_UPLOAD) {
            syncs.increment();
            clEnqueueWriteBuffer(queue, dst, true, dstOffset, bytes, Pointer.to(src).withByteOffset((long) srcOffset * Float.BYTES),
                    0, null, null);
            return;
        }
        Entry e = take((int) bytes);
        e.floats.clear();
        e.floats.put(src, srcOffset, floats);
        // A new event per write: JOCL keeps the host buffer of a non-blocking write alive until its
        // event completes, on a thread of its own that holds the event object until then.
        e.write = new cl_event();
        clEnqueueWriteBuffer(queue, dst, false, dstOffset, bytes, e.pointer, 0, null, e.write);
        ring.addLast(e);
        ringBytes += e.bytes.capacity();
        clFlush(queue);
    }

    /** A buffer of at least {@code bytes} bytes whose last write is done, taken out of the ring. */
    private Entry take(int bytes) {
        while (!ring.isEmpty() && ringBytes + Math.max(bytes, MIN_BYTES) > MAX_BYTES) {
            Entry oldest = ring.peekFirst();
            if (!done(oldest)) {
                syncs.increment();
                clWaitForEvents(1, new cl_event[] {oldest.write});
            }
            drop(ring.pollFirst());
        }
        Entry oldest = ring.peekFirst();
        if (oldest != null && done(oldest)) {
            ring.pollFirst();
            ringBytes -= oldest.bytes.capacity();
            release(oldest);
            if (oldest.bytes.capacity() >= bytes) return oldest;
        }
        return new Entry(Math.max(bytes, MIN_BYTES));
    }

    /** Whether the write reading {@code e} has completed (asks the driver; never waits). */
    private boolean done(Entry e) {
        if (e.write == null) return true;
        clGetEventInfo(e.write, CL_EVENT_COMMAND_EXECUTION_STATUS, Sizeof.cl_int, statusPointer, null);
        if (status[0] != CL_COMPLETE && status[0] >= 0) return false;
        // Complete, or failed (a negative status): either way the buffer is no longer read.
        return true;
    }

    private void drop(Entry e) {
        ringBytes -= e.bytes.capacity();
        release(e);
    }

    private static void release(Entry e) {
        if (e.write != null) clReleaseEvent(e.write);
        e.write = null;
    }

    /** Releases the writes' events; the caller has finished the queue. */
    @Override public synchronized void close() {
        while (!ring.isEmpty()) drop(ring.pollFirst());
    }
}
