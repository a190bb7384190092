package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.data.Dataset;
import org.neurite.diag.ModelException;
import org.neurite.embedded.Model;
import org.neurite.embedded.Neurite;
import org.neurite.engine.Evaluation;
import org.neurite.tensor.Shape;

/**
 * The embedded API ({@link Neurite}, {@link Model}) as a Java program meets it: one model shared
 * by threads gives every thread the single-threaded results; bad arguments and a closed model
 * are refused with the documented exceptions rather than wrong results or JDK internals; a load
 * that fails leaves no backend threads behind.
 */
class EmbeddedModelTest {
    private static final String SCRIPT = """
            model Net {
                input x: [8]
                h = dense(32) -> relu
                output logits = dense(3)
            }

            train Net {
                data = fashion_mnist; loss = softmax_cross_entropy
                optimizer = sgd(lr=0.05); batch = 16; epochs = 1; seed = 3
            }
            """;

    @TempDir Path dir;

    private Model load() throws IOException {
        return Neurite.load(Files.writeString(dir.resolve("net.nn"), SCRIPT));
    }

    /** 200 samples of 8 features, the class the sign pattern of the first two. */
    private static Dataset toy(int n) {
        SplittableRandom rng = new SplittableRandom(7);
        float[] x = new float[n * 8];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < 8; j++) x[i * 8 + j] = (float) rng.nextDouble(-1, 1);
            y[i] = x[i * 8] > 0 ? 0 : x[i * 8 + 1] > 0 ? 1 : 2;
        }
        return new Dataset("toy", Shape.of(8), x, y, 3, List.of(), false, "toy");
    }

    @Test
    void threadsSharingAModelGetTheSingleThreadedResults() throws Exception {
        float[] x = new float[200 * 8];
        SplittableRandom rng = new SplittableRandom(11);
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble(-1, 1);
        try (Model model = load()) {
            model.fit(toy(200));
            float[] alone = model.predict(x, 200);
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                List<Future<Integer>> wrong = new ArrayList<>();
                for (int t = 0; t < 3; t++) {
                    int stride = t + 1; // each thread its own mix of batch sizes, so that their compiled models differ
                    Callable<Integer> task = () -> {
                        int mismatches = 0;
                        for (int round = 0; round < 60; round++) {
                            int count = 1 + (round * stride) % 200;
                            float[] y = model.predict(java.util.Arrays.copyOf(x, count * 8), count);
                            if (!java.util.Arrays.equals(y, java.util.Arrays.copyOf(alone, count * 3))) mismatches++;
                        }
                        return mismatches;
                    };
                    wrong.add(pool.submit(task));
                }
                for (Future<Integer> f : wrong) assertEquals(0, f.get(), "rounds whose outputs differ from the single-threaded ones");
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void anEmptyTrainingOrTestSetIsRefusedNotTrainedOn() throws IOException {
        Path out = dir.resolve("run");
        try (Model model = load()) {
            model.output(out);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.fit(toy(200).head(0)));
            assertEquals("the training data holds no samples", e.getMessage());
            IllegalArgumentException noTest = assertThrows(IllegalArgumentException.class, () -> model.fit(toy(40), toy(40).head(0)));
            assertEquals("the test data holds no samples", noTest.getMessage());
        }
        assertFalse(Files.exists(out.resolve("model.safetensors")), "no weights written for a run that never trained");
    }

    @Test
    void badArgumentsAreRefusedWithTheirNames() throws IOException {
        try (Model model = load()) {
            assertEquals("count must not be negative, got -1",
                    assertThrows(IllegalArgumentException.class, () -> model.predict(new float[0], -1)).getMessage());
            assertEquals("inputs holds 24 floats; 2 samples of 8 floats are 16",
                    assertThrows(IllegalArgumentException.class, () -> model.predict(new float[24], 2)).getMessage());
            assertEquals("inputs", assertThrows(NullPointerException.class, () -> model.predict(null, 1)).getMessage());
            assertEquals("callback", assertThrows(NullPointerException.class,
                    () -> model.fit(toy(20), (org.neurite.engine.TrainingCallback) null)).getMessage());
            assertEquals(0, model.predict(new float[0], 0).length);
            Evaluation e = model.evaluate(toy(50));
            assertEquals("class 3 is not one of the 3 classes counted (0 to 2)",
                    assertThrows(IllegalArgumentException.class, () -> e.f1(3)).getMessage());
            assertThrows(IllegalArgumentException.class, () -> e.precision(-1));
        }
        assertTrue(assertThrows(NullPointerException.class, () -> Neurite.load(null)).getMessage().startsWith("script"));
    }

    @Test
    void aClosedModelRefusesEveryCallThatRunsIt() throws IOException {
        Path weights = dir.resolve("w.safetensors");
        Model model = load();
        model.output(dir.resolve("run")).fit(toy(40));
        Files.copy(dir.resolve("run/model.safetensors"), weights);
        model.close();
        model.close(); // twice is fine
        for (var call : List.<org.junit.jupiter.api.function.Executable>of(
                () -> model.loadWeights(weights), () -> model.predict(new float[8], 1), () -> model.classify(new float[8], 1),
                () -> model.evaluate(toy(10)), () -> model.fit(toy(10)))) {
            assertEquals("model Net is closed", assertThrows(IllegalStateException.class, call).getMessage());
        }
    }

    @Test
    void aLoadThatFailsLeavesNoBackendThreads() throws IOException {
        Path script = Files.writeString(dir.resolve("huge.nn"), """
                model Huge {
                    input x: [784]
                    output y = dense(3000000)
                }
                """);
        long before = cpuWorkers();
        for (int i = 0; i < 3; i++) {
            ModelException e = assertThrows(ModelException.class, () -> Neurite.load(script));
            assertTrue(e.getMessage().contains("huge.nn:3:16: error: "), e.getMessage());
            assertTrue(e.getMessage().contains("parameter y.weight [3000000, 784] has 2352000000 elements, more than a tensor can hold"),
                    e.getMessage());
        }
        // A closed backend's workers end as they see it closed: give them a moment.
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (cpuWorkers() > before && System.nanoTime() < deadline) Thread.onSpinWait();
        assertEquals(before, cpuWorkers(), "neurite-cpu worker threads after three failed loads");
    }

    private static long cpuWorkers() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("neurite-cpu-") && t.isAlive()).count();
    }
}
