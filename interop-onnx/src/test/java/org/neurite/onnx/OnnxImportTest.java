package org.neurite.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.neurite.dsl.ScriptLoader;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.onnx.proto.Onnx.ModelProto;

/**
 * ONNX files exported by PyTorch (tools/fixtures/onnx/make_onnx_fixtures.py) import into scripts
 * that load, have PyTorch's parameter counts and reproduce PyTorch's outputs within 1e-4. Every
 * fixture has a dynamic batch, as users export them.
 */
class OnnxImportTest {
    static final Path FIXTURES = Path.of("src/test/resources/onnx");

    /** Imports {@code dir/name.onnx}, loads the script and checks Neurite's outputs against PyTorch's; returns the script. */
    static OnnxImporter.Imported importAndCompare(Path dir, String name, String modelName, long parameters) throws Exception {
        ModelProto model = ModelProto.parseFrom(Files.readAllBytes(dir.resolve(name + ".onnx")));
        return importAndCompare(model, SafeTensors.read(dir.resolve(name + "_io.safetensors")), name, modelName, parameters);
    }

    /** As above, for {@code model} (a fixture, or one rewritten from it) and PyTorch's inputs and outputs {@code io}. */
    static OnnxImporter.Imported importAndCompare(ModelProto model, SafeTensors.Contents io, String name, String modelName,
                                                  long parameters) throws Exception {
        // With a static batch PyTorch folds to constants what users' files compute from the
        // input's shape (a stacked recurrence's zero states): such a fixture tests too little.
        assertTrue(model.getGraph().getInput(0).getType().getTensorType().getShape().getDim(0).hasDimParam(),
                name + ".onnx: the batch dimension is not dynamic");
        OnnxImporter.Imported imported = OnnxImporter.read(model, modelName);
        TypedGraph graph = new ScriptLoader(ExampleModels.RUNTIME.layers()).parse(name + ".nn", imported.script()).mainModel();
        assertEquals(parameters, graph.trainableParameterCount(), imported.script());
        List<NamedTensor> weights = imported.weights(graph);
        NamedTensor x = io.get("x");
        float[] y = ExampleModels.predict(graph, weights, x.data(), x.shape().dim(0));
        double error = ExampleModels.maxError(y, io.get("y").data());
        assertTrue(error <= 1e-4, name + ": max error " + error + "\n" + imported.script());
        return imported;
    }

    @Test
    void lenet5ImportsAsChains() throws Exception {
        OnnxImporter.Imported imported = importAndCompare(FIXTURES, "lenet5", "LeNet5", 61_706);
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
                """, imported.script());
    }

    /**
     * {@code x.view(x.size(0), -1)}: PyTorch computes the target [N, -1] from the input's shape
     * (Shape, Gather, Unsqueeze, Concat) and reshapes to it, which is Neurite's flatten.
     * ReshapeImportTest has the other ways the target is written.
     */
    @Test
    void viewOfTheBatchSizeImportsAsFlatten() throws Exception {
        OnnxImporter.Imported imported = importAndCompare(FIXTURES, "viewcnn", "ViewCnn", 545);
        assertEquals("""
                # Imported from ONNX by nn import.

                model ViewCnn {
                    input image: [1, 12, 12]
                    conv = conv(4, kernel=3) -> relu -> maxpool(2) -> flatten
                    output fc = dense(5)
                }
                """, imported.script());
    }

    @Test
    void stackedLstmClassifierImportsAsOneLayer() throws Exception {
        OnnxImporter.Imported imported = importAndCompare(FIXTURES, "lstm", "LstmClassifier", 4_181);
        assertEquals("""
                # Imported from ONNX by nn import.

                model LstmClassifier {
                    input seq: [9, 12]
                    rnn = lstm(16, layers=2, sequences=false)
                    output fc = dense(5)
                }
                """, imported.script());
    }

    @Test
    void gruClassifierImports() throws Exception {
        OnnxImporter.Imported imported = importAndCompare(FIXTURES, "gru", "GruClassifier", 1_525);
        assertTrue(imported.script().contains("    rnn = gru(16, sequences=false)\n"), imported.script());
    }

    @Test
    void stackedBidirectionalGruImportsAsOneLayer() throws Exception {
        OnnxImporter.Imported imported = importAndCompare(FIXTURES, "bigru", "GruTagger", 2_389);
        assertEquals("""
                # Imported from ONNX by nn import.

                model GruTagger {
                    input seq: [9, 12]
                    rnn = gru(8, layers=2, bidirectional=true)
                    output fc = dense(5)
                }
                """, imported.script());
    }
}
