package org.neurite.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.backend.Backend;
import org.neurite.config.DeploymentConfig;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.DistributedTraining;
import org.neurite.engine.EpochStats;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.Trainers;
import org.neurite.engine.TrainingListener;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.tensor.Shape;
import org.neurite.train.TrainSpec;

/**
 * A plugin's loss and optimiser train on Spark: {@code examples/plugin-swish}'s
 * {@code label_smoothing_cross_entropy} and {@code adagrad} (and its {@code swish} layer), the jar
 * in a plugin folder that the driver and the workers both load. One worker averaging every 3
 * steps is local training on the whole batch, so its weights must equal bit for bit a
 * single-machine run with the same registries; a worker that built its loss or optimiser from the
 * core's lists alone would not know either name.
 */
class SparkPluginTrainingTest {
    static final String SCRIPT = """
            model Net {
                input x: [8]
                h = dense(16) -> swish
                output logits = dense(2)
            }

            train Net {
                data = tensors(file="train.safetensors", test="test.safetensors")
                loss = label_smoothing_cross_entropy
                optimizer = adagrad(lr=0.3, initial_accumulator_value=0.1)
                batch = 32
                epochs = 1
                seed = 5
            }
            """;
    static final int SAMPLES = 256;

    @TempDir Path dir;

    @Test void aPluginLossAndOptimizerTrainOnSparkWorkersAsOnOneMachine() throws IOException {
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        Files.copy(swishPluginJar(), plugins.resolve("example-plugin-swish.jar"));
        writeQuadrants(dir.resolve("train.safetensors"), SAMPLES, 11);
        writeQuadrants(dir.resolve("test.safetensors"), 64, 12);
        Path scriptFile = Files.writeString(dir.resolve("net.nn"), SCRIPT);
        try (NeuriteRuntime runtime = NeuriteRuntime.discover(List.of(plugins))) {
            Script script = new ScriptLoader(runtime).parse(scriptFile.toString(), SCRIPT);
            TypedGraph graph = script.mainModel();
            TrainSpec spec = script.training("Net").orElseThrow();
            var train = Workers.trainingData(new WorkerJob(SCRIPT, scriptFile.toString(), "Net", spec.batch(), 1, spec.seed(), "cpu", 1,
                    List.of(plugins.toString()), null, null, 0, 1), spec, runtime.dataSources());
            Trainers trainers = Trainers.of(runtime);

            List<NamedTensor> initial;
            List<NamedTensor> single;
            EpochStats singleStats;
            try (Backend cpu = runtime.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> { });
                 ParameterStore store = new ParameterStore(graph, cpu, spec.seed());
                 Trainer trainer = trainers.create(graph, store, spec)) {
                initial = store.export();
                singleStats = trainer.trainEpoch(train, 1, TrainingListener.NONE);
                single = store.export();
            }
            try (Backend cpu = runtime.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> { });
                 ParameterStore store = new ParameterStore(graph, cpu, spec.seed());
                 Trainer trainer = trainers.create(graph, store, spec);
                 DistributedTraining.Run run = new SparkTraining().open(new DistributedTraining.Job(SCRIPT, scriptFile.toString(), "Net",
                         graph, spec, DeploymentConfig.defaults().withSpark(
                                 new SparkConfig("local[1]", 1, SparkConfig.Mode.AVERAGE, 3, 0, 1, null).section()),
                         "cpu", 1, List.of(plugins), null, null, trainer, store))) {
                trainer.stepExecutor(run);
                EpochStats stats = trainer.trainEpoch(train, 1, TrainingListener.NONE);
                assertEquals(SAMPLES / spec.batch(), trainer.step(), "rounds of 3, 3 and 2 steps");
                assertEquals(singleStats.loss(), stats.loss(), 1e-12);
                assertTrue(LeNetRuns.maxDifference(initial, single) > 1e-3, "training moved the weights");
                SparkTrainingTest.assertIdentical(single, store.export());
            }
        }
    }

    /** The plugin jar Maven resolved (kept off the test class path, see the pom). */
    private static Path swishPluginJar() {
        String jar = System.getProperty("neurite.spark.swishPluginJar");
        if (jar == null || jar.isBlank() || jar.startsWith("${")) {
            throw new IllegalStateException("run through Maven (neurite.spark.swishPluginJar names the example plugin's jar)");
        }
        return Path.of(jar);
    }

    /** {@code n} points in [-1, 1)^8, labelled by whether x0 and x1 share a sign (not linearly separable). */
    private static void writeQuadrants(Path file, int n, long seed) throws IOException {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = new float[n * 8];
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < 8; j++) x[i * 8 + j] = (float) (rng.nextDouble() * 2 - 1);
            y[i] = x[i * 8] * x[i * 8 + 1] > 0 ? 1 : 0;
        }
        SafeTensors.write(file, List.of(new NamedTensor("x", Shape.of(n, 8), x), new NamedTensor("y", Shape.of(n), y)), Map.of());
    }
}
