package org.neurite.it.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.neurite.backend.Backend;
import org.neurite.backend.BackendCounters;
import org.neurite.data.Dataset;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.TrainStep;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.graph.TypedGraph;
import org.neurite.tensor.Shape;
import org.neurite.train.TrainSpec;

/**
 * On OpenCL the training step never waits for the device: once an example's models are compiled
 * (a two-step warm-up epoch), an epoch of {@code 2K + 3} steps makes the host wait exactly three
 * times, when it reads the steps' results after steps K and 2K and at the end of the epoch
 * (K = {@link TrainStep#DEVICE_READ_INTERVAL}): no upload, loss, accuracy, gradient norm, clipping
 * decision or index check waits for the device in between. Each example runs with global-norm
 * clipping on and off (rowlstm's own clip = 5.0 removed, clip = 1.0 added to the others), on random
 * data at batch 4 to keep the test short on PoCL.
 */
class DeviceResidentStepOnOpenClTest {
    private static final int BATCH = 4;
    private static final int K = TrainStep.DEVICE_READ_INTERVAL;
    private static final int STEPS = 2 * K + 3;

    @ParameterizedTest(name = "{0}, clipping {1}")
    @CsvSource({"lenet5, true", "lenet5, false", "fashion_cnn, true", "fashion_cnn, false", "rowlstm, true", "rowlstm, false"})
    void aSteadyStateEpochWaitsOncePerReadInterval(String example, boolean clipping) throws IOException {
        Script script = new ScriptLoader(OpenClRuns.RUNTIME.layers()).parse(example + ".nn", withClipping(example, clipping));
        TypedGraph graph = script.mainModel();
        TrainSpec spec = script.training(graph.graph().name()).orElseThrow();
        spec = spec.with(BATCH, 2, spec.seed());
        assertEquals(clipping, spec.clipNorm() > 0);
        try (Backend backend = OpenClRuns.opencl(); ParameterStore store = new ParameterStore(graph, backend, spec.seed());
             Trainer trainer = new Trainer(graph, store, spec)) {
            assertEquals(K, trainer.trainStep().readEvery(), "an asynchronous backend reads every K steps");
            trainer.trainEpoch(randomData(graph, 2 * BATCH, 1), 1, TrainingListener.NONE);
            trainer.trainEpoch(randomData(graph, STEPS * BATCH, 2), 2, TrainingListener.NONE);
            BackendCounters counters = trainer.lastEpochCounters().orElseThrow();
            assertEquals(STEPS, trainer.lastEpochSteps());
            String measured = String.format("%s: %d syncs and %d launches in %d steps", example, counters.syncs(), counters.launches(), STEPS);
            assertEquals(3, counters.syncs(), measured);
            assertTrue(counters.launches() >= STEPS, measured);
        }
    }

    /** The example's script with its train section's clip setting added (1.0) or removed. */
    private static String withClipping(String example, boolean clipping) throws IOException {
        String source = Files.readString(Path.of("../examples", example + ".nn")).replaceAll("(?m)^\\s*clip = .*\\n", "");
        return clipping ? source.replace("    seed = 1\n", "    seed = 1\n    clip = 1.0\n") : source;
    }

    /** Uniform [0, 1) inputs of the graph's input shape and labels over its outputs. */
    private static Dataset randomData(TypedGraph graph, int count, long seed) {
        Shape sample = graph.shape(graph.graph().inputs().get(0).name());
        int classes = graph.outputShape().size();
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = new float[count * sample.size()];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble();
        int[] y = new int[count];
        for (int i = 0; i < count; i++) y[i] = rng.nextInt(classes);
        return new Dataset("random", sample, x, y, classes, List.of(), false, count + " random samples");
    }
}
