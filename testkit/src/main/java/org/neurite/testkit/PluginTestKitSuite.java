package org.neurite.testkit;

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
import org.neurite.plugin.NeuritePlugin;
import org.neurite.plugin.NeuriteRuntime;

/**
 * Every layer of a plugin through {@link PluginTestKit}: a test class gives the plugin and, per
 * layer, the sample arguments and input shapes the kit runs it with; the suite fails when the
 * plugin registers a layer without an entry, and runs each entry as one test that must pass every
 * check the kit makes (schema, gradients, parity, checkpoint):
 * <pre>{@code
 * class MyPluginTestKitTest extends PluginTestKitSuite {
 *     MyPluginTestKitTest() {
 *         super(new MyPlugin(), Map.of("swish", kit -> kit.inputs(Shape.of(3, 5))));
 *     }
 * }
 * }</pre>
 */
public abstract class PluginTestKitSuite {
    /** What a kit run checks on a class path with the CPU backend only and no kernel overrides. */
    public static final List<String> CPU_CHECKS = List.of("schema", "gradients of the generic kernel on cpu",
            "parity of the generic kernel on cpu, 2 threads with cpu, 1 thread", "checkpoint");

    private final NeuritePlugin plugin;
    private final Map<String, UnaryOperator<PluginTestKit>> kits;

    /** @param kits layer name -> the kit's configuration for it (arguments, input shapes, gradient-case adjustments) */
    protected PluginTestKitSuite(NeuritePlugin plugin, Map<String, UnaryOperator<PluginTestKit>> kits) {
        this.plugin = plugin;
        this.kits = new TreeMap<>(kits);
    }

    /** The checks, in order, that the kit's report must name for {@code layer}; {@link #CPU_CHECKS} unless overridden. */
    protected List<String> expectedChecks(String layer) {
        return CPU_CHECKS;
    }

    @Test public void everyLayerOfThePluginHasAnEntry() {
        assertEquals(new TreeSet<>(NeuriteRuntime.of(List.of(plugin)).layers().names()), kits.keySet());
    }

    @TestFactory public Stream<DynamicTest> everyLayerPassesThePluginTestKit() {
        return kits.entrySet().stream().map(e -> dynamicTest(e.getKey(), () -> {
            PluginTestKit.Report report = e.getValue().apply(PluginTestKit.forLayer(plugin, e.getKey())).run();
            List<String> ran = report.checks().stream().map(line -> line.substring(0, line.indexOf(':'))).toList();
            assertEquals(expectedChecks(e.getKey()), ran, report.toString());
        }));
    }
}
