// CounterRandom (org.neurite.backend.CounterRandom) ported bit for bit: SplitMix64's finaliser
// applied to seed + golden * (index + 1) in 64-bit unsigned arithmetic (Java's long arithmetic
// wraps the same way, and >>> is ulong >>), the top 24 bits scaled to a float in [0, 1). Every
// backend therefore draws the same dropout mask for the same (seed, index).

inline ulong counter_mix(ulong z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
    return z ^ (z >> 31);
}

inline float counter_uniform(ulong seed, ulong index) {
    ulong z = counter_mix(seed + 0x9E3779B97F4A7C15UL * (index + 1UL));
    return (float) (z >> 40) * 0x1.0p-24f;
}
