package org.neurite.plugins.shape;

import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.neurite.tensor.Shape;
import org.neurite.testkit.PluginTestKit;
import org.neurite.testkit.PluginTestKitSuite;

/**
 * Every shape layer through the plugin test kit, as a third-party plugin's layers go: schema,
 * gradients against central differences, the CPU backend with two threads bit for bit against one,
 * and the checkpoint round trip. A layer the plugin registers without an entry here fails
 * {@link PluginTestKitSuite#everyLayerOfThePluginHasAnEntry}.
 */
class ShapePluginTestKitTest extends PluginTestKitSuite {
    /** Layer name -> sample arguments and per-sample input shapes. */
    private static final Map<String, UnaryOperator<PluginTestKit>> KITS = Map.of(
            "add", kit -> kit.inputs(Shape.of(3, 5, 4), Shape.of(3, 5, 4), Shape.of(3, 5, 4)),
            "concat", kit -> kit.args(Map.of("axis", 0)).inputs(Shape.of(3, 5, 4), Shape.of(2, 5, 4)),
            "split", kit -> kit.args(Map.of("axis", 2, "parts", 3, "index", 1)).inputs(Shape.of(4, 5, 6)),
            "zeropad", kit -> kit.args(Map.of("pad", List.of(1, 2))).inputs(Shape.of(3, 5, 4)));

    ShapePluginTestKitTest() {
        super(new ShapePlugin(), KITS);
    }
}
