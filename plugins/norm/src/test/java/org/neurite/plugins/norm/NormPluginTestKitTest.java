package org.neurite.plugins.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.tensor.Shape;
import org.neurite.testkit.PluginTestKit;

/**
 * Every normalisation layer through the plugin test kit, as a third-party plugin's layers go: schema,
 * gradients against central differences, the CPU backend with two threads bit for bit against one,
 * and the checkpoint round trip. A layer the plugin registers without an entry here fails
 * {@link #everyLayerOfThePluginHasAnEntry}.
 */
class NormPluginTestKitTest {
    private static final NormPlugin PLUGIN = new NormPlugin();

    /** Layer name -> sample arguments and per-sample input shapes. */
    private static final Map<String, UnaryOperator<PluginTestKit>> KITS = Map.of(
            // Per-channel statistics over the batch and the 5 x 4 plane; running statistics in the checkpoint.
            "batchnorm", kit -> kit.inputs(Shape.of(3, 5, 4)),
            "lrn", kit -> kit.args(Map.of("size", 3, "alpha", 2.0, "beta", 0.75, "k", 1.0)).inputs(Shape.of(6, 4, 3)));

    /** What a kit run checks on a class path with the CPU backend only and no kernel overrides. */
    private static final List<String> CHECKS = List.of("schema", "gradients of the generic kernel on cpu",
            "parity of the generic kernel on cpu, 2 threads with cpu, 1 thread", "checkpoint");

    @Test void everyLayerOfThePluginHasAnEntry() {
        assertEquals(new TreeSet<>(NeuriteRuntime.of(List.of(PLUGIN)).layers().names()), new TreeSet<>(KITS.keySet()));
    }

    @TestFactory
    Stream<DynamicTest> everyLayerPassesThePluginTestKit() {
        return new TreeMap<>(KITS).entrySet().stream().map(e -> dynamicTest(e.getKey(), () -> {
            PluginTestKit.Report report = e.getValue().apply(PluginTestKit.forLayer(PLUGIN, e.getKey())).run();
            List<String> ran = report.checks().stream().map(line -> line.substring(0, line.indexOf(':'))).toList();
            assertEquals(CHECKS, ran, report.toString());
        }));
    }
}
