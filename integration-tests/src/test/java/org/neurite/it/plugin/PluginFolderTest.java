package org.neurite.it.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.backend.Backend;
import org.neurite.data.Dataset;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.EpochStats;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.graph.LayerRegistry;
import org.neurite.graph.TypedGraph;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerType;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.BackendProvider;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.plugin.PluginException;
import org.neurite.tensor.Shape;
import org.neurite.testkit.LayerHarness;
import org.neurite.testkit.PluginTestKit;
import org.neurite.train.TrainSpec;

/**
 * The example third-party plugin as a deployment uses it: its jar copied into a plugin folder,
 * loaded in its own class loader, called from a script, trained. Also the runtime's choice of
 * its CPU kernel for {@code mish}, which must train the same model as the generic kernel, and the
 * error for two copies of the jar.
 */
class PluginFolderTest {
    private static final String SCRIPT = """
            model SwishNet {
                input x: [8]
                h = dense(16) -> swish(beta=1.5)
                m = dense(16) -> mish
                output logits = dense(2)
            }

            train SwishNet {
                data = toy_quadrants; loss = softmax_cross_entropy
                optimizer = sgd(lr=0.1, momentum=0.9); batch = 32; epochs = 3; seed = 5
            }
            """;

    @TempDir Path dir;

    /** Mean training loss of each epoch. */
    private static List<Double> train(LayerRegistry layers, NeuriteRuntime runtime) {
        Script script = new ScriptLoader(layers).parse("swish.nn", SCRIPT);
        TypedGraph graph = script.mainModel();
        TrainSpec spec = script.training("SwishNet").orElseThrow();
        Dataset data = ToyQuadrants.dataset();
        List<Double> losses = new ArrayList<>();
        try (Backend cpu = runtime.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> {});
             ParameterStore store = new ParameterStore(graph, cpu, spec.seed());
             Trainer trainer = new Trainer(graph, store, spec)) {
            for (int epoch = 1; epoch <= spec.epochs(); epoch++) {
                EpochStats stats = trainer.trainEpoch(data, epoch, TrainingListener.NONE);
                losses.add(stats.loss());
            }
        }
        return losses;
    }

    @Test
    void aScriptUsingLayersFromAPluginJarTrainsAndItsLossFalls() throws IOException {
        Path jar = SwishPluginJar.copyInto(dir.resolve("plugins"), "example-plugin-swish.jar");
        // Not on this test's class path: only the plugin folder makes the layers exist.
        assertThrows(ClassNotFoundException.class, () -> Class.forName("com.example.swish.Swish"));
        try (NeuriteRuntime runtime = NeuriteRuntime.discover(List.of(dir.resolve("plugins")))) {
            LayerType swish = runtime.layers().find("swish").orElseThrow();
            assertEquals("com.example.swish.Swish (" + jar + ")", NeuriteRuntime.origin(swish));
            // swish dispatches to its OpenCL kernel there, so the registry holds a dispatcher; the plugin's own type came from the jar
            URLClassLoader loader = (URLClassLoader) runtime.referenceLayer("swish").orElseThrow().getClass().getClassLoader();
            assertEquals(List.of(jar.toUri().toURL()), List.of(loader.getURLs()));

            List<Double> losses = train(runtime.layers(), runtime);
            assertTrue(losses.get(2) < losses.get(0) * 0.9, "the loss falls by more than 10% in 3 epochs: " + losses);
        }
    }

    @Test
    void theCpuKernelFromTheJarRunsOnCpuAndTrainsLikeTheGenericKernel() throws IOException {
        SwishPluginJar.copyInto(dir.resolve("plugins"), "example-plugin-swish.jar");
        try (NeuriteRuntime runtime = NeuriteRuntime.discover(List.of(dir.resolve("plugins")))) {
            LayerType mish = runtime.layers().find("mish").orElseThrow();
            LayerType generic = runtime.referenceLayer("mish").orElseThrow();
            assertEquals(List.of("cpu", "opencl"), runtime.kernelOverrides("mish").stream().map(k -> k.backend()).sorted().toList());
            try (Backend cpu = runtime.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> {});
                 LayerHarness chosen = LayerHarness.compile(mish, LayerArgs.empty(), 2, cpu, Shape.of(16));
                 LayerHarness reference = LayerHarness.compile(generic, LayerArgs.empty(), 2, cpu, Shape.of(16))) {
                assertEquals("com.example.swish.CpuMish$Kernel", chosen.kernel().getClass().getName());
                assertEquals("com.example.swish.Mish$Kernel", reference.kernel().getClass().getName());
            }

            // The same script, seed and data with every layer's generic kernel: the same training to float rounding.
            List<LayerType> genericTypes = new ArrayList<>();
            for (LayerType t : runtime.layers().all()) genericTypes.add(runtime.referenceLayer(t.name()).orElseThrow());
            List<Double> withCpuKernel = train(runtime.layers(), runtime);
            List<Double> withGenericKernel = train(new LayerRegistry(genericTypes), runtime);
            for (int e = 0; e < 3; e++) {
                assertEquals(withGenericKernel.get(e), withCpuKernel.get(e), 1e-4 * withGenericKernel.get(e), "epoch " + (e + 1));
            }
            // ...but not bit for bit: the two kernels really are different code.
            assertNotEquals(withGenericKernel, withCpuKernel);
        }
    }

    @Test
    void theTestKitChecksTheJarsLayersOnEveryBackendOfThisDeployment() throws IOException {
        SwishPluginJar.copyInto(dir.resolve("plugins"), "example-plugin-swish.jar");
        try (NeuriteRuntime runtime = NeuriteRuntime.discover(List.of(dir.resolve("plugins")))) {
            NeuritePlugin swish = runtime.plugins().stream().filter(p -> p.name().equals("swish-layers")).findFirst().orElseThrow();
            BackendProvider opencl = runtime.backends().get("opencl");
            for (String layer : List.of("swish", "mish")) {
                List<String> checks = PluginTestKit.forLayer(swish, layer).inputs(Shape.of(4, 8)).run().checks();
                String tensors = layer.equals("swish")
                        ? "[output [2048, 4, 8], gradient of input 0, gradient of beta, beta after the passes]"
                        : "[output [2048, 4, 8], gradient of input 0]";
                assertTrue(checks.contains("parity of the generic kernel on cpu, 2 threads with cpu, 1 thread: bit-identical on "
                        + tensors), String.join("\n", checks));
                // The generic kernel, written on the Backend op set only, also runs on OpenCL where it is available.
                String onOpenCl = opencl == null ? null : opencl.availability() == null
                        ? "parity of the generic kernel on opencl with cpu, 1 thread: within 1e-04 relative + 1e-05 absolute on " + tensors
                        : "backend opencl not checked: " + opencl.availability();
                if (onOpenCl != null) assertTrue(checks.contains(onOpenCl), String.join("\n", checks));
            }
        }
    }

    @Test
    void twoCopiesOfThePluginJarFailNamingBoth() throws IOException {
        Path first = SwishPluginJar.copyInto(dir.resolve("plugins"), "swish-1.0.jar");
        Path second = SwishPluginJar.copyInto(dir.resolve("plugins"), "swish-1.1.jar");
        PluginException e = assertThrows(PluginException.class, () -> NeuriteRuntime.discover(List.of(dir.resolve("plugins"))));
        assertEquals("layer 'swish' is registered twice: by com.example.swish.Swish (" + first
                + ") and by com.example.swish.Swish (" + second + ")", e.getMessage());
    }

    @Test
    void theSameJarInTwoFoldersFailsToo() throws IOException {
        Path first = SwishPluginJar.copyInto(dir.resolve("site"), "example-plugin-swish.jar");
        Path second = SwishPluginJar.copyInto(dir.resolve("user"), "example-plugin-swish.jar");
        PluginException e = assertThrows(PluginException.class,
                () -> NeuriteRuntime.discover(List.of(dir.resolve("site"), dir.resolve("user"))));
        assertEquals("layer 'swish' is registered twice: by com.example.swish.Swish (" + first
                + ") and by com.example.swish.Swish (" + second + ")", e.getMessage());
    }
}
