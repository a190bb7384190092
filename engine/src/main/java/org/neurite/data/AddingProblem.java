package org.neurite.data;

import java.util.List;
import java.util.SplittableRandom;
import org.neurite.tensor.Shape;

/**
 * The adding problem (Hochreiter &amp; Schmidhuber 1997; in the form of Le, Jaitly &amp; Hinton 2015):
 * each sample is a sequence of {@code length} steps of (value, marker), values uniform in [0, 1),
 * exactly two markers set to 1 — one in the first half, one in the second — and the target is
 * the sum of the two marked values. Always answering 1.0 scores a mean squared error of 1/6 ≈
 * 0.167 (the variance of a sum of two uniforms), the bar a model must clear to show it carries
 * information across the sequence. Samples are [length, 2]; targets are scalars.
 */
public final class AddingProblem {
    private AddingProblem() {}

    /** {@code count} samples of sequences of {@code length} steps, reproducible from {@code seed}. */
    public static Dataset generate(int length, int count, long seed, String split) {
        if (length < 2) throw new IllegalArgumentException("the adding problem needs sequences of at least 2 steps, got " + length);
        if (count < 1) throw new IllegalArgumentException("the adding problem needs at least 1 sample, got " + count);
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = new float[count * length * 2];
        float[] y = new float[count];
        int half = length / 2;
        for (int s = 0; s < count; s++) {
            int base = s * length * 2;
            for (int t = 0; t < length; t++) x[base + 2 * t] = (float) rng.nextDouble();
            int first = rng.nextInt(half);
            int second = half + rng.nextInt(length - half);
            x[base + 2 * first + 1] = 1f;
            x[base + 2 * second + 1] = 1f;
            y[s] = x[base + 2 * first] + x[base + 2 * second];
        }
        return new Dataset("adding", Shape.of(length, 2), x, Shape.of(), y, 0, List.of(), false,
                "the adding problem, " + count + " " + split + " sequences of " + length + " steps (seed " + seed + ")");
    }
}
