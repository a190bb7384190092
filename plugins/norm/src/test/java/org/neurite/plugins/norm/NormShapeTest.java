package org.neurite.plugins.norm;

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

/** Shapes, parameter declarations, FLOPs and the exact messages scripts see for batchnorm and lrn. */
class NormShapeTest {
    private static final BatchNorm BN = new BatchNorm();
    private static final LocalResponseNorm LRN = new LocalResponseNorm();

    private static LayerArgs args(LayerType type, List<Object> positional, Map<String, Object> named) {
        return type.schema().bind(positional, named);
    }

    private static String describe(ParamDecl p) {
        return p.name() + " " + p.shape() + (p.trainable() ? " trainable" : " fixed") + (p.decay() ? " decay" : "");
    }

    /** What a parameter's initialiser produces, so the ones/zeros starting values are checked, not assumed. */
    private static float[] initialValues(ParamDecl p) {
        float[] v = new float[p.shape().size()];
        p.initializer().initialize(v, p.shape(), new SplittableRandom(7));
        return v;
    }

    @Test void batchnormKeepsTheShapeAndDeclaresPyTorchsFourTensors() {
        LayerArgs a = args(BN, List.of(), Map.of());
        for (Shape in : List.of(Shape.of(64, 56, 56), Shape.of(120), Shape.of(8, 30))) {
            assertEquals(in, BN.outputShape(a, List.of(in)));
        }
        List<ParamDecl> params = BN.parameters(a, List.of(Shape.of(64, 56, 56)));
        assertEquals(List.of("weight [64] trainable", "bias [64] trainable", "running_mean [64] fixed", "running_var [64] fixed"),
                params.stream().map(NormShapeTest::describe).toList());
        assertEquals(1f, initialValues(params.get(0))[63]);
        assertEquals(0f, initialValues(params.get(1))[0]);
        assertEquals(0f, initialValues(params.get(2))[17]);
        assertEquals(1f, initialValues(params.get(3))[5]);
        assertEquals(4L * 64 * 56 * 56, BN.flops(a, List.of(Shape.of(64, 56, 56)), Shape.of(64, 56, 56)));
    }

    @Test void batchnormWithoutAffineKeepsOnlyTheRunningStatistics() {
        LayerArgs a = args(BN, List.of(), Map.of("affine", false));
        assertEquals(List.of("running_mean [16] fixed", "running_var [16] fixed"),
                BN.parameters(a, List.of(Shape.of(16, 4, 4))).stream().map(NormShapeTest::describe).toList());
        assertEquals(2L * 16 * 4 * 4, BN.flops(a, List.of(Shape.of(16, 4, 4)), Shape.of(16, 4, 4)));
    }

    @Test void batchnormRejectsShapesWithoutAChannelAxisAndBadArguments() {
        LayerArgs a = args(BN, List.of(), Map.of());
        assertEquals("expects [channels], [channels, length] or [channels, height, width] per sample, got [2, 3, 4, 5]",
                assertThrows(ShapeException.class, () -> BN.outputShape(a, List.of(Shape.of(2, 3, 4, 5)))).getMessage());
        assertEquals("expects [channels], [channels, length] or [channels, height, width] per sample, got []",
                assertThrows(ShapeException.class, () -> BN.parameters(a, List.of(Shape.of()))).getMessage());
        LayerArgs zeroEps = args(BN, List.of(), Map.of("eps", 0.0));
        assertEquals("parameter 'eps' must be > 0, got 0",
                assertThrows(ArgumentException.class, () -> BN.outputShape(zeroEps, List.of(Shape.of(4)))).getMessage());
        assertEquals("parameter 'momentum' must be in [0, 1], got 1.5",
                assertThrows(ArgumentException.class, () -> args(BN, List.of(), Map.of("momentum", 1.5))).getMessage());
    }

    @Test void lrnKeepsTheShapeAndHasNoParameters() {
        // AlexNet's first normalisation: lrn(5, alpha=1e-4, beta=0.75, k=2) on conv1's output.
        LayerArgs a = args(LRN, List.of(5), Map.of("k", 2.0));
        assertEquals(Shape.of(96, 55, 55), LRN.outputShape(a, List.of(Shape.of(96, 55, 55))));
        assertEquals(List.of(), LRN.parameters(a, List.of(Shape.of(96, 55, 55))));
        assertEquals((2L * 5 + 4) * 96 * 55 * 55, LRN.flops(a, List.of(Shape.of(96, 55, 55)), Shape.of(96, 55, 55)));
    }

    @Test void lrnRejectsFlatInputsAndBadArguments() {
        LayerArgs a = args(LRN, List.of(5), Map.of());
        assertEquals("expects [channels, height, width] or [channels, length] per sample, got [4096]",
                assertThrows(ShapeException.class, () -> LRN.outputShape(a, List.of(Shape.of(4096)))).getMessage());
        assertEquals("parameter 'size' must be >= 1, got 0",
                assertThrows(ArgumentException.class, () -> args(LRN, List.of(0), Map.of())).getMessage());
        assertEquals("missing required parameter 'size'",
                assertThrows(ArgumentException.class, () -> args(LRN, List.of(), Map.of())).getMessage());
        LayerArgs zeroK = args(LRN, List.of(3), Map.of("k", 0));
        assertEquals("parameter 'k' must be > 0, got 0",
                assertThrows(ArgumentException.class, () -> LRN.outputShape(zeroK, List.of(Shape.of(4, 2, 2)))).getMessage());
    }
}
