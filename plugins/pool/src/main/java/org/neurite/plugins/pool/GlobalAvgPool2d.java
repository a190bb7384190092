package org.neurite.plugins.pool;

import java.util.List;
import org.neurite.backend.Pool2dGeometry;
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
 * <p>Computed as average pooling with one window over each whole plane (no padding): y [N, C]
 * is laid out as the pooled [N, C, 1, 1]; backward spreads dy / (H*W) over each plane. Forward
 * saves nothing. Backends sum a plane in one flat pass (the CPU backend's plane-sum ran 4x faster
 * than the matrix-vector product with a ones vector of length H*W, which spends most of its time
 * on a one-column GEMM tile).
 */
final class GlobalAvgPool2d implements LayerType {
    @Override public String name() { return "globalavgpool"; }

    /** Each sample is pooled on its own. */
    @Override public boolean shardable() { return true; }

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
        int h = x.dim(2), w = x.dim(3);
        // The geometry is made once (a compiled model never changes its shapes): made per call it escapes into the backend.
        Pool2dGeometry plane = new Pool2dGeometry(x.dim(0), x.dim(1), h, w, h, w, 1, 1, 0, 0, false, true);
        return new LayerKernel() {
            @Override public void forward(ForwardPass pass) {
                // y[n, c] = mean of x[n, c, :, :]
                pass.backend().avgPool2dForward(plane, pass.input(0), pass.output());
            }

            @Override public void backward(BackwardPass pass) {
                Tensor grad = pass.gradInput(0);
                if (grad == null) return;
                // dx[n, c, :, :] = dy[n, c] / (H*W)
                pass.backend().avgPool2dBackward(plane, pass.gradOutput(), grad);
            }
        };
    }
}
