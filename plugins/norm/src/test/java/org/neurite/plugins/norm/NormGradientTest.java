package org.neurite.plugins.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
 * Batchnorm and lrn gradients against central differences on the CPU backend. Batchnorm runs in
 * training mode, where the batch statistics make every output depend on every input of its
 * channel; its running statistics change on every forward the checker runs, but training-mode
 * outputs never read them, so the differences stay valid. Each test asserts which tensors were
 * compared and how many elements, so a layer that skips a gradient cannot pass.
 */
class NormGradientTest {
    private static final GradientChecker CHECKER = new GradientChecker(1e-2, 1e-2, 0xBA7C_4E55L);
    private static final BatchNorm BN = new BatchNorm();
    private static final LocalResponseNorm LRN = new LocalResponseNorm();
    private static Backend cpu;

    @BeforeAll static void startBackend() { cpu = new CpuBackendProvider().create(BackendOptions.defaults()); }

    @AfterAll static void closeBackend() { cpu.close(); }

    private static LayerArgs args(LayerType type, List<Object> positional, Map<String, Object> named) {
        return type.schema().bind(positional, named);
    }

    private static List<String> checked(GradientCase c) {
        GradientReport report = CHECKER.check(c, cpu);
        return report.tensors().stream().map(t -> t.name() + " " + t.shape() + " x" + t.checked()).toList();
    }

    @Test void batchnormOnImagesOverSeveralBatchSizes() {
        LayerArgs a = args(BN, List.of(), Map.of());
        // Batch 1 still has 12 values per channel: the statistics come from the plane alone.
        assertEquals(List.of("input 0 [1, 3, 3, 4] x36", "weight [3] x3", "bias [3] x3"),
                checked(GradientCase.of(BN, a, 1, Shape.of(3, 3, 4))));
        assertEquals(List.of("input 0 [2, 3, 3, 4] x72", "weight [3] x3", "bias [3] x3"),
                checked(GradientCase.of(BN, a, 2, Shape.of(3, 3, 4))));
        assertEquals(List.of("input 0 [5, 2, 2, 3] x60", "weight [2] x2", "bias [2] x2"),
                checked(GradientCase.of(BN, a, 5, Shape.of(2, 2, 3))));
    }

    @Test void batchnormOnFeatureVectors() {
        // [C] inputs (after dense): the statistics are over the batch only.
        LayerArgs a = args(BN, List.of(), Map.of());
        assertEquals(List.of("input 0 [3, 4] x12", "weight [4] x4", "bias [4] x4"), checked(GradientCase.of(BN, a, 3, Shape.of(4))));
        assertEquals(List.of("input 0 [8, 5] x40", "weight [5] x5", "bias [5] x5"), checked(GradientCase.of(BN, a, 8, Shape.of(5))));
    }

    @Test void batchnormOnSequencesWithOtherEpsAndMomentum() {
        LayerArgs a = args(BN, List.of(), Map.of("eps", 1e-3, "momentum", 0.5));
        assertEquals(List.of("input 0 [2, 3, 5] x30", "weight [3] x3", "bias [3] x3"),
                checked(GradientCase.of(BN, a, 2, Shape.of(3, 5))));
    }

    @Test void batchnormWithoutAffineHasOnlyAnInputGradient() {
        LayerArgs a = args(BN, List.of(), Map.of("affine", false));
        assertEquals(List.of("input 0 [2, 3, 2, 2] x24"), checked(GradientCase.of(BN, a, 2, Shape.of(3, 2, 2))));
    }

    @Test void batchnormOnAModelInputStillLearnsItsScaleAndShift() {
        // Nothing upstream wants dx: weight and bias gradients come without the backend's backward.
        LayerArgs a = args(BN, List.of(), Map.of());
        assertEquals(List.of("weight [3] x3", "bias [3] x3"),
                checked(GradientCase.of(BN, a, 2, Shape.of(3, 2, 3)).withoutInputGradient(0)));
        assertEquals(List.of("weight [4] x4", "bias [4] x4"),
                checked(GradientCase.of(BN, a, 6, Shape.of(4)).withoutInputGradient(0)));
    }

    @Test void lrnWithOddAndEvenWindows() {
        // Large alpha so the normalisation, not the identity, dominates the gradient.
        LayerArgs odd = args(LRN, List.of(3), Map.of("alpha", 2.0, "beta", 0.75, "k", 1.0));
        assertEquals(List.of("input 0 [2, 5, 2, 3] x60"), checked(GradientCase.of(LRN, odd, 2, Shape.of(5, 2, 3))));
        // An even window is lopsided: channel c sums over c-2..c+1.
        LayerArgs even = args(LRN, List.of(4), Map.of("alpha", 1.5, "beta", 0.5, "k", 0.5));
        assertEquals(List.of("input 0 [2, 6, 2, 2] x48"), checked(GradientCase.of(LRN, even, 2, Shape.of(6, 2, 2))));
    }

    @Test void lrnWindowWiderThanTheChannels() {
        LayerArgs a = args(LRN, List.of(7), Map.of("alpha", 3.0, "k", 2.0));
        assertEquals(List.of("input 0 [3, 3, 4] x36"), checked(GradientCase.of(LRN, a, 3, Shape.of(3, 4))));
    }

    @Test void lrnWithAlexNetsArguments() {
        LayerArgs a = args(LRN, List.of(5), Map.of("k", 2.0));
        assertEquals(List.of("input 0 [2, 8, 3, 3] x144"), checked(GradientCase.of(LRN, a, 2, Shape.of(8, 3, 3))));
    }
}
