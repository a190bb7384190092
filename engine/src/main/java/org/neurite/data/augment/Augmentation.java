package org.neurite.data.augment;

import org.neurite.backend.CounterRandom;

/**
 * One transformation of a training sample [C, H, W] into another of the same shape, in place.
 * Its random choices come from {@code CounterRandom.uniform(key, k)} for k = 0, 1, …: the key is
 * fixed by (seed, epoch, sample index, position in the pipeline), so the same sample of the same
 * epoch is always transformed the same way, whichever batch, thread or resumed run gathers it.
 */
interface Augmentation {
    /**
     * Transforms the sample at {@code x[offset .. offset + C*H*W)}.
     *
     * @param scratch at least C*H*W floats the transformation may overwrite
     */
    void apply(float[] x, int offset, long key, float[] scratch);

    /** Draw {@code k} of {@code key} as a whole number in {@code [0, n)}. */
    static int below(long key, int k, int n) {
        return Math.min(n - 1, (int) (CounterRandom.uniform(key, k) * n));
    }

    /** Draw {@code k} of {@code key} in {@code [-1, 1)}. */
    static double symmetric(long key, int k) {
        return 2.0 * CounterRandom.uniform(key, k) - 1.0;
    }
}
