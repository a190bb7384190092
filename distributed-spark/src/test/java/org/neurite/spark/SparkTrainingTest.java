package org.neurite.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.ExceptionFailure;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.EpochStats;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.io.NamedTensor;

/**
 * Spark {@code local[2]}, two partitions: 20 synchronous steps of LeNet-5 (global batch 64,
 * 1,280 samples) against the single-machine {@link Trainer}; the same run with a task that
 * fails on its first attempt; and a driver restarted from the checkpoint written at step 14.
 */
class SparkTrainingTest {
    static final int STEPS = 20;
    static final int BATCH = 64;
    /** Float summation order: each step's two slice gradients are summed separately, then added. */
    static final double TOLERANCE = 1e-4;

    @TempDir static Path tmp;
    static LeNetRuns runs;
    static List<NamedTensor> initial;
    static List<NamedTensor> single;
    static List<NamedTensor> spark;
    static EpochStats singleStats;
    static EpochStats sparkStats;
    static Path checkpoint;

    static SparkConfig local2(int checkpointEvery) {
        return new SparkConfig("local[2]", 2, SparkConfig.Mode.SYNC, 10, checkpointEvery, 4, null);
    }

    @BeforeAll static void trainBothWays() throws Exception {
        runs = new LeNetRuns(tmp, STEPS * BATCH, BATCH);
        try (ParameterStore store = runs.store(); Trainer trainer = new Trainer(runs.graph, store, runs.spec)) {
            initial = store.export();
            singleStats = trainer.trainEpoch(runs.train, 1, new TrainingListener() { });
            assertEquals(STEPS, trainer.step());
            single = store.export();
        }
        checkpoint = tmp.resolve("checkpoint.safetensors");
        try (ParameterStore store = runs.store(); Trainer trainer = new Trainer(runs.graph, store, runs.spec);
             SparkRun run = runs.open(local2(7), trainer, store)) {
            trainer.checkpointEvery(run.checkpointEvery(), runs.checkpointTo(checkpoint, store));
            sparkStats = trainer.trainEpoch(runs.train, 1, 0, new TrainingListener() { });
            assertEquals(STEPS, trainer.step());
            spark = store.export();
        }
    }

    @Test void twentySynchronousStepsEqualTheSingleMachineRun() {
        double moved = LeNetRuns.maxDifference(initial, single);
        double difference = LeNetRuns.maxDifference(single, spark);
        System.out.printf("Spark local[2] sync vs single machine after %d steps: max |dw| = %.3e (weights moved up to %.3e)%n",
                STEPS, difference, moved);
        assertTrue(moved > 100 * TOLERANCE, "training moved the weights by only " + moved);
        assertTrue(difference <= TOLERANCE, "max |dw| = " + difference);
        assertEquals(singleStats.loss(), sparkStats.loss(), 1e-5, "mean training loss over the epoch");
        assertEquals(singleStats.accuracy(), sparkStats.accuracy(), 1.0 / (STEPS * BATCH) + 1e-12, "training accuracy");
        assertEquals(STEPS * BATCH, sparkStats.samples());
    }

    @Test void aTaskThatFailsMidStepIsRetriedAndChangesNothing() throws Exception {
        AtomicInteger failures = new AtomicInteger();
        try (ParameterStore store = runs.store(); Trainer trainer = new Trainer(runs.graph, store, runs.spec);
             SparkRun run = runs.open(local2(0), trainer, store)) {
            run.sparkContext().setLocalProperty(SliceTask.FAIL_ONCE, "7:1");
            run.sparkContext().sc().addSparkListener(new SparkListener() {
                @Override public void onTaskEnd(SparkListenerTaskEnd end) {
                    if (end.reason() instanceof ExceptionFailure f && f.description().contains("injected failure")) failures.incrementAndGet();
                }
            });
            trainer.trainEpoch(runs.train, 1, 0, new TrainingListener() { });
            run.sparkContext().sc().listenerBus().waitUntilEmpty();
            assertEquals(1, failures.get(), "the task of partition 1 at step 7 failed once");
            assertIdentical(spark, store.export());
        }
    }

    @Test void aRestartedDriverResumesFromItsCheckpointBitForBit() throws Exception {
        var contents = Checkpoints.read(checkpoint);
        Checkpoints.Position at = Checkpoints.position(checkpoint, contents);
        assertEquals(14, at.step(), "checkpoints every 7 steps; the last inside the epoch is at step 14");
        assertEquals(14 * BATCH, at.epochSamples());
        try (ParameterStore store = runs.store(); Trainer trainer = new Trainer(runs.graph, store, runs.spec);
             SparkRun run = runs.open(local2(0), trainer, store)) {
            Checkpoints.restore(checkpoint, contents, store);
            trainer.setStep(at.step());
            EpochStats rest = trainer.trainEpoch(runs.train, at.epoch() + 1, at.epochSamples(), new TrainingListener() { });
            assertEquals((STEPS - 14) * BATCH, rest.samples());
            assertEquals(STEPS, trainer.step());
            assertIdentical(spark, store.export());
        }
    }

    /** Averaging with one worker is local SGD on the whole batch: exactly the single-machine run. */
    @Test void parameterAveragingWithOneWorkerIsTheSingleMachineRun() throws Exception {
        try (ParameterStore store = runs.store(); Trainer trainer = new Trainer(runs.graph, store, runs.spec);
             SparkRun run = runs.open(new SparkConfig("local[1]", 1, SparkConfig.Mode.AVERAGE, 6, 0, 4, null), trainer, store)) {
            EpochStats stats = trainer.trainEpoch(runs.train, 1, 0, new TrainingListener() { });
            assertEquals(STEPS, trainer.step(), "rounds of 6, 6, 6 and 2 steps");
            assertEquals(singleStats.loss(), stats.loss(), 1e-12);
            assertIdentical(single, store.export());
        }
    }

    static void assertIdentical(List<NamedTensor> expected, List<NamedTensor> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i).name(), actual.get(i).name());
            assertArrayEquals(expected.get(i).data(), actual.get(i).data(), expected.get(i).name());
        }
    }
}
