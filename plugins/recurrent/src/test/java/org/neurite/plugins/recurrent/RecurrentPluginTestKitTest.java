package org.neurite.plugins.recurrent;

import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.neurite.tensor.Shape;
import org.neurite.testkit.PluginTestKit;
import org.neurite.testkit.PluginTestKitSuite;

/**
 * Every recurrent layer and the embedding through the plugin test kit, as a third-party plugin's
 * layers go: schema, gradients against central differences (not for embedding, whose input is
 * token indices), the CPU backend with two threads bit for bit against one, and the checkpoint
 * round trip. A layer the plugin registers without an entry here fails
 * {@link PluginTestKitSuite#everyLayerOfThePluginHasAnEntry}.
 */
class RecurrentPluginTestKitTest extends PluginTestKitSuite {
    /** Layer name -> sample arguments and per-sample input shapes. */
    private static final Map<String, UnaryOperator<PluginTestKit>> KITS = Map.of(
            // Token indices: the kit feeds integers below num to parity and the checkpoint, and leaves out the
            // gradient check (the checker draws inputs in [-1, 1)). The weight gradient is checked by hand in
            // RecurrentGradientTest, and on the reference backend by the integration tests' LayerParityMatrix.
            "embedding", kit -> kit.args(Map.of("num", 9, "dim", 4)).inputs(Shape.of(6)).indexInput(0, 9),
            "gru", kit -> kit.args(Map.of("hidden", 5, "sequences", false)).inputs(Shape.of(6, 4)),
            "lstm", kit -> kit.args(Map.of("hidden", 5, "layers", 2)).inputs(Shape.of(6, 4)),
            "rnn", kit -> kit.args(Map.of("hidden", 5, "bidirectional", true)).inputs(Shape.of(6, 4)));

    private static final List<String> EMBEDDING_CHECKS = List.of("schema", "gradients not checked",
            "parity of the generic kernel on cpu, 2 threads with cpu, 1 thread", "checkpoint");

    RecurrentPluginTestKitTest() {
        super(new RecurrentPlugin(), KITS);
    }

    /** Embedding's token input leaves the gradient check out (see its entry). */
    @Override protected List<String> expectedChecks(String layer) {
        return layer.equals("embedding") ? EMBEDDING_CHECKS : CPU_CHECKS;
    }
}
