package org.neurite.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.neurite.dsl.ScriptLoader;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.onnx.proto.Onnx.AttributeProto;
import org.neurite.onnx.proto.Onnx.ModelProto;
import org.neurite.onnx.proto.Onnx.NodeProto;

/**
 * The ways a flatten's target shape reaches an ONNX Reshape, each written into the viewcnn
 * fixture ({@code x.view(x.size(0), -1)} of [N, 4, 5, 5], then a linear layer) in place of
 * PyTorch's own Shape, Gather, Unsqueeze, Concat. ONNX Runtime first runs each rewritten model to
 * PyTorch's outputs, so the rewrite is the same model; then it imports as {@code flatten} and
 * gives those outputs. Reshapes that are not a flatten are refused, listed as Reshape alone: the
 * shape arithmetic before them computes no data.
 */
class ReshapeImportTest {
    private static final String TARGET = "/Concat_output_0";
    /** The ops PyTorch writes for the target in the fixture: the shape arithmetic and its constants. */
    private static final Set<String> TARGET_OPS = Set.of("Shape", "Constant", "Gather", "Unsqueeze", "Concat");

    /** {@code x.size(0)} as PyTorch writes it: [N] (Shape, Gather of index 0, Unsqueeze). */
    private static List<NodeProto> batchSize() {
        return List.of(
                node("Shape", "/Shape", "/Shape_output_0", "/pool/MaxPool_output_0"),
                scalar("/Constant_output_0", 0),
                node("Gather", "/Gather", "/Gather_output_0", "/Shape_output_0", "/Constant_output_0"),
                constant("axes", 0),
                node("Unsqueeze", "/Unsqueeze", "/Unsqueeze_output_0", "/Gather_output_0", "axes"));
    }

    /** {@code x.view(x.size(0), -1)} with constant folding on (the fixture has it off): -1 folded to [-1]. */
    @Test
    void theBatchSizeBesideAFoldedMinusOneIsAFlatten() throws Exception {
        List<NodeProto> target = new ArrayList<>(batchSize());
        target.add(constant("minus_one", -1));
        target.add(concat("/Unsqueeze_output_0", "minus_one"));
        importsAsFlatten(withTarget(target, 0));
    }

    /** {@code x.view(x.size(0), 100)}: the width given, 4·5·5. */
    @Test
    void theBatchSizeBesideTheSampleSizeIsAFlatten() throws Exception {
        List<NodeProto> target = new ArrayList<>(batchSize());
        target.add(constant("width", 100));
        target.add(concat("/Unsqueeze_output_0", "width"));
        importsAsFlatten(withTarget(target, 0));
    }

    /** {@code x.view(-1, 4 * 5 * 5)}: a constant target, without the batch, in any opset. */
    @Test
    void minusOneBesideTheSampleSizeIsAFlatten() throws Exception {
        importsAsFlatten(withTarget(List.of(constant(TARGET, -1, 100)), 0));
    }

    /** [0, -1]: with allowzero=0 (the default), 0 keeps the input's dimension, here the batch. */
    @Test
    void zeroBesideMinusOneIsAFlatten() throws Exception {
        importsAsFlatten(withTarget(List.of(constant(TARGET, 0, -1)), 0));
    }

    /** Opset 15's Shape with start and end: the batch size without a Gather. */
    @Test
    void aShapeSlicedToTheBatchIsAFlatten() throws Exception {
        NodeProto shape = node("Shape", "/Shape", "/Shape_output_0", "/pool/MaxPool_output_0").toBuilder()
                .addAttribute(intAttribute("start", 0)).addAttribute(intAttribute("end", 1)).build();
        importsAsFlatten(withTarget(List.of(shape, constant("minus_one", -1), concat("/Shape_output_0", "minus_one")), 0));
    }

    /**
     * {@code x.view(-1, 20)} of [N, 4, 5, 5] makes 5N rows of 20: not a flatten. Only the loaded
     * script knows each sample is 100 values, so the refusal comes with the weights, before
     * anything is written.
     */
    @Test
    void minusOneBesideAnotherWidthIsRefused() throws Exception {
        ModelProto model = withTarget(List.of(constant(TARGET, -1, 20)), 0);
        OnnxImporter.Imported imported = OnnxImporter.read(model, "ViewCnn");
        TypedGraph graph = new ScriptLoader(ExampleModels.RUNTIME.layers()).parse("viewcnn.nn", imported.script()).mainModel();
        OnnxConversionException e = assertThrows(OnnxConversionException.class, () -> imported.weights(graph));
        assertEquals("the model uses ONNX operators Neurite lacks:\n"
                + "  Reshape to [-1, 20] of a [4, 5, 5] sample (100 values): not a flatten (1 node: /Reshape)", e.getMessage());
    }

    /** {@code x.view(x.size(0), 4, -1)} keeps an axis: refused, and the shape arithmetic is not listed. */
    @Test
    void aReshapeThatKeepsMoreAxesIsRefusedAndListedAlone() throws Exception {
        List<NodeProto> target = new ArrayList<>(batchSize());
        target.add(constant("rest", 4, -1));
        target.add(concat("/Unsqueeze_output_0", "rest"));
        OnnxConversionException e = assertThrows(OnnxConversionException.class, () -> OnnxImporter.read(withTarget(target, -1), "ViewCnn"));
        assertEquals("the model uses ONNX operators Neurite lacks:\n"
                + "  Reshape other than a flatten to [batch, -1] or of a recurrent layer's output (1 node: /Reshape)", e.getMessage());
    }

    /** A layer that reads the shape arithmetic as data ({@code y + x.size(0)}) is listed, since that arithmetic is not. */
    @Test
    void aLayerReadingTheShapeIsRefused() throws Exception {
        ModelProto fixture = fixture();
        ModelProto.Builder model = fixture.toBuilder();
        model.getGraphBuilder().addNode(node("Cast", "/Cast", "size", "/Gather_output_0").toBuilder().addAttribute(intAttribute("to", 1)))
                .addNode(node("Add", "/Add", "shifted", "logits", "size"))
                .setOutput(0, fixture.getGraph().getOutput(0).toBuilder().setName("shifted"));
        OnnxConversionException e = assertThrows(OnnxConversionException.class, () -> OnnxImporter.read(model.build(), "ViewCnn"));
        assertEquals("the model uses ONNX operators Neurite lacks:\n"
                + "  Add of a value computed from the input's shape (1 node: /Add)", e.getMessage());
    }

    private static void importsAsFlatten(ModelProto model) throws Exception {
        SafeTensors.Contents io = SafeTensors.read(OnnxImportTest.FIXTURES.resolve("viewcnn_io.safetensors"));
        NamedTensor x = io.get("x");
        float[] ort = OrtSession.run(model, x.data(), 2, 1, 12, 12);
        assertTrue(ExampleModels.maxError(ort, io.get("y").data()) <= 1e-5, "the rewritten model is not the fixture's model");
        OnnxImporter.Imported imported = OnnxImportTest.importAndCompare(model, io, "viewcnn", "ViewCnn", 545);
        assertTrue(imported.script().contains("    conv = conv(4, kernel=3) -> relu -> maxpool(2) -> flatten\n"), imported.script());
    }

    private static ModelProto fixture() throws Exception {
        return ModelProto.parseFrom(Files.readAllBytes(OnnxImportTest.FIXTURES.resolve("viewcnn.onnx")));
    }

    /**
     * The fixture with {@code target} computing the Reshape's target ({@value #TARGET}) in place of
     * PyTorch's nodes; {@code allowzero} is left out when negative (opset 13's Reshape has none).
     */
    private static ModelProto withTarget(List<NodeProto> target, int allowzero) throws Exception {
        ModelProto.Builder model = fixture().toBuilder();
        List<NodeProto> nodes = new ArrayList<>();
        for (NodeProto n : model.getGraph().getNodeList()) {
            if (TARGET_OPS.contains(n.getOpType())) continue;
            if (n.getOpType().equals("Reshape")) {
                nodes.addAll(target);
                NodeProto.Builder reshape = n.toBuilder().clearAttribute();
                if (allowzero >= 0) reshape.addAttribute(intAttribute("allowzero", allowzero));
                n = reshape.build();
            }
            nodes.add(n);
        }
        model.getGraphBuilder().clearNode().addAllNode(nodes);
        return model.build();
    }

    private static NodeProto node(String op, String name, String output, String... inputs) {
        return NodeProto.newBuilder().setOpType(op).setName(name).addOutput(output).addAllInput(List.of(inputs)).build();
    }

    private static NodeProto concat(String... inputs) {
        return node("Concat", "/Concat", TARGET, inputs).toBuilder().addAttribute(intAttribute("axis", 0)).build();
    }

    /** A Constant node holding a 1-D int64 tensor. */
    private static NodeProto constant(String output, long... values) {
        return NodeProto.newBuilder().setOpType("Constant").setName(output + "/Constant").addOutput(output)
                .addAttribute(AttributeProto.newBuilder().setName("value").setType(AttributeProto.AttributeType.TENSOR)
                        .setT(OnnxTensors.int64s(output, values))).build();
    }

    /** A Constant node holding an int64 scalar. */
    private static NodeProto scalar(String output, long value) {
        NodeProto c = constant(output, value);
        return c.toBuilder().setAttribute(0, c.getAttribute(0).toBuilder().setT(c.getAttribute(0).getT().toBuilder().clearDims())).build();
    }

    private static AttributeProto intAttribute(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }
}
