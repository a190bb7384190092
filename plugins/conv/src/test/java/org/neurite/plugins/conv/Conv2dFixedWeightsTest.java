package org.neurite.plugins.conv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.cpu.CpuBackendProvider;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamDecl;
import org.neurite.layer.ShapeException;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.testkit.LayerHarness;

/**
 * {@code conv(..., weights=[...], trainable=false)}: hand-written kernels as constants, the way
 * {@code examples/filters.nn} applies a Laplace filter.
 */
class Conv2dFixedWeightsTest {
    private static final float[] LAPLACE = {0, 1, 0, 1, -4, 1, 0, 1, 0};
    private static Backend cpu;

    @BeforeAll static void startBackend() { cpu = new CpuBackendProvider().create(BackendOptions.defaults()); }

    @AfterAll static void closeBackend() { cpu.close(); }

    private static LayerArgs laplace(boolean trainable) {
        return new Conv2d().schema().bind(List.of(1), Map.of("kernel", 3, "pad", 1, "bias", false,
                "weights", List.of(0, 1, 0, 1, -4, 1, 0, 1, 0), "trainable", trainable));
    }

    @Test void weightsReplaceTheInitialiserAndTrainableFalseFreezesThem() {
        List<ParamDecl> decls = new Conv2d().parameters(laplace(false), List.of(Shape.of(1, 5, 5)));
        assertEquals(1, decls.size());
        ParamDecl w = decls.get(0);
        assertEquals(Shape.of(1, 1, 3, 3), w.shape());
        assertFalse(w.trainable());
        float[] filled = new float[9];
        w.initializer().initialize(filled, w.shape(), new SplittableRandom(7));
        assertArrayEquals(LAPLACE, filled);
        // Trainable is the default; a given bias follows the weight's trainability.
        LayerArgs withBias = new Conv2d().schema().bind(List.of(2), Map.of("kernel", 1, "weights", List.of(0.5, -2.0), "trainable", false));
        List<ParamDecl> both = new Conv2d().parameters(withBias, List.of(Shape.of(1, 4, 4)));
        assertEquals(List.of("weight", "bias"), both.stream().map(ParamDecl::name).toList());
        assertTrue(both.stream().noneMatch(ParamDecl::trainable));
        assertTrue(new Conv2d().parameters(laplace(true), List.of(Shape.of(1, 5, 5))).get(0).trainable());
    }

    @Test void aLaplaceKernelIsZeroOnFlatRegionsAndRespondsToAnEdge() {
        // A 5x5 image: left three columns 0, right two columns 1 (a vertical edge).
        float[] image = new float[25];
        for (int r = 0; r < 5; r++) for (int c = 3; c < 5; c++) image[r * 5 + c] = 1;
        try (LayerHarness h = LayerHarness.compile(new Conv2d(), laplace(false), 1, cpu, Shape.of(1, 5, 5))) {
            h.setInput(0, image);
            h.setParam("weight", LAPLACE);
            float[] y = h.forward();
            // Interior row 2: flat zeros, the dark side of the edge (+1), the bright side (-1), then the
            // zero padding beyond the right border pulls the last column down again (1+1+0+1-4 = -1).
            assertArrayEquals(new float[] {0, 0, 1, -1, -1}, java.util.Arrays.copyOfRange(y, 10, 15), 1e-6f);
            h.backward(new float[25]);
            assertThrows(IllegalStateException.class, () -> h.gradParam("weight"), "a constant kernel has no gradient");
        }
    }

    @Test void aWrongNumberOfWeightsNamesTheShapeItNeeds() {
        LayerArgs args = new Conv2d().schema().bind(List.of(2), Map.of("kernel", 3, "weights", List.of(1, 2, 3)));
        ShapeException e = assertThrows(ShapeException.class, () -> new Conv2d().parameters(args, List.of(Shape.of(1, 8, 8))));
        assertEquals("weights has 3 values but the weight [2, 1, 3, 3] [channels, C/groups, kh, kw] needs 18", e.getMessage());
    }
}
