package org.neurite.it.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.inject.Module;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.diag.ModelException;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.CoreTrainingPlugin;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.Trainers;
import org.neurite.engine.TrainingCallback;
import org.neurite.engine.TrainingRun;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.plugin.PluginException;
import org.neurite.plugin.PluginModule;
import org.neurite.train.Metric;
import org.neurite.train.TrainSpec;

/**
 * A metric from a plugin: every evaluation of a run records it ({@code val_error_rate}), a train
 * section watches it ({@code keep = best(metric="val_error_rate")}) in the direction the metric
 * declares (lower is better), and the script checker knows it. {@code error_rate} is 1 − accuracy,
 * so its values can be checked against the core's {@code accuracy} measured in the same pass.
 */
class PluginMetricTest {
    /** The fraction of rows whose arg-max output is not the label: lower is better. */
    public static final class ErrorRate implements Metric {
        @Override public String name() { return "error_rate"; }

        @Override public boolean classification() { return true; }

        @Override public boolean higherIsBetter() { return false; }

        @Override public Tally start() {
            return new Tally() {
                private long wrong;
                private long rows;

                @Override public void add(float[] outputs, float[] targets, int count, int width) {
                    for (int r = 0; r < count; r++) {
                        int best = 0;
                        for (int c = 1; c < width; c++) if (outputs[r * width + c] > outputs[r * width + best]) best = c;
                        if (best != (int) targets[r]) wrong++;
                    }
                    rows += count;
                }

                @Override public double value() { return (double) wrong / rows; }
            };
        }
    }

    /** The plugin that contributes {@link ErrorRate}. */
    public static final class ErrorRatePlugin implements NeuritePlugin {
        @Override public String name() { return "error-rate"; }

        @Override public Module module() {
            return new PluginModule() {
                @Override protected void configure() {
                    metric(new ErrorRate());
                }
            };
        }
    }

    private static final String SCRIPT = """
            model Net {
                input x: [8]
                h = dense(16) -> relu
                output logits = dense(2)
            }

            train Net {
                data = toy_quadrants; loss = cross_entropy; optimizer = adam(lr=0.01)
                batch = 32; epochs = 6; seed = 5
                validation = 0.25; keep = best(metric="val_error_rate")
            }
            """;

    @Test
    void aRunRecordsThePluginsMetricAndKeepsTheEpochItRanksBest() throws IOException {
        NeuriteRuntime runtime = ClassPathPlugins.with(new ErrorRatePlugin());
        assertEquals(List.of("accuracy", "error_rate"), runtime.metrics().names());
        Script script = new ScriptLoader(runtime).parse("net.nn", SCRIPT);
        TypedGraph graph = script.mainModel();
        TrainSpec spec = script.training("Net").orElseThrow();
        assertEquals("val_error_rate", spec.validation().keepBest());
        List<Map<String, Object>> records = new ArrayList<>();
        try (Backend cpu = runtime.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> {});
             ParameterStore store = new ParameterStore(graph, cpu, spec.seed());
             Trainer trainer = Trainers.of(runtime).create(graph, store, spec)) {
            TrainingRun run = new TrainingRun(graph, spec, store, trainer, ToyQuadrants.dataset(), null, null);
            run.callback(new TrainingCallback() {
                @Override public void epochEnd(TrainingRun.EpochEnd e) { records.add(e.record()); }
            });
            TrainingRun.Result result = run.fit();
            int best = 0;
            double lowest = Double.POSITIVE_INFINITY, highest = 0;
            for (Map<String, Object> r : records) {
                double error = ((Number) r.get("val_error_rate")).doubleValue();
                double accuracy = ((Number) r.get("val_accuracy")).doubleValue();
                assertEquals(1 - accuracy, error, 1e-12, "error rate and accuracy of one pass: " + r);
                highest = Math.max(highest, error);
                if (error < lowest) {
                    lowest = error;
                    best = ((Number) r.get("epoch")).intValue();
                }
            }
            assertEquals(6, records.size());
            // The epochs differ, so keeping the highest error rate instead (the direction of a loss misread) would fail here.
            assertTrue(highest > lowest, "the error rate changes over the run: " + records);
            assertEquals(best, result.kept().epoch(), "the kept epoch has the lowest error rate: " + records);
            assertTrue(lowest < 0.5, "the classifier learns something: " + lowest);
        }
    }

    @Test
    void theScriptCheckerListsThePluginsMetricAndRefusesOneItDoesNotRecord() {
        NeuriteRuntime runtime = ClassPathPlugins.with(new ErrorRatePlugin());
        ModelException e = assertThrows(ModelException.class,
                () -> new ScriptLoader(runtime).parse("net.nn", SCRIPT.replace("val_error_rate", "val_f1")));
        assertEquals(List.of("net.nn:10:43: error: best: parameter 'metric' must be one of val_loss, val_accuracy, val_error_rate"
                + " (the validation split's), got 'val_f1'"), e.diagnostics().stream().map(d -> d.headline()).toList());
        String regression = SCRIPT.replace("cross_entropy", "mse").replace("dense(2)", "dense(1)");
        e = assertThrows(ModelException.class, () -> new ScriptLoader(runtime).parse("net.nn", regression));
        assertEquals(List.of("net.nn:10:43: error: best: parameter 'metric' is val_error_rate, but a regression loss has no error_rate;"
                + " watch val_loss"), e.diagnostics().stream().map(d -> d.headline()).toList());
    }

    @Test
    void aMetricNameRegisteredTwiceFailsNamingBoth() {
        PluginException e = assertThrows(PluginException.class,
                () -> NeuriteRuntime.of(List.of(new CoreTrainingPlugin(), new ErrorRatePlugin(), new ErrorRatePlugin())));
        String origin = NeuriteRuntime.origin(new ErrorRate());
        assertEquals("metric 'error_rate' is registered twice: by " + origin + " and by " + origin, e.getMessage());
    }
}
