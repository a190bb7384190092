package org.neurite.plugins.pool;

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
 * Every pooling layer through the plugin test kit, as a third-party plugin's layers go: schema,
 * gradients against central differences, the CPU backend with two threads bit for bit against one,
 * and the checkpoint round trip. A layer the plugin registers without an entry here fails
 * {@link #everyLayerOfThePluginHasAnEntry}.
 */
class PoolPluginTestKitTest {
    private static final PoolPlugin PLUGIN = new PoolPlugin();

    /** Layer name -> sample arguments and per-sample input shapes (and any gradient-case adjustment). */
    private static final Map<String, UnaryOperator<PluginTestKit>> KITS = Map.of(
            "avgpool", kit -> kit.args(Map.of("kernel", 3, "stride", 2, "pad", 1, "count_include_pad", false))
                    .inputs(Shape.of(3, 7, 6)),
            "globalavgpool", kit -> kit.inputs(Shape.of(3, 5, 4)),
            // Distinct inputs: no near ties in a window, where the central difference would straddle the switch.
            "maxpool", kit -> kit.args(Map.of("kernel", 3, "stride", 2, "pad", 1, "ceil", true)).inputs(Shape.of(3, 7, 6))
                    .gradientCase(c -> c.withDistinctInputs()));

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
