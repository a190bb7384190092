package org.neurite.plugins.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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

/** Shape inference, parameter declarations, FLOPs and the exact messages scripts see for core layers. */
class CoreLayersShapeTest {
    private static LayerArgs args(LayerType type, List<Object> positional, Map<String, Object> named) {
        return type.schema().bind(positional, named);
    }

    private static long parameterCount(LayerType type, LayerArgs args, Shape input) {
        return type.parameters(args, List.of(input)).stream().mapToLong(p -> p.shape().elementCount()).sum();
    }

    @Test void denseMapsFeaturesToUnitsWithPyTorchLayoutParameters() {
        Dense dense = new Dense();
        LayerArgs a = args(dense, List.of(10), Map.of());
        assertEquals(Shape.of(10), dense.outputShape(a, List.of(Shape.of(84))));
        List<ParamDecl> params = dense.parameters(a, List.of(Shape.of(84)));
        assertEquals(List.of("weight [10, 84] decay=true", "bias [10] decay=false"),
                params.stream().map(p -> p.name() + " " + p.shape() + " decay=" + p.decay()).toList());
        assertEquals(2L * 84 * 10, dense.flops(a, List.of(Shape.of(84)), Shape.of(10)));
    }

    @Test void lenetDenseLayersHaveTheirTextbookParameterCounts() {
        Dense dense = new Dense();
        assertEquals(48_120, parameterCount(dense, args(dense, List.of(120), Map.of()), Shape.of(400)));
        assertEquals(10_164, parameterCount(dense, args(dense, List.of(84), Map.of()), Shape.of(120)));
        assertEquals(850, parameterCount(dense, args(dense, List.of(10), Map.of()), Shape.of(84)));
        assertEquals(840, parameterCount(dense, args(dense, List.of(10), Map.of("bias", false)), Shape.of(84)));
    }

    @Test void denseOnASequenceAppliesToEveryStep() {
        Dense dense = new Dense();
        LayerArgs a = args(dense, List.of(10), Map.of());
        assertEquals(Shape.of(28, 10), dense.outputShape(a, List.of(Shape.of(28, 128))));
        assertEquals(1290, parameterCount(dense, a, Shape.of(28, 128)));
        assertEquals(2L * 28 * 128 * 10, dense.flops(a, List.of(Shape.of(28, 128)), Shape.of(28, 10)));
    }

    @Test void denseOnAnImageAsksForFlatten() {
        Dense dense = new Dense();
        ShapeException e = assertThrows(ShapeException.class,
                () -> dense.outputShape(args(dense, List.of(120), Map.of()), List.of(Shape.of(16, 5, 5))));
        assertEquals("expects [features] per sample, got [16, 5, 5]; put flatten before dense", e.getMessage());
    }

    @Test void denseRejectsZeroUnitsAndUnknownInitialisers() {
        Dense dense = new Dense();
        ArgumentException units = assertThrows(ArgumentException.class, () -> args(dense, List.of(0), Map.of()));
        assertEquals("parameter 'units' must be >= 1, got 0", units.getMessage());
        LayerArgs a = args(dense, List.of(4), Map.of("init", "gaussian"));
        ArgumentException init = assertThrows(ArgumentException.class, () -> dense.parameters(a, List.of(Shape.of(3))));
        assertEquals("init", init.argument());
        assertEquals("unknown initializer 'gaussian' (known: he, he_uniform, xavier, torch, zeros)", init.getMessage());
    }

    @Test void activationsKeepTheShapeAndCountFlopsPerElement() {
        Shape image = Shape.of(6, 28, 28);
        for (LayerType t : List.of(new Relu(), new Sigmoid(), new Tanh(), new Softmax())) {
            assertEquals(image, t.outputShape(LayerArgs.empty(), List.of(image)), t.name());
        }
        assertEquals(4704, new Relu().flops(LayerArgs.empty(), List.of(image), image));
        assertEquals(4 * 4704, new Sigmoid().flops(LayerArgs.empty(), List.of(image), image));
        assertEquals(4 * 4704, new Tanh().flops(LayerArgs.empty(), List.of(image), image));
        assertEquals(5 * 4704, new Softmax().flops(LayerArgs.empty(), List.of(image), image));
    }

    @Test void softmaxNeedsAnAxis() {
        ShapeException e = assertThrows(ShapeException.class,
                () -> new Softmax().outputShape(LayerArgs.empty(), List.of(Shape.of())));
        assertEquals("expects at least one axis per sample to normalise over, got []", e.getMessage());
    }

    @Test void flattenMultipliesEveryAxis() {
        assertEquals(Shape.of(400), new Flatten().outputShape(LayerArgs.empty(), List.of(Shape.of(16, 5, 5))));
        assertEquals(Shape.of(7), new Flatten().outputShape(LayerArgs.empty(), List.of(Shape.of(7))));
    }

    @Test void dropoutProbabilityMustLeaveSomethingBehind() {
        Dropout dropout = new Dropout();
        assertEquals(0.5, args(dropout, List.of(), Map.of()).getDouble("p"));
        ArgumentException one = assertThrows(ArgumentException.class,
                () -> dropout.outputShape(args(dropout, List.of(1), Map.of()), List.of(Shape.of(3))));
        assertEquals("parameter 'p' must be in [0, 1), got 1", one.getMessage());
        ArgumentException negative = assertThrows(ArgumentException.class, () -> args(dropout, List.of(-0.1), Map.of()));
        assertEquals("parameter 'p' must be in [0, 1], got -0.1", negative.getMessage());
    }

    @Test void denseWeightsFollowHeByDefaultAndBiasesStartAtZero() {
        Dense dense = new Dense();
        List<ParamDecl> params = dense.parameters(args(dense, List.of(100), Map.of()), List.of(Shape.of(50)));
        float[] w = new float[100 * 50];
        params.get(0).initializer().initialize(w, params.get(0).shape(), new SplittableRandom(5));
        double sumSquares = 0;
        for (float v : w) sumSquares += v * v;
        double std = Math.sqrt(sumSquares / w.length);
        // He normal with fanIn = 50: std = sqrt(2 / 50) = 0.2 (5000 draws: within a few percent).
        assertEquals(0.2, std, 0.01);
        float[] b = {3, 3};
        params.get(1).initializer().initialize(b, params.get(1).shape(), new SplittableRandom(5));
        assertArrayEquals(new float[] {0, 0}, b);
    }
}
