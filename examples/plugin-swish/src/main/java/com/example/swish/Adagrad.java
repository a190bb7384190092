package com.example.swish;

import static org.neurite.backend.Slice.of;
import static org.neurite.layer.ParamSpec.optional;

import java.util.List;
import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.Slice;
import org.neurite.backend.StepControl;
import org.neurite.backend.UnaryOp;
import org.neurite.graph.ParamInfo;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ParamType;
import org.neurite.tensor.Tensor;
import org.neurite.train.OptimizerFactory;
import org.neurite.train.ParameterUpdate;
import org.neurite.train.TrainableParameters;

/**
 * Adagrad (Duchi et al. 2011), as PyTorch's {@code torch.optim.Adagrad}: each weight's step
 * shrinks with the squared gradients it has seen. At step {@code t} (from 1), per parameter,
 * <pre>
 *   clr = lr / (1 + (t − 1)·lr_decay)
 *   g   = grad + weight_decay·w            (weight decay only for parameters that take it)
 *   sum = sum + g²                          (state "adagrad.sum", starting at initial_accumulator_value)
 *   w   = w − clr · g / (√sum + eps)
 * </pre>
 * Composed from Backend element-wise ops, so it runs on every backend; under a training step's
 * control it scales the gradient first and changes nothing when the step is skipped ({@link StepControl#apply}).
 */
public final class Adagrad implements OptimizerFactory {
    /** The state slot each parameter's running sum of squared gradients is saved under. */
    public static final String SUM = "adagrad.sum";

    @Override public String name() { return "adagrad"; }

    @Override public ParamSchema schema() {
        return ParamSchema.of(
                optional("lr", ParamType.FLOAT, 0.01, "learning rate").range(0, 1e3),
                optional("lr_decay", ParamType.FLOAT, 0.0, "the rate is lr / (1 + (step - 1) * lr_decay)").range(0, 1e3),
                optional("weight_decay", ParamType.FLOAT, 0.0, "L2 penalty added to the gradient").range(0, 1e3),
                optional("initial_accumulator_value", ParamType.FLOAT, 0.0, "where each sum of squared gradients starts")
                        .range(0, 1e3),
                optional("eps", ParamType.FLOAT, 1e-10, "added to the denominator").range(0, 1));
    }

    @Override public ParameterUpdate create(LayerArgs args, TrainableParameters params) {
        return new Update(params, args.getFloat("lr"), args.getFloat("lr_decay"), args.getFloat("weight_decay"),
                args.getFloat("initial_accumulator_value"), args.getFloat("eps"));
    }

    /** Adagrad over one model's parameters, its sums allocated (and filled) when created. */
    private static final class Update implements ParameterUpdate {
        private final TrainableParameters params;
        private final List<ParamInfo> trainable;
        private final float lrDecay;
        private final float weightDecay;
        private final float eps;
        private float lr;

        Update(TrainableParameters params, float lr, float lrDecay, float weightDecay, float initial, float eps) {
            this.params = params;
            this.trainable = params.trainable();
            this.lr = lr;
            this.lrDecay = lrDecay;
            this.weightDecay = weightDecay;
            this.eps = eps;
            // A resumed run loads its saved sums over these afterwards.
            for (ParamInfo p : trainable) params.backend().fill(params.state(p.fullName(), SUM), initial);
        }

        @Override public void step(int step, Slice control) {
            Backend b = params.backend();
            float clr = lr / (1 + (step - 1) * lrDecay);
            for (ParamInfo p : trainable) {
                Tensor w = params.value(p.fullName());
                Tensor sum = params.state(p.fullName(), SUM);
                float wd = p.decl().decay() ? weightDecay : 0f;
                StepControl.apply(b, control, params.grad(p.fullName()), grad -> update(b, w, grad, sum, clr, wd));
            }
        }

        private void update(Backend b, Tensor w, Tensor grad, Tensor sum, float clr, float wd) {
            try (Tensor g = b.allocate(w.shape()); Tensor t = b.allocate(w.shape())) {
                b.affine(of(w), wd, 0f, of(g));                      // g = wd·w + grad
                b.binary(BinaryOp.ADD, of(g), of(grad), of(g));
                b.binary(BinaryOp.MUL, of(g), of(g), of(t));         // sum += g²
                b.binary(BinaryOp.ADD, of(sum), of(t), of(sum));
                b.unary(UnaryOp.SQRT, of(sum), of(t));               // t = √sum + eps
                b.affine(of(t), 1f, eps, of(t));
                b.binary(BinaryOp.DIV, of(g), of(t), of(t));         // w −= clr · g / t
                b.affine(of(t), -clr, 0f, of(t));
                b.binary(BinaryOp.ADD, of(w), of(t), of(w));
            }
        }

        @Override public float learningRate() { return lr; }

        @Override public void setLearningRate(float lr) { this.lr = lr; }
    }
}
