package org.neurite.plugins.conv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import org.neurite.layer.ParamDecl;
import org.neurite.layer.ShapeException;
import org.neurite.tensor.Shape;

/** {@code conv} shape inference, parameters, FLOPs and the exact messages scripts see. */
class Conv2dShapeTest {
    private static final Conv2d CONV = new Conv2d();

    private static LayerArgs conv(int channels, Object... named) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < named.length; i += 2) map.put((String) named[i], named[i + 1]);
        return CONV.schema().bind(List.of(channels), map);
    }

    private static long parameterCount(LayerArgs args, Shape input) {
        return CONV.parameters(args, List.of(input)).stream().mapToLong(p -> p.shape().elementCount()).sum();
    }

    private static String shapeError(LayerArgs args, Shape input) {
        return assertThrows(ShapeException.class, () -> CONV.outputShape(args, List.of(input))).getMessage();
    }

    @Test void lenetConvolutions() {
        LayerArgs c1 = conv(6, "kernel", 5);
        assertEquals(Shape.of(6, 24, 24), CONV.outputShape(c1, List.of(Shape.of(1, 28, 28))));
        assertEquals(156, parameterCount(c1, Shape.of(1, 28, 28)));
        assertEquals(2L * 6 * 24 * 24 * 25, CONV.flops(c1, List.of(Shape.of(1, 28, 28)), Shape.of(6, 24, 24)));

        LayerArgs c1Padded = conv(6, "kernel", 5, "pad", 2);
        assertEquals(Shape.of(6, 28, 28), CONV.outputShape(c1Padded, List.of(Shape.of(1, 28, 28))));
        assertEquals(156, parameterCount(c1Padded, Shape.of(1, 28, 28)));

        LayerArgs c3 = conv(16, "kernel", 5);
        assertEquals(Shape.of(16, 10, 10), CONV.outputShape(c3, List.of(Shape.of(6, 14, 14))));
        assertEquals(2416, parameterCount(c3, Shape.of(6, 14, 14)));
    }

    @Test void alexnetFirstLayer() {
        LayerArgs c = conv(96, "kernel", 11, "stride", 4);
        assertEquals(Shape.of(96, 55, 55), CONV.outputShape(c, List.of(Shape.of(3, 227, 227))));
        assertEquals(34_944, parameterCount(c, Shape.of(3, 227, 227)));
    }

    @Test void perAxisGeometry() {
        // H: (10 + 2 - 2*2 - 1) / 1 + 1 = 8;  W: (12 + 4 - 4 - 1) / 2 + 1 = 6
        LayerArgs c = conv(8, "kernel", List.of(3, 5), "stride", List.of(1, 2), "pad", List.of(1, 2), "dilation", List.of(2, 1));
        assertEquals(Shape.of(8, 8, 6), CONV.outputShape(c, List.of(Shape.of(4, 10, 12))));
        List<ParamDecl> params = CONV.parameters(c, List.of(Shape.of(4, 10, 12)));
        assertEquals(Shape.of(8, 4, 3, 5), params.get(0).shape());
        assertEquals(2L * 8 * 8 * 6 * 4 * 15, CONV.flops(c, List.of(Shape.of(4, 10, 12)), Shape.of(8, 8, 6)));
    }

    @Test void groupsShrinkTheWeightAndTheFlops() {
        LayerArgs c = conv(6, "kernel", 3, "groups", 2);
        List<ParamDecl> params = CONV.parameters(c, List.of(Shape.of(4, 5, 5)));
        assertEquals(List.of("weight [6, 2, 3, 3]", "bias [6]"), params.stream().map(p -> p.name() + " " + p.shape()).toList());
        assertEquals(2L * 6 * 3 * 3 * 2 * 9, CONV.flops(c, List.of(Shape.of(4, 5, 5)), Shape.of(6, 3, 3)));
    }

    @Test void withoutBiasOnlyTheWeight() {
        assertEquals(150, parameterCount(conv(6, "kernel", 5, "bias", false), Shape.of(1, 28, 28)));
    }

    @Test void rejectsWhatItCannotConvolve() {
        assertEquals("expects [channels, height, width] per sample, got [784]", shapeError(conv(6, "kernel", 5), Shape.of(784)));
        assertEquals("input channels 3 are not divisible by groups=2", shapeError(conv(4, "kernel", 3, "groups", 2), Shape.of(3, 8, 8)));
        assertEquals("channels=5 is not divisible by groups=2", shapeError(conv(5, "kernel", 3, "groups", 2), Shape.of(4, 8, 8)));
        assertEquals("output would be empty: padded input 3x3 is smaller than the dilated kernel 5x5",
                shapeError(conv(6, "kernel", 5), Shape.of(1, 3, 3)));
        // (4 - 5) / 2 truncates to 0 in Java and would claim one output row; the span check catches it.
        assertEquals("output would be empty: padded input 4x4 is smaller than the dilated kernel 5x5",
                shapeError(conv(1, "kernel", 5, "stride", 2), Shape.of(1, 4, 4)));
        assertEquals("output would be empty: padded input 6x6 is smaller than the dilated kernel 7x7",
                shapeError(conv(1, "kernel", 3, "dilation", 3), Shape.of(1, 6, 6)));
    }

    @Test void rejectsBadArguments() {
        ArgumentException triple = assertThrows(ArgumentException.class,
                () -> CONV.outputShape(conv(4, "kernel", List.of(3, 3, 3)), List.of(Shape.of(1, 8, 8))));
        assertEquals("parameter 'kernel' expects one or two ints, got 3", triple.getMessage());
        ArgumentException zero = assertThrows(ArgumentException.class, () -> conv(0, "kernel", 3));
        assertEquals("parameter 'channels' must be >= 1, got 0", zero.getMessage());
        ArgumentException negativePad = assertThrows(ArgumentException.class, () -> conv(4, "kernel", 3, "pad", List.of(1, -1)));
        assertEquals("parameter 'pad' must be >= 0, got -1", negativePad.getMessage());
        ArgumentException missing = assertThrows(ArgumentException.class, () -> CONV.schema().bind(List.of(4), Map.of()));
        assertEquals("missing required parameter 'kernel'", missing.getMessage());
    }

    @Test void initialisersUsePyTorchFansAndZeroBiases() {
        // groups=2: fanIn = 32/2 * 3*3 = 144, fanOut = 64 * 3*3 = 576.
        LayerArgs xavier = conv(64, "kernel", 3, "groups", 2, "init", "xavier");
        List<ParamDecl> params = CONV.parameters(xavier, List.of(Shape.of(32, 8, 8)));
        float[] w = new float[params.get(0).shape().size()];
        params.get(0).initializer().initialize(w, params.get(0).shape(), new SplittableRandom(3));
        double bound = Math.sqrt(6.0 / (144 + 576));
        double largest = 0;
        for (float v : w) largest = Math.max(largest, Math.abs(v));
        assertTrue(largest <= bound && largest > 0.99 * bound, "max |w| " + largest + " for bound " + bound);

        float[] b = {1, 1, 1};
        params.get(1).initializer().initialize(b, params.get(1).shape(), new SplittableRandom(3));
        assertArrayEquals(new float[] {0, 0, 0}, b);
    }
}
