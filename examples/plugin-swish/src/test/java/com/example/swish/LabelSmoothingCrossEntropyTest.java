package com.example.swish;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.Slice;
import org.neurite.backend.cpu.CpuBackend;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The loss against values worked out by hand from its definition (in double):
 * {@code loss_r = (1−ε)·(−log p_y) + ε·mean_k(−log p_k)}, {@code grad = (p − q)/denominator}
 * with {@code q = (1−ε)·onehot + ε/K}, for ε = 0.1, two rows of three classes.
 */
class LabelSmoothingCrossEntropyTest {
    private static final float[] LOGITS = {1, 2, 3, 0.5f, -1, 0};
    private static final float[] LABELS = {2, 0};
    /** Σ_rows loss_r. */
    private static final double LOSS_SUM = 1.178403236447776;
    /** (p − q)/2 per element: every row sums to 0. */
    private static final float[] GRAD = {0.02834861991852355f, 0.10569756886073213f, -0.13404618877925584f,
            -0.19339197303357686f, 0.04430915948819776f, 0.14908281354537908f};

    private final Backend cpu = new CpuBackend(1);
    private final LabelSmoothingCrossEntropy loss = new LabelSmoothingCrossEntropy();

    @Test void lossAndGradientOfTwoRowsMatchTheDefinition() {
        Tensor logits = tensor(LOGITS, 2, 3);
        Tensor grad = cpu.allocate(Shape.of(2, 3));
        cpu.fill(grad, Float.NaN);                          // an element left unwritten cannot pass
        double sum = loss.compute(logits, tensor(LABELS, 2), grad, 2, 2);
        assertEquals(LOSS_SUM, sum, 1e-5);
        assertArrayEquals(GRAD, cpu.download(grad), 1e-6f);
    }

    @Test void aSliceOfALargerBatchScalesByTheWholeBatchAndLeavesTheSumOnTheDevice() {
        Tensor grad = cpu.allocate(Shape.of(2, 3));
        Tensor lossSum = cpu.allocate(Shape.of(1));
        loss.compute(tensor(LOGITS, 2, 3), tensor(LABELS, 2), grad, 2, 8, Slice.of(lossSum));
        assertEquals(LOSS_SUM, cpu.download(lossSum)[0], 1e-5);
        float[] quarter = new float[GRAD.length];
        for (int i = 0; i < GRAD.length; i++) quarter[i] = GRAD[i] * 2 / 8;
        assertArrayEquals(quarter, cpu.download(grad), 1e-6f);
    }

    @Test void largeLogitsDoNotOverflow() {
        // A shift of every logit by 1000 changes neither the loss nor its gradient.
        float[] shifted = LOGITS.clone();
        for (int i = 0; i < shifted.length; i++) shifted[i] += 1000;
        Tensor grad = cpu.allocate(Shape.of(2, 3));
        double sum = loss.compute(tensor(shifted, 2, 3), tensor(LABELS, 2), grad, 2, 2);
        assertEquals(LOSS_SUM, sum, 1e-3);
        assertArrayEquals(GRAD, cpu.download(grad), 1e-4f);
    }

    private Tensor tensor(float[] values, int... dims) {
        Tensor t = cpu.allocate(Shape.of(dims));
        cpu.upload(values, t);
        return t;
    }
}
