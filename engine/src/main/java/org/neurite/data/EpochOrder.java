package org.neurite.data;

import java.util.SplittableRandom;

/**
 * The order in which a training run visits a dataset's samples: for each epoch a permutation of
 * {@code 0 .. size-1} that depends only on (seed, epoch). Rerunning with the same seed therefore
 * feeds the same batches in the same order, and resuming at epoch {@code e} from a checkpoint
 * continues exactly as the uninterrupted run would have, without replaying earlier epochs.
 * The shuffle is Fisher–Yates driven by a {@link SplittableRandom} seeded from a mix of both
 * numbers (so neighbouring seeds or epochs give unrelated orders).
 */
public final class EpochOrder {
    private final long seed;
    private final int size;

    public EpochOrder(long seed, int size) {
        if (size < 0) throw new IllegalArgumentException("dataset size must be >= 0, got " + size);
        this.seed = seed;
        this.size = size;
    }

    public int size() { return size; }

    /** A new array holding the permutation of {@code epoch} (epochs count from 0). */
    public int[] permutation(int epoch) {
        int[] order = new int[size];
        fill(epoch, order);
        return order;
    }

    /** Writes the permutation of {@code epoch} into {@code order[0 .. size)}, reusing the caller's array. */
    public void fill(int epoch, int[] order) {
        if (order.length < size) throw new IllegalArgumentException("order needs " + size + " slots, got " + order.length);
        for (int i = 0; i < size; i++) order[i] = i;
        SplittableRandom random = new SplittableRandom(mix(seed ^ mix(epoch + 0x9E3779B97F4A7C15L)));
        // Fisher–Yates: position i takes a uniformly chosen element of the not-yet-placed prefix [0, i].
        for (int i = size - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }

    /** Number of batches of at most {@code batch} samples that cover one epoch (the last may be short). */
    public int batches(int batch) {
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        return (int) (((long) size + batch - 1) / batch);
    }

    /** Stafford's variant 13 of the MurmurHash3 finaliser: every input bit affects every output bit. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
