package org.neurite.it.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.data.Dataset;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Predictor;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.graph.TypedGraph;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;
import org.neurite.train.TrainSpec;

/**
 * OpenCL backends opened and closed again and again in one process, interleaved with CPU work and
 * garbage collections, as a benchmark suite does: each round trains LeNet-5 for a few steps on
 * OpenCL, predicts, leaves work queued, closes the backend, then trains on the CPU backend and
 * collects garbage. A backend that released an object a later one still uses, or whose host
 * memory a pending transfer still reads, crashes the JVM here or makes a later round differ; every
 * round must give the first round's losses and predictions bit for bit (same seed, same device,
 * reductions in a fixed order), and a closed backend refuses further ops instead of touching
 * released objects.
 */
class OpenClBackendLifecycleTest {
    private static final int ROUNDS = 5;
    private static final int BATCH = 16;
    private static final int STEPS = 2;

    /** What one OpenCL round produced. */
    private record Round(double loss, float[] predictions) {}

    @Test void backendsOpenedAndClosedRepeatedlyBetweenCpuWorkGiveTheSameResults() throws IOException {
        TypedGraph graph = new ScriptLoader(OpenClRuns.RUNTIME.layers()).load(Path.of("../examples", "lenet5.nn")).mainModel();
        TrainSpec spec = TrainSpec.defaults(graph.graph().name()).with(BATCH, 1, 7);
        Dataset data = randomData(graph, STEPS * BATCH);
        List<Round> rounds = new ArrayList<>();
        for (int r = 0; r < ROUNDS; r++) {
            Backend closed;
            try (Backend cl = OpenClRuns.opencl()) {
                rounds.add(round(graph, spec, data, cl));
                queueWorkWithoutWaiting(cl);
                closed = cl;
            }
            assertThrows(IllegalStateException.class, () -> closed.allocate(Shape.of(4)), "a closed backend allocates nothing");
            assertThrows(IllegalStateException.class, closed::synchronize, "a closed backend has no queue to wait for");
            try (Backend cpu = OpenClRuns.cpu()) {
                round(graph, spec, data, cpu);
            }
            System.gc();
        }
        assertTrue(Double.isFinite(rounds.get(0).loss()), "round 1 trained: " + rounds.get(0));
        for (int r = 1; r < ROUNDS; r++) {
            assertEquals(rounds.get(0).loss(), rounds.get(r).loss(), 0.0, "training loss of round " + (r + 1));
            assertArrayEquals(rounds.get(0).predictions(), rounds.get(r).predictions(), "predictions of round " + (r + 1));
        }
    }

    /** A short epoch of training, then predictions for the first batch; everything closed again. */
    private static Round round(TypedGraph graph, TrainSpec spec, Dataset data, Backend backend) {
        try (ParameterStore store = new ParameterStore(graph, backend, spec.seed());
             Trainer trainer = new Trainer(graph, store, spec);
             Predictor predictor = new Predictor(graph, store, BATCH)) {
            double loss = trainer.trainEpoch(data, 1, TrainingListener.NONE).loss();
            float[] x = new float[BATCH * data.sampleSize()];
            System.arraycopy(data.features(), 0, x, 0, x.length);
            return new Round(loss, predictor.predict(x, BATCH));
        }
    }

    /** Uploads and a product left on the queue, tensors left open: closing must wait for them and release them. */
    private static void queueWorkWithoutWaiting(Backend cl) {
        int n = 96;
        Tensor a = cl.allocate(Shape.of(n, n)), b = cl.allocate(Shape.of(n, n)), c = cl.allocate(Shape.of(n, n));
        float[] values = new float[n * n];
        for (int i = 0; i < values.length; i++) values[i] = i % 7 - 3;
        cl.upload(values, a);
        cl.upload(values, b);
        for (int i = 0; i < 4; i++)
            cl.gemm(new Gemm(false, false, n, n, n, 1), 1f, Matrix.of(a, n), Matrix.of(b, n), 0f, Matrix.of(c, n));
    }

    private static Dataset randomData(TypedGraph graph, int count) {
        Shape sample = graph.shape(graph.graph().inputs().get(0).name());
        int classes = graph.outputShape().size();
        SplittableRandom rng = new SplittableRandom(3);
        float[] x = new float[count * sample.size()];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble();
        int[] y = new int[count];
        for (int i = 0; i < count; i++) y[i] = rng.nextInt(classes);
        return new Dataset("random", sample, x, y, classes, List.of(), false, count + " random samples");
    }
}
