package org.neurite.plugins.recurrent;

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
 * Every recurrent layer and the embedding through the plugin test kit, as a third-party plugin's
 * layers go: schema, gradients against central differences (not for embedding, whose input is
 * token indices), the CPU backend with two threads bit for bit against one, and the checkpoint
 * round trip. A layer the plugin registers without an entry here fails
 * {@link #everyLayerOfThePluginHasAnEntry}.
 */
class RecurrentPluginTestKitTest {
    private static final RecurrentPlugin PLUGIN = new RecurrentPlugin();

    /** Layer name -> sample arguments and per-sample input shapes. */
    private static final Map<String, UnaryOperator<PluginTestKit>> KITS = Map.of(
            // Token indices: the kit feeds integers below num to parity and the checkpoint, and leaves out the
            // gradient check (the checker draws inputs in [-1, 1)). The weight gradient is checked by hand in
            // RecurrentGradientTest, and on the reference backend by the integration tests' LayerParityMatrix.
            "embedding", kit -> kit.args(Map.of("num", 9, "dim", 4)).inputs(Shape.of(6)).indexInput(0, 9),
            "gru", kit -> kit.args(Map.of("hidden", 5, "sequences", false)).inputs(Shape.of(6, 4)),
            "lstm", kit -> kit.args(Map.of("hidden", 5, "layers", 2)).inputs(Shape.of(6, 4)),
            "rnn", kit -> kit.args(Map.of("hidden", 5, "bidirectional", true)).inputs(Shape.of(6, 4)));

    /** What a kit run checks on a class path with the CPU backend only and no kernel overrides. */
    private static final List<String> CHECKS = List.of("schema", "gradients of the generic kernel on cpu",
            "parity of the generic kernel on cpu, 2 threads with cpu, 1 thread", "checkpoint");
    private static final List<String> EMBEDDING_CHECKS = List.of("schema", "gradients not checked",
            "parity of the generic kernel on cpu, 2 threads with cpu, 1 thread", "checkpoint");

    @Test void everyLayerOfThePluginHasAnEntry() {
        assertEquals(new TreeSet<>(NeuriteRuntime.of(List.of(PLUGIN)).layers().names()), new TreeSet<>(KITS.keySet()));
    }

    @TestFactory
    Stream<DynamicTest> everyLayerPassesThePluginTestKit() {
        return new TreeMap<>(KITS).entrySet().stream().map(e -> dynamicTest(e.getKey(), () -> {
            PluginTestKit.Report report = e.getValue().apply(PluginTestKit.forLayer(PLUGIN, e.getKey())).run();
            List<String> expected = e.getKey().equals("embedding") ? EMBEDDING_CHECKS : CHECKS;
            List<String> ran = report.checks().stream().map(line -> line.substring(0, line.indexOf(':'))).toList();
            assertEquals(expected, ran, report.toString());
        }));
    }
}
