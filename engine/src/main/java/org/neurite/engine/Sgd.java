package org.neurite.engine;

import java.util.List;
import org.neurite.backend.Slice;
import org.neurite.graph.ParamInfo;
import org.neurite.tensor.Tensor;

/** Stochastic gradient descent with momentum, Nesterov and L2 weight decay (PyTorch's SGD). */
public final class Sgd implements Optimizer {
    private final ParameterStore store;
    private final List<ParamInfo> params;
    private final Tensor[] values;
    private final Tensor[] grads;
    private final Tensor[] velocity;
    private float lr;
    private final float momentum;
    private final float weightDecay;
    private final boolean nesterov;

    public Sgd(ParameterStore store, float lr, float momentum, float weightDecay, boolean nesterov) {
        this.store = store;
        this.params = store.trainable();
        this.lr = lr;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
        values = new Tensor[params.size()];
        grads = new Tensor[params.size()];
        velocity = new Tensor[params.size()];
        for (int i = 0; i < params.size(); i++) {
            String name = params.get(i).fullName();
            values[i] = store.value(name);
            grads[i] = store.grad(name);
            velocity[i] = store.state(name, "momentum");
        }
    }

    @Override public void step(int step, Slice control) {
        for (int i = 0; i < values.length; i++) {
            float wd = params.get(i).decl().decay() ? weightDecay : 0f;
            store.backend().sgdUpdate(values[i], grads[i], velocity[i], lr, momentum, wd, nesterov, control);
        }
    }

    @Override public float learningRate() { return lr; }

    @Override public void setLearningRate(float lr) { this.lr = lr; }
}
