package org.neurite.serving;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.neurite.backend.Backend;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Predictor;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;

/**
 * A served model for tests: an example script with weights drawn from a seed and saved as
 * safetensors (what {@code nn train} writes), a deployment file naming it, and the in-process
 * {@link Predictor} answers the server must reproduce.
 */
final class ModelFixture implements AutoCloseable {
    static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();

    final Path script;
    final Path weights;
    final TypedGraph graph;
    private final NeuriteRuntime runtime;
    private final Backend backend;
    private final ParameterStore store;
    private final Predictor predictor;

    /** {@code examples/<name>.nn} with weights from {@code seed}, written to {@code dir}. */
    ModelFixture(String name, long seed, Path dir) throws IOException {
        this(EXAMPLES.resolve(name + ".nn"), seed, dir);
    }

    /** Any script's main model with weights from {@code seed}, written to {@code dir}. */
    ModelFixture(Path script, long seed, Path dir) throws IOException {
        this.script = script;
        weights = dir.resolve(script.getFileName().toString().replaceFirst("\\.nn$", "") + ".safetensors");
        runtime = NeuriteRuntime.discover();
        graph = new ScriptLoader(runtime.layers()).load(script).mainModel();
        backend = runtime.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> { });
        store = new ParameterStore(graph, backend, seed);
        Checkpoints.saveWeights(weights, store, Map.of());
        predictor = new Predictor(graph, store, 1);
    }

    /**
     * A model whose input the shape check cannot vet: 4 token indices into an embedding of 10 rows,
     * so an index of 10 or more is refused by the forward pass alone.
     */
    static ModelFixture lookup(long seed, Path dir) throws IOException {
        Path script = dir.resolve("lookup.nn");
        Files.writeString(script, "model Lookup {\n    input ids: [4]\n    e = embedding(10, 3)\n"
                + "    output y = flatten -> dense(2)\n}\n");
        return new ModelFixture(script, seed, dir);
    }

    int inputSize() { return predictor.inputSize(); }

    int outputSize() { return predictor.outputSize(); }

    /** What {@code nn predict} answers for one sample: the forward pass of that sample alone. */
    synchronized float[] predict(float[] sample) { return predictor.predict(sample, 1); }

    /** {@code count} samples in [0, 1) from {@code seed}, packed. */
    float[] samples(int count, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[count * inputSize()];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble();
        return x;
    }

    /** A deployment file in {@code dir} serving this model as {@code name} with the given batching. */
    Path deployment(Path dir, String name, int maxBatch, int maxDelayMs, int queueLimit) throws IOException {
        String yaml = "backend: cpu\nthreads: 1\nserve:\n  port: 0\n  models:\n"
                + "    - name: " + name + "\n"
                + "      script: " + script + "\n"
                + "      weights: " + weights + "\n"
                + "      max_batch: " + maxBatch + "\n"
                + "      max_delay_ms: " + maxDelayMs + "\n"
                + "      queue_limit: " + queueLimit + "\n";
        Path file = dir.resolve("serve-" + name + ".yaml");
        Files.writeString(file, yaml);
        return file;
    }

    @Override public void close() {
        predictor.close();
        store.close();
        backend.close();
        runtime.close();
    }
}
