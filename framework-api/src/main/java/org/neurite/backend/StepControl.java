package org.neurite.backend;

import java.util.function.Consumer;
import org.neurite.tensor.Tensor;

/**
 * The layout of a training step's control: two floats on the device, written by
 * {@link Backend#stepControl} from the step's gradient norm and loss, and read by the optimiser
 * updates that take a {@code control} slice ({@link Backend#sgdUpdate(Tensor, Tensor, Tensor, float, float, float, boolean, Slice)}
 * and the others). It lets the step decide on the device what the host would otherwise have to
 * read back first: how far to scale the gradients (global-norm clipping) and whether to apply them
 * at all (not when the norm or the loss is NaN or infinite), as PyTorch's GradScaler does with its
 * {@code found_inf} flag.
 * <ul>
 *   <li>{@link #FACTOR}: what every gradient is multiplied by before the update, 1 when the norm
 *       is within the limit or clipping is off;</li>
 *   <li>{@link #SKIP}: nonzero once a step was not finite; an update that reads it then changes
 *       nothing, neither the weights nor the optimiser state, and it stays set (later steps are
 *       skipped too) until the host clears it, having read which step set it.</li>
 * </ul>
 */
public final class StepControl {
    private StepControl() {}

    /** Offset of the gradient factor. */
    public static final int FACTOR = 0;
    /** Offset of the skip flag. */
    public static final int SKIP = 1;
    /** Floats in a control slice. */
    public static final int SIZE = 2;

    /**
     * The factor global-norm clipping applies (PyTorch's {@code clip_grad_norm_}): {@code maxNorm / (norm + 1e-6)}
     * when clipping is on ({@code maxNorm > 0}) and the norm is above the limit, otherwise 1.
     */
    public static float clipFactor(double norm, double maxNorm) {
        return maxNorm > 0 && norm > maxNorm ? (float) (maxNorm / (norm + 1e-6)) : 1f;
    }

    /**
     * Runs {@code update} on {@code grad} under {@code control} as the backend's controlled
     * updates do: nothing when the skip flag is set, else on the gradient, or on a copy scaled by
     * the factor when that is not 1; a null control runs it on {@code grad} directly. For an
     * optimizer composed from element-wise ops (a plugin's); it reads the control back, one
     * synchronisation per call.
     */
    public static void apply(Backend backend, Slice control, Tensor grad, Consumer<Tensor> update) {
        DerivedOps.controlled(backend, control, grad, update);
    }

    /** Whether a step with this squared gradient norm and loss may be applied (both finite). */
    public static boolean finite(double squaredNorm, double loss) {
        return Double.isFinite(squaredNorm) && Double.isFinite(loss);
    }
}
