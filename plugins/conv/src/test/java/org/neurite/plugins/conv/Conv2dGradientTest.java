package org.neurite.plugins.conv;

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
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.testkit.GradientCase;
import org.neurite.testkit.GradientChecker;
import org.neurite.testkit.GradientReport;

/**
 * {@code conv}'s input, weight and bias gradients against central differences on the CPU
 * backend, across the geometry features: stride, padding, dilation, groups (including
 * depthwise) and non-square kernels with per-axis settings.
 */
class Conv2dGradientTest {
    private static final GradientChecker CHECKER = new GradientChecker(1e-2, 1e-2, 0xC0471L);
    private static final Conv2d CONV = new Conv2d();
    private static Backend cpu;

    @BeforeAll static void startBackend() { cpu = new CpuBackendProvider().create(BackendOptions.defaults()); }

    @AfterAll static void closeBackend() { cpu.close(); }

    /** {@code conv(channels, kernel=..., named...)} as a script writes it; pairs are {@code List.of(h, w)}. */
    private static LayerArgs conv(int channels, Object... named) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < named.length; i += 2) map.put((String) named[i], named[i + 1]);
        return CONV.schema().bind(List.of(channels), map);
    }

    private static List<String> checked(GradientReport report) {
        return report.tensors().stream().map(t -> t.name() + " " + t.shape() + " x" + t.checked()).toList();
    }

    @Test void plainThreeByThree() {
        GradientReport r = CHECKER.check(GradientCase.of(CONV, conv(4, "kernel", 3), 2, Shape.of(3, 6, 6)), cpu);
        assertEquals(List.of("input 0 [2, 3, 6, 6] x200", "weight [4, 3, 3, 3] x108", "bias [4] x4"), checked(r));
    }

    @Test void strideTwoWithPadding() {
        GradientReport r = CHECKER.check(GradientCase.of(CONV, conv(3, "kernel", 3, "stride", 2, "pad", 1), 2,
                Shape.of(2, 7, 7)), cpu);
        assertEquals(List.of("input 0 [2, 2, 7, 7] x196", "weight [3, 2, 3, 3] x54", "bias [3] x3"), checked(r));
    }

    @Test void dilationTwo() {
        GradientReport r = CHECKER.check(GradientCase.of(CONV, conv(2, "kernel", 3, "dilation", 2, "pad", 2), 1,
                Shape.of(2, 7, 7)), cpu);
        assertEquals(List.of("input 0 [1, 2, 7, 7] x98", "weight [2, 2, 3, 3] x36", "bias [2] x2"), checked(r));
    }

    @Test void twoGroups() {
        GradientReport r = CHECKER.check(GradientCase.of(CONV, conv(6, "kernel", 3, "groups", 2, "pad", 1), 2,
                Shape.of(4, 5, 5)), cpu);
        assertEquals(List.of("input 0 [2, 4, 5, 5] x200", "weight [6, 2, 3, 3] x108", "bias [6] x6"), checked(r));
    }

    @Test void depthwise() {
        GradientReport r = CHECKER.check(GradientCase.of(CONV, conv(3, "kernel", 3, "groups", 3), 2, Shape.of(3, 5, 5)), cpu);
        assertEquals(List.of("input 0 [2, 3, 5, 5] x150", "weight [3, 1, 3, 3] x27", "bias [3] x3"), checked(r));
    }

    @Test void nonSquareKernelWithPerAxisStridePadAndDilation() {
        LayerArgs a = conv(3, "kernel", List.of(3, 2), "stride", List.of(2, 1), "pad", List.of(1, 0), "dilation", List.of(1, 2));
        assertEquals(Shape.of(3, 3, 5), CONV.outputShape(a, List.of(Shape.of(2, 6, 7))));
        GradientReport r = CHECKER.check(GradientCase.of(CONV, a, 2, Shape.of(2, 6, 7)), cpu);
        assertEquals(List.of("input 0 [2, 2, 6, 7] x168", "weight [3, 2, 3, 2] x36", "bias [3] x3"), checked(r));
    }

    @Test void pointwiseWithoutBiasAsAFirstLayer() {
        GradientCase c = GradientCase.of(CONV, conv(2, "kernel", 1, "bias", false), 3, Shape.of(3, 4, 4)).withoutInputGradient(0);
        assertEquals(List.of("weight [2, 3, 1, 1] x6"), checked(CHECKER.check(c, cpu)));
    }
}
