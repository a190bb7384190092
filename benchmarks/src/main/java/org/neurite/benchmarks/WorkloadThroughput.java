package org.neurite.benchmarks;

import static org.neurite.benchmarks.CommandLineOptions.intOption;
import static org.neurite.benchmarks.CommandLineOptions.stringOption;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.neurite.backend.Backend;
import org.neurite.data.Dataset;
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
import org.neurite.tensor.Shape;
import org.neurite.train.TrainSpec;

/**
 * Whole-workload throughput of a {@code .nn} script on random data, the Neurite half of
 * {@code benchmarks/peer/peer.py}: training (forward, loss, backward, the script's optimiser)
 * and inference, each timed over several rounds after warm-up. Prints one JSON line with the
 * median samples per second of each.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp "benchmarks/target/neurite-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \
 *   org.neurite.benchmarks.WorkloadThroughput examples/lenet5.nn --batch 64 --steps 50 --rounds 5 --threads 2</pre>
 *
 * {@code --backend opencl} measures another registered backend (its jars added to the classpath).
 */
public final class WorkloadThroughput {
    private WorkloadThroughput() {}

    public static void main(String[] args) throws Exception {
        Path script = Path.of(args[0]);
        int batch = intOption(args, "--batch", 64);
        int steps = intOption(args, "--steps", 50);
        int rounds = intOption(args, "--rounds", 5);
        int threads = intOption(args, "--threads", 2);
        int inferBatch = intOption(args, "--infer-batch", 256);
        // Any registered backend ("opencl" when backend-gpu-opencl and JOCL are on the classpath); the CPU by default.
        String backendName = stringOption(args, "--backend", "cpu");

        NeuriteRuntime runtime = NeuriteRuntime.discover();
        Script parsed = new ScriptLoader(runtime.layers()).load(script);
        TypedGraph graph = parsed.mainModel();
        TrainSpec spec = parsed.training(graph.graph().name()).orElse(TrainSpec.defaults(graph.graph().name())).with(batch, 1, 1);
        Dataset data = randomClassification(graph, batch * steps);

        double[] train = new double[rounds];
        double[] infer = new double[rounds];
        try (Backend backend = runtime.createBackend(backendName, new BackendOptions(threads, null), List.of(), w -> {});
             ParameterStore store = new ParameterStore(graph, backend, 1);
             Trainer trainer = new Trainer(graph, store, spec);
             Predictor predictor = new Predictor(graph, store, inferBatch)) {
            trainer.trainEpoch(data, 1, TrainingListener.NONE);                  // warm-up: JIT, buffers
            for (int r = 0; r < rounds; r++) {
                EpochStats s = trainer.trainEpoch(data, r + 2, TrainingListener.NONE);
                train[r] = s.samplesPerSecond();
            }
            int n = inferBatch * Math.max(1, steps / 4);
            float[] x = Arrays.copyOf(data.features(), n * data.sampleSize());
            predictor.predict(x, n);                                              // warm-up
            for (int r = 0; r < rounds; r++) {
                long start = System.nanoTime();
                predictor.predict(x, n);
                infer[r] = n / ((System.nanoTime() - start) / 1e9);
            }
        }
        System.out.printf(Locale.ROOT, "{\"workload\": \"%s\", \"batch\": %d, \"threads\": %d, \"train_samples_per_second\": %.1f, "
                        + "\"infer_samples_per_second\": %.1f, \"train_rounds\": %s, \"infer_rounds\": %s}%n",
                graph.graph().name(), batch, threads, median(train), median(infer), Arrays.toString(round(train)), Arrays.toString(round(infer)));
    }

    /** Uniform [0,1) inputs of the graph's input shape and labels over its outputs. */
    private static Dataset randomClassification(TypedGraph graph, int count) {
        Shape sample = graph.shape(graph.graph().inputs().get(0).name());
        int classes = graph.outputShape().size();
        SplittableRandom rng = new SplittableRandom(42);
        float[] x = new float[count * sample.size()];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble();
        int[] y = new int[count];
        for (int i = 0; i < count; i++) y[i] = rng.nextInt(classes);
        return new Dataset("random", sample, x, y, classes, List.of(), false, count + " random samples");
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static long[] round(double[] v) {
        return Arrays.stream(v).mapToLong(Math::round).toArray();
    }
}
