package org.neurite.engine;

import org.neurite.backend.OutOfMemoryException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.neurite.backend.Backend;
import org.neurite.backend.CounterRandom;
import org.neurite.backend.Slice;
import org.neurite.diag.ModelException;
import org.neurite.graph.ParamInfo;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.tensor.Tensor;
import org.neurite.train.TrainableParameters;

/**
 * The parameters of one model on one backend: values, gradients and optimiser state, keyed by
 * full name ({@code c1.weight}). Shared by every {@link CompiledModel} of the model (one per batch
 * size), so training and evaluation at different batch sizes see the same weights.
 *
 * <p>Initial values are seeded per parameter from {@code (seed, name)}, so they do not depend on
 * declaration order or on the backend.
 */
public final class ParameterStore implements AutoCloseable, TrainableParameters {
    private final Backend backend;
    private final List<ParamInfo> params;
    private final Map<String, Tensor> values = new LinkedHashMap<>();
    private final Map<String, Tensor> grads = new LinkedHashMap<>();
    private final Map<String, Tensor> state = new LinkedHashMap<>();
    /** The gradient buffers in declaration order, for {@link #gradientSquaredNorm}; made on first use. */
    private List<Tensor> gradientList;
    /** A shard's view ({@link #shardView}): the values are another store's, only the gradients its own. */
    private final boolean view;

    public ParameterStore(TypedGraph graph, Backend backend, long seed) {
        this(graph, backend, seed, true);
    }

    /**
     * The parameters of {@code graph} on a {@link PlanningBackend}: the same tensors allocated in
     * the same order, not initialised (that would take the host memory the planner is checking).
     */
    static ParameterStore planned(TypedGraph graph, Backend planning) {
        return new ParameterStore(graph, planning, 0, false);
    }

    /**
     * The parameters of {@code parent} with gradient buffers of their own: what the compiled
     * model of a step's second shard ({@link TrainStep}) reads and writes, so that the two shards
     * never write the same gradient. Closing it frees only those gradients.
     */
    static ParameterStore shardView(ParameterStore parent) {
        return new ParameterStore(parent);
    }

    private ParameterStore(ParameterStore parent) {
        this.backend = parent.backend;
        this.params = parent.params;
        this.view = true;
        values.putAll(parent.values);
        try {
            for (ParamInfo p : params) if (p.decl().trainable()) grads.put(p.fullName(), backend.allocate(p.decl().shape()));
        } catch (OutOfMemoryException e) {
            close();
            throw e;
        }
    }

    private ParameterStore(TypedGraph graph, Backend backend, long seed, boolean initialise) {
        this.backend = backend;
        this.params = graph.params();
        this.view = false;
        if (initialise) {
            // Tensors are indexed by int on every backend; the planner only counts such a parameter.
            for (ParamInfo p : params) {
                if (p.decl().shape().elementCount() > Integer.MAX_VALUE) {
                    throw new ModelException(graph.graph().node(p.node()).span(), "parameter " + p.fullName() + " " + p.decl().shape()
                            + " has " + p.decl().shape().elementCount() + " elements, more than a tensor can hold (2^31-1): make the layer smaller");
                }
            }
        }
        try {
            for (ParamInfo p : params) {
                Tensor t = backend.allocate(p.decl().shape());
                values.put(p.fullName(), t);
                if (initialise) {
                    float[] init = new float[t.size()];
                    SplittableRandom rng = new SplittableRandom(CounterRandom.mix(seed ^ p.fullName().hashCode() * 0x9E3779B97F4A7C15L));
                    p.decl().initializer().initialize(init, p.decl().shape(), rng);
                    backend.upload(init, t);
                }
                if (p.decl().trainable()) grads.put(p.fullName(), backend.allocate(p.decl().shape()));
            }
        } catch (OutOfMemoryException e) {
            // A device backend that ran out: say which model, and give back what was taken.
            close();
            throw new OutOfMemoryException("the parameters of model " + graph.graph().name() + " do not fit backend "
                    + backend.name() + ": " + e.getMessage(), e);
        }
    }

    public Backend backend() { return backend; }

    public List<ParamInfo> params() { return params; }

    public List<ParamInfo> trainable() {
        return params.stream().filter(p -> p.decl().trainable()).toList();
    }

    public Tensor value(String fullName) { return values.get(fullName); }

    /** The gradient buffer, or null for a parameter that is not trainable. */
    public Tensor grad(String fullName) { return grads.get(fullName); }

    /**
     * Optimiser state for a parameter ({@code slot} = "momentum", "adam.m", …), allocated zeroed on
     * first request. Optimisers request every slot when they are created, never during a step.
     */
    public Tensor state(String fullName, String slot) {
        return state.computeIfAbsent(fullName + "#" + slot, k -> backend.allocate(values.get(fullName).shape()));
    }

    /** Every optimiser slot allocated so far, keyed {@code name#slot}. */
    public Map<String, Tensor> stateTensors() { return java.util.Collections.unmodifiableMap(state); }

    /**
     * Writes the sum of squared gradient elements over every trainable parameter, the squared
     * global L2 norm, into {@code out[0]} on the device: one reduction over all gradients, nothing
     * read back (global-norm clipping then happens on the device, in the optimiser's update).
     */
    public void gradientSquaredNorm(Slice out) {
        if (gradientList == null) gradientList = List.copyOf(grads.values());
        backend.sumOfSquares(gradientList, out);
    }

    /** Parameter values in declaration order, in PyTorch's layouts (what checkpoints hold). */
    public List<NamedTensor> export() {
        List<NamedTensor> out = new ArrayList<>();
        for (ParamInfo p : params) out.add(new NamedTensor(p.fullName(), p.decl().shape(), backend.download(values.get(p.fullName()))));
        return out;
    }

    /** Optimiser state in a stable order, named {@code name#slot}. */
    public List<NamedTensor> exportState() {
        List<NamedTensor> out = new ArrayList<>();
        state.forEach((k, t) -> out.add(new NamedTensor(k, t.shape(), backend.download(t))));
        return out;
    }

    /**
     * Loads values by name. Every parameter of the model must be present with its exact shape;
     * tensors in {@code tensors} that the model lacks are reported too.
     *
     * @throws IllegalArgumentException listing every missing, unexpected or mis-shaped tensor
     */
    public void load(List<NamedTensor> tensors) {
        Map<String, NamedTensor> byName = new LinkedHashMap<>();
        for (NamedTensor t : tensors) byName.put(t.name(), t);
        List<String> problems = new ArrayList<>();
        for (ParamInfo p : params) {
            NamedTensor t = byName.remove(p.fullName());
            if (t == null) problems.add("missing '" + p.fullName() + "' " + p.decl().shape());
            else if (!t.shape().equals(p.decl().shape()))
                problems.add("'" + p.fullName() + "' has shape " + t.shape() + ", the model needs " + p.decl().shape());
        }
        // Optimiser slots travel in the same files; PyTorch's batch-norm step counters have no use here.
        byName.keySet().removeIf(k -> k.contains("#") || k.endsWith(".num_batches_tracked"));
        for (String extra : byName.keySet()) problems.add("unexpected tensor '" + extra + "' (not a parameter of this model)");
        if (!problems.isEmpty()) throw new IllegalArgumentException(String.join("; ", problems));
        for (NamedTensor t : tensors) {
            Tensor dst = values.get(t.name());
            if (dst != null) backend.upload(t.data(), dst);
        }
    }

    /** Restores optimiser slots saved by {@link #exportState()}. */
    public void loadState(List<NamedTensor> tensors) {
        for (NamedTensor t : tensors) {
            int hash = t.name().indexOf('#');
            if (hash < 0) continue;
            String name = t.name().substring(0, hash);
            if (!values.containsKey(name)) continue;
            backend.upload(t.data(), state(name, t.name().substring(hash + 1)));
        }
    }

    @Override public void close() {
        if (!view) values.values().forEach(Tensor::close);
        grads.values().forEach(Tensor::close);
        state.values().forEach(Tensor::close);
    }
}
