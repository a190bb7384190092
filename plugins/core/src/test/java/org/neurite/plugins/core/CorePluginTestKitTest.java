package org.neurite.plugins.core;

import java.util.Map;
import java.util.function.UnaryOperator;
import org.neurite.tensor.Shape;
import org.neurite.testkit.PluginTestKit;
import org.neurite.testkit.PluginTestKitSuite;

/**
 * Every core layer through the plugin test kit, as a third-party plugin's layers go: schema,
 * gradients against central differences, the CPU backend with two threads bit for bit against one,
 * and the checkpoint round trip. A layer the plugin registers without an entry here fails
 * {@link PluginTestKitSuite#everyLayerOfThePluginHasAnEntry}.
 */
class CorePluginTestKitTest extends PluginTestKitSuite {
    /** Layer name -> sample arguments and per-sample input shapes (and any gradient-case adjustment). */
    private static final Map<String, UnaryOperator<PluginTestKit>> KITS = Map.of(
            "dense", kit -> kit.args(Map.of("units", 7)).inputs(Shape.of(13)),
            "dropout", kit -> kit.args(Map.of("p", 0.3)).inputs(Shape.of(3, 5, 4)),
            "flatten", kit -> kit.inputs(Shape.of(3, 5, 4)),
            "relu", kit -> kit.inputs(Shape.of(3, 5, 4)).gradientCase(c -> c.avoidingKinksAt(0)),
            "sigmoid", kit -> kit.inputs(Shape.of(3, 5, 4)),
            // [T, K] rows: softmax over the last axis.
            "softmax", kit -> kit.inputs(Shape.of(4, 5)),
            "tanh", kit -> kit.inputs(Shape.of(3, 5, 4)));

    CorePluginTestKitTest() {
        super(new CorePlugin(), KITS);
    }
}
