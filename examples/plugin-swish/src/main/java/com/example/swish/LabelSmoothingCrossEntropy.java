package com.example.swish;

import static org.neurite.backend.Slice.of;

import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.UnaryOp;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;
import org.neurite.train.LossFunction;

/**
 * Cross-entropy against labels smoothed by {@code ε = 0.1} (Szegedy et al. 2016; PyTorch's
 * {@code CrossEntropyLoss(label_smoothing=0.1)}): the target distribution of a row with label
 * {@code y} over {@code K} classes is {@code q = (1−ε)·onehot(y) + ε/K}, and for logits {@code z}
 * with {@code p = softmax(z)}
 * <pre>
 *   loss = (1−ε)·(−log p_y) + ε·mean_k(−log p_k)          mean_k(−log p_k) = logsumexp(z) − mean_k z_k
 *   dloss/dz_k = p_k − q_k = (1−ε)·(p_k − onehot_k) + ε·(p_k − 1/K)
 * </pre>
 * Output [rows, K] logits, targets [rows] class indices. Built from Backend ops only: the fused
 * softmax cross-entropy gives the first term and its gradient, the smoothing term takes the row
 * maximum out before exponentiating so large logits do not overflow.
 */
public final class LabelSmoothingCrossEntropy implements LossFunction {
    /** The smoothing ε: the share of the target mass spread evenly over all classes. */
    public static final float EPSILON = 0.1f;

    @Override public String name() { return "label_smoothing_cross_entropy"; }

    @Override public boolean classification() { return true; }

    @Override public double compute(Tensor output, Tensor targets, Tensor gradOutput, int rows, int denominator) {
        Backend b = output.backend();
        int classes = output.size() / rows;
        float scale = 1f / denominator;
        // gradOutput = (1−ε)/denominator · (p − onehot); ce = Σ_rows −log p_y
        double ce = b.softmaxCrossEntropy(output, targets, gradOutput, rows, classes, (1 - EPSILON) * scale);
        try (Tensor p = b.allocate(Shape.of(rows, classes));
             Tensor shifted = b.allocate(Shape.of(rows, classes));
             Tensor max = b.allocate(Shape.of(rows));
             Tensor sumExp = b.allocate(Shape.of(rows));
             Tensor sumZ = b.allocate(Shape.of(rows));
             Tensor total = b.allocate(Shape.of(1))) {
            // gradOutput += ε/denominator · (p − 1/K)
            b.softmax(output, p, rows, classes);
            b.affine(of(p), EPSILON * scale, -EPSILON * scale / classes, of(p));
            b.binary(BinaryOp.ADD, of(gradOutput), of(p), of(gradOutput));
            // per row (viewed as [1, rows, K]): logsumexp(z) − mean z = max + log Σ e^(z − max) − Σ z / K
            b.channelMax(output, max, 1, rows, classes);
            b.channelBroadcast(BinaryOp.SUB, output, max, shifted, 1, rows, classes);
            b.unary(UnaryOp.EXP, of(shifted), of(shifted));
            b.channelSum(shifted, sumExp, 1, rows, classes, 0f);
            b.unary(UnaryOp.LOG, of(sumExp), of(sumExp));
            b.binary(BinaryOp.ADD, of(sumExp), of(max), of(sumExp));
            b.channelSum(output, sumZ, 1, rows, classes, 0f);
            b.affine(of(sumZ), -1f / classes, 0f, of(sumZ));
            b.binary(BinaryOp.ADD, of(sumExp), of(sumZ), of(sumExp));
            b.channelSum(sumExp, total, 1, 1, rows, 0f);
            double smoothing = b.download(total)[0];
            return (1 - EPSILON) * ce + EPSILON * smoothing;
        }
    }
}
