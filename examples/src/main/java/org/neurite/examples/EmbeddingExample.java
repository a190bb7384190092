package org.neurite.examples;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.neurite.backend.Backend;
import org.neurite.data.Dataset;
import org.neurite.data.DatasetLocator;
import org.neurite.data.Normalization;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Predictor;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingCallback;
import org.neurite.engine.TrainingRun;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.train.TrainSpec;

/**
 * Neurite from plain Java, without the {@code nn} command: load a script, train it with the
 * engine's {@link TrainingRun} (the loop {@code nn train} uses: schedule, evaluation, weights,
 * checkpoint and {@code metrics.jsonl} in a run folder) on Fashion-MNIST (the full set if
 * installed, else the bundled subset), then classify a few test images. Run with
 * {@code java --add-modules jdk.incubator.vector -cp ... org.neurite.examples.EmbeddingExample [MODEL.nn [RUN_DIR]]}.
 */
public final class EmbeddingExample {
    private EmbeddingExample() {}

    public static void main(String[] args) throws Exception {
        Path script = Path.of(args.length > 0 ? args[0] : "examples/lenet5.nn");
        Path out = Path.of(args.length > 1 ? args[1] : "runs/embedded");
        Outcome o = train(script, out, 1, 0);
        System.out.printf("test accuracy %.2f%%; predicted %s for labels %s%n", 100 * o.result().test().accuracy(),
                Arrays.toString(o.predicted()), Arrays.toString(o.labels()));
    }

    /** What {@link #train} did: the run's result, and the classes predicted for the first test images with their labels. */
    public record Outcome(TrainingRun.Result result, int[] predicted, int[] labels) {}

    /**
     * Trains the script's main model for {@code epochs} epochs on its first {@code limit} training
     * samples (0: all), writing the run's files into {@code out}, and predicts the first eight test images.
     */
    public static Outcome train(Path scriptFile, Path out, int epochs, int limit) throws Exception {
        // 1. Plugins (layers, backends) come from the class path through ServiceLoader + Guice.
        NeuriteRuntime runtime = NeuriteRuntime.discover();
        // 2. The script becomes a typed, shape-checked graph; its train section a TrainSpec.
        Script script = new ScriptLoader(runtime.layers()).load(scriptFile);
        TypedGraph graph = script.mainModel();
        TrainSpec spec = script.training(graph.graph().name()).orElse(TrainSpec.defaults(graph.graph().name()));
        spec = spec.with(spec.batch(), epochs, spec.seed());
        // 3. Data: named datasets are found on this machine or in the examples jar.
        DatasetLocator.Located data = DatasetLocator.standard(null).locate(spec.data(), Normalization.NONE, spec.span());
        Dataset train = limit > 0 ? data.train().head(limit) : data.train();

        try (Backend cpu = runtime.createBackend("cpu", BackendOptions.defaults(), List.of(), System.err::println);
             ParameterStore weights = new ParameterStore(graph, cpu, spec.seed());
             Trainer trainer = new Trainer(graph, weights, spec)) {
            // 4. The run: epochs, evaluation on the test split, files in `out`; a callback prints each epoch.
            TrainingRun.Result result = new TrainingRun(graph, spec, weights, trainer, train, data.test(),
                    new TrainingRun.Output(out, script.source()))
                    .callback(new TrainingCallback() {
                        @Override public void epochEnd(TrainingRun.EpochEnd e) {
                            System.out.printf("epoch %d: loss %.4f, test accuracy %.2f%%%n", e.epoch(), e.train().loss(),
                                    100 * e.test().accuracy());
                        }
                    })
                    .fit();

            // 5. Prediction on host arrays: the first eight test images.
            try (Predictor predictor = new Predictor(graph, weights, 8)) {
                int n = 8;
                float[] x = Arrays.copyOf(data.test().features(), n * predictor.inputSize());
                int[] predicted = Predictor.argmax(predictor.predict(x, n), predictor.outputSize());
                int[] labels = new int[n];
                for (int i = 0; i < n; i++) labels[i] = data.test().label(i);
                return new Outcome(result, predicted, labels);
            }
        }
    }
}
