package org.neurite.train;

import org.neurite.backend.Slice;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;
import org.neurite.tensor.Tensor;

/**
 * A training objective over the model's first output, named in scripts by {@code loss = name} or,
 * when it takes arguments, {@code loss = name(arg=value, ...)} bound against its {@link #schema()}. A
 * plugin contributes one with {@code PluginModule.loss}; the core's {@code softmax_cross_entropy}
 * and {@code mse} are contributed the same way. Expressed with {@link org.neurite.backend.Backend}
 * ops on the output's backend, so it runs wherever the model runs.
 *
 * <p>The gradient is that of the loss <em>summed</em> over the {@code rows} given and divided by
 * {@code denominator} (the whole batch's rows): for a whole batch ({@code denominator == rows})
 * that is the mean loss, PyTorch's default reduction; a worker holding a slice of the batch then
 * contributes exactly its share of the whole batch's gradient.
 */
public interface LossFunction {
    /** The name scripts use, e.g. {@code label_smoothing_cross_entropy}. */
    String name();

    /**
     * The arguments a script may give, with defaults and ranges, which the script checker binds
     * the call against (file:line:col); empty for a loss that takes none.
     */
    default ParamSchema schema() { return ParamSchema.empty(); }

    /**
     * This loss with {@code args} (bound to {@link #schema()}, every default filled in) applied;
     * the registered instance itself is what a script that writes no arguments gets. A loss
     * without arguments returns itself.
     */
    default LossFunction withArguments(LayerArgs args) { return this; }

    /** Whether targets are class indices stored as floats (true) or real values (false). */
    boolean classification();

    /**
     * @param output the model output [rows, ...]: for classification [rows, classes]
     * @param targets [rows] class indices (as floats), or real values, one per output element
     * @param gradOutput same size as output; receives d(sum of the rows' losses / denominator)/d(output)
     * @param rows target rows in this batch (batch x targets per sample)
     * @param denominator rows of the whole batch, {@code >= rows}
     * @return the loss summed over these rows
     */
    double compute(Tensor output, Tensor targets, Tensor gradOutput, int rows, int denominator);

    /**
     * As {@link #compute(Tensor, Tensor, Tensor, int, int)}, with the summed loss written to
     * {@code lossSum[0]} (one float on the output's backend) instead of returned, so a training
     * step need not wait for the device. This default reads the sum back and uploads it (one
     * synchronisation); a loss built from ops that leave it on the device overrides it.
     */
    default void compute(Tensor output, Tensor targets, Tensor gradOutput, int rows, int denominator, Slice lossSum) {
        double sum = compute(output, targets, gradOutput, rows, denominator);
        output.backend().upload(new float[] {(float) sum}, 0, lossSum);
    }
}
