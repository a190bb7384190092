package org.neurite.plugins.recurrent;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.neurite.backend.Backend;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamDecl;
import org.neurite.tensor.Shape;
import org.neurite.testkit.LayerHarness;

/**
 * The shared {@code GradientChecker}'s comparison for sequences of chosen lengths, which the kit
 * cannot express because it draws every input value at random: input x [B, T, I] holds seeded
 * values in ±[0.1, 1) up to each sample's length (so no valid row is, or becomes by a step, all
 * zero), all-zero rows past it, and optionally zero rows inside a sample. With
 * {@code loss = sum(y * R)} for a seeded R, backward's dL/dx and dL/dparam are compared with
 * central differences {@code (loss(v+step) - loss(v-step)) / 2step} at every element, passing when
 * {@code |analytic - numeric| <= tolerance·max(|analytic|, |numeric|) + tolerance/10}, as the kit's
 * checker does. Input elements past a sample's end are not moved (that would change its length):
 * their analytic gradient must be exactly zero, as PyTorch's packed sequences give.
 */
final class PaddedSequenceGradientCheck {
    private final double step;
    private final double tolerance;
    private final long seed;

    PaddedSequenceGradientCheck(double step, double tolerance, long seed) {
        this.step = step;
        this.tolerance = tolerance;
        this.seed = seed;
    }

    /**
     * Checks the layer on a batch of {@code lengths.length} samples of {@code sample} [T, I];
     * {@code zeroRows} are (sample, step) pairs zeroed inside a sample.
     *
     * @return what was compared, {@code "name [shape] xN"} per tensor, when everything passed
     * @throws AssertionError listing every element outside the tolerance
     */
    List<String> check(LayerType type, LayerArgs args, Shape sample, int[] lengths, int[][] zeroRows, Backend backend) {
        int batch = lengths.length;
        int time = sample.dim(0);
        int features = sample.dim(1);
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = paddedInput(rng, time, features, lengths, zeroRows);
        try (LayerHarness h = LayerHarness.compile(type, args, batch, backend, sample)) {
            h.setInput(0, x);
            List<float[]> params = new ArrayList<>();
            for (ParamDecl d : h.parameters()) {
                float[] v = new float[d.shape().size()];
                for (int i = 0; i < v.length; i++) v[i] = (float) (rng.nextDouble() * 2 - 1);
                h.setParam(d.name(), v);
                params.add(v);
            }
            float[] r = new float[h.outputShape().size()];
            for (int i = 0; i < r.length; i++) r[i] = (float) (rng.nextDouble() * 2 - 1);
            h.forward();
            h.backward(r);

            List<String> failures = new ArrayList<>();
            List<String> checked = new ArrayList<>();
            float[] dx = h.gradInput(0);
            int compared = 0;
            for (int j = 0; j < x.length; j++) {
                int b = j / (time * features);
                int t = j / features % time;
                if (t >= lengths[b]) {
                    if (dx[j] != 0f) failures.add("input 0 at " + j + " (sample " + b + ", step " + t + ", past its length "
                            + lengths[b] + "): " + dx[j] + " instead of exactly 0");
                    continue;
                }
                compare("input 0", j, dx[j], numeric(h, x, j, v -> h.setInput(0, v), r), failures);
                compared++;
            }
            checked.add("input 0 " + h.inputShape(0) + " x" + compared);
            for (int p = 0; p < params.size(); p++) {
                ParamDecl d = h.parameters().get(p);
                float[] analytic = h.gradParam(d.name());
                float[] values = params.get(p);
                for (int j = 0; j < values.length; j++) {
                    compare(d.name(), j, analytic[j], numeric(h, values, j, v -> h.setParam(d.name(), v), r), failures);
                }
                checked.add(d.name() + " " + d.shape() + " x" + values.length);
            }
            if (!failures.isEmpty())
                throw new AssertionError("gradient check failed for " + type.name() + "(" + args + ") with lengths "
                        + Arrays.toString(lengths) + ":\n  " + String.join("\n  ", failures));
            return checked;
        }
    }

    /** Seeded values in ±[0.1, 1) up to each length, zero past it and at the listed rows. */
    private static float[] paddedInput(SplittableRandom rng, int time, int features, int[] lengths, int[][] zeroRows) {
        float[] x = new float[lengths.length * time * features];
        for (int b = 0; b < lengths.length; b++) {
            for (int t = 0; t < lengths[b]; t++) {
                for (int i = 0; i < features; i++) {
                    double magnitude = 0.1 + 0.9 * rng.nextDouble();
                    x[(b * time + t) * features + i] = (float) (rng.nextBoolean() ? magnitude : -magnitude);
                }
            }
        }
        for (int[] row : zeroRows) {
            if (row[1] >= lengths[row[0]] - 1) throw new IllegalArgumentException("a zero row must come before the sample's last row");
            Arrays.fill(x, (row[0] * time + row[1]) * features, (row[0] * time + row[1] + 1) * features, 0f);
        }
        return x;
    }

    /** The central difference of the loss in element j of {@code values}, restored afterwards. */
    private double numeric(LayerHarness h, float[] values, int j, Consumer<float[]> set, float[] r) {
        float original = values[j];
        float plus = (float) (original + step);
        float minus = (float) (original - step);
        values[j] = plus;
        set.accept(values);
        double lossPlus = dot(h.forward(), r);
        values[j] = minus;
        set.accept(values);
        double lossMinus = dot(h.forward(), r);
        values[j] = original;
        set.accept(values);
        // divide by the step float32 actually took
        return (lossPlus - lossMinus) / ((double) plus - (double) minus);
    }

    private void compare(String name, int j, double analytic, double numeric, List<String> failures) {
        double allowed = tolerance * Math.max(Math.abs(analytic), Math.abs(numeric)) + tolerance / 10;
        if (!(Math.abs(analytic - numeric) <= allowed))
            failures.add(String.format(Locale.ROOT, "%s at %d: analytic %.6g, numeric %.6g (allowed %.2g)", name, j, analytic, numeric, allowed));
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }
}
