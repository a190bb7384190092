package com.example.swish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.neurite.layer.LayerType;
import org.neurite.plugin.KernelOverride;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.tensor.Shape;
import org.neurite.testkit.LayerSchemaCheck;

/** The plugin as Neurite finds it: ServiceLoader, Guice, the registry and the kernel dispatch. */
class SwishPluginTest {
    @Test void serviceLoaderFindsThePluginWithBothLayersAndTheCpuKernel() {
        NeuriteRuntime runtime = NeuriteRuntime.discover();
        List<String> plugins = runtime.plugins().stream().map(NeuritePlugin::name).toList();
        assertTrue(plugins.contains("swish-layers"), "plugins found: " + plugins);
        // The test class path holds this plugin and the CPU backend, nothing else with layers.
        assertEquals(List.of("mish", "swish"), runtime.layers().names());
        List<KernelOverride> kernels = runtime.kernelOverrides();
        assertEquals(1, kernels.size());
        assertEquals("mish", kernels.get(0).layer());
        assertEquals("cpu", kernels.get(0).backend());
        assertTrue(kernels.get(0) instanceof CpuMish);
        // swish has no override, so scripts get the plugin's own type; mish dispatches per backend.
        LayerType swish = runtime.layers().find("swish").orElseThrow();
        assertSame(swish, runtime.referenceLayer("swish").orElseThrow());
        assertTrue(runtime.referenceLayer("mish").orElseThrow() instanceof Mish);
        assertEquals("mish", runtime.layers().find("mish").orElseThrow().name());
    }

    @Test void bothSchemasAreDocumentedAndBind() {
        NeuriteRuntime runtime = NeuriteRuntime.of(List.of(new SwishPlugin()));
        assertEquals("beta=1, learn_beta=true",
                LayerSchemaCheck.check(runtime.layers().find("swish").orElseThrow(), Map.of(), Shape.of(16)).toString());
        assertEquals("", LayerSchemaCheck.check(runtime.layers().find("mish").orElseThrow(), Map.of(), Shape.of(3, 8, 8)).toString());
    }
}
