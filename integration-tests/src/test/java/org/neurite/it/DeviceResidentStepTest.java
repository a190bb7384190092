package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.BackendCounters;
import org.neurite.data.Dataset;
import org.neurite.data.EpochOrder;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.EpochStats;
import org.neurite.engine.NumericalFaultException;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.train.TrainSpec;

/**
 * A training step's loss, correct count and gradient norm stay on the device and are read every
 * few steps ({@code TrainStep.readEvery}); here on the CPU backend, with the interval set as an
 * asynchronous backend would have it. Reading every four steps must train exactly as reading every
 * step (same weights, same per-batch reports, three reads for ten steps instead of ten), and a NaN
 * in the middle of a read window must stop the run at that read with the message a per-step read
 * gives, the weights and the Adam moments from before the bad step.
 */
class DeviceResidentStepTest {
    private static final String SCRIPT = """
            model Mlp {
                input x: [4]
                a = dense(8) -> relu
                output y = dense(3)
            }
            train Mlp { optimizer = adam(lr=0.05); batch = 4; epochs = 1; seed = 7; clip = 0.5 }
            """;
    private static final int SAMPLES = 40;   // ten steps of four

    /** What one epoch produced: the reports after every batch, the statistics, weights and optimiser state. */
    private record Run(List<String> reports, EpochStats stats, List<NamedTensor> weights, List<NamedTensor> state, long syncs, int steps) {}

    private static Backend cpu() {
        return Fixtures.RUNTIME.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> {});
    }

    private static TrainSpec spec() {
        return new ScriptLoader(Fixtures.RUNTIME.layers()).parse("t.nn", SCRIPT).training("Mlp").orElseThrow();
    }

    /** Random features in [-2, 2) and labels over 3 classes; {@code nanAt} >= 0 poisons that feature index. */
    private static Dataset data(int nanAt) {
        SplittableRandom rng = new SplittableRandom(11);
        float[] x = new float[SAMPLES * 4];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble(-2, 2);
        if (nanAt >= 0) x[nanAt] = Float.NaN;
        int[] y = new int[SAMPLES];
        for (int i = 0; i < SAMPLES; i++) y[i] = rng.nextInt(3);
        return new Dataset("toy", Shape.of(4), x, y, 3, List.of(), false, SAMPLES + " random samples");
    }

    /** What a test does with a fresh trainer of the script on the CPU. */
    private interface WithTrainer {
        void run(Trainer trainer, ParameterStore store);
    }

    /** Runs {@code body} with a fresh trainer that reads its steps' results every {@code readEvery} steps. */
    private static void withTrainer(int readEvery, WithTrainer body) {
        TypedGraph graph = Fixtures.model(SCRIPT);
        TrainSpec spec = spec();
        try (Backend backend = cpu(); ParameterStore store = new ParameterStore(graph, backend, spec.seed());
             Trainer trainer = new Trainer(graph, store, spec)) {
            trainer.trainStep().readEvery(readEvery);
            body.run(trainer, store);
        }
    }

    private static Run train(Dataset data, int readEvery, int stopAfterStep) {
        Run[] run = new Run[1];
        withTrainer(readEvery, (trainer, store) -> {
            List<String> reports = new ArrayList<>();
            EpochStats stats = trainer.trainEpoch(data, 1, new TrainingListener() {
                @Override public void batchDone(int epoch, long done, long total, double meanLoss, double accuracy) {
                    reports.add(done + "/" + total + " loss " + meanLoss + " accuracy " + accuracy);
                    if (reports.size() == stopAfterStep) trainer.requestStop();
                }
            });
            long syncs = trainer.lastEpochCounters().map(BackendCounters::syncs).orElseThrow();
            run[0] = new Run(reports, stats, store.export(), store.exportState(), syncs, trainer.lastEpochSteps());
        });
        return run[0];
    }

    @Test void readingEveryFourStepsTrainsExactlyAsReadingEveryStep() {
        Run everyStep = train(data(-1), 1, -1), everyFour = train(data(-1), 4, -1);
        assertEquals(10, everyStep.reports().size());
        assertEquals(everyStep.reports(), everyFour.reports(), "every batch is reported, with the same running means");
        assertEquals(everyStep.stats().loss(), everyFour.stats().loss(), 0);
        assertEquals(everyStep.stats().accuracy(), everyFour.stats().accuracy(), 0);
        assertIdentical(everyStep.weights(), everyFour.weights());
        assertIdentical(everyStep.state(), everyFour.state());
        assertEquals(10, everyFour.steps());
        assertEquals(10, everyStep.syncs(), "one read per step");
        assertEquals(3, everyFour.syncs(), "reads after steps 4 and 8 and at the end of the epoch, nothing else");
    }

    /**
     * The sample whose feature is NaN lies in the third batch of epoch 1's order; with reads every
     * four steps the NaN is found at the read after step 4. Steps 3 and 4 were skipped on the
     * device, so the weights and the moments are those after step 2: as a clean run stopped
     * after step 2 left them, and as a run reading every step left them on the same fault.
     */
    @Test void aNaNInTheMiddleOfAReadWindowStopsTheRunWithTheWeightsFromBeforeIt() {
        int[] order = new EpochOrder(spec().seed(), SAMPLES).permutation(1);
        int position = 2 * 4 + 1;   // the second sample of step 3
        int feature = 2;
        Dataset poisoned = data(order[position] * 4 + feature);
        String expected = "the loss became NaN at step 3 (epoch 1): model input 'x' contains NaN (first at element "
                + (1 * 4 + feature) + ")";

        Run clean = train(data(-1), 1, 2);
        assertEquals(2, clean.steps());
        for (int readEvery : new int[] {4, 1}) {
            withTrainer(readEvery, (trainer, store) -> {
                List<Long> reported = new ArrayList<>();
                NumericalFaultException e = assertThrows(NumericalFaultException.class, () -> trainer.trainEpoch(poisoned, 1,
                        new TrainingListener() {
                            @Override public void batchDone(int epoch, long done, long total, double meanLoss, double accuracy) {
                                reported.add(done);
                            }
                        }));
                assertEquals(expected, e.getMessage(), "read every " + readEvery);
                assertEquals(3, e.step());
                assertEquals(2, trainer.step(), "two steps were applied");
                assertEquals(readEvery == 1 ? List.of(4L, 8L) : List.of(), reported, "the steps read before the fault");
                assertIdentical(clean.weights(), store.export());
                assertIdentical(clean.state(), store.exportState());
                assertNotEquals(0.0, maxDifference(clean.state(), zeros(clean.state())), "the moments did move in steps 1 and 2");
            });
        }
    }

    private static List<NamedTensor> zeros(List<NamedTensor> like) {
        return like.stream().map(t -> new NamedTensor(t.name(), t.shape(), new float[t.data().length])).toList();
    }

    private static void assertIdentical(List<NamedTensor> expected, List<NamedTensor> actual) {
        assertEquals(0.0, maxDifference(expected, actual));
    }

    private static double maxDifference(List<NamedTensor> a, List<NamedTensor> b) {
        assertEquals(a.size(), b.size());
        double max = 0;
        for (int t = 0; t < a.size(); t++) {
            assertEquals(a.get(t).name(), b.get(t).name());
            float[] x = a.get(t).data(), y = b.get(t).data();
            for (int i = 0; i < x.length; i++) {
                assertTrue(Float.isFinite(x[i]) && Float.isFinite(y[i]), a.get(t).name() + " holds a non-finite value");
                max = Math.max(max, Math.abs(x[i] - y[i]));
            }
        }
        return max;
    }
}
