package com.example.swish;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.Slice;
import org.neurite.backend.cpu.CpuBackend;
import org.neurite.layer.ArgumentException;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;
import org.neurite.train.LossFunction;

/**
 * The loss against values worked out by hand from its definition (in double):
 * {@code loss_r = (1−ε)·(−log p_y) + ε·mean_k(−log p_k)}, {@code grad = (p − q)/denominator}
 * with {@code q = (1−ε)·onehot + ε/K}, for ε = 0.1 (the default) and ε = 0.05, two rows of three classes.
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

    /** The same rows with ε = 0.05: Σ loss_r and (p − q)/2, q = 0.95·onehot + 0.05/3. */
    private static final double LOSS_SUM_EPSILON_005 = 1.0950699031144422;
    private static final float[] GRAD_EPSILON_005 = {0.036681953251856886f, 0.11403090219406546f, -0.1507128554459225f,
            -0.21005863970024352f, 0.05264249282153109f, 0.15741614687871242f};

    @Test void epsilonFromAScriptsArgumentsChangesTheLossAsTheDefinitionSays() {
        LossFunction configured = loss.withArguments(loss.schema().bind(List.of(), Map.of("epsilon", 0.05)));
        Tensor grad = cpu.allocate(Shape.of(2, 3));
        cpu.fill(grad, Float.NaN);
        double sum = configured.compute(tensor(LOGITS, 2, 3), tensor(LABELS, 2), grad, 2, 2);
        assertEquals(LOSS_SUM_EPSILON_005, sum, 1e-5);
        assertArrayEquals(GRAD_EPSILON_005, cpu.download(grad), 1e-6f);
        // No argument written: the default ε = 0.1, the registered loss's.
        LossFunction defaults = loss.withArguments(loss.schema().bind(List.of(), Map.of()));
        assertEquals(LOSS_SUM, defaults.compute(tensor(LOGITS, 2, 3), tensor(LABELS, 2), cpu.allocate(Shape.of(2, 3)), 2, 2), 1e-5);
        assertThrows(ArgumentException.class, () -> loss.schema().bind(List.of(), Map.of("epsilon", 1.5)));
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
