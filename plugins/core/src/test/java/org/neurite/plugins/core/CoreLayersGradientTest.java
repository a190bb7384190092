package org.neurite.plugins.core;

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
 * Every core layer's backward against central differences on the CPU backend, inputs and
 * parameters. Each test also asserts which tensors were compared and how many elements, so a
 * layer that silently declares no parameter or skips its input gradient cannot pass.
 */
class CoreLayersGradientTest {
    private static final GradientChecker CHECKER = new GradientChecker(1e-2, 1e-2, 0x5EED_C0DEL);
    private static Backend cpu;

    @BeforeAll static void startBackend() { cpu = new CpuBackendProvider().create(BackendOptions.defaults()); }

    @AfterAll static void closeBackend() { cpu.close(); }

    private static LayerArgs args(LayerType type, List<Object> positional, Map<String, Object> named) {
        return type.schema().bind(positional, named);
    }

    private static List<String> checked(GradientReport report) {
        return report.tensors().stream().map(t -> t.name() + " " + t.shape() + " x" + t.checked()).toList();
    }

    @Test void denseWithBias() {
        Dense dense = new Dense();
        GradientReport r = CHECKER.check(GradientCase.of(dense, args(dense, List.of(5), Map.of()), 3, Shape.of(7)), cpu);
        assertEquals(List.of("input 0 [3, 7] x21", "weight [5, 7] x35", "bias [5] x5"), checked(r));
    }

    @Test void denseAppliedAtEveryStepOfASequence() {
        Dense dense = new Dense();
        // [T=4, in=5] per sample: the same weights at every step, gradients summed over steps.
        GradientReport r = CHECKER.check(GradientCase.of(dense, args(dense, List.of(3), Map.of()), 2, Shape.of(4, 5)), cpu);
        assertEquals(List.of("input 0 [2, 4, 5] x40", "weight [3, 5] x15", "bias [3] x3"), checked(r));
    }

    @Test void denseWithoutBiasOrInputGradient() {
        // The first layer of a model: nothing upstream wants dx, so gradInput(0) is null.
        Dense dense = new Dense();
        GradientCase c = GradientCase.of(dense, args(dense, List.of(4), Map.of("bias", false)), 2, Shape.of(6))
                .withoutInputGradient(0);
        assertEquals(List.of("weight [4, 6] x24"), checked(CHECKER.check(c, cpu)));
    }

    @Test void denseLargerThanTheSampleLimitIsSampled() {
        Dense dense = new Dense();
        GradientReport r = CHECKER.check(GradientCase.of(dense, args(dense, List.of(8), Map.of()), 2, Shape.of(120)), cpu);
        assertEquals(List.of("input 0 [2, 120] x200", "weight [8, 120] x200", "bias [8] x8"), checked(r));
    }

    @Test void reluAwayFromItsKink() {
        Relu relu = new Relu();
        GradientCase c = GradientCase.of(relu, LayerArgs.empty(), 2, Shape.of(3, 4, 5)).avoidingKinksAt(0);
        assertEquals(List.of("input 0 [2, 3, 4, 5] x120"), checked(CHECKER.check(c, cpu)));
    }

    @Test void sigmoid() {
        GradientCase c = GradientCase.of(new Sigmoid(), LayerArgs.empty(), 3, Shape.of(10));
        assertEquals(List.of("input 0 [3, 10] x30"), checked(CHECKER.check(c, cpu)));
    }

    @Test void tanh() {
        GradientCase c = GradientCase.of(new Tanh(), LayerArgs.empty(), 2, Shape.of(2, 3, 3));
        assertEquals(List.of("input 0 [2, 2, 3, 3] x36"), checked(CHECKER.check(c, cpu)));
    }

    @Test void softmaxOverFeatures() {
        GradientCase c = GradientCase.of(new Softmax(), LayerArgs.empty(), 3, Shape.of(6));
        assertEquals(List.of("input 0 [3, 6] x18"), checked(CHECKER.check(c, cpu)));
    }

    @Test void softmaxOverTheLastAxisOfASequence() {
        // [T=4, K=5] per sample: 2 x 4 independent rows of 5.
        GradientCase c = GradientCase.of(new Softmax(), LayerArgs.empty(), 2, Shape.of(4, 5));
        assertEquals(List.of("input 0 [2, 4, 5] x40"), checked(CHECKER.check(c, cpu)));
    }

    @Test void flatten() {
        GradientCase c = GradientCase.of(new Flatten(), LayerArgs.empty(), 2, Shape.of(2, 3, 4));
        assertEquals(List.of("input 0 [2, 2, 3, 4] x48"), checked(CHECKER.check(c, cpu)));
    }

    @Test void dropoutWhileTrainingWithAFixedStepSeed() {
        Dropout dropout = new Dropout();
        GradientCase c = GradientCase.of(dropout, args(dropout, List.of(0.3), Map.of()), 4, Shape.of(25));
        assertEquals(List.of("input 0 [4, 25] x100"), checked(CHECKER.check(c, cpu)));
    }

    @Test void dropoutAtInferenceIsTheIdentity() {
        Dropout dropout = new Dropout();
        GradientCase c = GradientCase.of(dropout, args(dropout, List.of(), Map.of()), 2, Shape.of(3, 5)).training(false);
        assertEquals(List.of("input 0 [2, 3, 5] x30"), checked(CHECKER.check(c, cpu)));
    }
}
