package org.neurite.engine;

import java.util.List;
import org.neurite.graph.ParamInfo;
import org.neurite.tensor.Tensor;

/** Adam (Kingma &amp; Ba 2015) with bias correction and L2 weight decay, as PyTorch's Adam. */
public final class Adam implements Optimizer {
    private final ParameterStore store;
    private final List<ParamInfo> params;
    private final Tensor[] values;
    private final Tensor[] grads;
    private final Tensor[] m;
    private final Tensor[] v;
    private float lr;
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;

    public Adam(ParameterStore store, float lr, float beta1, float beta2, float eps, float weightDecay) {
        this.store = store;
        this.params = store.trainable();
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        int n = params.size();
        values = new Tensor[n];
        grads = new Tensor[n];
        m = new Tensor[n];
        v = new Tensor[n];
        for (int i = 0; i < n; i++) {
            String name = params.get(i).fullName();
            values[i] = store.value(name);
            grads[i] = store.grad(name);
            m[i] = store.state(name, "adam.m");
            v[i] = store.state(name, "adam.v");
        }
    }

    @Override public void step(int step) {
        for (int i = 0; i < values.length; i++) {
            float wd = params.get(i).decl().decay() ? weightDecay : 0f;
            store.backend().adamUpdate(values[i], grads[i], m[i], v[i], lr, beta1, beta2, eps, wd, step);
        }
    }

    @Override public float learningRate() { return lr; }

    @Override public void setLearningRate(float lr) { this.lr = lr; }
}
