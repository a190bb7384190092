package org.neurite.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.engine.NumericalFaultException;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.io.NamedTensor;

/**
 * A NaN gradient on one Spark worker stops the run in both modes, as it stops a single-machine
 * run: the message names the step and the gradient, and the driver keeps the weights it had
 * before the step (synchronous) or before the round (averaging). Worker 1's gradient is poisoned
 * at step 5 ({@link SliceTask#POISON_GRADIENT}); the loss stays finite, so only the gradient
 * check can see it.
 */
class SparkNumericalFaultTest {
    static final int BATCH = 64;

    @TempDir static Path tmp;
    static LeNetRuns runs;

    @BeforeAll static void data() throws Exception {
        runs = new LeNetRuns(tmp, 8 * BATCH, BATCH);
    }

    /** Averaging every 3 steps: rounds 1–3 and 4–6; the NaN at step 5 is inside the second round. */
    @Test void aNaNGradientInAveragingModeStopsTheRunWithTheWeightsOfTheLastRound() {
        List<List<NamedTensor>> afterRound = new ArrayList<>();
        try (ParameterStore store = runs.store(); Trainer trainer = new Trainer(runs.graph, store, runs.spec);
             SparkRun run = (SparkRun) new SparkTraining().open(runs.job(
                     new SparkConfig("local[2]", 2, SparkConfig.Mode.AVERAGE, 3, 0, 1, null), trainer, store, (e, s, k) -> { }))) {
            run.sparkContext().setLocalProperty(SliceTask.POISON_GRADIENT, "5:1");
            NumericalFaultException e = assertThrows(NumericalFaultException.class,
                    () -> run.trainEpoch(runs.train, 1, 0, snapshots(store, afterRound)));
            assertEquals("a gradient became non-finite at step 5 (epoch 1): node 'c1' (conv) wrote NaN (first at element 0)"
                    + " into the gradient of c1.weight; the weights were not updated", e.getMessage());
            assertEquals(1, afterRound.size(), "one round finished before the fault");
            assertEquals(3, trainer.step(), "the driver's step counter stays at the last finished round");
            SparkTrainingTest.assertIdentical(afterRound.get(0), store.export());
            assertTrue(finite(store.export()));
        }
    }

    /** Synchronous steps: the driver sums the slices and its own TrainStep refuses the NaN. */
    @Test void aNaNGradientInSynchronousModeStopsTheRunBeforeTheUpdate() {
        List<List<NamedTensor>> afterStep = new ArrayList<>();
        try (ParameterStore store = runs.store(); Trainer trainer = new Trainer(runs.graph, store, runs.spec);
             SparkRun run = (SparkRun) new SparkTraining().open(runs.job(
                     new SparkConfig("local[2]", 2, SparkConfig.Mode.SYNC, 1, 0, 1, null), trainer, store, (e, s, k) -> { }))) {
            run.sparkContext().setLocalProperty(SliceTask.POISON_GRADIENT, "5:1");
            NumericalFaultException e = assertThrows(NumericalFaultException.class,
                    () -> run.trainEpoch(runs.train, 1, 0, snapshots(store, afterStep)));
            assertEquals("a gradient became non-finite at step 5 (epoch 1): the gradient of c1.weight holds NaN (first at element 0);"
                    + " the weights were not updated", e.getMessage());
            assertEquals(4, afterStep.size());
            SparkTrainingTest.assertIdentical(afterStep.get(3), store.export());
        }
    }

    /** A listener that keeps a copy of the driver's weights after every step or round. */
    private static TrainingListener snapshots(ParameterStore store, List<List<NamedTensor>> into) {
        return new TrainingListener() {
            @Override public void batchDone(int epoch, long done, long total, double meanLoss, double accuracy) {
                into.add(store.export());
            }
        };
    }

    private static boolean finite(List<NamedTensor> tensors) {
        for (NamedTensor t : tensors) {
            for (float v : t.data()) if (!Float.isFinite(v)) return false;
        }
        return true;
    }
}
