package org.neurite.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.neurite.dsl.ScriptFormatter;
import org.neurite.dsl.ScriptLoader;
import org.neurite.graph.Node;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.layer.LayerArgs;
import org.neurite.onnx.proto.Onnx.ModelProto;

/**
 * Export, import, {@code nn fmt}: for every example model the script that comes back builds the
 * same inference graph (the same layers in the same order, with the same arguments and shapes, and
 * the same parameter names wherever the language can keep them; dropout, the identity at inference,
 * is not exported, and arguments that only shape training — initialisers, dropout rates — are not
 * compared) and computes the same outputs.
 */
class RoundTripTest {
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"lenet5.nn", "fashion_cnn.nn", "resnet_small.nn", "inception_small.nn", "filters.nn", "rowlstm.nn",
            "adding.nn", "charlm.nn", "alexnet.nn", "vgg16.nn", "googlenet.nn", "resnet18.nn"})
    void exportImportFormatBuildsTheSameGraph(String script) throws Exception {
        // Numbered parts inside blocks (VGG's stage.0, stage.1) cannot keep their names: a statement needs an identifier.
        boolean sameNames = !script.equals("vgg16.nn");
        for (TypedGraph original : ExampleModels.load(script)) assertRoundTrip(original, script.equals("charlm.nn") ? 70 : 0, sameNames);
    }

    /** A node's arguments that change what inference computes: initialisers, dropout and the fixed flag do not. */
    private static String inference(Node node) {
        Map<String, Object> args = new LinkedHashMap<>(node.args().values());
        args.keySet().removeAll(List.of("init", "forget_bias", "dropout", "trainable", "weights", "momentum", "padding_idx"));
        // A pooling stride left out is the kernel: maxpool(2) is maxpool(2, stride=2).
        if (node.layer().endsWith("pool") && args.containsKey("kernel")) args.putIfAbsent("stride", args.get("kernel"));
        return new LayerArgs(new java.util.TreeMap<>(args)).toString();
    }

    private static void assertRoundTrip(TypedGraph original, int vocabulary, boolean sameNames) throws Exception {
        String script = original.graph().name();
        List<NamedTensor> weights = ExampleModels.weights(original);
        ModelProto model = ModelProto.parseFrom(OnnxExporter.export(original, weights, OnnxExporter.DEFAULT_OPSET).toByteArray());
        OnnxImporter.Imported imported = OnnxImporter.read(model, original.graph().name());
        String formatted = ScriptFormatter.format("back.nn", imported.script());
        TypedGraph back = new ScriptLoader(ExampleModels.RUNTIME.layers()).parse("back.nn", formatted).mainModel();

        List<Node> a = original.graph().nodes().stream().filter(n -> !n.layer().equals("dropout")).toList();
        List<Node> b = back.graph().nodes();
        assertEquals(a.size(), b.size(), formatted);
        for (int i = 0; i < a.size(); i++) {
            String where = "node " + i + " (" + a.get(i).name() + " / " + b.get(i).name() + ")\n" + formatted;
            assertEquals(a.get(i).layer(), b.get(i).layer(), where);
            assertEquals(inference(a.get(i)), inference(b.get(i)), where);
            assertEquals(original.shape(a.get(i).name()), back.shape(b.get(i).name()), where);
        }
        assertEquals(original.params().size(), back.params().size(), formatted);

        if (sameNames) {
            assertEquals(original.params().stream().map(p -> p.fullName()).toList(), back.params().stream().map(p -> p.fullName()).toList(),
                    formatted);
        }
        // The ImageNet networks' outputs are compared with ONNX Runtime's in FullSizeExamplesParityTest;
        // here their graphs are, to keep the suite short.
        if (original.parameterCount() > 5_000_000) return;
        float[] x = ExampleModels.inputs(original, 2, vocabulary);
        double error = ExampleModels.maxError(ExampleModels.predict(back, imported.weights(back), x, 2),
                ExampleModels.predict(original, weights, x, 2));
        assertTrue(error <= 1e-5, script + ": max error " + error);
    }
}
