package org.neurite.plugins.recurrent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamDecl;
import org.neurite.layer.ShapeException;
import org.neurite.tensor.Shape;

/** Shape inference, PyTorch's parameter names and shapes, initialisation, FLOPs and the exact messages scripts see. */
class RecurrentShapeTest {
    private static final Lstm LSTM = new Lstm();
    private static final Gru GRU = new Gru();
    private static final Rnn RNN = new Rnn();
    private static final Embedding EMBEDDING = new Embedding();

    private static LayerArgs args(LayerType type, int hidden, Object... named) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < named.length; i += 2) map.put((String) named[i], named[i + 1]);
        return type.schema().bind(List.of(hidden), map);
    }

    private static List<String> params(LayerType type, LayerArgs args, Shape input) {
        return type.parameters(args, List.of(input)).stream().map(p -> p.name() + " " + p.shape()).toList();
    }

    private static String shapeError(LayerType type, LayerArgs args, Shape input) {
        return assertThrows(ShapeException.class, () -> type.outputShape(args, List.of(input))).getMessage();
    }

    @Test void sequencesOrFinalStateTimesDirections() {
        assertEquals(Shape.of(7, 20), LSTM.outputShape(args(LSTM, 20), List.of(Shape.of(7, 5))));
        assertEquals(Shape.of(7, 40), LSTM.outputShape(args(LSTM, 20, "bidirectional", true), List.of(Shape.of(7, 5))));
        assertEquals(Shape.of(20), GRU.outputShape(args(GRU, 20, "sequences", false, "layers", 3), List.of(Shape.of(7, 5))));
        assertEquals(Shape.of(40), RNN.outputShape(args(RNN, 20, "sequences", false, "bidirectional", true), List.of(Shape.of(7, 5))));
    }

    @Test void pytorchNamesAndLayoutsInStateDictOrder() {
        // nn.LSTM(5, 8, num_layers=2, bidirectional=True).state_dict() lists exactly these.
        assertEquals(List.of(
                "weight_ih_l0 [32, 5]", "weight_hh_l0 [32, 8]", "bias_ih_l0 [32]", "bias_hh_l0 [32]",
                "weight_ih_l0_reverse [32, 5]", "weight_hh_l0_reverse [32, 8]", "bias_ih_l0_reverse [32]", "bias_hh_l0_reverse [32]",
                "weight_ih_l1 [32, 16]", "weight_hh_l1 [32, 8]", "bias_ih_l1 [32]", "bias_hh_l1 [32]",
                "weight_ih_l1_reverse [32, 16]", "weight_hh_l1_reverse [32, 8]", "bias_ih_l1_reverse [32]", "bias_hh_l1_reverse [32]"),
                params(LSTM, args(LSTM, 8, "layers", 2, "bidirectional", true), Shape.of(10, 5)));
        assertEquals(List.of("weight_ih_l0 [24, 5]", "weight_hh_l0 [24, 8]", "weight_ih_l1 [24, 8]", "weight_hh_l1 [24, 8]"),
                params(GRU, args(GRU, 8, "layers", 2, "bias", false), Shape.of(10, 5)));
        assertEquals(List.of("weight_ih_l0 [8, 5]", "weight_hh_l0 [8, 8]", "bias_ih_l0 [8]", "bias_hh_l0 [8]"),
                params(RNN, args(RNN, 8), Shape.of(10, 5)));
        assertEquals(List.of("weight [1000, 64]"), params(EMBEDDING, EMBEDDING.schema().bind(List.of(1000, 64), Map.of()), Shape.of(10)));
    }

    @Test void weightsAndBiasesStartUniformInPlusMinusOneOverRootH() {
        // PyTorch: every recurrent parameter U(-1/sqrt(H), 1/sqrt(H)); H = 16 gives 0.25.
        List<ParamDecl> decls = LSTM.parameters(args(LSTM, 16), List.of(Shape.of(4, 3)));
        for (ParamDecl d : decls) {
            float[] v = new float[d.shape().size()];
            d.initializer().initialize(v, d.shape(), new SplittableRandom(5));
            double largest = 0;
            for (float x : v) largest = Math.max(largest, Math.abs(x));
            assertTrue(largest <= 0.25 && largest > 0.24, d.name() + ": max |w| " + largest);
        }
        assertEquals(List.of(true, true, false, false), decls.stream().map(ParamDecl::decay).toList(), "no weight decay on biases");
    }

    @Test void embeddingStartsStandardNormal() {
        ParamDecl weight = EMBEDDING.parameters(EMBEDDING.schema().bind(List.of(100, 100), Map.of()), List.of(Shape.of(5))).get(0);
        float[] v = new float[weight.shape().size()];
        weight.initializer().initialize(v, weight.shape(), new SplittableRandom(9));
        double sum = 0, squares = 0;
        for (float x : v) {
            sum += x;
            squares += x * x;
        }
        double mean = sum / v.length, variance = squares / v.length - mean * mean;
        assertEquals(0, mean, 0.03);
        assertEquals(1, variance, 0.05);
    }

    @Test void embeddingAppendsTheVectorAxis() {
        LayerArgs a = EMBEDDING.schema().bind(List.of(1000, 64), Map.of());
        assertEquals(Shape.of(35, 64), EMBEDDING.outputShape(a, List.of(Shape.of(35))));
        assertEquals(Shape.of(4, 35, 64), EMBEDDING.outputShape(a, List.of(Shape.of(4, 35))));
    }

    @Test void flopsCountBothProjectionsOfEveryStepLayerAndDirection() {
        // layer 0: 2 dirs * 2 * 4H * H * (I + H) * T with H = 8, I = 5, T = 10; layer 1 reads 2H = 16.
        long layer0 = 2L * 2 * 32 * (5 + 8) * 10;
        long layer1 = 2L * 2 * 32 * (16 + 8) * 10;
        LayerArgs a = args(LSTM, 8, "layers", 2, "bidirectional", true);
        assertEquals(layer0 + layer1, LSTM.flops(a, List.of(Shape.of(10, 5)), Shape.of(10, 16)));
        assertEquals(2L * 3 * 8 * (5 + 8) * 10, GRU.flops(args(GRU, 8), List.of(Shape.of(10, 5)), Shape.of(10, 8)));
    }

    @Test void rejectsWhatIsNotASequence() {
        assertEquals("expects [time, features] per sample, got [784]", shapeError(LSTM, args(LSTM, 8), Shape.of(784)));
        assertEquals("expects [time, features] per sample, got [1, 28, 28]", shapeError(GRU, args(GRU, 8), Shape.of(1, 28, 28)));
        assertEquals("expects [time, features] per sample, got [784]",
                assertThrows(ShapeException.class, () -> RNN.parameters(args(RNN, 8), List.of(Shape.of(784)))).getMessage());
        assertEquals("expects a non-empty sequence, got [0, 5]", shapeError(RNN, args(RNN, 8), Shape.of(0, 5)));
    }

    @Test void rejectsBadArguments() {
        assertEquals("missing required parameter 'hidden'",
                assertThrows(ArgumentException.class, () -> LSTM.schema().bind(List.of(), Map.of())).getMessage());
        assertEquals("parameter 'hidden' must be >= 1, got 0", assertThrows(ArgumentException.class, () -> args(LSTM, 0)).getMessage());
        assertEquals("parameter 'layers' must be >= 1, got 0",
                assertThrows(ArgumentException.class, () -> args(GRU, 4, "layers", 0)).getMessage());
        assertEquals("parameter 'dropout' must be in [0, 1], got 1.5",
                assertThrows(ArgumentException.class, () -> args(GRU, 4, "dropout", 1.5)).getMessage());
        assertEquals("parameter 'dropout' must be in [0, 1), got 1", assertThrows(ArgumentException.class,
                () -> GRU.outputShape(args(GRU, 4, "dropout", 1.0), List.of(Shape.of(3, 2)))).getMessage());
        ArgumentException sigmoid = assertThrows(ArgumentException.class,
                () -> RNN.outputShape(args(RNN, 4, "nonlinearity", "sigmoid"), List.of(Shape.of(3, 2))));
        assertEquals("parameter 'nonlinearity' must be \"tanh\" or \"relu\", got \"sigmoid\"", sigmoid.getMessage());
        assertEquals("nonlinearity", sigmoid.argument());
        assertEquals("unknown parameter 'nonlinearity'",
                assertThrows(ArgumentException.class, () -> args(LSTM, 4, "nonlinearity", "relu")).getMessage());
        assertEquals("parameter 'num' must be >= 1, got 0",
                assertThrows(ArgumentException.class, () -> EMBEDDING.schema().bind(List.of(0, 4), Map.of())).getMessage());
    }
}
