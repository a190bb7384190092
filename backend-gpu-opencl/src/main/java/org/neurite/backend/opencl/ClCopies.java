package org.neurite.backend.opencl;

import org.jocl.Pointer;
import org.jocl.cl_mem;
import org.neurite.backend.Slice;

/**
 * Data movement without arithmetic: uploads (staged, so the Java array may be reused at once and
 * the host does not wait: {@link ClStaging}) and downloads (blocking), fills and range copies
 * through the queue's own commands, and the strided block copies, zero padding and cropping of
 * {@code copy.cl}. Arguments arrive checked.
 */
final class ClCopies {
    private final ClQueue queue;
    private final ClKernels kernels;
    /** Staging for a copy between overlapping ranges of one buffer (shared with the convolution's columns). */
    private final ClWorkspace staging;
    private final float[] fillPattern = new float[1];
    private final Pointer fillPatternPointer = Pointer.to(fillPattern);
    private float[] downloadArray;
    private int downloadOffset;
    private Pointer downloadPointer;

    ClCopies(ClContext device, ClWorkspace staging) {
        this.queue = device.queue;
        this.kernels = device.kernels;
        this.staging = staging;
    }

    void upload(float[] src, int srcOffset, Slice dst) {
        if (dst.length() == 0) return;
        queue.write(src, srcOffset, ClTensor.of(dst.tensor()).mem(), bytes(dst.offset()), dst.length());
    }

    void download(Slice src, float[] dst, int dstOffset) {
        if (src.length() == 0) return;
        queue.read(ClTensor.of(src.tensor()).mem(), bytes(src.offset()), bytes(src.length()), downloadPointer(dst, dstOffset));
    }

    /**
     * The pointer a read into {@code dst} from {@code dstOffset} takes: the last one made when the
     * array and offset are the same (a model's output array read back batch after batch), so that
     * steady downloads make none. The last array is referenced until the next download elsewhere.
     */
    private synchronized Pointer downloadPointer(float[] dst, int dstOffset) {
        if (dst != downloadArray || dstOffset != downloadOffset) {
            downloadPointer = Pointer.to(dst).withByteOffset(bytes(dstOffset));
            downloadArray = dst;
            downloadOffset = dstOffset;
        }
        return downloadPointer;
    }

    void fill(Slice t, float value) {
        fill(ClTensor.of(t.tensor()), t.offset(), t.length(), value);
    }

    /** The whole tensor set to {@code value}. */
    void fill(ClTensor t, float value) {
        fill(t, 0, t.size(), value);
    }

    private void fill(ClTensor t, int offset, int length, float value) {
        if (length == 0) return;
        // clEnqueueFillBuffer copies the pattern when called, so one scratch value serves every fill.
        synchronized (fillPattern) {
            fillPattern[0] = value;
            queue.fill(t.mem(), fillPatternPointer, Float.BYTES, bytes(offset), bytes(length));
        }
    }

    void copy(Slice src, Slice dst) {
        copy(ClTensor.of(src.tensor()), src.offset(), ClTensor.of(dst.tensor()), dst.offset(), src.length());
    }

    /** {@code length} floats from {@code src[srcOffset..]} to {@code dst[dstOffset..]}; the ranges may overlap in one buffer. */
    private void copy(ClTensor src, int srcOffset, ClTensor dst, int dstOffset, int length) {
        if (length == 0 || (src == dst && srcOffset == dstOffset)) return;
        if (src == dst && Math.abs((long) srcOffset - dstOffset) < length) {
            // Overlapping ranges of one buffer: clEnqueueCopyBuffer refuses them, so go through the workspace.
            cl_mem stage = staging.atLeast(bytes(length));
            queue.copy(src.mem(), stage, bytes(srcOffset), 0, bytes(length));
            queue.copy(stage, dst.mem(), 0, bytes(dstOffset), bytes(length));
            return;
        }
        queue.copy(src.mem(), dst.mem(), bytes(srcOffset), bytes(dstOffset), bytes(length));
    }

    /** {@code count} blocks of {@code length} floats, {@code srcStride} apart in src and {@code dstStride} apart in dst. */
    void copyBlocks(ClTensor src, int srcOffset, int srcStride, ClTensor dst, int dstOffset, int dstStride, int length, int count) {
        if (src == dst && spansOverlap(srcOffset, srcStride, dstOffset, dstStride, length, count)) {
            // The CPU reference copies block by block, each block seeing the ones before it: keep that order.
            for (int i = 0; i < count; i++) copy(src, srcOffset + i * srcStride, dst, dstOffset + i * dstStride, length);
            return;
        }
        kernels.get("copy_blocks").args().mem(src).i(srcOffset).i(srcStride).mem(dst).i(dstOffset).i(dstStride).i(length).i(length * count)
                .map(length * count);
    }

    /** Whether the region read and the region written by a block copy within one tensor intersect. */
    private static boolean spansOverlap(int srcOff, int srcStride, int dstOff, int dstStride, int length, int count) {
        long srcEnd = srcOff + (long) (count - 1) * srcStride + length, dstEnd = dstOff + (long) (count - 1) * dstStride + length;
        return srcOff < dstEnd && dstOff < srcEnd;
    }

    /** y [planes, outH, outW] = x [planes, h, w] placed at (top, left), zeros around it. */
    void pad2d(ClTensor x, ClTensor y, int h, int w, int top, int left, int outH, int outW) {
        kernels.get("pad2d").args().mem(x).mem(y).i(h).i(w).i(top).i(left).i(outH).i(outW).i(y.size()).map(y.size());
    }

    /** dx [planes, h, w] = the (top, left) window of dy [planes, outH, outW]. */
    void crop2d(ClTensor dy, ClTensor dx, int h, int w, int top, int left, int outH, int outW) {
        kernels.get("crop2d").args().mem(dy).mem(dx).i(h).i(w).i(top).i(left).i(outH).i(outW).i(dx.size()).map(dx.size());
    }

    private static long bytes(int floats) { return (long) floats * Float.BYTES; }
}
