package org.neurite.examples;

import java.nio.file.Path;
import java.util.Arrays;
import org.neurite.backend.Backend;
import org.neurite.data.DatasetLocator;
import org.neurite.data.Normalization;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.EpochStats;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Predictor;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.train.TrainSpec;

/**
 * Neurite from plain Java, without the {@code nn} command: load a script, train it for one epoch
 * on Fashion-MNIST (the full set if installed, else the bundled subset), then classify a few test
 * images. Run with {@code java --add-modules jdk.incubator.vector -cp ... org.neurite.examples.EmbeddingExample [MODEL.nn]}.
 */
public final class EmbeddingExample {
    private EmbeddingExample() {}

    public static void main(String[] args) throws Exception {
        Path script = Path.of(args.length > 0 ? args[0] : "examples/lenet5.nn");

        // 1. Plugins (layers, backends) come from the class path through ServiceLoader + Guice.
        NeuriteRuntime runtime = NeuriteRuntime.discover();
        // 2. The script becomes a typed, shape-checked graph.
        Script parsed = new ScriptLoader(runtime.layers()).load(script);
        TypedGraph graph = parsed.mainModel();
        TrainSpec spec = parsed.training(graph.graph().name()).orElse(TrainSpec.defaults(graph.graph().name()));
        // 3. Data: named datasets are found on this machine or in the examples jar.
        DatasetLocator.Located data = DatasetLocator.standard(null).locate(spec.data(), Normalization.NONE, spec.span());

        try (Backend cpu = runtime.createBackend("cpu", BackendOptions.defaults(), java.util.List.of(), System.err::println);
             ParameterStore weights = new ParameterStore(graph, cpu, spec.seed());
             Trainer trainer = new Trainer(graph, weights, spec)) {
            EpochStats stats = trainer.trainEpoch(data.train(), 1, TrainingListener.NONE);
            System.out.printf("epoch 1: loss %.4f, accuracy %.2f%%%n", stats.loss(), 100 * stats.accuracy());

            // 4. Prediction on host arrays: the first eight test images.
            try (Predictor predictor = new Predictor(graph, weights, 8)) {
                int n = 8;
                float[] x = Arrays.copyOf(data.test().features(), n * predictor.inputSize());
                int[] predicted = Predictor.argmax(predictor.predict(x, n), predictor.outputSize());
                for (int i = 0; i < n; i++) {
                    System.out.printf("test image %d: predicted %d, label %d%n", i, predicted[i], data.test().label(i));
                }
            }
        }
    }
}
