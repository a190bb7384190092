package org.neurite.benchmarks.gpu;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.neurite.backend.Backend;
import org.neurite.backend.BackendCounters;
import org.neurite.data.Dataset;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.EpochStats;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Predictor;
import org.neurite.engine.Trainer;
import org.neurite.engine.Trainers;
import org.neurite.engine.TrainingCallback;
import org.neurite.engine.TrainingRun;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.tensor.Shape;
import org.neurite.train.TrainSpec;

/**
 * One workload ({@code .nn} script) at one batch size on one backend, measured along the path
 * {@code nn train} and {@code nn predict} take, so that the figures are what a user of the backend
 * gets: the script's {@link TrainSpec} at the given batch, {@link Trainers#create} (the script's
 * loss and optimiser, clipping and schedule as the command builds them), a {@link TrainingRun}
 * over {@code 1 + rounds} epochs of random data (the first is the warm-up: JIT, buffers, the
 * driver's code generation, the SGEMM tuning search), then a {@link Predictor} at the same batch.
 *
 * <p>Reported per training epoch after the warm-up (medians over the rounds): samples per second,
 * milliseconds per step, and the host synchronisations and kernel launches per step that the
 * backend counted ({@code Backend.counters()}, read by the trainer for each epoch); for inference,
 * samples per second and the synchronisations and launches per predicted batch. Random inputs are
 * uniform in [0, 1), labels uniform over the classes (seed 42), as in {@code WorkloadThroughput}.
 */
final class UserPathWorkload {
    /** Medians of one measurement; per-step and per-batch figures are the backend's own counts. */
    record Result(String workload, String backend, int batch, int steps, double trainSamplesPerSecond, double msPerStep,
                  double syncsPerStep, double launchesPerStep, double inferSamplesPerSecond, double inferSyncsPerBatch,
                  double inferLaunchesPerBatch) {}

    private final NeuriteRuntime runtime;

    UserPathWorkload(NeuriteRuntime runtime) {
        this.runtime = runtime;
    }

    /**
     * Trains {@code 1 + rounds} epochs of {@code steps} steps of {@code batch} samples, then predicts
     * {@code rounds} times over {@code inferBatches} batches, on a backend the caller opened (and closes).
     */
    Result measure(Backend backend, String backendName, Path scriptFile, int batch, int steps, int rounds, int inferBatches)
            throws IOException {
        Script script = new ScriptLoader(runtime).load(scriptFile);
        TypedGraph graph = script.mainModel();
        String model = graph.graph().name();
        TrainSpec spec = script.training(model).orElse(TrainSpec.defaults(model));
        spec = spec.with(batch, 1 + rounds, spec.seed());
        Dataset data = randomClassification(graph, batch * steps);
        List<double[]> epochs = new ArrayList<>(); // samples/s, ms/step, syncs/step, launches/step, per epoch after the first
        double[] infer = new double[rounds];
        BackendCounters inferCounters;
        try (ParameterStore store = new ParameterStore(graph, backend, spec.seed());
             Trainer trainer = Trainers.of(runtime).create(graph, store, spec)) {
            TrainingRun run = new TrainingRun(graph, spec, store, trainer, data, null, null);
            run.callback(new TrainingCallback() {
                @Override public void epochTrained(int epoch, EpochStats train) {
                    if (epoch == 1 || train == null) return; // warm-up
                    int stepsDone = trainer.lastEpochSteps();
                    BackendCounters c = trainer.lastEpochCounters().orElse(BackendCounters.ZERO);
                    epochs.add(new double[] {train.samplesPerSecond(), train.seconds() * 1e3 / Math.max(1, stepsDone),
                            c.syncsPer(stepsDone), c.launchesPer(stepsDone)});
                }
            });
            run.fit();
            try (Predictor predictor = new Predictor(graph, store, batch)) {
                int n = batch * inferBatches;
                float[] x = Arrays.copyOf(data.features(), n * data.sampleSize()); // zero-padded when steps < inferBatches
                predictor.predict(x, n); // warm-up: the inference model is compiled on first use
                BackendCounters before = backend.counters().orElse(BackendCounters.ZERO);
                for (int r = 0; r < rounds; r++) {
                    long start = System.nanoTime();
                    predictor.predict(x, n);
                    infer[r] = n / ((System.nanoTime() - start) / 1e9);
                }
                inferCounters = backend.counters().orElse(BackendCounters.ZERO).minus(before);
            }
        }
        double perBatch = (double) rounds * inferBatches;
        String workload = scriptFile.getFileName().toString().replaceFirst("\\.nn$", ""); // lenet5, as torch_twin.py names it
        return new Result(workload, backendName, batch, steps, median(epochs, 0), median(epochs, 1), median(epochs, 2), median(epochs, 3),
                median(infer), inferCounters.syncs() / perBatch, inferCounters.launches() / perBatch);
    }

    private static Dataset randomClassification(TypedGraph graph, int count) {
        Shape sample = graph.shape(graph.graph().inputs().get(0).name());
        int classes = graph.outputShape().size();
        SplittableRandom random = new SplittableRandom(42);
        float[] x = new float[count * sample.size()];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextDouble();
        int[] y = new int[count];
        for (int i = 0; i < count; i++) y[i] = random.nextInt(classes);
        return new Dataset("random", sample, x, y, classes, List.of(), false, count + " random samples");
    }

    private static double median(List<double[]> rows, int column) {
        return median(rows.stream().mapToDouble(r -> r[column]).toArray());
    }

    static double median(double[] v) {
        if (v.length == 0) return Double.NaN;
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
