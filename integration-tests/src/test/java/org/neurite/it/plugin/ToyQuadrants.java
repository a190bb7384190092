package org.neurite.it.plugin;

import java.util.List;
import java.util.SplittableRandom;
import org.neurite.data.Dataset;
import org.neurite.tensor.Shape;

/** The plugin tests' data, {@code toy_quadrants}: small, seeded, and not linearly separable. */
final class ToyQuadrants {
    private ToyQuadrants() {}

    /** 512 points in [-1, 1)^8, labelled by whether x0 and x1 share a sign. */
    static Dataset dataset() {
        int n = 512;
        SplittableRandom rng = new SplittableRandom(11);
        float[] x = new float[n * 8];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < 8; j++) x[i * 8 + j] = (float) (rng.nextDouble() * 2 - 1);
            labels[i] = x[i * 8] * x[i * 8 + 1] > 0 ? 1 : 0;
        }
        return new Dataset("toy_quadrants", Shape.of(8), x, labels, 2, List.of(), false, "generated in the test");
    }
}
