package org.neurite.testkit;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.neurite.backend.Backend;
import org.neurite.backend.Slice;
import org.neurite.layer.ParamDecl;
import org.neurite.tensor.Tensor;

/**
 * The shared numerical gradient check every layer test (and every third-party plugin) runs,
 * after Caffe's {@code GradientChecker(step, threshold, seed)}.
 *
 * <p>For a {@link GradientCase} it compiles the layer through the real SPI on the given backend,
 * fills inputs and parameters with seeded random values, and defines the scalar
 * {@code loss = sum(output * R)} for a fixed random R of the output's shape. Backward with
 * {@code gradOutput = R} must then give dLoss/dInput and dLoss/dParam, which are compared element
 * by element with central differences {@code (loss(v+step) - loss(v-step)) / 2step} — every
 * element of small tensors, a seeded sample of {@value #MAX_SAMPLES_PER_TENSOR} elements of large
 * ones. An element passes when {@code |analytic - numeric| <= tolerance * max(|analytic|,
 * |numeric|) + absoluteTolerance} (relative for large gradients, absolute near zero, where float32
 * differences are mostly rounding).
 *
 * <p>It also checks the SPI contract the engine relies on: forward writes every output element,
 * backward writes every requested gradient element (both buffers start as NaN, so a kernel that
 * accumulates or skips elements fails), neither pass modifies its inputs or {@code gradOutput},
 * and stochastic layers see one fixed {@code stepSeed} so their mask is the same in every pass.
 */
public final class GradientChecker {
    /** Tensors larger than this are checked on a seeded random sample of this many elements. */
    public static final int MAX_SAMPLES_PER_TENSOR = 200;

    private final double step;
    private final double tolerance;
    private final double absoluteTolerance;
    private final long seed;

    /**
     * @param step the central-difference step (1e-2 suits float32 layers)
     * @param tolerance relative tolerance; the absolute tolerance defaults to a tenth of it
     * @param seed seeds the values, R, the samples and the step seed stochastic layers see
     */
    public GradientChecker(double step, double tolerance, long seed) {
        this(step, tolerance, tolerance / 10, seed);
    }

    private GradientChecker(double step, double tolerance, double absoluteTolerance, long seed) {
        if (!(step > 0) || !(tolerance > 0) || !(absoluteTolerance >= 0))
            throw new IllegalArgumentException("step and tolerance must be positive");
        this.step = step;
        this.tolerance = tolerance;
        this.absoluteTolerance = absoluteTolerance;
        this.seed = seed;
    }

    /** This checker with another absolute tolerance (the allowance for gradients near zero). */
    public GradientChecker withAbsoluteTolerance(double absolute) {
        return new GradientChecker(step, tolerance, absolute, seed);
    }

    public double step() { return step; }

    /**
     * Runs the check.
     *
     * @return what was compared, when everything passed
     * @throws AssertionError naming, for each failing tensor, its worst element with its index
     */
    public GradientReport check(GradientCase c, Backend backend) {
        Set<Integer> skipped = new HashSet<>();
        for (int i = 0; i < c.inputShapes().size(); i++) if (!c.checksInput(i)) skipped.add(i);
        SplittableRandom rng = new SplittableRandom(seed);
        try (LayerHarness h = LayerHarness.compile(c.type(), c.args(), c.batch(), backend, c.inputShapes(), skipped)) {
            // The point the gradient is taken at. Host copies are kept so single elements can be
            // perturbed and restored without downloading.
            int nIn = h.inputCount();
            float[][] inputValues = new float[nIn][];
            for (int i = 0; i < nIn; i++) {
                int n = h.inputShape(i).size();
                inputValues[i] = c.distinctInputs() ? distinctValues(n, rng) : kinkFreeValues(n, c.kinks(), rng);
                h.setInput(i, inputValues[i]);
            }
            Map<String, float[]> paramValues = new LinkedHashMap<>();
            for (ParamDecl d : h.parameters()) {
                float[] v = uniform(d.shape().size(), rng);
                h.setParam(d.name(), v);
                paramValues.put(d.name(), v);
            }
            float[] r = uniform(h.outputShape().size(), rng);
            h.training(c.training()).stepSeed(rng.nextLong());

            // Forward at the base point; NaN in the output first so unwritten elements show.
            backend.fill(h.outputTensor(), Float.NaN);
            requireAllWritten(c, "forward", "the output " + h.outputShape(), h.forward());
            for (int i = 0; i < nIn; i++) requireUnchanged(c, "forward", "input " + i, inputValues[i], h.input(i));

            // Backward with gradOutput = R into NaN-filled gradients: a kernel must overwrite them.
            for (int i = 0; i < nIn; i++) if (h.requestsInputGradient(i)) backend.fill(h.gradInputTensor(i), Float.NaN);
            for (ParamDecl d : h.parameters()) if (d.trainable()) backend.fill(h.gradParamTensor(d.name()), Float.NaN);
            h.backward(r);
            requireUnchanged(c, "backward", "gradOutput", r, h.gradOutput());

            List<GradientReport.TensorCheck> checks = new ArrayList<>();
            for (int i = 0; i < nIn; i++) {
                if (!h.requestsInputGradient(i)) continue;
                float[] analytic = h.gradInput(i);
                requireAllWritten(c, "backward", "the gradient of input " + i, analytic);
                checks.add(compare("input " + i, h.inputTensor(i), inputValues[i], analytic, h, r, rng));
            }
            for (ParamDecl d : h.parameters()) {
                if (!d.trainable()) continue;
                float[] analytic = h.gradParam(d.name());
                requireAllWritten(c, "backward", "the gradient of " + d.name(), analytic);
                checks.add(compare(d.name(), h.paramTensor(d.name()), paramValues.get(d.name()), analytic, h, r, rng));
            }
            if (checks.stream().anyMatch(t -> !t.passed())) {
                StringBuilder msg = new StringBuilder("gradient check failed for " + c
                        + String.format(Locale.ROOT, " (step %g, tolerance %g relative + %g absolute):",
                        step, tolerance, absoluteTolerance));
                for (GradientReport.TensorCheck t : checks) {
                    msg.append("\n  ").append(t.passed() ? "ok     " : "FAILED ").append(t.describe());
                }
                throw new AssertionError(msg.toString());
            }
            return new GradientReport(c.toString(), checks);
        }
    }

    /** Compares one tensor's analytic gradient with central differences at the sampled elements. */
    private GradientReport.TensorCheck compare(String name, Tensor tensor, float[] values, float[] analytic,
                                               LayerHarness h, float[] r, SplittableRandom rng) {
        int[] sample = sample(values.length, rng);
        int failures = 0;
        int worst = sample.length == 0 ? 0 : sample[0];
        double worstRatio = -1;
        double worstNumeric = 0;
        double worstAllowed = 0;
        for (int j : sample) {
            float original = values[j];
            float plus = (float) (original + step);
            float minus = (float) (original - step);
            double lossPlus = lossWith(tensor, j, plus, h, r);
            double lossMinus = lossWith(tensor, j, minus, h, r);
            h.backend().upload(values, j, Slice.of(tensor, j, 1));
            // Divide by the step float32 actually took, not the nominal one.
            double numeric = (lossPlus - lossMinus) / ((double) plus - (double) minus);
            double a = analytic[j];
            double allowed = tolerance * Math.max(Math.abs(a), Math.abs(numeric)) + absoluteTolerance;
            double diff = Math.abs(a - numeric);
            if (!(diff <= allowed)) failures++;
            double ratio = Double.isNaN(diff) ? Double.POSITIVE_INFINITY : diff / allowed;
            if (ratio > worstRatio) {
                worstRatio = ratio;
                worst = j;
                worstNumeric = numeric;
                worstAllowed = allowed;
            }
        }
        return new GradientReport.TensorCheck(name, tensor.shape(), sample.length, failures, worst,
                sample.length == 0 ? 0 : analytic[worst], worstNumeric, worstAllowed);
    }

    /** sum(output * R) after a forward pass with element {@code index} of {@code tensor} set to {@code value}. */
    private static double lossWith(Tensor tensor, int index, float value, LayerHarness h, float[] r) {
        h.backend().upload(new float[] {value}, 0, Slice.of(tensor, index, 1));
        float[] y = h.forward();
        double loss = 0;
        for (int i = 0; i < y.length; i++) loss += (double) y[i] * r[i];
        return loss;
    }

    /** All indices of a small tensor, or {@value #MAX_SAMPLES_PER_TENSOR} distinct seeded ones, ascending. */
    private static int[] sample(int size, SplittableRandom rng) {
        int[] all = new int[size];
        for (int i = 0; i < size; i++) all[i] = i;
        if (size <= MAX_SAMPLES_PER_TENSOR) return all;
        // Partial Fisher-Yates: the first MAX_SAMPLES positions become a uniform sample.
        for (int i = 0; i < MAX_SAMPLES_PER_TENSOR; i++) {
            int k = i + rng.nextInt(size - i);
            int t = all[i]; all[i] = all[k]; all[k] = t;
        }
        int[] picked = Arrays.copyOf(all, MAX_SAMPLES_PER_TENSOR);
        Arrays.sort(picked);
        return picked;
    }

    private static float[] uniform(int n, SplittableRandom rng) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rng.nextDouble() * 2 - 1);
        return v;
    }

    /** Uniform values in [-1, 1), redrawn while closer than 2 steps to a kink. */
    private float[] kinkFreeValues(int n, double[] kinks, SplittableRandom rng) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            int attempts = 0;
            do {
                if (++attempts > 1000)
                    throw new IllegalArgumentException("kinks " + Arrays.toString(kinks) + " leave no room in [-1, 1) for step " + step);
                v[i] = (float) (rng.nextDouble() * 2 - 1);
            } while (nearKink(v[i], kinks));
        }
        return v;
    }

    private boolean nearKink(float v, double[] kinks) {
        for (double k : kinks) if (Math.abs(v - k) < 2 * step) return true;
        return false;
    }

    /**
     * A shuffled ladder centred on 0 with rungs {@code max(4 step, 2/n)} apart: no two elements
     * are within four steps, so perturbing one by a step never changes which element of a window
     * is largest, and the values stay in [-1, 1] when the tensor is small enough to allow it.
     */
    private float[] distinctValues(int n, SplittableRandom rng) {
        double spacing = Math.max(4 * step, 2.0 / n);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) ((i - (n - 1) / 2.0) * spacing);
        for (int i = n - 1; i > 0; i--) {
            int k = rng.nextInt(i + 1);
            float t = v[i]; v[i] = v[k]; v[k] = t;
        }
        return v;
    }

    private static void requireAllWritten(GradientCase c, String pass, String what, float[] values) {
        int unwritten = 0;
        int first = -1;
        for (int i = 0; i < values.length; i++) {
            if (Float.isNaN(values[i])) {
                if (first < 0) first = i;
                unwritten++;
            }
        }
        if (unwritten > 0) {
            throw new AssertionError(c + ": " + pass + " left " + unwritten + " of " + values.length + " elements of "
                    + what + " unwritten or accumulated into (still NaN), the first at flat index " + first
                    + "; kernels must overwrite every element");
        }
    }

    private static void requireUnchanged(GradientCase c, String pass, String what, float[] before, float[] after) {
        for (int i = 0; i < before.length; i++) {
            if (Float.floatToIntBits(before[i]) != Float.floatToIntBits(after[i])) {
                throw new AssertionError(c + ": " + pass + " modified " + what + " at flat index " + i + " ("
                        + before[i] + " became " + after[i] + "); a layer must not write the tensors it reads");
            }
        }
    }
}
