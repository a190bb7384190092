package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.LinkedHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.backend.Backend;
import org.neurite.backend.Slice;
import org.neurite.data.Dataset;
import org.neurite.data.DatasetLocator;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.EarlyStopping;
import org.neurite.engine.EpochStats;
import org.neurite.engine.NumericalFaultException;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.TrainStep;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingCallback;
import org.neurite.engine.TrainingRun;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.plugin.BackendOptions;
import org.neurite.train.TrainSpec;

/**
 * The engine's training loop: callbacks in order, a run stopped inside an epoch and resumed
 * from its checkpoint ending bit for bit where an uninterrupted run ends, a callback stopping
 * the run between epochs, early stopping on a held-out loss that rises, and the step refusing
 * a non-finite gradient.
 * A two-layer classifier on 256 images of the bundled Fashion-MNIST subset, batch 64 (4 steps an epoch).
 */
class TrainingRunTest {
    static final String SCRIPT = """
            model Tiny {
                input image: [1, 28, 28]
                h = flatten -> dense(16) -> relu
                output logits = dense(10)
            }
            train Tiny {
                data = fashion_mnist
                loss = softmax_cross_entropy
                optimizer = sgd(lr=0.05, momentum=0.9)
                batch = 64
                epochs = 3
                seed = 3
            }
            """;

    @TempDir Path dir;

    final Script script = new ScriptLoader(Fixtures.RUNTIME.layers()).parse("tiny.nn", SCRIPT);
    final TypedGraph graph = script.mainModel();
    final TrainSpec spec = script.training("Tiny").orElseThrow();
    final DatasetLocator.Located data;
    final Dataset train;

    TrainingRunTest() throws Exception {
        data = Fixtures.bundledSubset();
        train = data.train().head(256);
    }

    /** A fresh run on its own one-thread CPU backend; {@code body} gets the store, the trainer and the run. */
    private List<NamedTensor> run(Path out, RunBody body) throws Exception {
        try (Backend cpu = Fixtures.RUNTIME.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> { });
             ParameterStore store = new ParameterStore(graph, cpu, spec.seed());
             Trainer trainer = new Trainer(graph, store, spec)) {
            TrainingRun run = new TrainingRun(graph, spec, store, trainer, train, data.test().head(128),
                    out == null ? null : new TrainingRun.Output(out, SCRIPT));
            body.accept(store, trainer, run);
            return store.export();
        }
    }

    @FunctionalInterface interface RunBody {
        void accept(ParameterStore store, Trainer trainer, TrainingRun run) throws Exception;
    }

    @Test void callbacksHearTheRunTheEpochsAndTheBatchesInOrder() throws Exception {
        List<String> heard = new ArrayList<>();
        run(null, (store, trainer, run) -> {
            TrainingRun.Result r = run.callback(new TrainingCallback() {
                @Override public void runStart(TrainingRun r, int firstEpoch, int epochs) { heard.add("run " + firstEpoch + "/" + epochs); }
                @Override public void epochStart(int epoch, int epochs, long samples) { heard.add("epoch " + epoch + " of " + samples); }
                @Override public void batchEnd(int epoch, long done, long total, double loss, double accuracy) { heard.add(done + "/" + total); }
                @Override public void epochTrained(int epoch, EpochStats s) { heard.add("trained " + s.samples()); }
                @Override public void epochEnd(TrainingRun.EpochEnd e) { heard.add("end " + e.epoch() + " step " + e.step()); }
                @Override public void runEnd(TrainingRun.Result result) { heard.add("done " + result.stopped()); }
            }).fit();
            assertEquals(3, r.train().epoch());
            assertEquals(128, r.test().samples());
        });
        List<String> epoch = List.of("64/256", "128/256", "192/256", "256/256", "trained 256");
        List<String> expected = new ArrayList<>(List.of("run 1/3"));
        for (int e = 1; e <= 3; e++) {
            expected.add("epoch " + e + " of 256");
            expected.addAll(epoch);
            expected.add("end " + e + " step " + 4 * e);
        }
        expected.add("done false");
        assertEquals(expected, heard);
    }

    @Test void aRunStoppedInsideAnEpochAndResumedEndsWithTheWeightsOfOneThatNeverStopped() throws Exception {
        List<NamedTensor> straight = run(dir.resolve("straight"), (store, trainer, run) -> assertFalse(run.fit().stopped()));
        Path stopped = dir.resolve("stopped");
        List<NamedTensor> firstPart = run(stopped, (store, trainer, run) -> {
            TrainingRun.Result r = run.callback(new TrainingCallback() {
                @Override public void batchEnd(int epoch, long done, long total, double loss, double accuracy) {
                    if (epoch == 2 && done == 128) run.requestStop();   // as Ctrl-C would, from a signal handler
                }
            }).fit();
            assertEquals(new Checkpoints.Position("Tiny", new TrainingRun.Output(stopped, SCRIPT).scriptHash(), 3, 1, 6, 128), r.stoppedAt());
            assertEquals(1, r.train().epoch(), "the last finished epoch");
        });
        assertFalse(maxDifference(straight, firstPart) == 0, "the stopped run ended early");
        List<NamedTensor> resumed = run(stopped, (store, trainer, run) -> {
            Checkpoints.Position at = run.resume();
            assertEquals(6, at.step());
            assertEquals(6, trainer.step());
            assertNull(run.fit().stoppedAt());
            assertEquals(12, trainer.step());
        });
        assertEquals(0.0, maxDifference(straight, resumed), "bit for bit");
        assertEquals(3, Files.readAllLines(stopped.resolve("metrics.jsonl")).size(), "one metrics record per epoch, none repeated");
        var weights = SafeTensors.read(stopped.resolve("model.safetensors"));
        assertEquals("3", weights.metadata().get(Checkpoints.EPOCH));
        for (int i = 0; i < straight.size(); i++) assertArrayEquals(straight.get(i).data(), weights.tensors().get(i).data(), 0f);
    }

    /** What early stopping does: a callback that has seen enough ends the run with the epoch, whose checkpoint is written. */
    @Test void aCallbackStopsTheRunBetweenEpochs() throws Exception {
        Path out = dir.resolve("early");
        run(out, (store, trainer, run) -> {
            TrainingRun.Result r = run.callback(new TrainingCallback() {
                @Override public void epochEnd(TrainingRun.EpochEnd e) {
                    if (e.epoch() == 2) run.stopAfterEpoch();
                }
            }).fit();
            assertTrue(r.stopped());
            assertEquals(2, r.stoppedAt().epoch(), "two epochs finished");
            assertEquals(0, r.stoppedAt().epochSamples());
            assertEquals(8, trainer.step());
        });
        var checkpoint = SafeTensors.read(out.resolve("checkpoint.safetensors"));
        assertEquals("2", checkpoint.metadata().get(Checkpoints.EPOCH));
        assertEquals(2, Files.readAllLines(out.resolve("metrics.jsonl")).size());
    }

    /**
     * Early stopping on a run whose held-out loss rises on purpose: the held-out set is the
     * training images with every label moved to the next class, so the better the model learns
     * the training labels, the worse it scores there. {@code EarlyStopping("test_loss", 2)} must
     * end the run two epochs after its best epoch, well before the 12 asked for.
     */
    @Test void earlyStoppingEndsARunWhoseHeldOutLossRises() throws Exception {
        int n = train.size();
        int[] shifted = new int[n];
        for (int i = 0; i < n; i++) shifted[i] = (train.label(i) + 1) % 10;
        Dataset mislabelled = new Dataset("mislabelled", train.sampleShape(), Arrays.copyOf(train.features(), n * train.sampleSize()),
                shifted, 10, List.of(), false, "the training images, each labelled with the next class");
        TrainSpec twelve = spec.with(spec.batch(), 12, spec.seed());
        Path out = dir.resolve("early-stopping");
        try (Backend cpu = Fixtures.RUNTIME.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> { });
             ParameterStore store = new ParameterStore(graph, cpu, twelve.seed());
             Trainer trainer = new Trainer(graph, store, twelve)) {
            EarlyStopping early = new EarlyStopping("test_loss", 2);
            TrainingRun.Result r = new TrainingRun(graph, twelve, store, trainer, train, mislabelled, new TrainingRun.Output(out, SCRIPT))
                    .callback(early).fit();
            List<Double> losses = early.values();
            // The rule, applied to what was seen: the first epoch at which the best is two epochs old.
            int best = 1;
            int expectedStop = 0;
            for (int e = 1; e <= losses.size(); e++) {
                if (losses.get(e - 1) < losses.get(best - 1)) best = e;
                else if (e - best >= 2) { expectedStop = e; break; }
            }
            assertTrue(losses.get(losses.size() - 1) > losses.get(0), "the held-out loss rose: " + losses);
            assertTrue(r.stopped(), "stopped early: " + losses);
            assertEquals(expectedStop, r.stoppedAt().epoch(), losses.toString());
            assertEquals(expectedStop, early.stoppedAfter());
            assertEquals(best, early.bestEpoch());
            assertTrue(expectedStop < 12, losses.toString());
            assertEquals(expectedStop, Files.readAllLines(out.resolve("metrics.jsonl")).size());
            assertEquals(Integer.toString(expectedStop), SafeTensors.read(out.resolve("checkpoint.safetensors")).metadata().get(Checkpoints.EPOCH));
        }
    }

    /**
     * The settings a checkpoint records keep the caller's order, so that two runs with the same
     * settings (and a run resumed in another JVM) write the same bytes: an order that varied from
     * JVM to JVM (Map.copyOf's) made checkpoint.safetensors differ between identical runs.
     */
    @Test void aCheckpointRecordsTheSettingsInTheCallersOrder() throws Exception {
        Path out = dir.resolve("ordered");
        Map<String, String> settings = new LinkedHashMap<>();
        for (int i = 0; i < 16; i++) settings.put("test.setting." + (char) ('p' - i), Integer.toString(i));
        TrainingRun.Output output = new TrainingRun.Output(out, SCRIPT, settings);
        assertEquals(List.copyOf(settings.keySet()), List.copyOf(output.settings().keySet()));
        try (Backend cpu = Fixtures.RUNTIME.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> { });
             ParameterStore store = new ParameterStore(graph, cpu, spec.seed());
             Trainer trainer = new Trainer(graph, store, spec)) {
            new TrainingRun(graph, spec, store, trainer, train, null, output).fit();
        }
        List<String> recorded = SafeTensors.read(out.resolve("checkpoint.safetensors")).metadata().keySet().stream()
                .filter(k -> k.startsWith("test.setting.")).toList();
        assertEquals(List.copyOf(settings.keySet()), recorded);
    }

    @Test void resumingAnotherScriptsCheckpointIsRefusedSayingWhy() throws Exception {
        Path out = dir.resolve("other");
        run(out, (store, trainer, run) -> run.fit());
        run(out, (store, trainer, run) -> {
            TrainingRun other = new TrainingRun(graph, spec, store, trainer, train, null, new TrainingRun.Output(out, SCRIPT + "\n"));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, other::resume);
            assertEquals(out.resolve("checkpoint.safetensors") + " was written by another script or model (Tiny); resume with the script"
                    + " that started the run (" + out.resolve("model.nn") + ")", e.getMessage());
        });
    }

    /** A gradient that turns NaN with a finite loss is refused by the step's second half, before any weight moves. */
    @Test void theStepRefusesANaNGradientNamingItAndLeavesTheWeights() throws Exception {
        run(null, (store, trainer, run) -> {
            TrainStep step = trainer.trainStep();
            int[] order = new int[train.size()];
            for (int i = 0; i < order.length; i++) order[i] = i;
            TrainStep.Result r = step.gradients(train, order, 0, 64, 64, 1, 1);
            assertTrue(Double.isFinite(r.lossSum()));
            assertEquals(64, r.rows());
            Backend backend = store.backend();
            backend.upload(new float[] {Float.POSITIVE_INFINITY}, 0, Slice.of(store.grad("logits.weight"), 5, 1));
            List<NamedTensor> before = store.export();
            NumericalFaultException e = assertThrows(NumericalFaultException.class, () -> step.update(1, 1));
            assertEquals("a gradient became non-finite at step 1 (epoch 1): node 'logits' (dense) wrote Inf (first at element 5)"
                    + " into the gradient of logits.weight; the weights were not updated", e.getMessage());
            assertEquals(0.0, maxDifference(before, store.export()));
            assertEquals(0.0, maxDifference(store.exportState(), zeros(store.exportState())), "the momentum was not touched");
        });
    }

    private static List<NamedTensor> zeros(List<NamedTensor> like) {
        return like.stream().map(t -> new NamedTensor(t.name(), t.shape(), new float[t.data().length])).toList();
    }

    private static double maxDifference(List<NamedTensor> a, List<NamedTensor> b) {
        assertEquals(a.size(), b.size());
        double max = 0;
        for (int t = 0; t < a.size(); t++) {
            assertEquals(a.get(t).name(), b.get(t).name());
            float[] x = a.get(t).data();
            float[] y = b.get(t).data();
            for (int i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
        }
        return max;
    }
}
