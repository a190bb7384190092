package org.neurite.testkit;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.neurite.backend.Backend;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamDecl;
import org.neurite.tensor.Shape;

/**
 * The parity harness: runs one layer configuration through a reference kernel on a reference
 * backend (the CPU backend, Neurite's numerical reference) and through a candidate kernel on a
 * candidate backend, with the same seeded inputs, parameters, {@code gradOutput} and step seed,
 * and compares everything the engine reads back: the output, every input gradient, every
 * trainable parameter's gradient, and every parameter after the passes (layers that keep running
 * statistics update them in forward). A candidate is another backend, another thread count of
 * the same backend, or a backend-specific kernel override of the layer.
 *
 * <p>With {@link Tolerance#EXACT} the comparison is bit for bit: the CPU backend promises the
 * same bits for any thread count, so its generic kernels are compared that way. Otherwise an
 * element passes when {@code |candidate - reference| <= relative * |reference| + absolute}.
 * Inputs are uniform in [-2, 2), trainable parameters and {@code gradOutput} in [-1, 1);
 * parameters that are not trainable (running statistics, fixed filters) keep their initialiser's
 * values, which is what gives them meaning.
 *
 * <p>Two options, each returning a modified copy: {@link #withIndexInput} for an input that holds
 * indices (embedding's tokens), which gets random integers instead; {@link #withEvaluationPass}
 * to also compare a forward pass in evaluation mode after the training step, where layers that
 * behave differently at inference (dropout, batch norm's running statistics) show it.
 * <pre>{@code
 * new BackendParity(17).withEvaluationPass().withIndexInput(0, 9)
 *         .compare(embedding, cpu, embedding, myBackend, args, 3, List.of(Shape.of(6)), tolerance);
 * }</pre>
 */
public final class BackendParity {
    /** How far a candidate may be from the reference, per element. */
    public record Tolerance(double relative, double absolute) {
        public static final Tolerance EXACT = new Tolerance(0, 0);

        public boolean exact() { return relative == 0 && absolute == 0; }

        @Override public String toString() {
            return exact() ? "bit-identical" : String.format(Locale.ROOT, "within %.0e relative + %.0e absolute", relative, absolute);
        }
    }

    /**
     * What was compared, when everything matched.
     *
     * @param tensors what was compared, e.g. {@code output [512, 4, 8]}, {@code gradient of input 0}
     * @param candidateKernel the class of the kernel the candidate type compiled to
     * @param referenceKernel the class of the kernel the reference type compiled to
     */
    public record Result(List<String> tensors, Class<?> candidateKernel, Class<?> referenceKernel) {
        public Result {
            tensors = List.copyOf(tensors);
        }
    }

    private final long seed;
    /** Input index -> how many distinct indices it holds, for inputs of indices. */
    private final Map<Integer, Integer> indexInputs;
    private final boolean evaluationPass;

    public BackendParity(long seed) {
        this(seed, Map.of(), false);
    }

    private BackendParity(long seed, Map<Integer, Integer> indexInputs, boolean evaluationPass) {
        this.seed = seed;
        this.indexInputs = Map.copyOf(indexInputs);
        this.evaluationPass = evaluationPass;
    }

    /**
     * Fills input {@code input} with random integers in [0, {@code count}), stored as floats, as
     * a layer that reads indices (embedding's tokens) expects. Its gradient is still requested and
     * compared: a layer writes it like any other (embedding writes zeros).
     */
    public BackendParity withIndexInput(int input, int count) {
        if (input < 0) throw new IllegalArgumentException("input index must be >= 0, got " + input);
        if (count < 1) throw new IllegalArgumentException("an index input needs count >= 1, got " + count);
        Map<Integer, Integer> indices = new TreeMap<>(indexInputs);
        indices.put(input, count);
        return new BackendParity(seed, indices, evaluationPass);
    }

    /**
     * After forward and backward in training mode, also runs forward in evaluation mode and
     * compares that output ({@code output in evaluation mode}), with whatever the training pass
     * left in the parameters (batch norm's updated running statistics).
     */
    public BackendParity withEvaluationPass() {
        return new BackendParity(seed, indexInputs, true);
    }

    /**
     * Compares {@code candidate} on {@code candidateBackend} with {@code reference} on
     * {@code referenceBackend} for per-sample {@code inputShapes} (without batch) in training mode.
     *
     * @throws AssertionError naming, for every tensor that differs, its worst element
     */
    public Result compare(LayerType reference, Backend referenceBackend, LayerType candidate, Backend candidateBackend,
                          LayerArgs args, int batch, List<Shape> inputShapes, Tolerance tolerance) {
        for (int input : indexInputs.keySet()) {
            if (input >= inputShapes.size())
                throw new IllegalArgumentException("index input " + input + " does not exist; the layer gets " + inputShapes.size());
        }
        Run expected = run(reference, referenceBackend, args, batch, inputShapes);
        Run actual = run(candidate, candidateBackend, args, batch, inputShapes);
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, float[]> e : expected.tensors.entrySet()) {
            float[] got = actual.tensors.get(e.getKey());
            if (got == null) {
                problems.add(e.getKey() + ": missing from the candidate");
                continue;
            }
            String mismatch = mismatch(e.getValue(), got, tolerance);
            if (mismatch != null) problems.add(e.getKey() + ": " + mismatch);
        }
        String what = candidate.name() + "(" + args + ") x batch " + batch + ": kernel " + actual.kernel.getName() + " on "
                + candidateBackend.name() + " vs " + expected.kernel.getName() + " on " + referenceBackend.name();
        if (!problems.isEmpty()) {
            throw new AssertionError("backend parity failed for " + what + ", expected " + tolerance + ":\n  "
                    + String.join("\n  ", problems));
        }
        return new Result(List.copyOf(expected.tensors.keySet()), actual.kernel, expected.kernel);
    }

    /** Everything one kernel produced, by description, and the kernel's class. */
    private record Run(Map<String, float[]> tensors, Class<?> kernel) {}

    private Run run(LayerType type, Backend backend, LayerArgs args, int batch, List<Shape> inputShapes) {
        // The same generator sequence for every run: equal values whatever the backend or kernel.
        SplittableRandom rng = new SplittableRandom(seed);
        try (LayerHarness h = LayerHarness.compile(type, args, batch, backend, inputShapes, Set.of())) {
            for (int i = 0; i < inputShapes.size(); i++) {
                int n = h.inputShape(i).size();
                Integer count = indexInputs.get(i);
                h.setInput(i, count == null ? uniform(n, 2, rng) : indices(n, count, rng));
            }
            for (ParamDecl d : h.parameters()) {
                float[] values = new float[d.shape().size()];
                if (d.trainable()) values = uniform(values.length, 1, rng);
                else d.initializer().initialize(values, d.shape(), rng.split());
                h.setParam(d.name(), values);
            }
            float[] dy = uniform(h.outputShape().size(), 1, rng);
            h.training(true).stepSeed(rng.nextLong());

            Map<String, float[]> out = new LinkedHashMap<>();
            out.put("output " + h.outputShape(), h.forward());
            h.backward(dy);
            for (int i = 0; i < inputShapes.size(); i++) out.put("gradient of input " + i, h.gradInput(i));
            for (ParamDecl d : h.parameters()) if (d.trainable()) out.put("gradient of " + d.name(), h.gradParam(d.name()));
            if (evaluationPass) out.put("output in evaluation mode", h.training(false).forward());
            for (ParamDecl d : h.parameters()) out.put(d.name() + " after the passes", h.backend().download(h.paramTensor(d.name())));
            for (Map.Entry<String, float[]> e : out.entrySet()) {
                for (float v : e.getValue()) {
                    if (!Float.isFinite(v)) {
                        throw new AssertionError(type.name() + " on " + backend.name() + " (kernel " + h.kernel().getClass().getName()
                                + ") produced " + v + " in its " + e.getKey() + " from finite inputs");
                    }
                }
            }
            return new Run(out, h.kernel().getClass());
        }
    }

    /** Null when every element is within tolerance, else the count and the worst element. */
    private static String mismatch(float[] expected, float[] actual, Tolerance tolerance) {
        if (expected.length != actual.length) return expected.length + " values expected, got " + actual.length;
        int failures = 0;
        int worst = -1;
        double worstRatio = 0;
        for (int i = 0; i < expected.length; i++) {
            boolean ok;
            double ratio;
            if (tolerance.exact()) {
                ok = Float.floatToIntBits(expected[i]) == Float.floatToIntBits(actual[i]);
                ratio = ok ? 0 : 1 + Math.abs((double) expected[i] - actual[i]);
            } else {
                double allowed = tolerance.relative() * Math.abs(expected[i]) + tolerance.absolute();
                double diff = Math.abs((double) expected[i] - actual[i]);
                ok = diff <= allowed;
                ratio = diff / allowed;
            }
            if (!ok) failures++;
            if (!ok && ratio > worstRatio) {
                worstRatio = ratio;
                worst = i;
            }
        }
        if (failures == 0) return null;
        return String.format(Locale.ROOT, "%d of %d elements differ; worst at flat index %d: expected %.9g, got %.9g",
                failures, expected.length, worst, expected[worst], actual[worst]);
    }

    /** Integers in [0, count), stored as floats. */
    private static float[] indices(int n, int count, SplittableRandom rng) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = rng.nextInt(count);
        return v;
    }

    private static float[] uniform(int n, double bound, SplittableRandom rng) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        return v;
    }
}
