package org.neurite.testkit;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.neurite.backend.Backend;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerKernel;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamDecl;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * One layer compiled on one backend outside any model, for tests that feed it chosen values and
 * read exact results (fixtures from PyTorch, hand-worked examples) and for {@link GradientChecker}.
 * It plays the engine's part: infers the output shape, allocates inputs, output, parameters and
 * their gradients (inputs and outputs carry the batch dimension, parameters do not) and compiles
 * the kernel through the real SPI.
 * <pre>{@code
 * try (LayerHarness h = LayerHarness.compile(conv, args, 1, cpu, Shape.of(1, 3, 3))) {
 *     h.setInput(0, x);
 *     h.setParam("weight", w);
 *     float[] y = h.forward();
 *     h.backward(dy);
 *     float[] dx = h.gradInput(0);
 * }
 * }</pre>
 * Parameters start at zero; the pass is in training mode with step seed 0 until changed.
 */
public final class LayerHarness implements AutoCloseable {
    private final LayerType type;
    private final Backend backend;
    private final HarnessContext context;
    private final List<ParamDecl> decls;
    private final Tensor[] inputs;
    private final Tensor[] gradInputs;
    private final Map<String, Tensor> params = new LinkedHashMap<>();
    private final Map<String, Tensor> gradParams = new LinkedHashMap<>();
    private final Tensor output;
    private final Tensor gradOutput;
    private final List<Tensor> owned = new ArrayList<>();
    private final HarnessPass pass;
    private final LayerKernel kernel;

    private LayerHarness(LayerType type, LayerArgs args, int batch, Backend backend, List<Shape> inputShapes,
                         Set<Integer> withoutGradient) {
        this.type = type;
        this.backend = backend;
        Shape outShape = type.outputShape(args, inputShapes).withBatch(batch);
        this.decls = List.copyOf(type.parameters(args, inputShapes));
        this.context = new HarnessContext(backend, args, batch,
                inputShapes.stream().map(s -> s.withBatch(batch)).toList(), outShape);
        inputs = new Tensor[inputShapes.size()];
        gradInputs = new Tensor[inputShapes.size()];
        for (int i = 0; i < inputs.length; i++) {
            inputs[i] = own(backend.allocate(inputShapes.get(i).withBatch(batch)));
            if (!withoutGradient.contains(i)) gradInputs[i] = own(backend.allocate(inputs[i].shape()));
        }
        for (ParamDecl d : decls) {
            params.put(d.name(), own(backend.allocate(d.shape())));
            if (d.trainable()) gradParams.put(d.name(), own(backend.allocate(d.shape())));
        }
        output = own(backend.allocate(outShape));
        gradOutput = own(backend.allocate(outShape));
        pass = new HarnessPass(backend, inputs, output, params, gradOutput, gradInputs, gradParams);
        kernel = type.compile(context);
    }

    /** Compiles {@code type} for per-sample {@code inputShapes} (without batch), every input gradient requested. */
    public static LayerHarness compile(LayerType type, LayerArgs args, int batch, Backend backend, Shape... inputShapes) {
        return new LayerHarness(type, args, batch, backend, List.of(inputShapes), Set.of());
    }

    /** As {@link #compile}, with {@code gradInput(i) == null} for the inputs in {@code withoutGradient}. */
    public static LayerHarness compile(LayerType type, LayerArgs args, int batch, Backend backend, List<Shape> inputShapes,
                                       Set<Integer> withoutGradient) {
        return new LayerHarness(type, args, batch, backend, inputShapes, withoutGradient);
    }

    public LayerType type() { return type; }

    /**
     * The kernel {@code type.compile} returned: for a layer with kernel overrides, shows which
     * implementation the runtime picked for this backend.
     */
    public LayerKernel kernel() { return kernel; }

    /** The layer's parameter declarations, in checkpoint order. */
    public List<ParamDecl> parameters() { return decls; }

    /** Output shape including the batch dimension. */
    public Shape outputShape() { return output.shape(); }

    public Shape inputShape(int index) { return inputs[index].shape(); }

    public LayerHarness training(boolean training) {
        pass.setTraining(training);
        return this;
    }

    public LayerHarness stepSeed(long seed) {
        pass.setStepSeed(seed);
        return this;
    }

    public void setInput(int index, float[] values) { backend.upload(values, inputs[index]); }

    public void setParam(String name, float[] values) { backend.upload(values, paramTensor(name)); }

    /** Runs forward and returns the output [N, ...] row-major. */
    public float[] forward() {
        kernel.forward(pass);
        return backend.download(output);
    }

    /** Runs backward with {@code gradOutput} as dL/d(output); read the results with the getters below. */
    public void backward(float[] gradOutputValues) {
        backend.upload(gradOutputValues, gradOutput);
        kernel.backward(pass);
    }

    public float[] output() { return backend.download(output); }

    public float[] input(int index) { return backend.download(inputs[index]); }

    public float[] gradOutput() { return backend.download(gradOutput); }

    /** dL/d(input) from the last backward; fails if that input's gradient was not requested. */
    public float[] gradInput(int index) {
        if (gradInputs[index] == null) throw new IllegalStateException("the gradient of input " + index + " was not requested");
        return backend.download(gradInputs[index]);
    }

    /** dL/d(param) from the last backward; fails for parameters that are not trainable. */
    public float[] gradParam(String name) {
        Tensor g = gradParams.get(name);
        if (g == null) throw new IllegalStateException("parameter '" + name + "' has no gradient (not declared or not trainable)");
        return backend.download(g);
    }

    boolean requestsInputGradient(int index) { return gradInputs[index] != null; }

    int inputCount() { return inputs.length; }

    Tensor inputTensor(int index) { return inputs[index]; }

    Tensor paramTensor(String name) {
        Tensor t = params.get(name);
        if (t == null) throw new IllegalArgumentException(type.name() + " has no parameter '" + name + "'; it declares " + params.keySet());
        return t;
    }

    Tensor outputTensor() { return output; }

    Tensor gradInputTensor(int index) { return gradInputs[index]; }

    Tensor gradParamTensor(String name) { return gradParams.get(name); }

    Backend backend() { return backend; }

    private Tensor own(Tensor t) {
        owned.add(t);
        return t;
    }

    @Override public void close() {
        context.close();
        for (Tensor t : owned) t.close();
        owned.clear();
    }
}
