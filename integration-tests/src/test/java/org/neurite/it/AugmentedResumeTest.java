package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.backend.Backend;
import org.neurite.data.Dataset;
import org.neurite.data.DatasetLocator;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingCallback;
import org.neurite.engine.TrainingRun;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.plugin.BackendOptions;
import org.neurite.train.TrainSpec;

/**
 * Augmentation ({@code augment = [...]}) keeps a run reproducible: a run stopped inside its
 * second epoch and resumed from the checkpoint ends with the weights, bit for bit, of one that
 * never stopped, although every sample was cropped, flipped, turned and jittered on the way. It
 * also shows the augmentation is real (the weights differ from the same run without it) and
 * that evaluation sees the pictures as they are.
 * A small conv net on 192 images of the bundled Fashion-MNIST subset, batch 64 (3 steps an epoch).
 */
class AugmentedResumeTest {
    static final String SCRIPT = """
            model Small {
                input image: [1, 28, 28]
                h = conv(4, kernel=5) -> relu -> maxpool(2) -> flatten
                output logits = dense(10)
            }
            train Small {
                data = fashion_mnist
                optimizer = sgd(lr=0.05, momentum=0.9)
                batch = 64
                epochs = 2
                seed = 11
                augment = [random_crop(28, pad=4), flip(horizontal), rotate(degrees=10), jitter(brightness=0.2, contrast=0.2)]
            }
            """;

    @TempDir Path dir;

    final Script script = new ScriptLoader(Fixtures.RUNTIME.layers()).parse("small.nn", SCRIPT);
    final TypedGraph graph = script.mainModel();
    final TrainSpec spec = script.training("Small").orElseThrow();
    final DatasetLocator.Located data;
    final Dataset train;

    AugmentedResumeTest() throws Exception {
        data = Fixtures.bundledSubset();
        train = data.train().head(192);
    }

    private List<NamedTensor> run(TrainSpec spec, Path out, RunBody body) throws Exception {
        try (Backend cpu = Fixtures.RUNTIME.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> { });
             ParameterStore store = new ParameterStore(graph, cpu, spec.seed());
             Trainer trainer = new Trainer(graph, store, spec)) {
            TrainingRun run = new TrainingRun(graph, spec, store, trainer, train, data.test().head(64),
                    out == null ? null : new TrainingRun.Output(out, SCRIPT));
            body.accept(trainer, run);
            return store.export();
        }
    }

    @FunctionalInterface interface RunBody {
        void accept(Trainer trainer, TrainingRun run) throws Exception;
    }

    @Test void anAugmentedRunStoppedInsideAnEpochAndResumedEndsBitForBitWhereAnUninterruptedOneEnds() throws Exception {
        assertEquals(4, spec.augment().size());
        List<NamedTensor> straight = run(spec, dir.resolve("straight"), (trainer, run) -> assertFalse(run.fit().stopped()));
        Path stopped = dir.resolve("stopped");
        run(spec, stopped, (trainer, run) -> {
            TrainingRun.Result r = run.callback(new TrainingCallback() {
                @Override public void batchEnd(int epoch, long done, long total, double loss, double accuracy) {
                    if (epoch == 2 && done == 64) run.requestStop();
                }
            }).fit();
            assertEquals(4, r.stoppedAt().step(), "stopped after the first step of epoch 2");
        });
        List<NamedTensor> resumed = run(spec, stopped, (trainer, run) -> {
            Checkpoints.Position at = run.resume();
            assertEquals(64, at.epochSamples());
            assertNull(run.fit().stoppedAt());
            assertEquals(6, trainer.step());
        });
        assertEquals(0.0, maxDifference(straight, resumed), "bit for bit");

        TrainSpec plain = new TrainSpec(spec.model(), spec.data(), spec.dataArgs(), spec.loss(), spec.optimizer(), spec.schedule(),
                spec.batch(), spec.epochs(), spec.seed(), spec.clipNorm(), spec.span());
        List<NamedTensor> unaugmented = run(plain, null, (trainer, run) -> run.fit());
        assertFalse(maxDifference(straight, unaugmented) == 0, "augmentation changed what was learned");
    }

    @Test void evaluationSeesThePicturesAsTheyAre() throws Exception {
        TrainSpec plain = new TrainSpec(spec.model(), spec.data(), spec.dataArgs(), spec.loss(), spec.optimizer(), spec.schedule(),
                spec.batch(), spec.epochs(), spec.seed(), spec.clipNorm(), spec.span());
        double[] losses = new double[2];
        run(spec, null, (trainer, run) -> losses[0] = trainer.evaluate(data.test().head(64), 1).loss());
        run(plain, null, (trainer, run) -> losses[1] = trainer.evaluate(data.test().head(64), 1).loss());
        assertEquals(losses[1], losses[0], 0.0, "same initial weights, same test pictures, same loss");
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
