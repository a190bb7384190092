package org.neurite.onnx;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.neurite.backend.Backend;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Predictor;
import org.neurite.graph.ParamInfo;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.tensor.Shape;

/**
 * What the ONNX tests share: the example scripts loaded with the built-in plugins, random weights
 * (batch-norm statistics included, so inference normalisation is exercised) and Neurite's own
 * predictions on the CPU backend.
 */
final class ExampleModels {
    static final NeuriteRuntime RUNTIME = NeuriteRuntime.discover();
    static final Path EXAMPLES = Path.of("..", "examples");

    private ExampleModels() {}

    /** Every model of an example script. */
    static List<TypedGraph> load(String script) throws IOException {
        return new ScriptLoader(RUNTIME.layers()).load(EXAMPLES.resolve(script)).models();
    }

    static TypedGraph parse(String source) {
        return new ScriptLoader(RUNTIME.layers()).parse("test.nn", source).mainModel();
    }

    /**
     * Random weights (seed 7): U(-a, a) with a = √(3 / fan-in) for weights, so activations keep
     * their scale through deep networks; small values for biases and running means, and running
     * variances in [0.5, 1.5), so inference normalisation is exercised.
     */
    static List<NamedTensor> weights(TypedGraph graph) {
        SplittableRandom random = new SplittableRandom(7);
        List<NamedTensor> out = new ArrayList<>();
        for (ParamInfo p : graph.params()) {
            Shape shape = p.decl().shape();
            float[] v = new float[shape.size()];
            String name = p.fullName();
            if (name.endsWith(".running_var")) {
                for (int i = 0; i < v.length; i++) v[i] = (float) (0.5 + random.nextDouble());
            } else if (name.endsWith(".running_mean") || shape.rank() == 1) {
                for (int i = 0; i < v.length; i++) v[i] = (float) (random.nextDouble() * 0.2 - 0.1);
            } else {
                double a = Math.sqrt(3.0 / (shape.size() / shape.dim(0)));
                for (int i = 0; i < v.length; i++) v[i] = (float) ((random.nextDouble() * 2 - 1) * a);
            }
            out.add(new NamedTensor(name, shape, v));
        }
        return out;
    }

    /** Neurite's first output for {@code x} ({@code n} samples) with {@code weights}. */
    static float[] predict(TypedGraph graph, List<NamedTensor> weights, float[] x, int n) {
        try (Backend cpu = cpu(); ParameterStore store = new ParameterStore(graph, cpu, 0);
             Predictor predictor = new Predictor(graph, store, n)) {
            store.load(weights);
            return predictor.predict(x, n);
        }
    }

    /**
     * {@code n} random samples for the first input: token indices below {@code vocabulary} when
     * it is positive, else values in [-1, 1).
     */
    static float[] inputs(TypedGraph graph, int n, int vocabulary) {
        Shape sample = graph.shape(graph.graph().inputs().get(0).name());
        SplittableRandom random = new SplittableRandom(3);
        float[] x = new float[n * sample.size()];
        for (int i = 0; i < x.length; i++) x[i] = vocabulary > 0 ? random.nextInt(vocabulary) : (float) (random.nextDouble() * 2 - 1);
        return x;
    }

    static long[] batchShape(TypedGraph graph, int n) {
        int[] dims = graph.shape(graph.graph().inputs().get(0).name()).dims();
        long[] shape = new long[dims.length + 1];
        shape[0] = n;
        for (int i = 0; i < dims.length; i++) shape[i + 1] = dims[i];
        return shape;
    }

    /** The largest |a - b| / max(1, |b|): absolute below 1, relative above. */
    static double maxError(float[] a, float[] b) {
        if (a.length != b.length) throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            double e = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i]));
            if (!(e <= worst)) worst = Double.isNaN(e) ? Double.POSITIVE_INFINITY : Math.max(worst, e);
        }
        return worst;
    }

    private static Backend cpu() {
        return RUNTIME.createBackend("cpu", BackendOptions.defaults(), List.of(), System.err::println);
    }
}
