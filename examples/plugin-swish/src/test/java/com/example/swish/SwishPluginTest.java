package com.example.swish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.tensor.Shape;
import org.neurite.testkit.LayerSchemaCheck;

/** The plugin as Neurite finds it: ServiceLoader, Guice, the registry and the kernel dispatch. */
class SwishPluginTest {
    @Test void serviceLoaderFindsThePluginWithBothLayersAndItsKernels() {
        NeuriteRuntime runtime = NeuriteRuntime.discover();
        List<String> plugins = runtime.plugins().stream().map(NeuritePlugin::name).toList();
        assertTrue(plugins.contains("swish-layers"), "plugins found: " + plugins);
        // The test class path holds this plugin and the backends, nothing else with layers.
        assertEquals(List.of("mish", "swish"), runtime.layers().names());
        List<String> kernels = runtime.kernelOverrides().stream()
                .map(k -> k.layer() + " on " + k.backend() + ": " + k.getClass().getSimpleName()).sorted().toList();
        assertEquals(List.of("mish on cpu: CpuMish", "mish on opencl: ClMish", "swish on opencl: ClSwish"), kernels);
        // Both layers dispatch per backend; the registry keeps the plugin's own types as the reference kernels.
        assertTrue(runtime.referenceLayer("swish").orElseThrow() instanceof Swish);
        assertTrue(runtime.referenceLayer("mish").orElseThrow() instanceof Mish);
        assertEquals("mish", runtime.layers().find("mish").orElseThrow().name());
        assertEquals("swish", runtime.layers().find("swish").orElseThrow().name());
    }

    @Test void theLossTheOptimizerAndTheScheduleReachTheRuntimesRegistries() {
        NeuriteRuntime runtime = NeuriteRuntime.of(List.of(new SwishPlugin()));
        assertEquals(List.of("label_smoothing_cross_entropy"), runtime.losses().names());
        assertEquals(List.of("adagrad"), runtime.optimizers().names());
        assertEquals(List.of("multi_step"), runtime.schedules().names());
        assertTrue(runtime.losses().require("label_smoothing_cross_entropy") instanceof LabelSmoothingCrossEntropy);
        assertEquals(List.of("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"),
                runtime.optimizers().require("adagrad").schema().specs().stream().map(s -> s.name()).toList());
    }

    @Test void bothSchemasAreDocumentedAndBind() {
        NeuriteRuntime runtime = NeuriteRuntime.of(List.of(new SwishPlugin()));
        assertEquals("beta=1, learn_beta=true",
                LayerSchemaCheck.check(runtime.layers().find("swish").orElseThrow(), Map.of(), Shape.of(16)).toString());
        assertEquals("", LayerSchemaCheck.check(runtime.layers().find("mish").orElseThrow(), Map.of(), Shape.of(3, 8, 8)).toString());
    }
}
