package org.neurite.engine;

import java.util.List;
import org.neurite.backend.Slice;
import org.neurite.graph.ParamInfo;
import org.neurite.tensor.Tensor;

/**
 * RMSprop (Hinton's lecture 6e), as PyTorch's RMSprop: each step divides the gradient by the
 * root of a running mean of its squares ({@code alpha} the mean's decay), optionally centred
 * (minus the squared running mean of the gradient) and with momentum; L2 weight decay is added
 * to the gradient. The momentum buffer and the gradient mean are only allocated when used.
 */
public final class RmsProp implements Optimizer {
    private final ParameterStore store;
    private final List<ParamInfo> params;
    private final Tensor[] values;
    private final Tensor[] grads;
    private final Tensor[] squareAverage;
    /** Null entries when momentum is 0. */
    private final Tensor[] momentumBuffer;
    /** Null entries when not centred. */
    private final Tensor[] gradAverage;
    private float lr;
    private final float alpha;
    private final float eps;
    private final float weightDecay;
    private final float momentum;
    private final boolean centered;

    public RmsProp(ParameterStore store, float lr, float alpha, float eps, float weightDecay, float momentum, boolean centered) {
        this.store = store;
        this.params = store.trainable();
        this.lr = lr;
        this.alpha = alpha;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.momentum = momentum;
        this.centered = centered;
        int n = params.size();
        values = new Tensor[n];
        grads = new Tensor[n];
        squareAverage = new Tensor[n];
        momentumBuffer = new Tensor[n];
        gradAverage = new Tensor[n];
        for (int i = 0; i < n; i++) {
            String name = params.get(i).fullName();
            values[i] = store.value(name);
            grads[i] = store.grad(name);
            squareAverage[i] = store.state(name, "rmsprop.square_avg");
            if (momentum != 0f) momentumBuffer[i] = store.state(name, "rmsprop.momentum");
            if (centered) gradAverage[i] = store.state(name, "rmsprop.grad_avg");
        }
    }

    @Override public void step(int step, Slice control) {
        for (int i = 0; i < values.length; i++) {
            float wd = params.get(i).decl().decay() ? weightDecay : 0f;
            store.backend().rmspropUpdate(values[i], grads[i], squareAverage[i], momentumBuffer[i], gradAverage[i], lr, alpha, eps, wd,
                    momentum, centered, control);
        }
    }

    @Override public float learningRate() { return lr; }

    @Override public void setLearningRate(float lr) { this.lr = lr; }
}
