package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.backend.Backend;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.ParameterStore;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.onnx.proto.Onnx.GraphProto;
import org.neurite.onnx.proto.Onnx.ModelProto;
import org.neurite.onnx.proto.Onnx.NodeProto;
import org.neurite.onnx.proto.Onnx.TensorProto;
import org.neurite.onnx.proto.Onnx.TensorShapeProto;
import org.neurite.onnx.proto.Onnx.TypeProto;
import org.neurite.onnx.proto.Onnx.ValueInfoProto;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;

/** {@code nn export} and {@code nn import} as a user runs them: files written, messages and exit codes. */
class OnnxCommandsTest {
    private static final Path LENET = Path.of("..", "examples", "lenet5.nn");

    @TempDir Path dir;

    @Test
    void exportThenImportGivesAScriptThatPredictsTheSame() throws Exception {
        Path weights = dir.resolve("lenet5.safetensors");
        writeRandomWeights(LENET, weights);
        Path onnx = dir.resolve("lenet.onnx");
        CliRunner.Result exported = CliRunner.run("export", LENET.toString(), "--weights", weights.toString(), "-o", onnx.toString());
        assertEquals(0, exported.exit(), exported.err());
        assertTrue(exported.out().startsWith("Wrote " + onnx + ": LeNet5, opset 17,"), exported.out());
        ModelProto model = ModelProto.parseFrom(Files.readAllBytes(onnx));
        assertEquals(List.of("c1.weight", "c1.bias", "c3.weight", "c3.bias", "f5.weight", "f5.bias", "f6.weight", "f6.bias",
                "logits.weight", "logits.bias"), model.getGraph().getInitializerList().stream().map(TensorProto::getName).toList());
        assertEquals("batch", model.getGraph().getInput(0).getType().getTensorType().getShape().getDim(0).getDimParam());

        Path script = dir.resolve("back.nn");
        CliRunner.Result imported = CliRunner.run("import", onnx.toString(), "-o", script.toString(), "--model", "LeNet5");
        assertEquals(0, imported.exit(), imported.err());
        assertEquals("""
                # Imported from ONNX by nn import.

                model LeNet5 {
                    input image: [1, 28, 28]
                    c1 = conv(6, kernel=5, pad=2) -> relu -> maxpool(2)
                    c3 = conv(16, kernel=5) -> relu -> maxpool(2) -> flatten
                    f5 = dense(120) -> relu
                    f6 = dense(84) -> relu
                    output logits = dense(10)
                }
                """, Files.readString(script));

        Path input = dir.resolve("x.safetensors");
        float[] x = new float[3 * 784];
        for (int i = 0; i < x.length; i++) x[i] = (i * 37 % 101) / 100f;
        SafeTensors.write(input, List.of(new NamedTensor("x", org.neurite.tensor.Shape.of(3, 1, 28, 28), x)), Map.of());
        float[] original = predict(LENET, weights, input, dir.resolve("y1.safetensors"));
        float[] roundTrip = predict(script, dir.resolve("back.safetensors"), input, dir.resolve("y2.safetensors"));
        assertEquals(30, original.length);
        for (int i = 0; i < original.length; i++) assertEquals(original[i], roundTrip[i], 1e-5, "output " + i);
    }

    /** Batch-norm statistics are parameters that are not trained: import counted only the trained ones, export all. */
    @Test
    void exportAndImportCountTheSameParameters() throws Exception {
        Path resnet = Path.of("..", "examples", "resnet_small.nn");
        Path weights = dir.resolve("resnet.safetensors");
        writeRandomWeights(resnet, weights);
        Path onnx = dir.resolve("resnet.onnx");
        CliRunner.Result exported = CliRunner.run("export", resnet.toString(), "--weights", weights.toString(), "-o", onnx.toString());
        assertEquals(0, exported.exit(), exported.err());
        assertTrue(exported.out().endsWith(", 78,426 parameters\n"), exported.out());
        CliRunner.Result imported = CliRunner.run("import", onnx.toString(), "-o", dir.resolve("back.nn").toString());
        assertEquals(0, imported.exit(), imported.err());
        assertTrue(imported.out().endsWith(": Resnet, 78,426 parameters (77,754 trainable)\n"), imported.out());
    }

    @Test
    void aLayerThatCannotBeExportedFailsWithItsPositionAndWritesNothing() throws Exception {
        Path script = dir.resolve("masked.nn");
        Files.writeString(script, "model M {\n    input s: [5, 3]\n    h = lstm(4, mask_zero=true, sequences=false)\n    output y = dense(2)\n}\n");
        Path weights = dir.resolve("w.safetensors");
        writeRandomWeights(script, weights);
        Path onnx = dir.resolve("m.onnx");
        CliRunner.Result r = CliRunner.run("export", script.toString(), "--weights", weights.toString(), "-o", onnx.toString());
        assertEquals(2, r.exit());
        assertEquals("nn: " + script + ":3:9: layer 1 'h' (lstm) cannot be exported: mask_zero=true (lengths read from the data) is "
                + "not exported; ONNX's sequence_lens would need them as an input\n", r.err());
        assertFalse(Files.exists(onnx));
    }

    @Test
    void operatorsNeuriteLacksAreListedWithTheirNodesAndNothingIsWritten() throws Exception {
        Path onnx = dir.resolve("odd.onnx");
        Files.write(onnx, modelWith(
                NodeProto.newBuilder().setName("/a/Erf").setOpType("Erf").addInput("x").addOutput("e").build(),
                NodeProto.newBuilder().setName("/b/Relu").setOpType("Relu").addInput("e").addOutput("r").build(),
                NodeProto.newBuilder().setName("/c/Erf").setOpType("Erf").addInput("r").addOutput("y").build()).toByteArray());
        Path script = dir.resolve("odd.nn");
        CliRunner.Result r = CliRunner.run("import", onnx.toString(), "-o", script.toString());
        assertEquals(2, r.exit());
        assertEquals("nn: the model uses ONNX operators Neurite lacks:\n  Erf (2 nodes: /a/Erf, /c/Erf)\n", r.err());
        assertFalse(Files.exists(script));
        assertFalse(Files.exists(dir.resolve("odd.safetensors")));

        Path junk = dir.resolve("junk.onnx");
        Files.writeString(junk, "not a protobuf at all");
        CliRunner.Result bad = CliRunner.run("import", junk.toString(), "-o", dir.resolve("junk.nn").toString());
        assertEquals(2, bad.exit());
        assertTrue(bad.err().startsWith("nn: " + junk + ": not an ONNX model"), bad.err());
    }

    /**
     * Names the script could not load under are refused before anything is read: a keyword, a
     * layer's name (its calls inside the model would call the model). A folder, and a file that
     * parses but holds no graph, are named as what they are.
     */
    @Test
    void namesAndFilesThatCannotMakeAScriptAreRefusedUpFront() throws Exception {
        Path onnx = dir.resolve("relu.onnx");
        Files.write(onnx, modelWith(NodeProto.newBuilder().setName("/Relu").setOpType("Relu").addInput("x").addOutput("y").build()).toByteArray());
        Path script = dir.resolve("r.nn");
        CliRunner.Result keyword = CliRunner.run("import", onnx.toString(), "-o", script.toString(), "--model", "model");
        assertEquals(2, keyword.exit());
        assertEquals("nn: --model 'model' is a word of the .nn language; choose another name\n", keyword.err());
        CliRunner.Result layer = CliRunner.run("import", onnx.toString(), "-o", script.toString(), "--model", "relu");
        assertEquals(2, layer.exit());
        assertEquals("nn: --model 'relu' is a layer's name; choose another name\n", layer.err());
        assertFalse(Files.exists(script));
        CliRunner.Result fine = CliRunner.run("import", onnx.toString(), "-o", script.toString(), "--model", "Rectifier");
        assertEquals(0, fine.exit(), fine.err());

        CliRunner.Result folder = CliRunner.run("import", dir.toString(), "-o", dir.resolve("f.nn").toString());
        assertEquals(2, folder.exit());
        assertEquals("nn: " + dir + " is a folder; name the .onnx file\n", folder.err());
        Path empty = Files.write(dir.resolve("empty.onnx"), new byte[0]);
        CliRunner.Result nothing = CliRunner.run("import", empty.toString(), "-o", dir.resolve("e.nn").toString());
        assertEquals(2, nothing.exit());
        assertEquals("nn: " + empty + ": holds no graph (is it an ONNX model?)\n", nothing.err());
    }

    private static ModelProto modelWith(NodeProto... nodes) {
        TypeProto type = TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1).setShape(TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(4)))).build();
        GraphProto graph = GraphProto.newBuilder().addAllNode(List.of(nodes))
                .addInput(ValueInfoProto.newBuilder().setName("x").setType(type))
                .addOutput(ValueInfoProto.newBuilder().setName("y").setType(type)).build();
        return ModelProto.newBuilder().setIrVersion(8).setGraph(graph).build();
    }

    private float[] predict(Path script, Path weights, Path input, Path output) throws Exception {
        CliRunner.Result r = CliRunner.run("predict", script.toString(), "--weights", weights.toString(), "--input", input.toString(),
                "--output", output.toString());
        assertEquals(0, r.exit(), r.err());
        return SafeTensors.read(output).get("y").data();
    }

    static void writeRandomWeights(Path script, Path file) throws Exception {
        NeuriteRuntime runtime = NeuriteRuntime.discover();
        TypedGraph graph = new ScriptLoader(runtime.layers()).load(script).mainModel();
        try (Backend cpu = runtime.createBackend("cpu", BackendOptions.defaults(), List.of(), System.err::println);
             ParameterStore store = new ParameterStore(graph, cpu, 5)) {
            List<NamedTensor> tensors = store.export().stream().map(t -> {
                float[] v = t.data();
                // Biases start at zero; give them values so a dropped bias would show.
                if (t.name().endsWith(".bias")) for (int i = 0; i < v.length; i++) v[i] = 0.01f * (i % 7 - 3);
                return new NamedTensor(t.name(), t.shape(), v);
            }).toList();
            SafeTensors.write(file, tensors, Map.of());
        }
    }
}
