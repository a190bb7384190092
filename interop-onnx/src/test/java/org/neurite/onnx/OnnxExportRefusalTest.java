package org.neurite.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;

/** What cannot be exported is refused whole, naming each layer by position, name and script location. */
class OnnxExportRefusalTest {
    @Test
    void everyLayerThatCannotBeExportedIsNamedWithItsPosition() {
        TypedGraph graph = ExampleModels.parse("""
                model M {
                    input s: [6, 4]
                    h = lstm(5, mask_zero=true)
                    i = s -> gru(3, mask_zero=true, sequences=false)
                    output y = dense(2)
                }
                """);
        OnnxConversionException e = assertThrows(OnnxConversionException.class,
                () -> OnnxExporter.export(graph, ExampleModels.weights(graph), OnnxExporter.DEFAULT_OPSET));
        String why = "mask_zero=true (lengths read from the data) is not exported; ONNX's sequence_lens would need them as an input";
        assertEquals("test.nn:3:9: layer 1 'h' (lstm) cannot be exported: " + why + "\n"
                + "test.nn:4:14: layer 2 'i' (gru) cannot be exported: " + why, e.getMessage());
    }

    @Test
    void avgpoolWhoseCeilWindowOverhangsThePaddingIsRefused() {
        TypedGraph graph = ExampleModels.parse("model M {\n    input x: [1, 10, 10]\n    output y = avgpool(3, stride=2, pad=1, ceil=true)\n}\n");
        OnnxConversionException e = assertThrows(OnnxConversionException.class,
                () -> OnnxExporter.export(graph, List.of(), OnnxExporter.DEFAULT_OPSET));
        assertEquals("test.nn:3:16: layer 1 'y' (avgpool) cannot be exported: avgpool with ceil=true, pad > 0 and "
                + "count_include_pad=true divides its last window by the part inside the padded input, ONNX Runtime by the "
                + "whole window; use count_include_pad=false or ceil=false", e.getMessage());
    }

    @Test
    void missingOrMisshapenWeightsAndBadOpsetsAreRefused() {
        TypedGraph graph = ExampleModels.parse("model M {\n    input x: [4]\n    output y = dense(3)\n}\n");
        assertEquals("no weights for 'y.weight' [3, 4]", assertThrows(OnnxConversionException.class,
                () -> OnnxExporter.export(graph, List.of(), 17)).getMessage());
        List<NamedTensor> wrong = List.of(new NamedTensor("y.weight", org.neurite.tensor.Shape.of(4, 3), new float[12]),
                new NamedTensor("y.bias", org.neurite.tensor.Shape.of(3), new float[3]));
        assertEquals("'y.weight' has shape [4, 3], the model needs [3, 4]", assertThrows(OnnxConversionException.class,
                () -> OnnxExporter.export(graph, wrong, 17)).getMessage());
        assertEquals("--opset must be from 13 to 21, got 12", assertThrows(OnnxConversionException.class,
                () -> OnnxExporter.export(graph, ExampleModels.weights(graph), 12)).getMessage());
    }
}
