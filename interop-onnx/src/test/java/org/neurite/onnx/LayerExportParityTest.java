package org.neurite.onnx;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The layers and options the example scripts do not use, each in a small model run by ONNX
 * Runtime and compared with Neurite: GRU, bidirectional and stacked recurrences, the relu RNN,
 * grouped and dilated convolution, LRN, pooling in ceil mode, padding, split, the activations,
 * batch normalisation without affine parameters, dense on sequences.
 */
class LayerExportParityTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "gru classifier | input s: [7, 5]; h = gru(6, sequences=false); output y = dense(3)",
            "stacked bidirectional gru | input s: [7, 5]; h = gru(6, layers=2, bidirectional=true); output y = dense(3)",
            "stacked bidirectional lstm, final state | input s: [6, 4]; h = lstm(5, layers=3, bidirectional=true, sequences=false); output y = dense(2)",
            "bidirectional relu rnn without bias | input s: [5, 3]; output h = rnn(4, layers=2, bidirectional=true, nonlinearity=\"relu\", bias=false)",
            "embedding into gru | input t: [9]; e = embedding(20, 4); output h = gru(3, bidirectional=true, sequences=false)",
            "grouped dilated conv, lrn | input x: [4, 11, 11]; c = conv(6, kernel=3, dilation=2, groups=2, stride=2, pad=1) -> lrn(3, alpha=0.01, beta=0.75, k=2) -> relu; output y = flatten -> dense(5) -> softmax",
            "pooling in ceil mode | input x: [3, 10, 10]; a = maxpool(3, stride=2, ceil=true) -> flatten; b = x -> avgpool(3, stride=2, ceil=true) -> flatten; output y = concat(a, b)",
            "avgpool without padding counted | input x: [3, 9, 9]; output y = avgpool(3, stride=2, pad=1, count_include_pad=false) -> sigmoid",
            "zeropad, split, tanh | input x: [4, 5, 6]; p = zeropad([1, 2, 0, 3]) -> tanh; output y = split(parts=2, index=1) + split(p, parts=2, index=0)",
            "batchnorm without affine, dropout | input x: [3, 6, 6]; b = batchnorm(affine=false, eps=0.01) -> dropout(0.3); output y = globalavgpool -> dense(4, bias=false)",
            "rectangular kernels and strides | input x: [2, 12, 9]; c = conv(3, kernel=[3, 2], stride=[2, 1], pad=[1, 0]); output y = maxpool([2, 3], stride=[1, 2])",
    })
    void layerRunsInOnnxRuntimeAsInNeurite(String what, String body) throws Exception {
        OnnxRuntimeParityTest.assertParity(ExampleModels.parse("model M {\n" + body + "\n}\n"), body.contains("embedding") ? 20 : 0);
    }
}
