package org.neurite.backend.opencl;

import static org.jocl.CL.clEnqueueFillBuffer;
import static org.jocl.CL.clEnqueueReadBuffer;

import java.util.Arrays;
import org.jocl.Pointer;
import org.jocl.cl_command_queue;
import org.jocl.cl_mem;

/**
 * Validation of index tensors that only their data can refuse (embedding row indices, max-pooling
 * argmax), on the device and before the op that reads them writes anything: a check kernel lowers
 * a status int to each failing item, and the host reads back that one int (blocking) and, for the
 * message, the offending value.
 */
final class ClIndexCheck implements AutoCloseable {
    private final cl_command_queue queue;
    private final ClKernels kernels;
    private final ClWorkspace status;

    ClIndexCheck(ClContext device) {
        this.queue = device.queue;
        this.kernels = device.kernels;
        this.status = new ClWorkspace(device.context, "index check status");
    }

    /**
     * Runs a check kernel over [0, n) whose last argument is a status int it lowers (atomic_min)
     * to each failing item, and returns the lowest failing item, or -1 (blocks: reads back one int).
     */
    int firstFailing(String kernel, int n, Object... args) {
        if (n == 0) return -1;
        cl_mem first = status.atLeast(Integer.BYTES);
        clEnqueueFillBuffer(queue, first, Pointer.to(new int[] {Integer.MAX_VALUE}), Integer.BYTES, 0, Integer.BYTES, 0, null, null);
        Object[] all = Arrays.copyOf(args, args.length + 1);
        all[args.length] = first;
        kernels.get(kernel).map(n, all);
        int[] found = new int[1];
        clEnqueueReadBuffer(queue, first, true, 0, Integer.BYTES, Pointer.to(found), 0, null, null);
        return found[0] == Integer.MAX_VALUE ? -1 : found[0];
    }

    /** One element of a tensor, read back (blocking; for error messages). */
    float valueAt(ClTensor t, int index) {
        float[] v = new float[1];
        clEnqueueReadBuffer(queue, t.mem(), true, (long) index * Float.BYTES, Float.BYTES, Pointer.to(v), 0, null, null);
        return v[0];
    }

    @Override public void close() { status.close(); }
}
