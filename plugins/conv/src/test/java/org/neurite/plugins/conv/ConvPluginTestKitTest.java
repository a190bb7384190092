package org.neurite.plugins.conv;

import java.util.Map;
import java.util.function.UnaryOperator;
import org.neurite.tensor.Shape;
import org.neurite.testkit.PluginTestKit;
import org.neurite.testkit.PluginTestKitSuite;

/**
 * The convolution layer through the plugin test kit, as a third-party plugin's layers go: schema,
 * gradients against central differences, the CPU backend with two threads bit for bit against one,
 * and the checkpoint round trip. A layer the plugin registers without an entry here fails
 * {@link PluginTestKitSuite#everyLayerOfThePluginHasAnEntry}.
 */
class ConvPluginTestKitTest extends PluginTestKitSuite {
    /** Layer name -> sample arguments and per-sample input shapes. */
    private static final Map<String, UnaryOperator<PluginTestKit>> KITS = Map.of(
            // Strided, padded and grouped: 2 groups of 2 input channels to 3 output channels each.
            "conv", kit -> kit.args(Map.of("channels", 6, "kernel", 3, "stride", 2, "pad", 1, "groups", 2))
                    .inputs(Shape.of(4, 7, 6)));

    ConvPluginTestKitTest() {
        super(new ConvPlugin(), KITS);
    }
}
