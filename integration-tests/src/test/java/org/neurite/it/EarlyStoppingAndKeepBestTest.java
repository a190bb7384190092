package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.backend.Backend;
import org.neurite.data.Dataset;
import org.neurite.data.DatasetLocator;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingCallback;
import org.neurite.engine.TrainingRun;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.plugin.BackendOptions;
import org.neurite.train.TrainSpec;
import org.neurite.train.ValidationSpec;

/**
 * {@code validation}, {@code early_stopping} and {@code keep = best} on a run whose validation
 * loss rises on purpose: a 100k-parameter classifier trained with Adam at a high rate on 48
 * Fashion-MNIST images memorises them within a few epochs, so the loss on the 48 images held out
 * for validation falls and then climbs. The run must stop {@code patience} epochs after its best
 * validation loss, {@code model.safetensors} must hold exactly the weights of a run that trained
 * only up to that best epoch, the checkpoint the last epoch's, and a run interrupted after the
 * best epoch and resumed must end identically.
 */
class EarlyStoppingAndKeepBestTest {
    static final String SCRIPT = """
            model Wide {
                input image: [1, 28, 28]
                h = flatten -> dense(128) -> relu
                output logits = dense(10)
            }
            train Wide {
                data = fashion_mnist
                loss = softmax_cross_entropy
                optimizer = adam(lr=0.01)
                batch = 16
                epochs = 30
                seed = 5
                validation = 0.5
                early_stopping = patience(2, metric="val_loss")
                keep = best(metric="val_loss")
            }
            """;

    @TempDir Path dir;

    final TypedGraph graph = new ScriptLoader(Fixtures.RUNTIME.layers()).parse("wide.nn", SCRIPT).mainModel();
    final TrainSpec spec = new ScriptLoader(Fixtures.RUNTIME.layers()).parse("wide.nn", SCRIPT).training("Wide").orElseThrow();
    final Dataset images;
    final Dataset test;

    EarlyStoppingAndKeepBestTest() throws Exception {
        DatasetLocator.Located data = Fixtures.bundledSubset();
        images = data.train().head(96);
        test = data.test().head(64);
    }

    @FunctionalInterface interface Body {
        TrainingRun.Result fit(TrainingRun run) throws Exception;
    }

    /** Trains {@code spec} into {@code out} on a fresh one-thread CPU backend; returns the result. */
    private TrainingRun.Result run(TrainSpec spec, Path out, Body body) throws Exception {
        try (Backend cpu = Fixtures.RUNTIME.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> { });
             ParameterStore store = new ParameterStore(graph, cpu, spec.seed());
             Trainer trainer = new Trainer(graph, store, spec)) {
            TrainingRun run = new TrainingRun(graph, spec, store, trainer, images, test, new TrainingRun.Output(out, SCRIPT));
            TrainingRun.Result r = body.fit(run);
            if (!r.interrupted()) {
                // After the run the store holds the kept weights: what a Java caller predicts with.
                assertWeightsEqual(SafeTensors.read(out.resolve("model.safetensors")).tensors(), store.export(), "store after fit");
            }
            return r;
        }
    }

    @Test void theRunStopsAfterItsPatienceAndKeepsTheBestEpochsWeights() throws Exception {
        Path out = dir.resolve("early");
        List<Double> valLosses = new ArrayList<>();
        TrainingRun.Result r = run(spec, out, run -> {
            assertEquals(48, run.train().size(), "half of the 96 images trained on");
            assertEquals(48, run.validation().size(), "half held out");
            return run.callback(new TrainingCallback() {
                @Override public void epochEnd(TrainingRun.EpochEnd e) { valLosses.add(e.validation().loss()); }
            }).fit();
        });
        // The rule applied to what was seen: the best epoch, and the first epoch two past it.
        int best = 1;
        int stop = 0;
        for (int e = 1; e <= valLosses.size() && stop == 0; e++) {
            if (valLosses.get(e - 1) < valLosses.get(best - 1)) best = e;
            else if (e - best >= 2) stop = e;
        }
        assertTrue(best > 1, "the validation loss fell at first: " + valLosses);
        assertTrue(valLosses.get(valLosses.size() - 1) > valLosses.get(best - 1), "then rose: " + valLosses);
        assertTrue(r.stoppedEarly(), "stopped early: " + valLosses);
        assertFalse(r.interrupted());
        assertEquals(stop, r.last().epoch(), valLosses.toString());
        assertEquals(stop, valLosses.size(), "no epoch after the stop");
        assertEquals(best, r.kept().epoch(), valLosses.toString());
        assertEquals("val_loss has not improved for 2 epochs (best " + String.format(Locale.ROOT, "%.4f", valLosses.get(best - 1))
                + " after epoch " + best + ")", r.stopReason());

        // model.safetensors is the best epoch's weights: exactly what a run of `best` epochs ends with.
        var kept = SafeTensors.read(out.resolve("model.safetensors"));
        assertEquals(Integer.toString(best), kept.metadata().get(Checkpoints.EPOCH));
        Path shortRun = dir.resolve("short");
        TrainSpec upToBest = new TrainSpec(spec.model(), spec.data(), spec.dataArgs(), spec.loss(), spec.optimizer(), spec.schedule(),
                spec.batch(), best, spec.seed(), spec.clipNorm(), spec.augment(),
                new ValidationSpec(0.5, null, null), spec.span());
        run(upToBest, shortRun, TrainingRun::fit);
        assertWeightsEqual(SafeTensors.read(shortRun.resolve("model.safetensors")).tensors(), kept.tensors(), "kept = best epoch's");

        // The checkpoint holds the last epoch's, which differ; the log has every epoch, marked.
        var checkpoint = SafeTensors.read(out.resolve("checkpoint.safetensors"));
        assertEquals(Integer.toString(stop), checkpoint.metadata().get(Checkpoints.EPOCH));
        assertTrue(differ(kept.tensors(), checkpoint.tensors()), "the last epoch's weights are not the best's");
        List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
        assertEquals(stop, lines.size());
        ObjectMapper json = new ObjectMapper();
        for (int e = 1; e <= stop; e++) {
            JsonNode record = json.readTree(lines.get(e - 1));
            assertEquals(valLosses.get(e - 1), record.get("val_loss").asDouble(), 0.0);
            assertNotNull(record.get("test_loss"), "the test split is still reported");
            boolean improved = e == 1 || valLosses.get(e - 1) < valLosses.subList(0, e - 1).stream().mapToDouble(d -> d).min().orElseThrow();
            assertEquals(improved, record.get("kept").asBoolean(), "epoch " + e);
        }
    }

    @Test void aRunInterruptedAfterItsBestEpochAndResumedStopsAndKeepsAsOneThatNeverStopped() throws Exception {
        Path straight = dir.resolve("straight");
        TrainingRun.Result whole = run(spec, straight, TrainingRun::fit);
        int best = whole.kept().epoch();
        Path broken = dir.resolve("broken");
        TrainingRun.Result first = run(spec, broken, run -> run.callback(new TrainingCallback() {
            @Override public void batchEnd(int epoch, long done, long total, double loss, double accuracy) {
                if (epoch == best + 1 && done == 32) run.requestStop();   // inside the epoch after the best, as Ctrl-C
            }
        }).fit());
        assertTrue(first.interrupted());
        TrainingRun.Result resumed = run(spec, broken, run -> {
            run.resume();
            return run.fit();
        });
        assertEquals(whole.last().epoch(), resumed.last().epoch(), "stopped after the same epoch");
        assertEquals(best, resumed.kept().epoch(), "the best epoch came before the interruption");
        assertEquals(whole.stopReason(), resumed.stopReason());
        assertWeightsEqual(SafeTensors.read(straight.resolve("model.safetensors")).tensors(),
                SafeTensors.read(broken.resolve("model.safetensors")).tensors(), "kept weights");
        assertWeightsEqual(SafeTensors.read(straight.resolve("checkpoint.safetensors")).tensors(),
                SafeTensors.read(broken.resolve("checkpoint.safetensors")).tensors(), "checkpoint");
        assertEquals(Files.readAllLines(straight.resolve("metrics.jsonl")).size(), Files.readAllLines(broken.resolve("metrics.jsonl")).size());
    }

    @Test void aRunThatStoppedEarlyHasNothingToResume() throws Exception {
        Path out = dir.resolve("stopped");
        TrainingRun.Result r = run(spec, out, TrainingRun::fit);
        assertTrue(r.stoppedEarly());
        assertTrue(r.last().epoch() < spec.epochs(), "stopped before its last epoch");
        byte[] model = Files.readAllBytes(out.resolve("model.safetensors"));
        byte[] checkpoint = Files.readAllBytes(out.resolve("checkpoint.safetensors"));
        byte[] metrics = Files.readAllBytes(out.resolve("metrics.jsonl"));
        // Resuming would train past the stop that the run that never stopped made: it is refused,
        // before a file changes, naming why the run stopped.
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> run(spec, out, run -> {
            run.resume();
            return run.fit();
        }));
        assertEquals("the run in " + out + " stopped early after epoch " + r.last().epoch() + ": " + r.stopReason()
                + "; it has nothing left to resume (more --epochs would not change that): start a new run", refused.getMessage());
        assertArrayEquals(model, Files.readAllBytes(out.resolve("model.safetensors")));
        assertArrayEquals(checkpoint, Files.readAllBytes(out.resolve("checkpoint.safetensors")));
        assertArrayEquals(metrics, Files.readAllBytes(out.resolve("metrics.jsonl")));
    }

    private static void assertWeightsEqual(List<NamedTensor> expected, List<NamedTensor> actual, String what) {
        List<NamedTensor> a = expected.stream().filter(t -> !t.name().contains("#")).toList();
        List<NamedTensor> b = actual.stream().filter(t -> !t.name().contains("#")).toList();
        assertEquals(a.size(), b.size(), what);
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).name(), b.get(i).name(), what);
            assertArrayEquals(a.get(i).data(), b.get(i).data(), 0f, what + ": " + a.get(i).name() + " bit for bit");
        }
    }

    private static boolean differ(List<NamedTensor> weights, List<NamedTensor> checkpoint) {
        for (NamedTensor w : weights) {
            for (NamedTensor c : checkpoint) {
                if (c.name().equals(w.name()) && !Arrays.equals(c.data(), w.data())) return true;
            }
        }
        return false;
    }
}
