package org.neurite.engine;

import java.util.List;
import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.Slice;
import org.neurite.tensor.Tensor;

/**
 * Mean squared error {@code mean((output - target)^2)} over every element (PyTorch's
 * {@code MSELoss}); the output has exactly one value per target.
 */
public final class MeanSquaredError implements Loss {
    @Override public String name() { return "mse"; }

    @Override public boolean classification() { return false; }

    @Override public double compute(Tensor output, Tensor targets, Tensor gradOutput, int rows) {
        return compute(output, targets, gradOutput, rows, rows);
    }

    @Override public double compute(Tensor output, Tensor targets, Tensor gradOutput, int rows, int denominator) {
        Backend b = output.backend();
        residual(b, output, targets, gradOutput, rows);
        double sum = b.sumOfSquares(gradOutput);
        b.axpby(0f, gradOutput, 2f / denominator, gradOutput);                 // d/d(out) of the mean
        return sum;
    }

    @Override public void compute(Tensor output, Tensor targets, Tensor gradOutput, int rows, int denominator, Slice lossSum) {
        Backend b = output.backend();
        residual(b, output, targets, gradOutput, rows);
        b.sumOfSquares(List.of(gradOutput), lossSum);
        b.axpby(0f, gradOutput, 2f / denominator, gradOutput);
    }

    /** gradOutput[0, rows) = output - targets, the residual whose squares are the loss. */
    private static void residual(Backend b, Tensor output, Tensor targets, Tensor gradOutput, int rows) {
        b.binary(BinaryOp.SUB, Slice.of(output, 0, rows), Slice.of(targets, 0, rows), Slice.of(gradOutput, 0, rows));
    }
}
