package org.neurite.dsl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.neurite.graph.Node;
import org.neurite.graph.ParamInfo;
import org.neurite.graph.TypedGraph;
import org.neurite.tensor.Shape;

/**
 * Blocks: how calls expand, how the nodes they make are named, and how parameters, repetition
 * and conditionals shape the graph.
 */
class BlocksTest {
    /** ResNet's basic block as torchvision writes it, on small images. */
    static final String RESIDUAL = """
            block residual(c, stride = 1)(x) {
                conv1 = conv(c, kernel=3, stride=stride, pad=1, bias=false)
                bn1 = batchnorm -> relu
                conv2 = conv(c, kernel=3, pad=1, bias=false)
                bn2 = batchnorm
                downsample = if stride == 1 then x else x -> conv(c, kernel=1, stride=stride, bias=false) -> batchnorm
                return relu(bn2 + downsample)
            }
            """;

    private final ScriptLoader loader = new ScriptLoader(PluginLayers.REGISTRY);

    private Script script(String source) {
        return loader.parse("t.nn", source);
    }

    private static List<String> nodeNames(TypedGraph g) {
        return g.graph().nodes().stream().map(Node::name).toList();
    }

    private static Map<String, String> trainable(TypedGraph g) {
        Map<String, String> out = new LinkedHashMap<>();
        for (ParamInfo p : g.params()) if (p.decl().trainable()) out.put(p.fullName(), p.decl().shape().toString());
        return out;
    }

    @Test
    void aRepeatedBlockNamesItsNodesLikeATorchvisionStateDict() {
        TypedGraph g = script(RESIDUAL + """
                model Net {
                    input image: [4, 8, 8]
                    layer1 = residual(4) * 2
                    layer2 = residual(8, stride=2)
                    output logits = flatten -> dense(3)
                }""").mainModel();
        assertEquals(List.of(
                "layer1.0.conv1", "layer1.0.bn1", "layer1.0.bn1.relu", "layer1.0.conv2", "layer1.0.bn2",
                "layer1.0.add", "layer1.0",
                "layer1.1.conv1", "layer1.1.bn1", "layer1.1.bn1.relu", "layer1.1.conv2", "layer1.1.bn2",
                "layer1.1.add", "layer1.1",
                "layer2.conv1", "layer2.bn1", "layer2.bn1.relu", "layer2.conv2", "layer2.bn2",
                "layer2.downsample.0", "layer2.downsample.1", "layer2.add", "layer2",
                "logits.flatten", "logits"), nodeNames(g));
        Map<String, String> expected = new LinkedHashMap<>();
        for (String copy : List.of("layer1.0", "layer1.1")) {
            expected.put(copy + ".conv1.weight", "[4, 4, 3, 3]");
            expected.put(copy + ".bn1.weight", "[4]");
            expected.put(copy + ".bn1.bias", "[4]");
            expected.put(copy + ".conv2.weight", "[4, 4, 3, 3]");
            expected.put(copy + ".bn2.weight", "[4]");
            expected.put(copy + ".bn2.bias", "[4]");
        }
        expected.put("layer2.conv1.weight", "[8, 4, 3, 3]");
        expected.put("layer2.bn1.weight", "[8]");
        expected.put("layer2.bn1.bias", "[8]");
        expected.put("layer2.conv2.weight", "[8, 8, 3, 3]");
        expected.put("layer2.bn2.weight", "[8]");
        expected.put("layer2.bn2.bias", "[8]");
        expected.put("layer2.downsample.0.weight", "[8, 4, 1, 1]");
        expected.put("layer2.downsample.1.weight", "[8]");
        expected.put("layer2.downsample.1.bias", "[8]");
        expected.put("logits.weight", "[3, 128]");
        expected.put("logits.bias", "[3]");
        assertEquals(expected, trainable(g));
        // The identity shortcut reads the block's input; the second copy reads the first's result.
        assertEquals(List.of("layer1.0.bn2", "image"), g.graph().node("layer1.0.add").inputs());
        assertEquals(List.of("layer1.0"), g.graph().node("layer1.1.conv1").inputs());
        assertEquals(List.of("layer2.bn2", "layer2.downsample.1"), g.graph().node("layer2.add").inputs());
        assertEquals(Shape.of(8, 4, 4), g.shape("layer2"));
    }

    @Test
    void nodesRememberTheCallsThatMadeThemInnermostFirst() {
        Script s = script("""
                block unit(c)(x) {
                    return conv(c, kernel=1) -> relu
                }
                block pair(c)(x) {
                    a = unit(c)
                    b = unit(c * 2)
                    return b
                }
                model M {
                    input x: [2, 4, 4]
                    p = pair(3)
                    output y = flatten -> dense(2)
                }""");
        TypedGraph g = s.mainModel();
        assertEquals(List.of("p.a", "p.a.relu", "p.b", "p.b.relu", "y.flatten", "y"), nodeNames(g));
        assertEquals(List.of("p.a.weight", "p.a.bias", "p.b.weight", "p.b.bias", "y.weight", "y.bias"),
                g.params().stream().map(ParamInfo::fullName).toList());
        assertEquals(Shape.of(6, 4, 4), g.shape("p.b"));
        var sites = g.graph().node("p.b").callSites();
        assertEquals(2, sites.size());
        assertEquals(6, sites.get(0).line());   // unit(c * 2) in pair
        assertEquals(11, sites.get(1).line());  // pair(3) in M
        assertTrue(g.graph().node("y").callSites().isEmpty());
        BlockCall p = s.blockCalls("M").get(0);
        assertEquals("p", p.name());
        assertEquals("pair", p.block());
        assertEquals(List.of(), p.nodes());
        assertEquals(List.of("p.a", "p.b"), p.calls().stream().map(BlockCall::name).toList());
        assertEquals(List.of("p.b", "p.b.relu"), p.calls().get(1).nodes());
    }

    @Test
    void unnamedStatementsAndCallsAreNamedAfterTheirLayerOrBlock() {
        TypedGraph g = script("""
                block unit(c)(x) {
                    conv(c, kernel=1)
                    relu
                    return tanh
                }
                model M {
                    input x: [2, 4, 4]
                    unit(3)
                    unit(3)
                    output y = unit(1)
                }""").mainModel();
        // Unnamed statements inside a block are <call>.<layer>; the return's parts are named after the call.
        assertEquals(List.of("unit.conv", "unit.relu", "unit", "unit2.conv", "unit2.relu", "unit2",
                "y.conv", "y.relu", "y"), nodeNames(g));
        assertEquals(List.of("y"), g.graph().outputs());
    }

    @Test
    void theRepeatIndexIsInsertedForEveryCopyOfACallOrAChain() {
        TypedGraph g = script("""
                model M {
                    input x: [4]
                    h = dense(4) * 3
                    m = (dense(4) -> relu) * 2
                    output y = dense(2) -> softmax
                }""").mainModel();
        assertEquals(List.of("h.0", "h.1", "h.2", "m.0", "m.0.relu", "m.1", "m.1.relu", "y", "y.softmax"), nodeNames(g));
        assertEquals(List.of("h.2"), g.graph().node("m.0").inputs());
        assertEquals(List.of("m.0.relu"), g.graph().node("m.1").inputs());
    }

    @Test
    void argumentsAreExpressionsAndConditionsPickLayers() {
        TypedGraph g = script("""
                block head(c: int, act: bool = true, wide = false)(x) {
                    h = dense(if wide then c * 2 else c)
                    return if act and not (c > 100 or c < 1) then relu else tanh
                }
                model M(width = 8) {
                    input x: [4]
                    a = head(width)
                    b = head(width / 2, act=false, wide=true)
                    output y = head(3, wide=width == 8)
                }""").mainModel();
        assertEquals(List.of("a.h", "a", "b.h", "b", "y.h", "y"), nodeNames(g));
        assertEquals("relu", g.graph().node("a").layer());
        assertEquals("tanh", g.graph().node("b").layer());
        assertEquals(8, g.graph().node("a.h").args().getInt("units"));
        assertEquals(8, g.graph().node("b.h").args().getInt("units"));
        assertEquals(6, g.graph().node("y.h").args().getInt("units"));
    }

    @Test
    void defaultsMayUseEarlierParametersAndFloatsAcceptInts() {
        TypedGraph g = script("""
                block mlp(c, hidden = c * 4, p: float = 0)(x) {
                    fc1 = dense(hidden) -> relu -> dropout(p)
                    return dense(c)
                }
                model M {
                    input x: [6]
                    output y = mlp(3, p=1 / 2)
                }""").mainModel();
        assertEquals(12, g.graph().node("y.fc1").args().getInt("units"));
        assertEquals(0.5, g.graph().node("y.fc1.dropout").args().getDouble("p"));
        assertEquals(Shape.of(3), g.outputShape());
    }

    @Test
    void leadingValueArgumentsAreABlocksInputs() {
        TypedGraph g = script("""
                block merge(units)(a, b) {
                    return dense(a, units) + dense(b, units)
                }
                model M {
                    input left: [3]
                    input right: [5]
                    m = merge(left, right, 4)
                    output y = right -> merge(m, 2)
                }""").mainModel();
        // Two parts own parameters, so they are m.0 and m.1 and the sum is m.add.
        assertEquals(List.of("m.0", "m.1", "m.add", "y.0", "y.1", "y.add"), nodeNames(g));
        assertEquals(List.of("left"), g.graph().node("m.0").inputs());
        assertEquals(List.of("right"), g.graph().node("m.1").inputs());
        // A chain step's own input comes first, then the leading value arguments.
        assertEquals(List.of("right"), g.graph().node("y.0").inputs());
        assertEquals(List.of("m.add"), g.graph().node("y.1").inputs());
        assertEquals(Shape.of(2), g.outputShape());
    }

    @Test
    void aModelCanBeCalledLikeABlock() {
        Script s = script("""
                model Encoder(width = 8) {
                    input x: [4]
                    output h = dense(width) -> relu
                }
                model Net {
                    input x: [4]
                    e = Encoder(width=6)
                    output y = dense(2)
                }""");
        TypedGraph net = s.model("Net");
        assertEquals(List.of("e.h", "e.h.relu", "y"), nodeNames(net));
        assertEquals("[6, 4]", net.params().get(0).decl().shape().toString());
        assertEquals(List.of("Encoder", "Net"), s.models().stream().map(m -> m.graph().name()).toList());
        assertEquals("[8, 4]", s.model("Encoder").params().get(0).decl().shape().toString());
    }

    @Test
    void aBlockNamedLikeALayerHidesItWithAWarning() {
        Script s = script("""
                block dense(n)(x) {
                    return softmax
                }
                model M {
                    input x: [4]
                    output y = dense(3)
                }""");
        assertEquals(List.of("softmax"), s.mainModel().graph().nodes().stream().map(Node::layer).toList());
        assertEquals("t.nn:1:7: warning: block 'dense' hides the layer 'dense' wherever the block is visible\n"
                + "    block dense(n)(x) {\n"
                + "          ^~~~~\n", loader.render(s.warnings()));
    }
}
