package org.neurite.backend;

/**
 * A counter-based random number generator: {@code uniform(seed, i)} depends only on its
 * arguments, so every backend (and every thread) draws identical dropout masks without shared
 * state. The mixer is SplitMix64's finaliser applied to {@code seed ^ golden*i}; the top 24 bits
 * become a float in [0, 1). OpenCL kernels implement the same function.
 */
public final class CounterRandom {
    private CounterRandom() {}

    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public static float uniform(long seed, long index) {
        long z = mix(seed + 0x9E3779B97F4A7C15L * (index + 1));
        return (z >>> 40) * 0x1.0p-24f;
    }
}
