package org.neurite.testkit;

import java.util.Map;
import org.neurite.backend.Backend;
import org.neurite.layer.BackwardPass;
import org.neurite.tensor.Tensor;

/**
 * The forward and backward tensors the test kit hands a layer kernel, all on one backend. Gradient
 * slots the harness does not ask for are null, exactly as in the engine; asking for a parameter
 * the layer never declared is a bug in the layer and fails loudly instead of returning null.
 */
final class HarnessPass implements BackwardPass {
    private final Backend backend;
    private final Tensor[] inputs;
    private final Tensor output;
    private final Map<String, Tensor> params;
    private final Tensor gradOutput;
    private final Tensor[] gradInputs;      // null entries: gradient not requested
    private final Map<String, Tensor> gradParams;   // trainable parameters only
    private boolean training = true;
    private long stepSeed;

    HarnessPass(Backend backend, Tensor[] inputs, Tensor output, Map<String, Tensor> params, Tensor gradOutput,
                Tensor[] gradInputs, Map<String, Tensor> gradParams) {
        this.backend = backend;
        this.inputs = inputs.clone();
        this.output = output;
        this.params = Map.copyOf(params);
        this.gradOutput = gradOutput;
        this.gradInputs = gradInputs.clone();
        this.gradParams = Map.copyOf(gradParams);
    }

    void setTraining(boolean training) { this.training = training; }

    void setStepSeed(long stepSeed) { this.stepSeed = stepSeed; }

    @Override public Backend backend() { return backend; }

    @Override public Tensor input(int index) { return inputs[index]; }

    @Override public Tensor output() { return output; }

    @Override public Tensor param(String name) {
        Tensor t = params.get(name);
        if (t == null) throw new IllegalArgumentException("the layer asked for parameter '" + name
                + "' but declared only " + params.keySet());
        return t;
    }

    @Override public boolean training() { return training; }

    @Override public long stepSeed() { return stepSeed; }

    @Override public Tensor gradOutput() { return gradOutput; }

    @Override public Tensor gradInput(int index) { return gradInputs[index]; }

    @Override public Tensor gradParam(String name) {
        if (!params.containsKey(name)) throw new IllegalArgumentException("the layer asked for the gradient of parameter '"
                + name + "' but declared only " + params.keySet());
        return gradParams.get(name);
    }
}
