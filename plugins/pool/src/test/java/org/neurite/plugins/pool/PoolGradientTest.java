package org.neurite.plugins.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.cpu.CpuBackendProvider;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerType;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.testkit.GradientCase;
import org.neurite.testkit.GradientChecker;
import org.neurite.testkit.GradientReport;

/**
 * Pooling gradients against central differences on the CPU backend: non-overlapping and
 * overlapping windows, padding, ceil mode and non-square windows. Max pooling runs on distinct
 * inputs, so no window has a near tie for the step to flip.
 */
class PoolGradientTest {
    private static final GradientChecker CHECKER = new GradientChecker(1e-2, 1e-2, 0xB001L);
    private static final MaxPool2d MAX = new MaxPool2d();
    private static final AvgPool2d AVG = new AvgPool2d();
    private static Backend cpu;

    @BeforeAll static void startBackend() { cpu = new CpuBackendProvider().create(BackendOptions.defaults()); }

    @AfterAll static void closeBackend() { cpu.close(); }

    /** {@code name(kernel, named...)} as a script writes it; pairs are {@code List.of(h, w)}. */
    private static LayerArgs args(LayerType type, Object kernel, Object... named) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < named.length; i += 2) map.put((String) named[i], named[i + 1]);
        return type.schema().bind(List.of(kernel), map);
    }

    /** Checks the input gradient and returns how many elements were compared. */
    private static int checkedInputs(GradientCase c) {
        GradientReport r = CHECKER.check(c, cpu);
        assertEquals(1, r.tensors().size(), "pooling has no parameters");
        return r.tensor("input 0").checked();
    }

    @Test void maxNonOverlapping() {
        assertEquals(144, checkedInputs(GradientCase.of(MAX, args(MAX, 2), 2, Shape.of(2, 6, 6)).withDistinctInputs()));
    }

    @Test void maxOverlappingWindows() {
        assertEquals(196, checkedInputs(GradientCase.of(MAX, args(MAX, 3, "stride", 2), 2, Shape.of(2, 7, 7)).withDistinctInputs()));
    }

    @Test void maxWithPadding() {
        assertEquals(144, checkedInputs(GradientCase.of(MAX, args(MAX, 3, "stride", 2, "pad", 1), 2, Shape.of(2, 6, 6))
                .withDistinctInputs()));
    }

    @Test void maxCeilModeWithAPartialLastWindow() {
        LayerArgs a = args(MAX, 3, "stride", 2, "ceil", true);
        assertEquals(Shape.of(2, 3, 3), MAX.outputShape(a, List.of(Shape.of(2, 6, 6))));
        assertEquals(72, checkedInputs(GradientCase.of(MAX, a, 1, Shape.of(2, 6, 6)).withDistinctInputs()));
    }

    @Test void maxNonSquareWindow() {
        LayerArgs a = args(MAX, List.of(2, 3), "stride", List.of(2, 1), "pad", List.of(1, 1));
        // H: (5 + 2 - 2) / 2 + 1 = 3;  W: (5 + 2 - 3) / 1 + 1 = 5
        assertEquals(Shape.of(2, 3, 5), MAX.outputShape(a, List.of(Shape.of(2, 5, 5))));
        assertEquals(100, checkedInputs(GradientCase.of(MAX, a, 2, Shape.of(2, 5, 5)).withDistinctInputs()));
    }

    @Test void averageNonOverlapping() {
        assertEquals(144, checkedInputs(GradientCase.of(AVG, args(AVG, 2), 2, Shape.of(2, 6, 6))));
    }

    @Test void averageOverlappingWindows() {
        assertEquals(50, checkedInputs(GradientCase.of(AVG, args(AVG, 2, "stride", 1), 2, Shape.of(1, 5, 5))));
    }

    @Test void averagePaddingCountedInTheDivisor() {
        LayerArgs a = args(AVG, 3, "stride", 2, "pad", 1);
        assertEquals(144, checkedInputs(GradientCase.of(AVG, a, 2, Shape.of(2, 6, 6))));
    }

    @Test void averagePaddingLeftOutOfTheDivisor() {
        LayerArgs a = args(AVG, 3, "stride", 2, "pad", 1, "count_include_pad", false);
        assertEquals(144, checkedInputs(GradientCase.of(AVG, a, 2, Shape.of(2, 6, 6))));
    }

    @Test void averageCeilModeNonSquare() {
        LayerArgs a = args(AVG, List.of(3, 2), "stride", 2, "ceil", true, "count_include_pad", false);
        assertEquals(Shape.of(1, 3, 4), AVG.outputShape(a, List.of(Shape.of(1, 6, 7))));
        assertEquals(84, checkedInputs(GradientCase.of(AVG, a, 2, Shape.of(1, 6, 7))));
    }

    @Test void globalAverage() {
        assertEquals(120, checkedInputs(GradientCase.of(new GlobalAvgPool2d(), LayerArgs.empty(), 2, Shape.of(3, 4, 5))));
    }
}
