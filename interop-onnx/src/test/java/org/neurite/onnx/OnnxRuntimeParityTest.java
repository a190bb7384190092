package org.neurite.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.onnx.proto.Onnx.ModelProto;

/**
 * Every example model, exported with random weights and run by ONNX Runtime, gives Neurite's
 * outputs within 1e-4 (absolute, relative above 1), at a batch of 3 and at a batch of 1 (the batch
 * dimension is dynamic).
 */
class OnnxRuntimeParityTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "lenet5.nn, 0", "fashion_cnn.nn, 0", "resnet_small.nn, 0", "inception_small.nn, 0", "filters.nn, 0",
            "rowlstm.nn, 0", "adding.nn, 0", "charlm.nn, 70"})
    void exampleRunsInOnnxRuntimeAsInNeurite(String script, int vocabulary) throws Exception {
        for (TypedGraph graph : ExampleModels.load(script)) assertParity(graph, vocabulary);
    }

    /** Exports {@code graph} with random weights and compares ONNX Runtime with Neurite at batches 3 and 1. */
    static void assertParity(TypedGraph graph, int vocabulary) throws Exception {
        assertParity(graph, vocabulary, 3, 1);
    }

    /** Exports {@code graph} with random weights and compares ONNX Runtime with Neurite at each of {@code batches}. */
    static void assertParity(TypedGraph graph, int vocabulary, int... batches) throws Exception {
        String name = graph.graph().name();
        List<NamedTensor> weights = ExampleModels.weights(graph);
        ModelProto model = OnnxExporter.export(graph, weights, OnnxExporter.DEFAULT_OPSET);
        for (int n : batches) {
            float[] x = ExampleModels.inputs(graph, n, vocabulary);
            float[] expected = ExampleModels.predict(graph, weights, x, n);
            float[] actual = OrtSession.run(model, x, ExampleModels.batchShape(graph, n));
            assertEquals(expected.length, actual.length, name + ": output size");
            double error = ExampleModels.maxError(actual, expected);
            assertTrue(error <= 1e-4, name + " at batch " + n + ": max error " + error);
        }
    }
}
