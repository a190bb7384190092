package org.neurite.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.io.NamedTensor;

/**
 * A learning-rate schedule applies on Spark as on one machine: epoch 2 of
 * {@code schedule = step(every=1, gamma=0.5)} runs at half the optimizer's lr whether the driver's
 * optimiser takes the synchronous steps or the workers take local steps (parameter averaging),
 * each from the epoch number alone.
 */
class SparkScheduleTest {
    static final int STEPS = 4;
    static final int BATCH = 64;
    static final float EPOCH_2_LR = 0.005f;

    @TempDir static Path tmp;
    static LeNetRuns runs;
    static List<NamedTensor> initial;
    static List<NamedTensor> single;

    @BeforeAll static void trainEpochTwoOnOneMachine() throws Exception {
        runs = new LeNetRuns(tmp, STEPS * BATCH, BATCH, "schedule = step(every=1, gamma=0.5)");
        assertEquals(EPOCH_2_LR, runs.spec.learningRate(2), 1e-12f);
        try (ParameterStore store = runs.store(); Trainer trainer = new Trainer(runs.graph, store, runs.spec)) {
            initial = store.export();
            trainer.trainEpoch(runs.train, 2, TrainingListener.NONE);
            assertEquals(EPOCH_2_LR, trainer.optimizer().learningRate());
            single = store.export();
        }
    }

    /** Rates the driver's optimiser holds while the steps run, one per listener call. */
    private static TrainingListener rates(Trainer trainer, List<Float> into) {
        return new TrainingListener() {
            @Override public void batchDone(int epoch, long done, long total, double meanLoss, double accuracy) {
                into.add(trainer.optimizer().learningRate());
            }
        };
    }

    @Test void synchronousStepsOfEpochTwoRunAtItsRate() throws Exception {
        List<Float> seen = new java.util.ArrayList<>();
        try (ParameterStore store = runs.store(); Trainer trainer = new Trainer(runs.graph, store, runs.spec);
             SparkRun run = runs.open(SparkTrainingTest.local2(0), trainer, store)) {
            trainer.trainEpoch(runs.train, 2, 0, rates(trainer, seen));
            assertEquals(STEPS, trainer.step());
            assertEquals(List.of(EPOCH_2_LR, EPOCH_2_LR, EPOCH_2_LR, EPOCH_2_LR), seen);
            double moved = LeNetRuns.maxDifference(initial, single);
            double difference = LeNetRuns.maxDifference(single, store.export());
            assertTrue(moved > 10 * SparkTrainingTest.TOLERANCE, "training moved the weights by only " + moved);
            assertTrue(difference <= SparkTrainingTest.TOLERANCE, "max |dw| = " + difference);
        }
    }

    /** One worker averaging every 3 steps is local SGD on the whole batch: exactly the single-machine epoch. */
    @Test void workersTakingLocalStepsUseTheEpochsRate() throws Exception {
        try (ParameterStore store = runs.store(); Trainer trainer = new Trainer(runs.graph, store, runs.spec);
             SparkRun run = runs.open(new SparkConfig("local[1]", 1, SparkConfig.Mode.AVERAGE, 3, 0, 4, null), trainer, store)) {
            trainer.trainEpoch(runs.train, 2, 0, TrainingListener.NONE);
            assertEquals(STEPS, trainer.step(), "rounds of 3 and 1 steps");
            SparkTrainingTest.assertIdentical(single, store.export());
        }
    }
}
