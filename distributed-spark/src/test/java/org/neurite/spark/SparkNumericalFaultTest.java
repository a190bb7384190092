package org.neurite.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.cli.NnCommand;
import org.neurite.data.EpochOrder;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.NumericalFaultException;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import picocli.CommandLine;

/**
 * A NaN gradient on one Spark worker stops the run in both modes, as it stops a single-machine
 * run: the message names the step and the gradient, and the driver keeps the weights it had
 * before the step (synchronous) or before the round (averaging). Worker 1's gradient is poisoned
 * at step 5 ({@link SliceTask#POISON_GRADIENT}); the loss stays finite, so only the gradient
 * check can see it. Through {@code nn train --deploy}, a corrupt training image (a NaN pixel)
 * stops an averaging run with the worker's message and exit status 1.
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
             SparkRun run = runs.open(new SparkConfig("local[2]", 2, SparkConfig.Mode.AVERAGE, 3, 0, 1, null), trainer, store)) {
            run.sparkContext().setLocalProperty(SliceTask.POISON_GRADIENT, "5:1");
            NumericalFaultException e = assertThrows(NumericalFaultException.class,
                    () -> trainer.trainEpoch(runs.train, 1, 0, snapshots(store, afterRound)));
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
             SparkRun run = runs.open(new SparkConfig("local[2]", 2, SparkConfig.Mode.SYNC, 1, 0, 1, null), trainer, store)) {
            run.sparkContext().setLocalProperty(SliceTask.POISON_GRADIENT, "5:1");
            NumericalFaultException e = assertThrows(NumericalFaultException.class,
                    () -> trainer.trainEpoch(runs.train, 1, 0, snapshots(store, afterStep)));
            assertEquals("a gradient became non-finite at step 5 (epoch 1): the gradient of c1.weight holds NaN (first at element 0);"
                    + " the weights were not updated", e.getMessage());
            assertEquals(4, afterStep.size());
            SparkTrainingTest.assertIdentical(afterStep.get(3), store.export());
        }
    }

    /**
     * {@code nn train --deploy} with a {@code spark:} section in averaging mode, on a training set
     * in which one image holds a NaN pixel (a corrupt file): the worker whose slice holds it at
     * step 6 stops the run, in the third round of two steps. nn prints the worker's message (step,
     * node) and exits 1, and the checkpoint written after the last finished round (step 4)
     * holds, bit for bit, the weights of a run on clean data stopped after the same two rounds.
     */
    @Test void nnTrainOnSparkStopsAtACorruptSampleWithExitStatus1AndTheWeightsOfTheLastRound() throws Exception {
        Path folder = tmp.resolve("cli");
        LeNetRuns clean = new LeNetRuns(folder, 8 * BATCH, BATCH);
        int[] order = new int[clean.train.size()];
        new EpochOrder(clean.spec.seed(), order.length).fill(1, order);
        int corrupt = order[5 * BATCH + 3];   // epoch 1, step 6, in worker 0's half of the batch
        Path trainFile = folder.resolve("train.safetensors");
        SafeTensors.Contents images = SafeTensors.read(trainFile);
        images.get("x").data()[corrupt * 28 * 28 + 14 * 28 + 14] = Float.NaN;
        SafeTensors.write(trainFile, images.tensors(), images.metadata());
        Path deployment = folder.resolve("spark-average.yaml");
        Files.writeString(deployment, """
                backend: cpu
                threads: 1
                spark:
                  master: "local[2]"
                  partitions: 2
                  mode: average
                  average_every: 2
                  checkpoint_every: 2
                  max_failures: 1
                """);
        Path out = folder.resolve("run");

        CommandLine nn = NnCommand.commandLine();
        StringWriter err = new StringWriter();
        nn.setOut(new PrintWriter(new StringWriter(), true));
        nn.setErr(new PrintWriter(err, true));
        int exit = nn.execute("train", clean.scriptFile.toString(), "--deploy", deployment.toString(), "--out", out.toString(), "--quiet");

        assertEquals(1, exit, err.toString());
        // Element 2758 of the worker's input: row 3 of its slice (3·784), pixel (14, 14) (14·28 + 14).
        assertEquals("nn: training stopped: the loss became NaN at step 6 (epoch 1): model input 'image' contains NaN (first at element "
                + "2758). The weights and checkpoint of the last finished epoch are kept; try a lower learning rate or clip = 1.0.",
                err.toString().strip());
        Path checkpoint = out.resolve("checkpoint.safetensors");
        var contents = Checkpoints.read(checkpoint);
        Checkpoints.Position at = Checkpoints.position(checkpoint, contents);
        assertEquals(4, at.step(), "the last checkpoint is that of the last finished round");
        assertEquals(4 * BATCH, at.epochSamples());
        assertFalse(Files.exists(out.resolve("model.safetensors")), "no epoch finished");

        List<NamedTensor> expected;
        try (ParameterStore store = clean.store(); Trainer trainer = new Trainer(clean.graph, store, clean.spec);
             SparkRun run = clean.open(new SparkConfig("local[2]", 2, SparkConfig.Mode.AVERAGE, 2, 0, 1, null), trainer, store)) {
            trainer.trainEpoch(clean.train, 1, 0, new TrainingListener() {
                @Override public void batchDone(int epoch, long done, long total, double meanLoss, double accuracy) {
                    if (done == 4 * BATCH) trainer.requestStop();
                }
            });
            assertEquals(4, trainer.step());
            expected = store.export();
        }
        try (ParameterStore saved = clean.store()) {
            Checkpoints.restore(checkpoint, contents, saved);
            SparkTrainingTest.assertIdentical(expected, saved.export());
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
