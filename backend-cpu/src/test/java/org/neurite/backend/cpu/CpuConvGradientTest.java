package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.CheckedBackend;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.Initializer;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerKernel;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamDecl;
import org.neurite.layer.ParamSchema;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.testkit.GradientCase;
import org.neurite.testkit.GradientChecker;
import org.neurite.testkit.GradientReport;

/**
 * The convolution's three passes against central differences (the shared {@link GradientChecker})
 * through each algorithm of {@link CpuConv2d}: direct forward and backward-filter, implicit GEMM,
 * explicit im2col, 1x1, every backward-data pass a GEMM. It runs on the kernels this JVM selects:
 * the Vector API ones in the normal test run, the plain Java ones in the run without
 * {@code --add-modules jdk.incubator.vector} (see this module's pom). The layer is a minimal
 * {@code conv} written here (the real one lives in a plugin that depends on this module).
 */
class CpuConvGradientTest {
    private static final GradientChecker CHECKER = new GradientChecker(1e-2, 1e-2, 0xC0DEL);
    private static Backend cpu;

    @BeforeAll static void start() { cpu = CheckedBackend.wrap(new CpuBackend(new BackendOptions(2, null))); }

    @AfterAll static void stop() { cpu.close(); }

    /** conv(channels, kernel, stride, pad) with a bias, on [C, H, W] samples. */
    private record Conv(int channels, int kernel, int stride, int pad) implements LayerType {
        @Override public String name() { return "test_conv"; }
        @Override public String doc() { return "A 2-D convolution with a bias, its settings fixed by the test."; }
        @Override public ParamSchema schema() { return ParamSchema.empty(); }

        private Conv2dGeometry geometry(Shape sample, int batch) {
            return new Conv2dGeometry(batch, sample.dim(0), sample.dim(1), sample.dim(2), channels, kernel, kernel,
                    stride, stride, pad, pad, 1, 1, 1);
        }

        @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) {
            Conv2dGeometry g = geometry(inputs.get(0), 1);
            return Shape.of(channels, g.outHeight(), g.outWidth());
        }

        @Override public List<ParamDecl> parameters(LayerArgs args, List<Shape> inputs) {
            Shape w = Shape.of(channels, inputs.get(0).dim(0), kernel, kernel);
            return List.of(ParamDecl.weight("weight", w, Initializer.zeros()), ParamDecl.bias("bias", Shape.of(channels), Initializer.zeros()));
        }

        @Override public LayerKernel compile(KernelContext context) {
            Conv2dGeometry g = geometry(context.inputShapes().get(0).dropFirst(), context.batch());
            return new LayerKernel() {
                @Override public void forward(ForwardPass pass) {
                    pass.backend().conv2dForward(g, pass.input(0), pass.param("weight"), pass.param("bias"), pass.output());
                }

                @Override public void backward(BackwardPass pass) {
                    pass.backend().conv2dBackwardData(g, pass.gradOutput(), pass.param("weight"), pass.gradInput(0));
                    pass.backend().conv2dBackwardFilter(g, pass.input(0), pass.gradOutput(), pass.gradParam("weight"), pass.gradParam("bias"));
                }
            };
        }
    }

    private static List<String> checked(GradientReport report) {
        return report.tensors().stream().map(t -> t.name() + " " + t.shape() + " x" + t.checked()).toList();
    }

    /** One channel, 5x5, stride 1: K = 25, the direct kernels; 20 output columns leave a partial vector per row. */
    @Test void directFirstLayer() {
        GradientReport r = CHECKER.check(GradientCase.of(new Conv(6, 5, 1, 2), LayerArgs.empty(), 2, Shape.of(1, 7, 20)), cpu);
        assertEquals(List.of("input 0 [2, 1, 7, 20] x200", "weight [6, 1, 5, 5] x150", "bias [6] x6"), checked(r));
    }

    /** 16 output channels: the forward pass gathers its GEMM panels from the padded input. */
    @Test void implicitGemm() {
        GradientReport r = CHECKER.check(GradientCase.of(new Conv(16, 3, 1, 1), LayerArgs.empty(), 2, Shape.of(3, 6, 6)), cpu);
        assertEquals(List.of("input 0 [2, 3, 6, 6] x200", "weight [16, 3, 3, 3] x200", "bias [16] x16"), checked(r));
    }

    /** Stride 2 and 6 output channels: explicit im2col, then GEMM. */
    @Test void explicitIm2col() {
        GradientReport r = CHECKER.check(GradientCase.of(new Conv(6, 3, 2, 1), LayerArgs.empty(), 2, Shape.of(4, 7, 7)), cpu);
        assertEquals(List.of("input 0 [2, 4, 7, 7] x200", "weight [6, 4, 3, 3] x200", "bias [6] x6"), checked(r));
    }

    /** 1x1, stride 1, no padding: the input is the column matrix. */
    @Test void pointwise() {
        GradientReport r = CHECKER.check(GradientCase.of(new Conv(4, 1, 1, 0), LayerArgs.empty(), 2, Shape.of(5, 5, 5)), cpu);
        assertEquals(List.of("input 0 [2, 5, 5, 5] x200", "weight [4, 5, 1, 1] x20", "bias [4] x4"), checked(r));
    }
}
