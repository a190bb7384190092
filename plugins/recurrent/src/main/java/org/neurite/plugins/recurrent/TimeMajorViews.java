package org.neurite.plugins.recurrent;

import java.util.IdentityHashMap;
import java.util.Map;
import org.neurite.backend.Matrix;
import org.neurite.backend.Slice;
import org.neurite.tensor.Tensor;

/**
 * Step t's block [B, width] of time-major buffers [T, B, width], as a {@link Slice} and as a GEMM
 * operand ({@link Matrix}, rows {@code width} apart), made once per buffer and handed out again
 * at every step. The per-step loops of the recurrent layers call the backend a few times per
 * time step; descriptors made per call escape into the backend (called through an interface, it
 * is rarely inlined), which cost rowlstm 17 KB of garbage per training step.
 *
 * <p>Buffers are told apart by identity. A buffer of fewer than T blocks (a one-step workspace
 * [B, width]) gets as many views as it holds. The layers pass the same few planned buffers at
 * every step, so the table stays small; should it ever pass many others, the table is cleared
 * rather than grown without bound.
 */
final class TimeMajorViews {
    /** More buffers than any layer uses: past it the table starts again from empty. */
    private static final int MAX_BUFFERS = 64;

    private final int batch;
    private final Map<Tensor, Views> byBuffer = new IdentityHashMap<>();
    private final Map<Tensor, Slice> wholeSlices = new IdentityHashMap<>();

    /** The views of one buffer for one block width; built per step on first use. */
    private static final class Views {
        final int width;
        final Slice[] slices;
        final Matrix[] matrices;

        Views(int width, int blocks) {
            this.width = width;
            this.slices = new Slice[blocks];
            this.matrices = new Matrix[blocks];
        }
    }

    TimeMajorViews(int batch) {
        this.batch = batch;
    }

    /** {@code buffer}'s elements [t·B·width, (t+1)·B·width): step t's [B, width] block. */
    Slice slice(Tensor buffer, int t, int width) {
        Views v = views(buffer, width);
        Slice s = v.slices[t];
        if (s == null) v.slices[t] = s = Slice.of(buffer, t * batch * width, batch * width);
        return s;
    }

    /** Step t's [B, width] block as a GEMM operand: from element t·B·width, rows {@code width} apart. */
    Matrix matrix(Tensor buffer, int t, int width) {
        Views v = views(buffer, width);
        Matrix m = v.matrices[t];
        if (m == null) v.matrices[t] = m = Matrix.at(buffer, t * batch * width, width);
        return m;
    }

    /** A whole matrix from element 0, rows {@code ld} apart (a weight matrix), made once. */
    Matrix whole(Tensor buffer, int ld) {
        return matrix(buffer, 0, ld);
    }

    /** The whole of {@code tensor} as a slice (a bias vector), made once per tensor. */
    Slice all(Tensor tensor) {
        Slice s = wholeSlices.get(tensor);
        if (s == null) {
            if (wholeSlices.size() >= MAX_BUFFERS) wholeSlices.clear();
            wholeSlices.put(tensor, s = Slice.of(tensor));
        }
        return s;
    }

    private Views views(Tensor buffer, int width) {
        Views v = byBuffer.get(buffer);
        if (v == null || v.width != width) {
            if (byBuffer.size() >= MAX_BUFFERS) byBuffer.clear();
            v = new Views(width, Math.max(1, buffer.size() / (batch * width)));
            byBuffer.put(buffer, v);
        }
        return v;
    }
}
