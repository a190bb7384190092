package org.neurite.it.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.inject.Module;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.backend.Backend;
import org.neurite.data.Dataset;
import org.neurite.diag.ModelException;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.CoreTrainingPlugin;
import org.neurite.engine.EpochStats;
import org.neurite.engine.MeanSquaredError;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.Trainers;
import org.neurite.engine.TrainingListener;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.plugin.PluginException;
import org.neurite.plugin.PluginModule;
import org.neurite.tensor.Tensor;
import org.neurite.train.TrainSpec;

/**
 * A loss and an optimizer from a plugin jar ({@code examples/plugin-swish}'s
 * {@code label_smoothing_cross_entropy} and {@code adagrad}) named by a script and trained with,
 * the jar loaded from a plugin folder in its own class loader: the runtime's injector hands the
 * engine's {@link Trainers} the registries the plugin fed. Also what a script gets without the
 * plugin, and a plugin that reuses a core name.
 */
class PluginLossAndOptimizerTest {
    private static final String SCRIPT = """
            model Net {
                input x: [8]
                h = dense(16) -> swish
                output logits = dense(2)
            }

            train Net {
                data = toy_quadrants; loss = label_smoothing_cross_entropy
                optimizer = adagrad(lr=0.3, initial_accumulator_value=0.1); batch = 32; epochs = 3; seed = 5
            }
            """;

    @TempDir Path dir;

    @Test
    void aScriptTrainsWithTheLossAndTheOptimizerOfAPluginJar() throws IOException {
        Path jar = SwishPluginJar.copyInto(dir.resolve("plugins"), "example-plugin-swish.jar");
        try (NeuriteRuntime runtime = NeuriteRuntime.discover(List.of(dir.resolve("plugins")))) {
            assertEquals("com.example.swish.Adagrad (" + jar + ")", NeuriteRuntime.origin(runtime.optimizers().require("adagrad")));
            assertEquals(List.of("cross_entropy", "label_smoothing_cross_entropy", "mse", "softmax_cross_entropy"),
                    runtime.losses().names());

            Script script = new ScriptLoader(runtime).parse("net.nn", SCRIPT);
            TypedGraph graph = script.mainModel();
            TrainSpec spec = script.training("Net").orElseThrow();
            assertEquals(0.1, spec.optimizer().args().getDouble("initial_accumulator_value"), 1e-9);
            Dataset data = ToyQuadrants.dataset();
            List<Double> losses = new ArrayList<>();
            try (Backend cpu = runtime.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> {});
                 ParameterStore store = new ParameterStore(graph, cpu, spec.seed());
                 Trainer trainer = Trainers.of(runtime).create(graph, store, spec)) {
                assertEquals("label_smoothing_cross_entropy", trainer.loss().name());
                for (int epoch = 1; epoch <= spec.epochs(); epoch++) {
                    EpochStats stats = trainer.trainEpoch(data, epoch, TrainingListener.NONE);
                    losses.add(stats.loss());
                }
                // The plugin's optimizer kept its state in the store (saved with a checkpoint): one
                // running sum per trainable parameter, each grown past its initial 0.1 by the squared gradients.
                Map<String, Tensor> state = store.stateTensors();
                assertEquals(store.trainable().size(), state.size(), state.keySet().toString());
                for (var e : state.entrySet()) {
                    assertTrue(e.getKey().endsWith("#adagrad.sum"), e.getKey());
                    float[] sums = cpu.download(e.getValue());
                    for (float s : sums) assertTrue(s > 0.1f, e.getKey() + " holds " + s);
                }
            }
            // Smoothing keeps the loss above ε·log 2 ≈ 0.069 even when every point is right; it starts near log 2.
            assertTrue(losses.get(2) < losses.get(0) * 0.9, "the loss falls by more than 10% in 3 epochs: " + losses);
        }
    }

    @Test
    void withoutThePluginTheScriptNamesTheLossThatIsMissingAndWhatExists() throws IOException {
        try (NeuriteRuntime runtime = NeuriteRuntime.discover(List.of())) {
            String withoutSwish = SCRIPT.replace(" -> swish", "");
            ModelException e = assertThrows(ModelException.class, () -> new ScriptLoader(runtime).parse("net.nn", withoutSwish));
            assertEquals(List.of(
                    "net.nn:8:34: error: unknown loss 'label_smoothing_cross_entropy' (losses: cross_entropy, mse, softmax_cross_entropy)"),
                    e.diagnostics().stream().map(d -> d.headline()).toList());
            String coreLoss = withoutSwish.replace("label_smoothing_cross_entropy", "mse");
            e = assertThrows(ModelException.class, () -> new ScriptLoader(runtime).parse("net.nn", coreLoss));
            assertEquals(List.of("net.nn:9:17: error: unknown optimizer 'adagrad'; did you mean 'adam'?"),
                    e.diagnostics().stream().map(d -> d.headline()).toList());
        }
    }

    @Test
    void theCoresLossAndOptimizerFromTheRegistriesTrainBitForBitAsByName() {
        String core = SCRIPT.replace(" -> swish", "").replace("label_smoothing_cross_entropy", "cross_entropy")
                .replace("adagrad(lr=0.3, initial_accumulator_value=0.1)", "adam(lr=0.01, weight_decay=0.001)");
        try (NeuriteRuntime runtime = NeuriteRuntime.discover(List.of())) {
            Script script = new ScriptLoader(runtime).parse("net.nn", core);
            TypedGraph graph = script.mainModel();
            TrainSpec spec = script.training("Net").orElseThrow();
            List<List<Double>> runs = new ArrayList<>();
            for (boolean fromRegistry : new boolean[] {true, false}) {
                List<Double> losses = new ArrayList<>();
                try (Backend cpu = runtime.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> {});
                     ParameterStore store = new ParameterStore(graph, cpu, spec.seed());
                     Trainer trainer = fromRegistry ? Trainers.of(runtime).create(graph, store, spec) : new Trainer(graph, store, spec)) {
                    for (int epoch = 1; epoch <= spec.epochs(); epoch++) {
                        losses.add(trainer.trainEpoch(ToyQuadrants.dataset(), epoch, TrainingListener.NONE).loss());
                    }
                }
                runs.add(losses);
            }
            assertEquals(runs.get(1), runs.get(0));
        }
    }

    /** A plugin that registers a loss under a name the core already uses. */
    public static final class AnotherMse implements NeuritePlugin {
        @Override public String name() { return "another-mse"; }

        @Override public Module module() {
            return new PluginModule() {
                @Override protected void configure() {
                    loss(new MeanSquaredError());
                }
            };
        }
    }

    @Test
    void aLossNameRegisteredTwiceFailsNamingBoth() {
        PluginException e = assertThrows(PluginException.class,
                () -> NeuriteRuntime.of(List.of(new CoreTrainingPlugin(), new AnotherMse())));
        String core = NeuriteRuntime.origin(new MeanSquaredError());
        assertEquals("loss 'mse' is registered twice: by " + core + " and by " + core, e.getMessage());
    }
}
