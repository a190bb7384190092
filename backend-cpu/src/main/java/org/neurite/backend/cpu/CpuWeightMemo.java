package org.neurite.backend.cpu;

import java.util.Arrays;
import java.util.function.Supplier;
import org.neurite.backend.Conv2dGeometry;

/**
 * What a convolution prepares from its weights before it runs (the channel-vector kernel's packing,
 * Winograd's transformed filters), kept per layer: a model whose weights do not change (inference,
 * serving) prepares them once, not at every call. An entry is found by the weight array, the
 * layer (its geometry, the batch aside) and a variant (what else the preparation depends on: the
 * direction, the tile); it is current only while the array still holds the values it was prepared
 * from (compared on each call, not trusted), so what it holds, and the bits computed from it, are
 * those a fresh preparation gives. In training the weights change every step: the comparison stops
 * at the first changed value, and remembering costs a copy of the weights. The least recently used
 * entry is replaced. Not thread-safe: its owner calls it from one thread at a time.
 *
 * @param <T> the prepared form; an entry's is reused (grown by its owner) when the entry is replaced
 */
final class CpuWeightMemo<T> {
    /** One layer's prepared weights and the weights they were prepared from. */
    static final class Entry<T> {
        /** The prepared form, the owner's to fill (and to replace when it must grow). */
        T prepared;
        private float[] weights; // the array prepared from, or null: nothing current here
        private float[] copy = new float[0]; // its first `size` values then
        private int size;
        private Conv2dGeometry layer;
        private int variant;
        private long used; // the memo's clock at the last lookup that found or took it

        private Entry(T prepared) {
            this.prepared = prepared;
        }

        /** Whether {@link #prepared} is that of the weights looked up. */
        boolean current() {
            return weights != null;
        }

        /** After the owner has prepared {@link #prepared} from {@code w}: remembers w's values, and the entry is current. */
        void remember(float[] w) {
            if (copy.length < size) copy = new float[size];
            System.arraycopy(w, 0, copy, 0, size);
            weights = w;
        }
    }

    private final Entry<T>[] entries;
    private long clock;

    @SuppressWarnings("unchecked")
    CpuWeightMemo(int entries, Supplier<T> empty) {
        this.entries = new Entry[entries];
        for (int e = 0; e < entries; e++) this.entries[e] = new Entry<>(empty.get());
    }

    /**
     * The entry for the first {@code size} values of {@code w} as layer g's weights in this
     * variant: {@linkplain Entry#current current} when it holds their preparation; else (its own
     * stale preparation, or the least recently used entry taken over) the owner prepares into it
     * and calls {@link Entry#remember}. Until then it is not current, so a preparation that fails
     * leaves nothing to be trusted.
     */
    Entry<T> find(Conv2dGeometry g, int variant, float[] w, int size) {
        clock++;
        Entry<T> oldest = entries[0];
        for (Entry<T> e : entries) {
            if (e.weights == w && e.variant == variant && e.size == size && sameLayer(e.layer, g)) {
                e.used = clock;
                if (!Arrays.equals(w, 0, size, e.copy, 0, size)) e.weights = null;
                return e;
            }
            if (e.used < oldest.used) oldest = e;
        }
        oldest.weights = null;
        oldest.used = clock;
        oldest.layer = g;
        oldest.variant = variant;
        oldest.size = size;
        return oldest;
    }

    /** Whether two geometries describe the same layer: everything but the batch. */
    private static boolean sameLayer(Conv2dGeometry a, Conv2dGeometry b) {
        return a != null && a.inChannels() == b.inChannels() && a.height() == b.height() && a.width() == b.width()
                && a.outChannels() == b.outChannels() && a.kernelH() == b.kernelH() && a.kernelW() == b.kernelW()
                && a.strideH() == b.strideH() && a.strideW() == b.strideW() && a.padH() == b.padH() && a.padW() == b.padW()
                && a.dilationH() == b.dilationH() && a.dilationW() == b.dilationW() && a.groups() == b.groups();
    }
}
