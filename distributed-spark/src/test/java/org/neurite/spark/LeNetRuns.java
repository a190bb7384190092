package org.neurite.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.neurite.config.DeploymentConfig;
import org.neurite.data.Dataset;
import org.neurite.data.DatasetLocator;
import org.neurite.data.Normalization;
import org.neurite.diag.SourceSpan;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.DistributedTraining;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.tensor.Shape;
import org.neurite.train.TrainSpec;

/**
 * LeNet-5 on a slice of the bundled Fashion-MNIST subset written as safetensors files next to
 * the script (so workers read real files through the {@code tensors} data source), trained
 * either by the single-machine {@link Trainer} or through {@link SparkTraining}. Every run
 * starts from the same seeded weights on its own single-threaded CPU backend.
 */
final class LeNetRuns {
    static final String SCRIPT = """
            model LeNet5(classes = 10) {
                input image: [1, 28, 28]
                c1 = conv(6, kernel=5, pad=2) -> relu -> maxpool(2)
                c3 = conv(16, kernel=5) -> relu -> maxpool(2)
                f5 = flatten -> dense(120) -> relu
                f6 = dense(84) -> relu
                output logits = dense(classes)
            }

            train LeNet5 {
                data = tensors(file="train.safetensors", test="test.safetensors")
                loss = softmax_cross_entropy
                optimizer = sgd(lr=0.01, momentum=0.9)
                batch = 64
                epochs = 1
                seed = 7
            }
            """;

    final Path folder;
    /** The script's source: {@link #SCRIPT}, with any extra train settings. */
    final String script;
    final Path scriptFile;
    final NeuriteRuntime runtime = NeuriteRuntime.discover();
    final TypedGraph graph;
    final TrainSpec spec;
    final Dataset train;

    /** Writes the script and {@code samples} training images (and 256 test images) into {@code folder}. */
    LeNetRuns(Path folder, int samples, int batch) throws IOException {
        this(folder, samples, batch, "");
    }

    /** As above, with {@code settings} added to the train section ({@code schedule = step(every=1)}). */
    LeNetRuns(Path folder, int samples, int batch, String settings) throws IOException {
        this.folder = folder;
        this.script = settings.isEmpty() ? SCRIPT : SCRIPT.replace("    seed = 7\n", "    seed = 7\n    " + settings + "\n");
        if (!settings.isEmpty() && script.equals(SCRIPT)) throw new IllegalStateException("no place for " + settings + " in the script");
        var subset = new DatasetLocator(null, Map.of(), folder.resolve("no-system-datasets"), LeNetRuns.class.getClassLoader())
                .locate("fashion_mnist", Normalization.NONE, SourceSpan.UNKNOWN);
        write(folder.resolve("train.safetensors"), subset.train(), samples);
        write(folder.resolve("test.safetensors"), subset.test(), 256);
        scriptFile = folder.resolve("lenet5.nn");
        Files.writeString(scriptFile, script);
        Script parsed = new ScriptLoader(runtime.layers()).parse(scriptFile.toString(), script);
        graph = parsed.mainModel();
        spec = parsed.training("LeNet5").orElseThrow().with(batch, 1, 7);
        train = Workers.trainingData(new WorkerJob(script, scriptFile.toString(), "LeNet5", batch, 1, 7, "cpu", 1, List.of(),
                null, null, 0, 1), spec, runtime.dataSources());
    }

    private static void write(Path file, Dataset d, int n) throws IOException {
        int size = d.sampleSize();
        float[] x = Arrays.copyOf(d.features(), n * size);
        float[] y = new float[n];
        for (int i = 0; i < n; i++) y[i] = d.label(i);
        SafeTensors.write(file, List.of(new NamedTensor("x", Shape.of(n, 1, 28, 28), x), new NamedTensor("y", Shape.of(n), y)), Map.of());
    }

    /** Parameters of the model, seeded, on a fresh one-thread CPU backend. */
    ParameterStore store() {
        return new ParameterStore(graph, runtime.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> { }), spec.seed());
    }

    /** The job {@code nn train} would hand to Spark for this run. */
    DistributedTraining.Job job(SparkConfig spark, Trainer trainer, ParameterStore store) {
        return new DistributedTraining.Job(script, scriptFile.toString(), "LeNet5", graph, spec,
                DeploymentConfig.defaults().withSpark(spark.section()), "cpu", 1, List.of(), null, null, trainer, store);
    }

    /**
     * Connects to Spark as {@code nn train} does for this run and makes it the trainer's step
     * executor: {@code trainer.trainEpoch} then computes its steps there.
     */
    SparkRun open(SparkConfig spark, Trainer trainer, ParameterStore store) {
        SparkRun run = (SparkRun) new SparkTraining().open(job(spark, trainer, store));
        trainer.stepExecutor(run);
        return run;
    }

    /** A checkpoint callback writing {@code file} as nn train does inside an epoch. */
    Trainer.StepCheckpoint checkpointTo(Path file, ParameterStore store) {
        return (epoch, samples, step) -> Checkpoints.saveCheckpoint(file, store,
                new Checkpoints.Position("LeNet5", "test", spec.seed(), epoch - 1, step, samples), script, Map.of());
    }

    /** Largest |a − b| over every element of every tensor, requiring the same names and shapes. */
    static double maxDifference(List<NamedTensor> a, List<NamedTensor> b) {
        if (a.size() != b.size()) throw new AssertionError(a.size() + " tensors vs " + b.size());
        double max = 0;
        for (int t = 0; t < a.size(); t++) {
            if (!a.get(t).name().equals(b.get(t).name()) || !a.get(t).shape().equals(b.get(t).shape())) {
                throw new AssertionError(a.get(t).name() + " vs " + b.get(t).name());
            }
            float[] x = a.get(t).data();
            float[] y = b.get(t).data();
            for (int i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
        }
        return max;
    }
}
