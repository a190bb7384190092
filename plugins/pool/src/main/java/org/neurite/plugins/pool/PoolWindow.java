package org.neurite.plugins.pool;

import org.neurite.backend.Pool2dGeometry;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ShapeException;
import org.neurite.tensor.Shape;

/**
 * The window arguments {@code maxpool} and {@code avgpool} share ({@code kernel}, {@code stride}
 * defaulting to the kernel, {@code pad}, {@code ceil}) as (height, width) pairs, and the checks
 * that turn them into a {@link Pool2dGeometry} for [C, H, W] inputs. PyTorch's rule that padding
 * be at most half the kernel is enforced so that every window holds at least one real input
 * element (a max over padding alone would have no argmax).
 */
record PoolWindow(int[] kernel, int[] stride, int[] pad, boolean ceil) {
    static PoolWindow of(LayerArgs args) {
        int[] kernel = args.getPair("kernel");
        int[] stride = args.has("stride") ? args.getPair("stride") : kernel;
        return new PoolWindow(kernel, stride, args.getPair("pad"), args.getBool("ceil"));
    }

    /** The geometry for {@code batch} samples of per-sample input {@code in}, or a ShapeException. */
    Pool2dGeometry geometry(Shape in, int batch, boolean countIncludePad) {
        if (in.rank() != 3) throw new ShapeException("expects [channels, height, width] per sample, got " + in);
        if (2 * pad[0] > kernel[0] || 2 * pad[1] > kernel[1])
            throw new ShapeException("pad " + pad[0] + "x" + pad[1] + " must be at most half of the kernel "
                    + kernel[0] + "x" + kernel[1]);
        int paddedH = in.dim(1) + 2 * pad[0];
        int paddedW = in.dim(2) + 2 * pad[1];
        if (paddedH < kernel[0] || paddedW < kernel[1])
            throw new ShapeException("output would be empty: padded input " + paddedH + "x" + paddedW
                    + " is smaller than the kernel " + kernel[0] + "x" + kernel[1]);
        return new Pool2dGeometry(batch, in.dim(0), in.dim(1), in.dim(2), kernel[0], kernel[1], stride[0], stride[1],
                pad[0], pad[1], ceil, countIncludePad);
    }

    /** [C, Ho, Wo] for per-sample input {@code in}. */
    Shape outputShape(Shape in) {
        Pool2dGeometry g = geometry(in, 1, false);
        return Shape.of(g.channels(), g.outHeight(), g.outWidth());
    }

    /** One operation (compare or add) per window element per output element. */
    long flops(Shape output) {
        return output.elementCount() * kernel[0] * kernel[1];
    }
}
