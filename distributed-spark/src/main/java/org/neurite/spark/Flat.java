package org.neurite.spark;

import java.util.List;
import org.neurite.backend.Slice;
import org.neurite.engine.ParameterStore;
import org.neurite.graph.ParamInfo;
import org.neurite.tensor.Tensor;

/**
 * The driver's parameters as one flat {@code float[]} (what is broadcast to the workers) and the
 * summed results written back. Layouts, all in declaration order: weights = every parameter's
 * value; gradients = every trainable parameter's gradient; state = weights, then every
 * optimiser slot in the store's order.
 */
final class Flat {
    private Flat() {}

    static int size(List<ParamInfo> params) {
        int n = 0;
        for (ParamInfo p : params) n += p.decl().shape().size();
        return n;
    }

    /** Every parameter's value, flattened. */
    static float[] weights(ParameterStore store) {
        float[] out = new float[size(store.params())];
        int at = 0;
        for (ParamInfo p : store.params()) at = copy(store, store.value(p.fullName()), out, at);
        return out;
    }

    /** Weights, then every optimiser slot. */
    static float[] state(ParameterStore store) {
        int n = size(store.params());
        for (Tensor t : store.stateTensors().values()) n += t.size();
        float[] out = new float[n];
        int at = 0;
        for (ParamInfo p : store.params()) at = copy(store, store.value(p.fullName()), out, at);
        for (Tensor t : store.stateTensors().values()) at = copy(store, t, out, at);
        return out;
    }

    /** Writes {@code scale · sums} into the trainable parameters' gradient buffers. */
    static void setGradients(ParameterStore store, double[] sums, double scale) {
        int at = 0;
        for (ParamInfo p : store.trainable()) at = write(store, store.grad(p.fullName()), sums, at, scale);
        if (at != sums.length) throw new IllegalStateException("workers sent " + sums.length + " gradient values, the model has " + at);
    }

    /** Writes {@code scale · sums} into the values and optimiser slots (the layout of {@link #state}). */
    static void setState(ParameterStore store, double[] sums, double scale) {
        int at = 0;
        for (ParamInfo p : store.params()) at = write(store, store.value(p.fullName()), sums, at, scale);
        for (Tensor t : store.stateTensors().values()) at = write(store, t, sums, at, scale);
        if (at != sums.length) throw new IllegalStateException("workers sent " + sums.length + " values, the model has " + at);
    }

    private static int copy(ParameterStore store, Tensor t, float[] out, int at) {
        store.backend().download(Slice.of(t, 0, t.size()), out, at);
        return at + t.size();
    }

    private static int write(ParameterStore store, Tensor t, double[] sums, int at, double scale) {
        float[] v = new float[t.size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (scale * sums[at + i]);
        store.backend().upload(v, t);
        return at + v.length;
    }
}
