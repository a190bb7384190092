package org.neurite.onnx;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.neurite.graph.TypedGraph;

/**
 * The ImageNet examples, exported with random weights and run by ONNX Runtime at 224×224, give
 * Neurite's outputs within 1e-4, at a batch of 1 (the small examples check the dynamic batch at 3 and 1).
 */
class FullSizeExamplesParityTest {
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"resnet18.nn", "googlenet.nn", "alexnet.nn", "vgg16.nn"})
    void imagenetExampleRunsInOnnxRuntimeAsInNeurite(String script) throws Exception {
        for (TypedGraph graph : ExampleModels.load(script)) OnnxRuntimeParityTest.assertParity(graph, 0, 1);
    }
}
