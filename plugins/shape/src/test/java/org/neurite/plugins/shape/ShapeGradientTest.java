package org.neurite.plugins.shape;

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
 * Merge-layer gradients against central differences on the CPU backend, every input of the
 * multi-input layers included. These layers are linear, so any disagreement is a routing error
 * (a block copied to the wrong place, an element left unwritten) rather than rounding.
 */
class ShapeGradientTest {
    private static final GradientChecker CHECKER = new GradientChecker(1e-2, 1e-3, 0x3E96_EL);
    private static final Add ADD = new Add();
    private static final Concat CONCAT = new Concat();
    private static final Split SPLIT = new Split();
    private static final ZeroPad2d PAD = new ZeroPad2d();
    private static Backend cpu;

    @BeforeAll static void startBackend() { cpu = new CpuBackendProvider().create(BackendOptions.defaults()); }

    @AfterAll static void closeBackend() { cpu.close(); }

    private static LayerArgs args(LayerType type, Map<String, Object> named) {
        return type.schema().bind(List.of(), named);
    }

    private static List<String> checked(GradientCase c) {
        GradientReport report = CHECKER.check(c, cpu);
        return report.tensors().stream().map(t -> t.name() + " " + t.shape() + " x" + t.checked()).toList();
    }

    @Test void addOfTwoAndOfThree() {
        assertEquals(List.of("input 0 [2, 3, 2, 2] x24", "input 1 [2, 3, 2, 2] x24"),
                checked(GradientCase.of(ADD, LayerArgs.empty(), 2, Shape.of(3, 2, 2), Shape.of(3, 2, 2))));
        // The middle input comes from a graph input nobody trains: its gradient is not asked for.
        assertEquals(List.of("input 0 [3, 5] x15", "input 2 [3, 5] x15"),
                checked(GradientCase.of(ADD, LayerArgs.empty(), 3, Shape.of(5), Shape.of(5), Shape.of(5)).withoutInputGradient(1)));
    }

    @Test void concatAlongChannels() {
        assertEquals(List.of("input 0 [2, 2, 3, 3] x36", "input 1 [2, 1, 3, 3] x18", "input 2 [2, 3, 3, 3] x54"),
                checked(GradientCase.of(CONCAT, args(CONCAT, Map.of()), 2, Shape.of(2, 3, 3), Shape.of(1, 3, 3), Shape.of(3, 3, 3))));
    }

    @Test void concatAlongInnerAxesAndFeatures() {
        assertEquals(List.of("input 0 [2, 2, 3, 2] x24", "input 1 [2, 2, 3, 1] x12"),
                checked(GradientCase.of(CONCAT, args(CONCAT, Map.of("axis", -1)), 2, Shape.of(2, 3, 2), Shape.of(2, 3, 1))));
        assertEquals(List.of("input 0 [2, 2, 1, 3] x12", "input 1 [2, 2, 2, 3] x24"),
                checked(GradientCase.of(CONCAT, args(CONCAT, Map.of("axis", 1)), 2, Shape.of(2, 1, 3), Shape.of(2, 2, 3))));
        assertEquals(List.of("input 0 [3, 4] x12", "input 1 [3, 2] x6"),
                checked(GradientCase.of(CONCAT, args(CONCAT, Map.of()), 3, Shape.of(4), Shape.of(2))));
    }

    @Test void splitEveryPartAlongChannelsAndAnInnerAxis() {
        for (int index = 0; index < 3; index++) {
            assertEquals(List.of("input 0 [2, 6, 2, 2] x48"),
                    checked(GradientCase.of(SPLIT, args(SPLIT, Map.of("parts", 3, "index", index)), 2, Shape.of(6, 2, 2))));
        }
        assertEquals(List.of("input 0 [2, 3, 4, 2] x48"),
                checked(GradientCase.of(SPLIT, args(SPLIT, Map.of("axis", 1, "index", 1)), 2, Shape.of(3, 4, 2))));
    }

    @Test void zeropadSymmetricAndAsymmetric() {
        assertEquals(List.of("input 0 [2, 2, 3, 3] x36"),
                checked(GradientCase.of(PAD, args(PAD, Map.of("pad", 1)), 2, Shape.of(2, 3, 3))));
        assertEquals(List.of("input 0 [2, 2, 3, 4] x48"),
                checked(GradientCase.of(PAD, args(PAD, Map.of("pad", List.of(0, 2, 1, 0))), 2, Shape.of(2, 3, 4))));
    }
}
