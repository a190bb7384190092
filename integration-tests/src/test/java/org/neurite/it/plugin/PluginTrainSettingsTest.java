package org.neurite.it.plugin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.backend.Backend;
import org.neurite.diag.ModelException;
import org.neurite.dsl.ScriptLoader;
import org.neurite.embedded.Model;
import org.neurite.embedded.Neurite;
import org.neurite.engine.Evaluation;
import org.neurite.engine.Loss;
import org.neurite.engine.Trainers;
import org.neurite.engine.TrainingCallback;
import org.neurite.engine.TrainingRun;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;
import org.neurite.train.TrainSpec;

/**
 * What a plugin jar in a folder adds to a train section beyond a name, through the embedded API
 * ({@link Neurite#load(Path, String, String, List)}): a loss with arguments
 * ({@code label_smoothing_cross_entropy(epsilon=0.05)}) and a learning-rate schedule
 * ({@code multi_step}, PyTorch's {@code MultiStepLR}), each checked by the script checker at
 * file:line:col and used by the training run.
 */
class PluginTrainSettingsTest {
    private static final String SCRIPT = """
            model Net {
                input x: [8]
                h = dense(16) -> swish
                output logits = dense(2)
            }

            train Net {
                data = toy_quadrants; loss = label_smoothing_cross_entropy(epsilon=0.05)
                optimizer = adagrad(lr=0.3); schedule = multi_step(milestones=[2, 3], gamma=0.5)
                batch = 32; epochs = 4; seed = 5
            }
            """;

    /** Logits [2, 3] and labels whose loss is worked by hand in the plugin's own test: Σ rows at ε = 0.05. */
    private static final float[] LOGITS = {1, 2, 3, 0.5f, -1, 0};
    private static final float[] LABELS = {2, 0};
    private static final double LOSS_SUM_EPSILON_005 = 1.0950699031144422;

    @TempDir Path dir;

    @Test
    void theEmbeddedApiTrainsWithAPluginsLossArgumentsAndSchedule() throws IOException {
        Path plugins = dir.resolve("plugins");
        SwishPluginJar.copyInto(plugins, "example-plugin-swish.jar");
        Path script = Files.writeString(dir.resolve("net.nn"), SCRIPT);
        List<Float> rates = new ArrayList<>();
        List<Double> losses = new ArrayList<>();
        try (Model model = Neurite.load(script, null, "cpu", List.of(plugins))) {
            TrainSpec spec = model.spec();
            assertEquals(0.05, spec.lossArgs().getDouble("epsilon"), 1e-12);
            assertEquals("multi_step(milestones=[2, 3], gamma=0.5)", spec.schedule().toString());
            TrainingRun.Result result = model.fit(ToyQuadrants.dataset(), new TrainingCallback() {
                @Override public void epochEnd(TrainingRun.EpochEnd e) {
                    rates.add(e.lr());
                    losses.add(e.train().loss());
                }
            });
            // MultiStepLR(lr=0.3, milestones=[2, 3], gamma=0.5) over epochs 0..3: 0.3, 0.3, 0.15, 0.075.
            assertEquals(List.of(0.3f, 0.3f, 0.15f, 0.075f), rates);
            assertTrue(losses.get(3) < losses.get(0), "the loss falls: " + losses);
            assertEquals(4, result.last().epoch());
            Evaluation evaluation = model.evaluate(ToyQuadrants.dataset());
            assertTrue(evaluation.loss() > 0 && Double.isFinite(evaluation.loss()), "evaluated with the plugin's loss: " + evaluation);
        }
    }

    @Test
    void theTrainerComputesTheLossWithTheScriptsEpsilon() throws IOException {
        Path plugins = dir.resolve("plugins");
        SwishPluginJar.copyInto(plugins, "example-plugin-swish.jar");
        try (NeuriteRuntime runtime = NeuriteRuntime.discover(List.of(plugins));
             Backend cpu = runtime.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> {})) {
            TrainSpec spec = new ScriptLoader(runtime).parse("net.nn", SCRIPT).training("Net").orElseThrow();
            Loss loss = Trainers.of(runtime).loss(spec);
            Tensor logits = cpu.allocate(Shape.of(2, 3));
            cpu.upload(LOGITS, logits);
            Tensor labels = cpu.allocate(Shape.of(2));
            cpu.upload(LABELS, labels);
            Tensor grad = cpu.allocate(Shape.of(2, 3));
            assertEquals(LOSS_SUM_EPSILON_005, loss.compute(logits, labels, grad, 2, 2), 1e-5);
            assertArrayEquals(new float[] {0.036681953f, 0.114030902f, -0.150712855f, -0.21005864f, 0.052642493f, 0.157416147f},
                    cpu.download(grad), 1e-6f);
        }
    }

    @Test
    void badArgumentsAndUnknownNamesArePositioned() throws IOException {
        Path plugins = dir.resolve("plugins");
        SwishPluginJar.copyInto(plugins, "example-plugin-swish.jar");
        try (NeuriteRuntime runtime = NeuriteRuntime.discover(List.of(plugins))) {
            assertEquals(List.of("net.nn:8:72: error: label_smoothing_cross_entropy: parameter 'epsilon' must be in [0, 1], got 1.5"),
                    headlines(runtime, SCRIPT.replace("epsilon=0.05", "epsilon=1.5")));
            assertEquals(List.of("net.nn:8:64: error: unknown parameter 'eps' for 'label_smoothing_cross_entropy'; did you mean 'epsilon'?"),
                    headlines(runtime, SCRIPT.replace("epsilon=0.05", "eps=0.05")));
            assertEquals(List.of("net.nn:9:67: error: multi_step: parameter 'milestones' must be increasing epochs of at least 1, got [3, 2]"),
                    headlines(runtime, SCRIPT.replace("[2, 3]", "[3, 2]")));
        }
        try (NeuriteRuntime core = NeuriteRuntime.discover(List.of())) {
            String withoutPlugin = SCRIPT.replace(" -> swish", "").replace("label_smoothing_cross_entropy(epsilon=0.05)", "cross_entropy")
                    .replace("adagrad", "adam");
            assertEquals(List.of("net.nn:9:42: error: unknown schedule 'multi_step' (schedules: constant, cosine, exponential, step)"),
                    headlines(core, withoutPlugin));
        }
    }

    private static List<String> headlines(NeuriteRuntime runtime, String script) {
        ModelException e = assertThrows(ModelException.class, () -> new ScriptLoader(runtime).parse("net.nn", script));
        return e.diagnostics().stream().map(d -> d.headline()).toList();
    }
}
