package org.neurite.plugins.pool;

import java.util.Map;
import java.util.function.UnaryOperator;
import org.neurite.tensor.Shape;
import org.neurite.testkit.PluginTestKit;
import org.neurite.testkit.PluginTestKitSuite;

/**
 * Every pooling layer through the plugin test kit, as a third-party plugin's layers go: schema,
 * gradients against central differences, the CPU backend with two threads bit for bit against one,
 * and the checkpoint round trip. A layer the plugin registers without an entry here fails
 * {@link PluginTestKitSuite#everyLayerOfThePluginHasAnEntry}.
 */
class PoolPluginTestKitTest extends PluginTestKitSuite {
    /** Layer name -> sample arguments and per-sample input shapes (and any gradient-case adjustment). */
    private static final Map<String, UnaryOperator<PluginTestKit>> KITS = Map.of(
            "avgpool", kit -> kit.args(Map.of("kernel", 3, "stride", 2, "pad", 1, "count_include_pad", false))
                    .inputs(Shape.of(3, 7, 6)),
            "globalavgpool", kit -> kit.inputs(Shape.of(3, 5, 4)),
            // Distinct inputs: no near ties in a window, where the central difference would straddle the switch.
            "maxpool", kit -> kit.args(Map.of("kernel", 3, "stride", 2, "pad", 1, "ceil", true)).inputs(Shape.of(3, 7, 6))
                    .gradientCase(c -> c.withDistinctInputs()));

    PoolPluginTestKitTest() {
        super(new PoolPlugin(), KITS);
    }
}
