package com.example.swish;

import static org.neurite.backend.Slice.of;
import static org.neurite.layer.ParamSpec.optional;

import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.UnaryOp;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ParamType;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;
import org.neurite.train.LossFunction;

/**
 * Cross-entropy against labels smoothed by {@code ε} (Szegedy et al. 2016; PyTorch's
 * {@code CrossEntropyLoss(label_smoothing=ε)}), {@code loss = label_smoothing_cross_entropy(epsilon=0.05)}
 * in a script, ε = 0.1 when not given: the target distribution of a row with label
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
    /** The smoothing ε a script that gives none gets. */
    public static final double DEFAULT_EPSILON = 0.1;

    /** The share of the target mass spread evenly over all classes. */
    private final float epsilon;

    /** The loss with ε = {@link #DEFAULT_EPSILON}, as the plugin registers it. */
    public LabelSmoothingCrossEntropy() {
        this((float) DEFAULT_EPSILON);
    }

    /** @param epsilon in [0, 1], as PyTorch's {@code label_smoothing}: 0 is plain cross-entropy */
    public LabelSmoothingCrossEntropy(float epsilon) {
        if (!(epsilon >= 0 && epsilon <= 1)) throw new IllegalArgumentException("epsilon is in [0, 1], got " + epsilon);
        this.epsilon = epsilon;
    }

    @Override public String name() { return "label_smoothing_cross_entropy"; }

    @Override public ParamSchema schema() {
        return ParamSchema.of(optional("epsilon", ParamType.FLOAT, DEFAULT_EPSILON,
                "share of the target mass spread evenly over all classes (PyTorch's label_smoothing)").range(0, 1));
    }

    @Override public LabelSmoothingCrossEntropy withArguments(LayerArgs args) {
        return new LabelSmoothingCrossEntropy(args.getFloat("epsilon"));
    }

    /** The smoothing ε. */
    public float epsilon() { return epsilon; }

    @Override public boolean classification() { return true; }

    @Override public double compute(Tensor output, Tensor targets, Tensor gradOutput, int rows, int denominator) {
        Backend b = output.backend();
        int classes = output.size() / rows;
        float scale = 1f / denominator;
        // gradOutput = (1−ε)/denominator · (p − onehot); ce = Σ_rows −log p_y
        double ce = b.softmaxCrossEntropy(output, targets, gradOutput, rows, classes, (1 - epsilon) * scale);
        try (Tensor p = b.allocate(Shape.of(rows, classes));
             Tensor shifted = b.allocate(Shape.of(rows, classes));
             Tensor max = b.allocate(Shape.of(rows));
             Tensor sumExp = b.allocate(Shape.of(rows));
             Tensor sumZ = b.allocate(Shape.of(rows));
             Tensor total = b.allocate(Shape.of(1))) {
            // gradOutput += ε/denominator · (p − 1/K)
            b.softmax(output, p, rows, classes);
            b.affine(of(p), epsilon * scale, -epsilon * scale / classes, of(p));
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
            return (1 - epsilon) * ce + epsilon * smoothing;
        }
    }
}
