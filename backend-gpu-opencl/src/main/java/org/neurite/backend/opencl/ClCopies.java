package org.neurite.backend.opencl;

import org.jocl.Pointer;
import org.jocl.cl_mem;

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

    ClCopies(ClContext device, ClWorkspace staging) {
        this.queue = device.queue;
        this.kernels = device.kernels;
        this.staging = staging;
    }

    void upload(float[] src, int srcOffset, ClSlice dst) {
        if (dst.length() == 0) return;
        queue.write(src, srcOffset, dst.buffer().mem(), bytes(dst.offset()), dst.length());
    }

    void download(ClSlice src, float[] dst, int dstOffset) {
        if (src.length() == 0) return;
        queue.read(src.buffer().mem(), bytes(src.offset()), bytes(src.length()), Pointer.to(dst).withByteOffset(bytes(dstOffset)));
    }

    void fill(ClSlice t, float value) {
        if (t.length() == 0) return;
        queue.fill(t.buffer().mem(), Pointer.to(new float[] {value}), Float.BYTES, bytes(t.offset()), bytes(t.length()));
    }

    /** The whole tensor set to {@code value}. */
    void fill(ClTensor t, float value) {
        fill(new ClSlice(t, 0, t.size()), value);
    }

    void copy(ClSlice src, ClSlice dst) {
        copy(src.buffer(), src.offset(), dst.buffer(), dst.offset(), src.length());
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
        kernels.get("copy_blocks").map(length * count, src, srcOffset, srcStride, dst, dstOffset, dstStride, length, length * count);
    }

    /** Whether the region read and the region written by a block copy within one tensor intersect. */
    private static boolean spansOverlap(int srcOff, int srcStride, int dstOff, int dstStride, int length, int count) {
        long srcEnd = srcOff + (long) (count - 1) * srcStride + length, dstEnd = dstOff + (long) (count - 1) * dstStride + length;
        return srcOff < dstEnd && dstOff < srcEnd;
    }

    /** y [planes, outH, outW] = x [planes, h, w] placed at (top, left), zeros around it. */
    void pad2d(ClTensor x, ClTensor y, int h, int w, int top, int left, int outH, int outW) {
        kernels.get("pad2d").map(y.size(), x, y, h, w, top, left, outH, outW, y.size());
    }

    /** dx [planes, h, w] = the (top, left) window of dy [planes, outH, outW]. */
    void crop2d(ClTensor dy, ClTensor dx, int h, int w, int top, int left, int outH, int outW) {
        kernels.get("crop2d").map(dx.size(), dy, dx, h, w, top, left, outH, outW, dx.size());
    }

    private static long bytes(int floats) { return (long) floats * Float.BYTES; }
}
