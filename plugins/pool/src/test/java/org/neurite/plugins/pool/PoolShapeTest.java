package org.neurite.plugins.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerType;
import org.neurite.layer.ShapeException;
import org.neurite.tensor.Shape;

/** Pooling output sizes (floor and ceil), FLOPs and the exact messages scripts see. */
class PoolShapeTest {
    private static final MaxPool2d MAX = new MaxPool2d();
    private static final AvgPool2d AVG = new AvgPool2d();
    private static final GlobalAvgPool2d GLOBAL = new GlobalAvgPool2d();

    private static LayerArgs args(LayerType type, Object kernel, Object... named) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < named.length; i += 2) map.put((String) named[i], named[i + 1]);
        return type.schema().bind(List.of(kernel), map);
    }

    private static Shape out(LayerType type, LayerArgs args, Shape in) {
        return type.outputShape(args, List.of(in));
    }

    private static String shapeError(LayerType type, LayerArgs args, Shape in) {
        return assertThrows(ShapeException.class, () -> type.outputShape(args, List.of(in))).getMessage();
    }

    @Test void strideDefaultsToTheKernel() {
        assertEquals(Shape.of(6, 14, 14), out(MAX, args(MAX, 2), Shape.of(6, 28, 28)));
        assertEquals(Shape.of(6, 14, 14), out(AVG, args(AVG, 2), Shape.of(6, 28, 28)));
        assertEquals(6L * 14 * 14 * 4, MAX.flops(args(MAX, 2), List.of(Shape.of(6, 28, 28)), Shape.of(6, 14, 14)));
    }

    @Test void wellKnownNetworks() {
        // AlexNet's overlapping pool and ResNet's padded stem pool.
        assertEquals(Shape.of(96, 27, 27), out(MAX, args(MAX, 3, "stride", 2), Shape.of(96, 55, 55)));
        assertEquals(Shape.of(64, 56, 56), out(MAX, args(MAX, 3, "stride", 2, "pad", 1), Shape.of(64, 112, 112)));
    }

    @Test void floorAndCeilModes() {
        assertEquals(Shape.of(6, 13, 13), out(MAX, args(MAX, 2), Shape.of(6, 27, 27)));
        assertEquals(Shape.of(6, 14, 14), out(MAX, args(MAX, 2, "ceil", true), Shape.of(6, 27, 27)));
        // ceil(5 / 2) + 1 = 4 windows, but the 4th would start at 6 >= 5 + 1, past the input and
        // its left padding, so PyTorch (and we) drop it.
        assertEquals(Shape.of(1, 3, 3), out(AVG, args(AVG, 2, "pad", 1, "ceil", true), Shape.of(1, 5, 5)));
    }

    @Test void globalAverageDropsTheSpatialAxesSoDenseCanFollow() {
        assertEquals(Shape.of(512), GLOBAL.outputShape(LayerArgs.empty(), List.of(Shape.of(512, 7, 7))));
        assertEquals(512L * 49, GLOBAL.flops(LayerArgs.empty(), List.of(Shape.of(512, 7, 7)), Shape.of(512)));
    }

    @Test void rejectsWhatItCannotPool() {
        assertEquals("expects [channels, height, width] per sample, got [10]", shapeError(MAX, args(MAX, 2), Shape.of(10)));
        assertEquals("expects [channels, height, width] per sample, got [10]", shapeError(GLOBAL, LayerArgs.empty(), Shape.of(10)));
        assertEquals("pad 2x2 must be at most half of the kernel 2x2", shapeError(MAX, args(MAX, 2, "pad", 2), Shape.of(1, 8, 8)));
        assertEquals("pad 0x2 must be at most half of the kernel 3x3",
                shapeError(AVG, args(AVG, 3, "pad", List.of(0, 2)), Shape.of(1, 8, 8)));
        assertEquals("output would be empty: padded input 2x2 is smaller than the kernel 3x3",
                shapeError(MAX, args(MAX, 3), Shape.of(1, 2, 2)));
    }

    @Test void rejectsBadArguments() {
        ArgumentException stride = assertThrows(ArgumentException.class, () -> args(MAX, 2, "stride", 0));
        assertEquals("parameter 'stride' must be >= 1, got 0", stride.getMessage());
        ArgumentException kernel = assertThrows(ArgumentException.class, () -> args(AVG, 0));
        assertEquals("parameter 'kernel' must be >= 1, got 0", kernel.getMessage());
    }
}
