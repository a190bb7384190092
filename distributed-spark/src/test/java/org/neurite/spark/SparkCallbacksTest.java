package org.neurite.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.config.DeploymentConfig;
import org.neurite.engine.DistributedTraining;
import org.neurite.engine.EpochStats;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingCallback;
import org.neurite.engine.TrainingRun;
import org.neurite.train.TrainSpec;

/**
 * A {@link TrainingRun} on Spark tells its callbacks what a run on one machine tells them, because
 * both go through the trainer's one loop over the batches: two epochs of LeNet-5, 4 steps each,
 * trained here, with synchronous steps on {@code local[2]}, and with one worker averaging every 3 steps.
 */
class SparkCallbacksTest {
    static final int STEPS = 4;
    static final int BATCH = 64;

    @TempDir static Path tmp;
    static LeNetRuns runs;
    static TrainSpec twoEpochs;
    static Recorder local;

    @BeforeAll static void trainHere() throws Exception {
        runs = new LeNetRuns(tmp, STEPS * BATCH, BATCH);
        twoEpochs = runs.spec.with(BATCH, 2, runs.spec.seed());
        local = fit(null);
    }

    @Test void synchronousStepsCallBackExactlyAsStepsOnOneMachine() throws Exception {
        List<String> expected = new ArrayList<>(List.of("run start at epoch 1 of 2"));
        for (int epoch = 1; epoch <= 2; epoch++) {
            expected.add("epoch " + epoch + " start, 256 samples");
            for (int k = 0; k < STEPS; k++) {
                expected.add("batch start: epoch " + epoch + ", step " + ((epoch - 1) * STEPS + k + 1) + ", after " + k * BATCH);
                expected.add("batch end: epoch " + epoch + ", " + (k + 1) * BATCH + "/256");
            }
            expected.add("epoch " + epoch + " trained: 256 samples");
            expected.add("epoch " + epoch + " end at step " + epoch * STEPS);
        }
        expected.add("run end after epoch 2");
        assertEquals(expected, local.calls);

        Recorder sync = fit(SparkTrainingTest.local2(0));
        assertEquals(expected, sync.calls);
        for (int i = 0; i < local.losses.size(); i++) {
            assertEquals(local.losses.get(i), sync.losses.get(i), 1e-5, "running mean loss at batch end " + i);
        }
    }

    /** A round of averaging is one take: one batch start and one batch end, after 3 steps and after the last one. */
    @Test void averagingRoundsCallBackOncePerRound() throws Exception {
        Recorder averaging = fit(new SparkConfig("local[1]", 1, SparkConfig.Mode.AVERAGE, 3, 0, 1, null));
        List<String> expected = new ArrayList<>(List.of("run start at epoch 1 of 2"));
        for (int epoch = 1; epoch <= 2; epoch++) {
            int first = (epoch - 1) * STEPS + 1;
            expected.addAll(List.of("epoch " + epoch + " start, 256 samples",
                    "batch start: epoch " + epoch + ", step " + first + ", after 0", "batch end: epoch " + epoch + ", 192/256",
                    "batch start: epoch " + epoch + ", step " + (first + 3) + ", after 192", "batch end: epoch " + epoch + ", 256/256",
                    "epoch " + epoch + " trained: 256 samples", "epoch " + epoch + " end at step " + epoch * STEPS));
        }
        expected.add("run end after epoch 2");
        assertEquals(expected, averaging.calls);
        // One worker averaging is local training on the whole batch: the same running means, read per round.
        assertEquals(List.of(local.losses.get(2), local.losses.get(3), local.losses.get(6), local.losses.get(7)), averaging.losses);
    }

    /** Two epochs through a {@link TrainingRun}, here ({@code spark} null) or on Spark; what its callback heard. */
    private static Recorder fit(SparkConfig spark) throws Exception {
        Recorder recorder = new Recorder();
        try (ParameterStore store = runs.store(); Trainer trainer = new Trainer(runs.graph, store, twoEpochs)) {
            TrainingRun run = new TrainingRun(runs.graph, twoEpochs, store, trainer, runs.train, null, null).callback(recorder);
            if (spark == null) {
                run.fit();
            } else {
                try (DistributedTraining.Run cluster = new SparkTraining().open(new DistributedTraining.Job(runs.script,
                        runs.scriptFile.toString(), "LeNet5", runs.graph, twoEpochs, DeploymentConfig.defaults().withSpark(spark.section()),
                        "cpu", 1, List.of(), null, null, trainer, store))) {
                    run.distributed(cluster).fit();
                }
            }
        }
        return recorder;
    }

    /** Every call a callback receives, as a line, and the running mean loss of every batch end. */
    static final class Recorder implements TrainingCallback {
        final List<String> calls = new ArrayList<>();
        final List<Double> losses = new ArrayList<>();

        @Override public void runStart(TrainingRun run, int firstEpoch, int epochs) {
            calls.add("run start at epoch " + firstEpoch + " of " + epochs);
        }

        @Override public void epochStart(int epoch, int epochs, long samples) {
            calls.add("epoch " + epoch + " start, " + samples + " samples");
        }

        @Override public void batchStart(int epoch, int step, long done) {
            calls.add("batch start: epoch " + epoch + ", step " + step + ", after " + done);
        }

        @Override public void batchEnd(int epoch, long done, long total, double meanLoss, double accuracy) {
            calls.add("batch end: epoch " + epoch + ", " + done + "/" + total);
            losses.add(meanLoss);
        }

        @Override public void epochTrained(int epoch, EpochStats train) {
            calls.add("epoch " + epoch + " trained: " + train.samples() + " samples");
        }

        @Override public void epochEnd(TrainingRun.EpochEnd end) {
            calls.add("epoch " + end.epoch() + " end at step " + end.step());
        }

        @Override public void runEnd(TrainingRun.Result result) {
            calls.add("run end after epoch " + result.last().epoch());
        }
    }
}
