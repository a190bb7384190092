package org.neurite.backend.opencl;

import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clEnqueueReadBuffer;
import static org.jocl.CL.clReleaseMemObject;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.jocl.Pointer;
import org.jocl.cl_mem;

/**
 * Validation of index tensors that only their data can refuse (embedding row indices, max-pooling
 * argmax, class labels), on the device and without making the host wait for it. Each check gets a
 * slot of a status buffer: its check kernel lowers the slot's first failing item (atomic_min), a
 * one-item kernel records the value found there, and the op that reads the indices is given the
 * slot ({@link #buffer()}, the slot number) and writes nothing when it holds a failure. The host
 * learns of it at its next wait: before every blocking read or finish the queue reads the slots in
 * use along with it ({@link ClQueue.WaitHook}), and after it the first failed check, in the order
 * the checks were made, is thrown with its op's message. So a refused call still writes nothing,
 * and the refusal comes at the backend's next synchronising call instead of the call itself, as
 * CUDA reports a device-side assertion.
 */
final class ClIndexCheck implements ClQueue.WaitHook, AutoCloseable {
    /** Checks between two waits; one more makes the host wait first (the slots are read and reset). */
    static final int SLOTS = 1024;
    /** Ints per slot: the first failing item (Integer.MAX_VALUE: none), then the value there (float bits). */
    private static final int SLOT_INTS = 2;
    /** The fill pattern of a free slot (clEnqueueFillBuffer copies it when called). */
    private static final Pointer NONE_FAILED = Pointer.to(new int[] {Integer.MAX_VALUE});

    /** How a failed check is worded: its op's message for the first failing item and the value found there. */
    interface Refusal {
        IllegalArgumentException of(int item, float value);
    }

    private final ClQueue queue;
    private final ClKernels kernels;
    private final cl_mem status;
    /** Where a wait reads the slots in use (a non-blocking read needs memory the collector does not move). */
    private final ByteBuffer readBack;
    private final Pointer readBackPointer;
    /** The refusal of each slot in use, in the order the checks were made. */
    private final List<Refusal> pending = new ArrayList<>();
    /** Slots read by the wait in progress (0: none). */
    private int reading;

    ClIndexCheck(ClContext device) {
        this.queue = device.queue;
        this.kernels = device.kernels;
        this.status = clCreateBuffer(device.context, CL_MEM_READ_WRITE, (long) SLOTS * SLOT_INTS * Integer.BYTES, null, null);
        this.readBack = ByteBuffer.allocateDirect(SLOTS * SLOT_INTS * Integer.BYTES).order(ByteOrder.nativeOrder());
        this.readBackPointer = Pointer.to(readBack);
        reset(SLOTS);
        queue.onWait(this);
    }

    /** The status buffer whose slot an index-reading kernel is given. */
    cl_mem buffer() { return status; }

    /**
     * Enqueues the check kernel whose arguments {@code args} holds (every argument but the last two)
     * over [0, n), with the status buffer and the slot appended, which the kernel lowers to each
     * failing item, then the recording of the value of {@code values} at the first failing item.
     * Returns the slot to pass to the op's kernel.
     */
    int check(ClKernel.Args args, int n, ClTensor values, Refusal refusal) {
        if (pending.size() == SLOTS) queue.finish();   // reads and frees every slot (and may throw)
        int slot = pending.size();
        pending.add(refusal);
        args.mem(status).i(slot).map(n);
        kernels.get("record_refused_value").args().mem(status).i(slot).mem(values).map(1);
        return slot;
    }

    @Override public void beforeWait() {
        reading = pending.size();
        if (reading > 0) {
            clEnqueueReadBuffer(queue.handle(), status, false, 0, (long) reading * SLOT_INTS * Integer.BYTES, readBackPointer,
                    0, null, null);
        }
    }

    @Override public void afterWait() {
        int n = reading;
        if (n == 0) return;
        reading = 0;
        // The first failed check in the order the checks were made, found before the slots are freed.
        Refusal failed = null;
        int item = 0;
        float value = 0f;
        for (int slot = 0; slot < n && failed == null; slot++) {
            int first = readBack.getInt(slot * SLOT_INTS * Integer.BYTES);
            if (first != Integer.MAX_VALUE) {
                failed = pending.get(slot);
                item = first;
                value = Float.intBitsToFloat(readBack.getInt((slot * SLOT_INTS + 1) * Integer.BYTES));
            }
        }
        pending.clear();
        reset(n);
        if (failed != null) throw failed.of(item, value);
    }

    /** Marks the first {@code slots} slots free of failures (enqueued after every command that used them). */
    private void reset(int slots) {
        queue.fill(status, NONE_FAILED, Integer.BYTES, 0, (long) slots * SLOT_INTS * Integer.BYTES);
    }

    @Override public void close() { clReleaseMemObject(status); }
}
