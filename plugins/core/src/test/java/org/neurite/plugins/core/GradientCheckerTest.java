package org.neurite.plugins.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.Slice;
import org.neurite.backend.UnaryOp;
import org.neurite.backend.cpu.CpuBackendProvider;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerKernel;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamSchema;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.testkit.GradientCase;
import org.neurite.testkit.GradientChecker;

/**
 * The shared checker must fail the bugs layer authors actually make. It lives here, not in
 * framework-api, because it needs a real backend; the broken layers are deliberately small
 * variants of {@code tanh}.
 */
class GradientCheckerTest {
    private static final GradientChecker CHECKER = new GradientChecker(1e-2, 1e-2, 11);
    private static Backend cpu;

    @BeforeAll static void startBackend() { cpu = new CpuBackendProvider().create(BackendOptions.defaults()); }

    @AfterAll static void closeBackend() { cpu.close(); }

    /** A tanh whose kernel is supplied by each test. */
    private record BrokenTanh(LayerKernel kernel) implements LayerType {
        @Override public String name() { return "broken_tanh"; }
        @Override public String doc() { return "tanh with a deliberate bug."; }
        @Override public ParamSchema schema() { return ParamSchema.empty(); }
        @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) { return inputs.get(0); }
        @Override public LayerKernel compile(KernelContext context) { return kernel; }
    }

    private static void forwardTanh(ForwardPass pass) {
        pass.backend().unary(UnaryOp.TANH, pass.input(0), pass.output());
    }

    @Test void aGradientOffByAFactorFailsWithItsWorstElement() {
        LayerType doubled = new BrokenTanh(new LayerKernel() {
            @Override public void forward(ForwardPass pass) { forwardTanh(pass); }

            @Override public void backward(BackwardPass pass) {
                pass.backend().unaryBackward(UnaryOp.TANH, pass.input(0), pass.output(), pass.gradOutput(), pass.gradInput(0));
                pass.backend().axpby(0f, pass.gradInput(0), 2f, pass.gradInput(0));
            }
        });
        AssertionError e = assertThrows(AssertionError.class,
                () -> CHECKER.check(GradientCase.of(doubled, LayerArgs.empty(), 2, Shape.of(3)), cpu));
        String message = e.getMessage();
        assertTrue(message.startsWith("gradient check failed for broken_tanh() on [3] x batch 2"), message);
        assertTrue(message.contains("FAILED input 0 [2, 3]: 6 checked, 6 outside tolerance; worst at ["), message);
    }

    @Test void aKernelThatAccumulatesIntoItsGradientFails() {
        LayerType accumulating = new BrokenTanh(new LayerKernel() {
            @Override public void forward(ForwardPass pass) { forwardTanh(pass); }

            @Override public void backward(BackwardPass pass) {
                // dx += dy * (1 - y^2): right for a fresh buffer, wrong for the engine's reused one.
                Backend b = pass.backend();
                try (var tmp = b.allocate(pass.gradInput(0).shape())) {
                    b.unaryBackward(UnaryOp.TANH, pass.input(0), pass.output(), pass.gradOutput(), tmp);
                    b.axpby(1f, tmp, 1f, pass.gradInput(0));
                }
            }
        });
        AssertionError e = assertThrows(AssertionError.class,
                () -> CHECKER.check(GradientCase.of(accumulating, LayerArgs.empty(), 1, Shape.of(4)), cpu));
        assertEquals("broken_tanh() on [4] x batch 1: backward left 4 of 4 elements of the gradient of input 0 unwritten "
                + "or accumulated into (still NaN), the first at flat index 0; kernels must overwrite every element", e.getMessage());
    }

    @Test void aForwardThatWritesItsInputFails() {
        LayerType inPlace = new BrokenTanh(new LayerKernel() {
            @Override public void forward(ForwardPass pass) {
                pass.backend().unary(UnaryOp.TANH, pass.input(0), pass.input(0));
                pass.backend().copy(Slice.of(pass.input(0), 0, pass.output().size()),
                        Slice.of(pass.output(), 0, pass.output().size()));
            }

            @Override public void backward(BackwardPass pass) {
                pass.backend().unaryBackward(UnaryOp.TANH, pass.input(0), pass.output(), pass.gradOutput(), pass.gradInput(0));
            }
        });
        AssertionError e = assertThrows(AssertionError.class,
                () -> CHECKER.check(GradientCase.of(inPlace, LayerArgs.empty(), 1, Shape.of(4)), cpu));
        assertTrue(e.getMessage().startsWith("broken_tanh() on [4] x batch 1: forward modified input 0 at flat index 0"),
                e.getMessage());
    }

    @Test void reluStraddlingItsKinkFailsUnlessKinksAreAvoided() {
        // With a step of 0.1, about one uniform input in ten lies within a step of 0, where the
        // central difference straddles the kink and measures a partial slope.
        GradientChecker coarse = new GradientChecker(0.1, 1e-2, 11);
        GradientCase relu = GradientCase.of(new Relu(), LayerArgs.empty(), 1, Shape.of(200));
        AssertionError e = assertThrows(AssertionError.class, () -> coarse.check(relu, cpu));
        assertTrue(e.getMessage().contains("FAILED input 0 [1, 200]: 200 checked, "), e.getMessage());
        assertEquals(200, coarse.check(relu.avoidingKinksAt(0), cpu).tensor("input 0").checked());
    }
}
