package org.neurite.it.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.Slice;
import org.neurite.backend.UnaryOp;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerKernel;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ParamSpec;
import org.neurite.layer.ParamType;
import org.neurite.plugin.KernelOverride;
import org.neurite.tensor.Shape;
import org.neurite.testkit.PluginTestKit;

/**
 * The plugin test kit must fail the layers a plugin author can get wrong: a backward that
 * disagrees with forward, a backend kernel that is self-consistent but computes another function,
 * a schema without documentation. And it must pass the correct version of the same layer.
 */
class PluginTestKitTest {
    /** {@code square}: y = x², written right, or with backward's factor 2 forgotten. */
    private static final class Square implements LayerType {
        private final boolean forgetTheTwo;
        private final ParamSchema schema;

        Square(boolean forgetTheTwo, ParamSchema schema) {
            this.forgetTheTwo = forgetTheTwo;
            this.schema = schema;
        }

        @Override public String name() { return "square"; }

        @Override public String doc() { return "y = x * x element-wise."; }

        @Override public ParamSchema schema() { return schema; }

        @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) { return inputs.get(0); }

        @Override public LayerKernel compile(KernelContext context) {
            return new LayerKernel() {
                @Override public void forward(ForwardPass pass) {
                    pass.backend().unary(UnaryOp.SQUARE, pass.input(0), pass.output());
                }

                @Override public void backward(BackwardPass pass) {
                    if (forgetTheTwo) pass.backend().binary(BinaryOp.MUL, pass.gradOutput(), pass.input(0), pass.gradInput(0));
                    else pass.backend().unaryBackward(UnaryOp.SQUARE, pass.input(0), null, pass.gradOutput(), pass.gradInput(0));
                }
            };
        }
    }

    /**
     * A "faster" CPU square that computes x·|x| instead: its backward (2|x|) is right for what it
     * computes, so only the comparison with the generic kernel can catch it.
     */
    private static final class SignedSquareOnCpu implements KernelOverride {
        @Override public String layer() { return "square"; }

        @Override public String backend() { return "cpu"; }

        @Override public LayerKernel compile(KernelContext context) {
            float[] x = new float[context.outputShape().size()];
            float[] g = new float[x.length];
            return new LayerKernel() {
                @Override public void forward(ForwardPass pass) {
                    pass.backend().download(Slice.of(pass.input(0), 0, x.length), x, 0);
                    for (int i = 0; i < x.length; i++) g[i] = x[i] * Math.abs(x[i]);
                    pass.backend().upload(g, 0, Slice.of(pass.output(), 0, g.length));
                }

                @Override public void backward(BackwardPass pass) {
                    pass.backend().download(Slice.of(pass.input(0), 0, x.length), x, 0);
                    pass.backend().download(Slice.of(pass.gradOutput(), 0, g.length), g, 0);
                    for (int i = 0; i < x.length; i++) g[i] *= 2 * Math.abs(x[i]);
                    pass.backend().upload(g, 0, Slice.of(pass.gradInput(0), 0, g.length));
                }
            };
        }
    }

    private static final ParamSchema NO_ARGS = ParamSchema.empty();

    @Test
    void passesACorrectLayerAndListsWhatItChecked() {
        PluginTestKit.Report r = PluginTestKit.forLayer(new Square(false, NO_ARGS)).inputs(Shape.of(3)).run();
        List<String> onCpu = r.checks().stream().filter(line -> !line.contains("opencl")).toList();
        assertEquals(List.of(
                "schema: square() on [[3]]",
                "gradients of the generic kernel on cpu: input 0 [2, 3] x6",
                "parity of the generic kernel on cpu, 2 threads with cpu, 1 thread: bit-identical on [output [4096, 3], gradient of input 0]",
                "checkpoint: square has no parameters"), onCpu);
    }

    @Test
    void failsABackwardThatDisagreesWithForward() {
        AssertionError e = assertThrows(AssertionError.class,
                () -> PluginTestKit.forLayer(new Square(true, NO_ARGS)).inputs(Shape.of(3)).run());
        assertTrue(e.getMessage().startsWith("gradient check failed for square() on [3] x batch 2"), e.getMessage());
        assertTrue(e.getMessage().contains("FAILED input 0 [2, 3]: 6 checked, 6 outside tolerance"), e.getMessage());
    }

    @Test
    void failsABackendKernelThatComputesAnotherFunction() {
        AssertionError e = assertThrows(AssertionError.class,
                () -> PluginTestKit.forLayer(new Square(false, NO_ARGS)).kernel(new SignedSquareOnCpu()).inputs(Shape.of(3)).run());
        String kernel = SignedSquareOnCpu.class.getName();
        assertTrue(e.getMessage().startsWith("backend parity failed for square() x batch 4096: kernel " + kernel), e.getMessage());
        // Negative inputs differ (x|x| = -x²), in the output and in the gradient.
        assertTrue(e.getMessage().contains("output [4096, 3]: "), e.getMessage());
        assertTrue(e.getMessage().contains("gradient of input 0: "), e.getMessage());
    }

    @Test
    void failsAnUndocumentedArgument() {
        ParamSchema undocumented = ParamSchema.of(ParamSpec.optional("scale", ParamType.FLOAT, 1.0, ""));
        AssertionError e = assertThrows(AssertionError.class,
                () -> PluginTestKit.forLayer(new Square(false, undocumented)).inputs(Shape.of(3)).run());
        assertEquals("layer 'square' schema check failed:\n  parameter 'scale' has no documentation", e.getMessage());
    }

    @Test
    void refusesArgumentsTheLayerDoesNotHave() {
        AssertionError e = assertThrows(AssertionError.class,
                () -> PluginTestKit.forLayer(new Square(false, NO_ARGS)).args(Map.of("units", 3)).inputs(Shape.of(3)).run());
        assertEquals("layer 'square' has no parameter 'units'", e.getMessage());
    }
}
