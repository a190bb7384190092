package org.neurite.plugins.norm;

import java.util.Map;
import java.util.function.UnaryOperator;
import org.neurite.tensor.Shape;
import org.neurite.testkit.PluginTestKit;
import org.neurite.testkit.PluginTestKitSuite;

/**
 * Every normalisation layer through the plugin test kit, as a third-party plugin's layers go: schema,
 * gradients against central differences, the CPU backend with two threads bit for bit against one,
 * and the checkpoint round trip. A layer the plugin registers without an entry here fails
 * {@link PluginTestKitSuite#everyLayerOfThePluginHasAnEntry}.
 */
class NormPluginTestKitTest extends PluginTestKitSuite {
    /** Layer name -> sample arguments and per-sample input shapes. */
    private static final Map<String, UnaryOperator<PluginTestKit>> KITS = Map.of(
            // Per-channel statistics over the batch and the 5 x 4 plane; running statistics in the checkpoint.
            "batchnorm", kit -> kit.inputs(Shape.of(3, 5, 4)),
            "lrn", kit -> kit.args(Map.of("size", 3, "alpha", 2.0, "beta", 0.75, "k", 1.0)).inputs(Shape.of(6, 4, 3)));

    NormPluginTestKitTest() {
        super(new NormPlugin(), KITS);
    }
}
