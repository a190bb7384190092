package org.neurite.plugins.pool;

import java.util.List;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.backend.MatrixOperand;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerKernel;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ShapeException;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * {@code globalavgpool}: the mean of each channel's plane, [N, C, H, W] → [N, C]. The output drops
 * the spatial axes (unlike PyTorch's {@code AdaptiveAvgPool2d(1)}, which keeps [C, 1, 1]) so that a
 * {@code dense} classifier can follow directly, as at the end of ResNet and GoogLeNet.
 *
 * <p>Computed as a matrix-vector product with a ones vector of length H*W (allocated and filled
 * once from the kernel context): x viewed as [N*C, H*W] times ones / (H*W) gives y [N*C];
 * backward is the outer product dy [N*C, 1] · ones [1, H*W] / (H*W). Forward saves nothing else.
 */
final class GlobalAvgPool2d implements LayerType {
    @Override public String name() { return "globalavgpool"; }

    @Override public String doc() {
        return "Global average pooling: the mean of each channel, [C, H, W] -> [C], so dense can follow directly.";
    }

    @Override public ParamSchema schema() { return ParamSchema.empty(); }

    @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) {
        Shape in = inputs.get(0);
        if (in.rank() != 3) throw new ShapeException("expects [channels, height, width] per sample, got " + in);
        if (in.dim(1) == 0 || in.dim(2) == 0) throw new ShapeException("cannot average an empty plane " + in);
        return Shape.of(in.dim(0));
    }

    /** One addition per input element. */
    @Override public long flops(LayerArgs args, List<Shape> inputs, Shape output) {
        return inputs.get(0).elementCount();
    }

    @Override public LayerKernel compile(KernelContext context) {
        Shape x = context.inputShapes().get(0);      // [N, C, H, W]
        int planes = x.dim(0) * x.dim(1);
        int plane = x.dim(2) * x.dim(3);
        float scale = 1f / plane;
        Tensor ones = context.allocate(Shape.of(plane));
        context.backend().fill(ones, 1f);
        // The descriptors are made once (per tensor, which a compiled model never changes): made per call they escape
        // into the backend and are garbage at every step.
        Gemm average = new Gemm(false, false, planes, 1, plane, 1);
        Gemm spread = new Gemm(false, false, planes, plane, 1, 1);
        Matrix onesColumn = Matrix.of(ones, 1);
        Matrix onesRow = Matrix.of(ones, plane);
        return new LayerKernel() {
            private final MatrixOperand x = new MatrixOperand(plane);
            private final MatrixOperand y = new MatrixOperand(1);
            private final MatrixOperand dy = new MatrixOperand(1);
            private final MatrixOperand dx = new MatrixOperand(plane);

            @Override public void forward(ForwardPass pass) {
                // y[N*C, 1] = x[N*C, H*W] · ones[H*W, 1] / (H*W)
                pass.backend().gemm(average, scale, x.of(pass.input(0)), onesColumn, 0f, y.of(pass.output()));
            }

            @Override public void backward(BackwardPass pass) {
                Tensor grad = pass.gradInput(0);
                if (grad == null) return;
                // dx[N*C, H*W] = dy[N*C, 1] · ones[1, H*W] / (H*W)
                pass.backend().gemm(spread, scale, dy.of(pass.gradOutput()), onesRow, 0f, dx.of(grad));
            }
        };
    }
}
