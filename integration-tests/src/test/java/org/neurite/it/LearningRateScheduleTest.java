package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.backend.Backend;
import org.neurite.data.Dataset;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.train.TrainSpec;

/**
 * {@code schedule = ...} in a train section: every optimiser step of epoch e (from 1) runs at the
 * schedule's rate for that epoch, read from the optimiser itself while the steps run; and a run
 * stopped inside an epoch and resumed from its checkpoint by a fresh Trainer (as {@code nn train
 * --resume} does) continues at the rate of the epoch it resumes in, ending with the weights of the
 * run that was never stopped, bit for bit.
 */
class LearningRateScheduleTest {
    private static final int SAMPLES = 16;
    private static final int BATCH = 4;

    @TempDir Path dir;

    private static String script(String schedule) {
        return """
                model Small {
                    input x: [4]
                    a = dense(6) -> tanh
                    output y = dense(3)
                }
                train Small { optimizer = sgd(lr=0.2, momentum=0.9); batch = 4; epochs = 5; seed = 11%s }
                """.formatted(schedule);
    }

    private static Dataset data() {
        float[] x = new float[SAMPLES * 4];
        int[] labels = new int[SAMPLES];
        for (int i = 0; i < SAMPLES; i++) {
            for (int j = 0; j < 4; j++) x[i * 4 + j] = (float) Math.sin(1.7 * i + 0.9 * j);
            labels[i] = i % 3;
        }
        return new Dataset("toy", Shape.of(4), x, labels, 3, List.of(), false, "sixteen samples");
    }

    private static TrainSpec spec(String source) {
        return new org.neurite.dsl.ScriptLoader(Fixtures.RUNTIME.layers()).parse("t.nn", source).training("Small").orElseThrow();
    }

    private static Backend backend() {
        return Fixtures.RUNTIME.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> {});
    }

    /** Records the optimiser's learning rate at every step, per epoch; optionally asks for a stop after some step. */
    private static final class RateProbe implements TrainingListener {
        final Map<Integer, List<Float>> rates = new TreeMap<>();
        final Trainer trainer;
        int stopAtStep = -1;

        RateProbe(Trainer trainer) { this.trainer = trainer; }

        @Override public void batchDone(int epoch, long done, long total, double meanLoss, double accuracy) {
            rates.computeIfAbsent(epoch, e -> new ArrayList<>()).add(trainer.optimizer().learningRate());
            if (trainer.step() == stopAtStep) trainer.requestStop();
        }
    }

    /** Trains every epoch of the script's run in one go; returns the final weights and the rates seen. */
    private static Map<Integer, List<Float>> straight(String source, List<NamedTensor> weights) {
        TypedGraph graph = Fixtures.model(source);
        TrainSpec spec = spec(source);
        try (Backend backend = backend(); ParameterStore store = new ParameterStore(graph, backend, spec.seed());
             Trainer trainer = new Trainer(graph, store, spec)) {
            RateProbe probe = new RateProbe(trainer);
            for (int epoch = 1; epoch <= spec.epochs(); epoch++) trainer.trainEpoch(data(), epoch, probe);
            weights.addAll(store.export());
            return probe.rates;
        }
    }

    private static void assertRates(Map<Integer, List<Float>> rates, float... perEpoch) {
        assertEquals(perEpoch.length, rates.size(), rates.toString());
        for (int e = 1; e <= perEpoch.length; e++) {
            for (float lr : rates.get(e)) assertEquals(perEpoch[e - 1], lr, 0f, "epoch " + e + ": " + rates);
        }
    }

    @Test
    void everyStepOfAnEpochRunsAtTheSchedulesRateForThatEpoch() {
        List<NamedTensor> constantWeights = new ArrayList<>();
        Map<Integer, List<Float>> constant = straight(script(""), constantWeights);
        assertRates(constant, 0.2f, 0.2f, 0.2f, 0.2f, 0.2f);
        assertEquals(SAMPLES / BATCH, constant.get(1).size(), "one rate per step");

        List<NamedTensor> stepWeights = new ArrayList<>();
        assertRates(straight(script("; schedule = step(every=2, gamma=0.5)"), stepWeights),
                0.2f, 0.2f, (float) (0.2 * 0.5), (float) (0.2 * 0.5), (float) (0.2 * 0.25));
        assertNotEquals(constantWeights.get(0).data()[0], stepWeights.get(0).data()[0], "the schedule changes the training");

        assertRates(straight(script("; schedule = exponential(gamma=0.8)"), new ArrayList<>()),
                0.2f, (float) (0.2 * 0.8), (float) (0.2 * 0.8 * 0.8), (float) (0.2 * Math.pow(0.8, 3)), (float) (0.2 * Math.pow(0.8, 4)));

        float[] cosine = new float[5];
        for (int e = 0; e < 5; e++) cosine[e] = (float) (0.01 + (0.2 - 0.01) * (1 + Math.cos(Math.PI * e / 5)) / 2);
        assertRates(straight(script("; schedule = cosine(min_lr=0.01)"), new ArrayList<>()), cosine);
        assertEquals(0.2f, cosine[0]);
        assertTrue(cosine[4] < 0.03f, "the last epoch is near min_lr: " + cosine[4]);
    }

    @Test
    void aRunResumedInsideAnEpochContinuesAtThatEpochsRateAndEndsBitIdentical() throws Exception {
        String source = script("; schedule = cosine(min_lr=0.01)");
        List<NamedTensor> expected = new ArrayList<>();
        Map<Integer, List<Float>> whole = straight(source, expected);

        TypedGraph graph = Fixtures.model(source);
        TrainSpec spec = spec(source);
        Path file = dir.resolve("checkpoint.safetensors");
        int stoppedAfter;
        int step;
        // First run: epochs 1-2, then epoch 3 until a stop after its second step (step 10).
        try (Backend backend = backend(); ParameterStore store = new ParameterStore(graph, backend, spec.seed());
             Trainer trainer = new Trainer(graph, store, spec)) {
            RateProbe probe = new RateProbe(trainer);
            probe.stopAtStep = 2 * SAMPLES / BATCH + 2;
            for (int epoch = 1; epoch <= 3; epoch++) trainer.trainEpoch(data(), epoch, probe);
            stoppedAfter = trainer.stoppedAfter();
            step = trainer.step();
            assertEquals(2 * BATCH, stoppedAfter);
            assertEquals(whole.get(3).get(0), probe.rates.get(3).get(0));
            Checkpoints.saveCheckpoint(file, store, new Checkpoints.Position("Small", "hash", spec.seed(), 2, step, stoppedAfter), source, Map.of());
        }
        // Second run, as nn train --resume: a fresh Trainer whose optimiser starts at the base lr.
        try (Backend backend = backend(); ParameterStore store = new ParameterStore(graph, backend, spec.seed());
             Trainer trainer = new Trainer(graph, store, spec)) {
            assertEquals(0.2f, trainer.optimizer().learningRate(), "a new optimiser starts at the optimizer's lr");
            var contents = Checkpoints.read(file);
            Checkpoints.Position at = Checkpoints.position(file, contents);
            Checkpoints.restore(file, contents, store);
            trainer.setStep(at.step());
            RateProbe probe = new RateProbe(trainer);
            for (int epoch = at.epoch() + 1; epoch <= spec.epochs(); epoch++) {
                trainer.trainEpoch(data(), epoch, epoch == at.epoch() + 1 ? at.epochSamples() : 0, probe);
            }
            assertEquals(List.of(3, 4, 5), List.copyOf(probe.rates.keySet()));
            for (int e = 3; e <= 5; e++) assertEquals(whole.get(e).get(0), probe.rates.get(e).get(0), "epoch " + e);
            assertEquals(2, probe.rates.get(3).size(), "the two steps of epoch 3 not yet taken");
            assertTrue(probe.rates.get(3).get(0) < 0.2f * 0.7f, "epoch 3 of a cosine over 5: " + probe.rates.get(3));

            List<NamedTensor> actual = store.export();
            assertEquals(expected.size(), actual.size());
            for (int i = 0; i < expected.size(); i++) {
                float[] a = expected.get(i).data();
                float[] b = actual.get(i).data();
                for (int j = 0; j < a.length; j++) {
                    assertEquals(Float.floatToRawIntBits(a[j]), Float.floatToRawIntBits(b[j]), expected.get(i).name() + "[" + j + "] after resuming");
                }
            }
        }
    }
}
