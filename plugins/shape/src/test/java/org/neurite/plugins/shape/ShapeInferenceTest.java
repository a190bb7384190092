package org.neurite.plugins.shape;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerType;
import org.neurite.layer.ShapeException;
import org.neurite.tensor.Shape;

/** Output shapes, FLOPs and the exact messages scripts see for add, concat, split and zeropad. */
class ShapeInferenceTest {
    private static final Add ADD = new Add();
    private static final Concat CONCAT = new Concat();
    private static final Split SPLIT = new Split();
    private static final ZeroPad2d PAD = new ZeroPad2d();

    private static LayerArgs args(LayerType type, Map<String, Object> named) {
        return type.schema().bind(List.of(), named);
    }

    private static String shapeError(LayerType type, LayerArgs args, Shape... inputs) {
        return assertThrows(ShapeException.class, () -> type.outputShape(args, List.of(inputs))).getMessage();
    }

    private static String argumentError(LayerType type, LayerArgs args, Shape... inputs) {
        return assertThrows(ArgumentException.class, () -> type.outputShape(args, List.of(inputs))).getMessage();
    }

    @Test void addTakesTwoOrMoreInputsOfOneShape() {
        assertEquals(2, ADD.minInputs());
        assertEquals(Integer.MAX_VALUE, ADD.maxInputs());
        Shape s = Shape.of(64, 56, 56);
        assertEquals(s, ADD.outputShape(LayerArgs.empty(), List.of(s, s, s)));
        assertEquals(2L * 64 * 56 * 56, ADD.flops(LayerArgs.empty(), List.of(s, s, s), s));
        assertEquals("inputs must have the same shape, but input 0 is [64, 56, 56] and input 1 is [128, 28, 28]",
                shapeError(ADD, LayerArgs.empty(), s, Shape.of(128, 28, 28)));
        assertEquals("inputs must have the same shape, but input 0 is [10] and input 2 is [10, 1]",
                shapeError(ADD, LayerArgs.empty(), Shape.of(10), Shape.of(10), Shape.of(10, 1)));
    }

    @Test void concatSumsTheChosenAxis() {
        assertEquals(2, CONCAT.minInputs());
        assertEquals(Integer.MAX_VALUE, CONCAT.maxInputs());
        // GoogLeNet's inception 3a: 64 + 128 + 32 + 32 channels at 28x28.
        List<Shape> branches = List.of(Shape.of(64, 28, 28), Shape.of(128, 28, 28), Shape.of(32, 28, 28), Shape.of(32, 28, 28));
        assertEquals(Shape.of(256, 28, 28), CONCAT.outputShape(args(CONCAT, Map.of()), branches));
        assertEquals(0, CONCAT.flops(args(CONCAT, Map.of()), branches, Shape.of(256, 28, 28)));
        assertEquals(Shape.of(3, 4, 7), CONCAT.outputShape(args(CONCAT, Map.of("axis", 2)), List.of(Shape.of(3, 4, 5), Shape.of(3, 4, 2))));
        assertEquals(Shape.of(3, 9, 5), CONCAT.outputShape(args(CONCAT, Map.of("axis", -2)), List.of(Shape.of(3, 4, 5), Shape.of(3, 5, 5))));
        assertEquals(Shape.of(30), CONCAT.outputShape(args(CONCAT, Map.of()), List.of(Shape.of(10), Shape.of(20))));
    }

    @Test void concatNamesTheShapesThatDoNotFit() {
        LayerArgs channels = args(CONCAT, Map.of());
        assertEquals("inputs must match on every axis but axis 0, but input 0 is [64, 28, 28] and input 1 is [32, 14, 14]",
                shapeError(CONCAT, channels, Shape.of(64, 28, 28), Shape.of(32, 14, 14)));
        assertEquals("inputs must have the same rank, but input 0 is [64, 28, 28] and input 2 is [64]",
                shapeError(CONCAT, channels, Shape.of(64, 28, 28), Shape.of(64, 28, 28), Shape.of(64)));
        assertEquals("axis 3 does not exist in [64, 28, 28], which has axes 0..2 (or -3..-1)",
                shapeError(CONCAT, args(CONCAT, Map.of("axis", 3)), Shape.of(64, 28, 28), Shape.of(64, 28, 28)));
        assertEquals("axis -2 does not exist in [10], which has axes 0..0 (or -1..-1)",
                shapeError(CONCAT, args(CONCAT, Map.of("axis", -2)), Shape.of(10), Shape.of(10)));
    }

    @Test void splitTakesOneEqualPart() {
        assertEquals(Shape.of(32, 8, 8), SPLIT.outputShape(args(SPLIT, Map.of()), List.of(Shape.of(64, 8, 8))));
        assertEquals(Shape.of(64, 8, 2),
                SPLIT.outputShape(args(SPLIT, Map.of("axis", -1, "parts", 4, "index", 3)), List.of(Shape.of(64, 8, 8))));
        assertEquals(Shape.of(6), SPLIT.outputShape(args(SPLIT, Map.of("parts", 1)), List.of(Shape.of(6))));
        assertEquals(0, SPLIT.flops(args(SPLIT, Map.of()), List.of(Shape.of(64, 8, 8)), Shape.of(32, 8, 8)));
    }

    @Test void splitRejectsUnevenPartsAndMissingParts() {
        assertEquals("axis 0 of [6, 4, 4] has size 6, which does not split into 4 equal parts",
                shapeError(SPLIT, args(SPLIT, Map.of("parts", 4)), Shape.of(6, 4, 4)));
        assertEquals("parameter 'index' must be less than parts (2), got 2",
                argumentError(SPLIT, args(SPLIT, Map.of("index", 2)), Shape.of(6, 4, 4)));
        assertEquals("axis 1 does not exist in [6], which has axes 0..0 (or -1..-1)",
                shapeError(SPLIT, args(SPLIT, Map.of("axis", 1)), Shape.of(6)));
        assertEquals("parameter 'parts' must be >= 1, got 0",
                assertThrows(ArgumentException.class, () -> args(SPLIT, Map.of("parts", 0))).getMessage());
    }

    @Test void zeropadSymmetricPairAndAsymmetricForms() {
        Shape in = Shape.of(3, 5, 7);
        assertEquals(Shape.of(3, 9, 11), PAD.outputShape(args(PAD, Map.of("pad", 2)), List.of(in)));
        assertEquals(Shape.of(3, 7, 7), PAD.outputShape(args(PAD, Map.of("pad", List.of(1, 0))), List.of(in)));
        // [top, bottom, left, right]: one extra row below and one extra column on the right.
        assertEquals(Shape.of(3, 6, 8), PAD.outputShape(args(PAD, Map.of("pad", List.of(0, 1, 0, 1))), List.of(in)));
        assertEquals(0, PAD.flops(args(PAD, Map.of("pad", 2)), List.of(in), Shape.of(3, 9, 11)));
    }

    @Test void zeropadRejectsOtherLengthsNegativeValuesAndFlatInputs() {
        assertEquals("parameter 'pad' expects one int, [height, width] or [top, bottom, left, right], got 3 ints",
                argumentError(PAD, args(PAD, Map.of("pad", List.of(1, 2, 3))), Shape.of(1, 4, 4)));
        assertEquals("parameter 'pad' must be >= 0, got -1",
                assertThrows(ArgumentException.class, () -> args(PAD, Map.of("pad", List.of(1, -1)))).getMessage());
        assertEquals("expects [channels, height, width] per sample, got [16]",
                shapeError(PAD, args(PAD, Map.of("pad", 1)), Shape.of(16)));
        assertEquals("missing required parameter 'pad'",
                assertThrows(ArgumentException.class, () -> args(PAD, Map.of())).getMessage());
    }
}
