package org.neurite.engine;

import java.util.List;
import org.neurite.backend.Slice;
import org.neurite.graph.ParamInfo;
import org.neurite.tensor.Tensor;

/**
 * Adam (Kingma &amp; Ba 2015) with bias correction, as PyTorch's Adam and AdamW. The two differ only
 * in the weight decay: Adam adds {@code weight_decay * param} to the gradient (L2, scaled by the
 * moments like the rest of it); AdamW (Loshchilov and Hutter 2019) is decoupled,
 * {@code param *= 1 - lr*weight_decay} before each step, so the decay does not pass through the
 * moments' scaling. Parameters that declare no decay (biases, normalisation scales) are not decayed.
 */
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
    /** AdamW's decoupled weight decay rather than Adam's L2 term. */
    private final boolean decoupled;

    /** Adam: weight decay as an L2 term of the gradient. */
    public Adam(ParameterStore store, float lr, float beta1, float beta2, float eps, float weightDecay) {
        this(store, lr, beta1, beta2, eps, weightDecay, false);
    }

    /** Adam, or AdamW when {@code decoupledWeightDecay}; each keeps its moments under its own name. */
    public Adam(ParameterStore store, float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupledWeightDecay) {
        this.store = store;
        this.decoupled = decoupledWeightDecay;
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
            String state = decoupled ? "adamw" : "adam";
            m[i] = store.state(name, state + ".m");
            v[i] = store.state(name, state + ".v");
        }
    }

    @Override public void step(int step, Slice control) {
        for (int i = 0; i < values.length; i++) {
            float wd = params.get(i).decl().decay() ? weightDecay : 0f;
            if (decoupled) store.backend().adamwUpdate(values[i], grads[i], m[i], v[i], lr, beta1, beta2, eps, wd, step, control);
            else store.backend().adamUpdate(values[i], grads[i], m[i], v[i], lr, beta1, beta2, eps, wd, step, control);
        }
    }

    @Override public float learningRate() { return lr; }

    @Override public void setLearningRate(float lr) { this.lr = lr; }
}
