package org.neurite.plugins.recurrent;

import org.neurite.backend.Backend;
import org.neurite.backend.Strided;
import org.neurite.tensor.Tensor;

/**
 * A fixed set of strided block copies ({@link Backend#copyBlocks}) from one tensor to another:
 * offsets, strides, block length and count are set when the layer is compiled, and the
 * {@link Strided} descriptors are made once per pair of tensors rather than at every call (they
 * escape into the backend, so descriptors made per call were garbage at every training step).
 *
 * <p>{@link #single} is one copy of {@code count} blocks; {@link #swapLeadingAxes} the transpose
 * of the two leading axes of a column band, the batch-major ↔ time-major reordering of sequences.
 */
final class StridedCopies {
    private final int[] srcOffsets;
    private final int srcStride;
    private final int[] dstOffsets;
    private final int dstStride;
    private final int length;
    private final int count;
    /** The tensors the descriptors below were made for. */
    private Tensor src;
    private Tensor dst;
    private Strided[] from;
    private Strided[] to;

    private StridedCopies(int[] srcOffsets, int srcStride, int[] dstOffsets, int dstStride, int length, int count) {
        this.srcOffsets = srcOffsets;
        this.srcStride = srcStride;
        this.dstOffsets = dstOffsets;
        this.dstStride = dstStride;
        this.length = length;
        this.count = count;
    }

    /** {@code count} blocks of {@code length}: src from {@code srcOffset}, {@code srcStride} apart, to dst likewise. */
    static StridedCopies single(int srcOffset, int srcStride, int dstOffset, int dstStride, int length, int count) {
        return new StridedCopies(new int[] {srcOffset}, srcStride, new int[] {dstOffset}, dstStride, length, count);
    }

    /**
     * Viewing src as [p, q, srcWidth] and dst as [q, p, dstWidth], copies columns
     * [srcCol, srcCol + width) of src[i, j] to columns [dstCol, dstCol + width) of dst[j, i]:
     * one strided copy per index of the shorter axis.
     */
    static StridedCopies swapLeadingAxes(int p, int q, int srcWidth, int srcCol, int dstWidth, int dstCol, int width) {
        int copies = Math.min(p, q);
        int[] srcOffsets = new int[copies];
        int[] dstOffsets = new int[copies];
        if (p <= q) {
            // row i of src: q blocks srcWidth apart → column i of dst: q blocks p·dstWidth apart
            for (int i = 0; i < p; i++) {
                srcOffsets[i] = i * q * srcWidth + srcCol;
                dstOffsets[i] = i * dstWidth + dstCol;
            }
            return new StridedCopies(srcOffsets, srcWidth, dstOffsets, p * dstWidth, width, q);
        }
        // column j of src: p blocks q·srcWidth apart → row j of dst: p blocks dstWidth apart
        for (int j = 0; j < q; j++) {
            srcOffsets[j] = j * srcWidth + srcCol;
            dstOffsets[j] = j * p * dstWidth + dstCol;
        }
        return new StridedCopies(srcOffsets, q * srcWidth, dstOffsets, dstWidth, width, p);
    }

    /** Runs the copies from {@code src} to {@code dst}. */
    void run(Backend b, Tensor src, Tensor dst) {
        if (src != this.src || dst != this.dst) describe(src, dst);
        for (int i = 0; i < from.length; i++) b.copyBlocks(from[i], to[i], length, count);
    }

    private void describe(Tensor src, Tensor dst) {
        Strided[] newFrom = new Strided[srcOffsets.length];
        Strided[] newTo = new Strided[srcOffsets.length];
        for (int i = 0; i < srcOffsets.length; i++) {
            newFrom[i] = Strided.of(src, srcOffsets[i], srcStride);
            newTo[i] = Strided.of(dst, dstOffsets[i], dstStride);
        }
        this.from = newFrom;
        this.to = newTo;
        this.src = src;
        this.dst = dst;
    }
}
