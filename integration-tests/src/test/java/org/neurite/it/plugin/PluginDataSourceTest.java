package org.neurite.it.plugin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.neurite.layer.ParamSpec.optional;

import com.google.inject.Module;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.data.DataSourceLoader;
import org.neurite.data.Dataset;
import org.neurite.data.TrainSectionData;
import org.neurite.diag.ModelException;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.Trainers;
import org.neurite.engine.TrainingRun;
import org.neurite.graph.TypedGraph;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ParamType;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.plugin.PluginModule;
import org.neurite.tensor.Shape;
import org.neurite.train.DataSource;
import org.neurite.train.Samples;
import org.neurite.train.TrainSpec;

/**
 * A data source from a plugin: {@code data = xor_points(size=256)} is checked against the
 * plugin's schema and check at file:line:col, loaded through the runtime's registry and trained
 * on; the core's sources come through the same registry and give the data they always gave.
 */
class PluginDataSourceTest {
    /** Points in [-1, 1)², labelled 1 when the two coordinates share a sign; seeded by the train section's seed. */
    public static final class XorPoints implements DataSource {
        @Override public String name() { return "xor_points"; }

        @Override public ParamSchema schema() {
            return ParamSchema.of(
                    optional("size", ParamType.INT, 512, "training points").range(1, 1_000_000),
                    optional("test_size", ParamType.INT, 128, "test points").range(1, 1_000_000));
        }

        @Override public void check(LayerArgs args) {
            if (args.getInt("test_size") > args.getInt("size")) {
                throw new ArgumentException("test_size", -1, "parameter 'test_size' must be at most size (" + args.getInt("size")
                        + "), got " + args.getInt("test_size"));
            }
        }

        @Override public Splits load(LayerArgs args, long seed, Path scriptFolder) {
            SplittableRandom rng = new SplittableRandom(seed);
            return new Splits(points(args.getInt("size"), rng, "training"), points(args.getInt("test_size"), rng, "test"));
        }

        private static Samples points(int n, SplittableRandom rng, String split) {
            float[] x = new float[2 * n];
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) {
                x[2 * i] = (float) (rng.nextDouble() * 2 - 1);
                x[2 * i + 1] = (float) (rng.nextDouble() * 2 - 1);
                labels[i] = x[2 * i] * x[2 * i + 1] > 0 ? 1 : 0;
            }
            return Samples.classification("xor_points", Shape.of(2), x, labels, 2, n + " generated " + split + " points");
        }
    }

    /** The plugin that contributes {@link XorPoints}. */
    public static final class XorPointsPlugin implements NeuritePlugin {
        @Override public String name() { return "xor-points"; }

        @Override public Module module() {
            return new PluginModule() {
                @Override protected void configure() {
                    dataSource(new XorPoints());
                }
            };
        }
    }

    private static final String SCRIPT = """
            model Net {
                input x: [2]
                h = dense(16) -> relu
                output logits = dense(2)
            }

            train Net {
                data = xor_points(size=256, test_size=64)
                optimizer = adam(lr=0.03); batch = 32; epochs = 8; seed = 3
            }
            """;

    @Test
    void aScriptTrainsOnThePluginsData() throws IOException {
        NeuriteRuntime runtime = ClassPathPlugins.with(new XorPointsPlugin());
        Script script = new ScriptLoader(runtime).parse("net.nn", SCRIPT);
        TypedGraph graph = script.mainModel();
        TrainSpec spec = script.training("Net").orElseThrow();
        DataSourceLoader.Splits data = TrainSectionData.load(spec, null, null, runtime.dataSources());
        assertEquals(256, data.train().size());
        assertEquals(64, data.test().size());
        assertEquals(2, data.train().classes());
        // The points are those the plugin generates from the section's seed.
        Samples expected = new XorPoints().load(spec.dataArgs(), 3, null).train();
        assertArrayEquals(expected.features(), data.train().features());
        try (Backend cpu = runtime.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> {});
             ParameterStore store = new ParameterStore(graph, cpu, spec.seed());
             Trainer trainer = Trainers.of(runtime).create(graph, store, spec)) {
            TrainingRun.Result result = new TrainingRun(graph, spec, store, trainer, data.train(), data.test(), null).fit();
            assertTrue(result.last().test().accuracy() > 0.8, "xor is learnt: " + result.last().test());
        }
    }

    @Test
    void theScriptCheckerUsesThePluginsSchemaAndCheck() {
        NeuriteRuntime runtime = ClassPathPlugins.with(new XorPointsPlugin());
        assertEquals(List.of("net.nn:8:43: error: xor_points: parameter 'test_size' must be at most size (256), got 300"),
                headlines(runtime, SCRIPT.replace("test_size=64", "test_size=300")));
        assertEquals(List.of("net.nn:8:12: error: unknown data source 'xor_point'; did you mean 'xor_points'?"),
                headlines(runtime, SCRIPT.replace("xor_points", "xor_point")));
        NeuriteRuntime core = ClassPathPlugins.with();
        assertEquals(List.of("net.nn:8:12: error: unknown data source 'xor_points' (data sources: adding, csv, idx, images, tensors, text)"),
                headlines(core, SCRIPT));
    }

    @Test
    void theCoresSourcesThroughTheRegistryGiveTheDataTheyAlwaysGave() throws IOException {
        NeuriteRuntime runtime = ClassPathPlugins.with();
        String adding = """
                model R {
                    input x: [10, 2]
                    h = lstm(8)
                    output y = dense(1)
                }
                train R { data = adding(length=10, size=50, test_size=20); loss = mse }
                """;
        TrainSpec spec = new ScriptLoader(runtime).parse("r.nn", adding).training("R").orElseThrow();
        DataSourceLoader.Splits viaRegistry = TrainSectionData.load(spec, null, null, runtime.dataSources());
        DataSourceLoader.Splits direct = DataSourceLoader.create("adding", spec.dataArgs(), spec.seed(), null);
        assertArrayEquals(direct.train().features(), viaRegistry.train().features());
        assertArrayEquals(direct.test().features(), viaRegistry.test().features());
        // As arrays (DataSource.load), every sample and target in order.
        DataSource.Splits arrays = runtime.dataSources().require("adding").load(spec.dataArgs(), spec.seed(), null);
        Dataset train = direct.train();
        assertArrayEquals(train.features(), arrays.train().features());
        assertEquals(train.size(), arrays.train().size());
        assertEquals(train.targetShape(), arrays.train().targetShape());
    }

    private static List<String> headlines(NeuriteRuntime runtime, String script) {
        ModelException e = assertThrows(ModelException.class, () -> new ScriptLoader(runtime).parse("net.nn", script));
        return e.diagnostics().stream().map(d -> d.headline()).toList();
    }
}
