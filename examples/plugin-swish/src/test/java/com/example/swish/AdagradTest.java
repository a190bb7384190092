package com.example.swish;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.Slice;
import org.neurite.backend.cpu.CpuBackend;
import org.neurite.graph.ParamInfo;
import org.neurite.layer.Initializer;
import org.neurite.layer.ParamDecl;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;
import org.neurite.train.ParameterUpdate;
import org.neurite.train.TrainableParameters;

/**
 * One Adagrad step against PyTorch's update rule worked out by hand, for a weight {@code w = [1, −2]}
 * with gradient {@code [0.5, 0.25]}, lr 0.1, weight decay 0.01, initial accumulator 0.1:
 * {@code g = grad + 0.01·w = [0.51, 0.23]}, {@code sum = 0.1 + g² = [0.3601, 0.1529]},
 * {@code w − 0.1·g/√sum = [0.9150118031107968, −2.0588198744530275]}.
 */
class AdagradTest {
    private final Backend cpu = new CpuBackend(1);

    /** Parameters held in maps, as the engine's parameter store holds them. */
    private final class Parameters implements TrainableParameters {
        final List<ParamInfo> params = List.of(
                new ParamInfo("fc.weight", "fc", ParamDecl.weight("weight", Shape.of(2), Initializer.zeros())),
                new ParamInfo("fc.bias", "fc", ParamDecl.bias("bias", Shape.of(2), Initializer.zeros())));
        final Map<String, Tensor> tensors = new HashMap<>();

        Parameters(float[] weight, float[] weightGrad) {
            for (ParamInfo p : params) {
                tensors.put(p.fullName(), tensor(weight));
                tensors.put(p.fullName() + "#grad", tensor(weightGrad));
            }
        }

        @Override public Backend backend() { return cpu; }
        @Override public List<ParamInfo> trainable() { return params; }
        @Override public Tensor value(String fullName) { return tensors.get(fullName); }
        @Override public Tensor grad(String fullName) { return tensors.get(fullName + "#grad"); }
        @Override public Tensor state(String fullName, String slot) {
            return tensors.computeIfAbsent(fullName + "#" + slot, k -> cpu.allocate(Shape.of(2)));
        }
    }

    private ParameterUpdate adagrad(Parameters params) {
        var factory = new Adagrad();
        var args = factory.schema().bind(List.of(), Map.of("lr", 0.1, "weight_decay", 0.01, "initial_accumulator_value", 0.1));
        return factory.create(args, params);
    }

    @Test void oneStepMatchesTheRuleWorkedOutByHand() {
        Parameters params = new Parameters(new float[] {1, -2}, new float[] {0.5f, 0.25f});
        adagrad(params).step(1, null);
        assertArrayEquals(new float[] {0.9150118f, -2.0588199f}, cpu.download(params.value("fc.weight")), 1e-6f);
        assertArrayEquals(new float[] {0.3601f, 0.1529f}, cpu.download(params.state("fc.weight", Adagrad.SUM)), 1e-6f);
        // The bias takes no weight decay: g = grad, sum = 0.1 + [0.25, 0.0625], w − 0.1·g/√sum.
        assertArrayEquals(new float[] {(float) (1 - 0.1 * 0.5 / Math.sqrt(0.35)), (float) (-2 - 0.1 * 0.25 / Math.sqrt(0.1625))},
                cpu.download(params.value("fc.bias")), 1e-6f);
    }

    @Test void lrDecayShrinksLaterSteps() {
        Parameters params = new Parameters(new float[] {0, 0}, new float[] {1, 1});
        var factory = new Adagrad();
        var update = factory.create(factory.schema().bind(List.of(), Map.of("lr", 1.0, "lr_decay", 1.0)), params);
        update.step(1, null);   // clr 1,   sum 1: w = −1/1
        update.step(2, null);   // clr 1/2, sum 2: w = −1 − 0.5/√2
        assertEquals((float) (-1 - 0.5 / Math.sqrt(2)), cpu.download(params.value("fc.weight"))[0], 1e-6f);
    }

    @Test void aSkippedStepChangesNothingAndAClippedOneScalesTheGradient() {
        Parameters params = new Parameters(new float[] {1, -2}, new float[] {0.5f, 0.25f});
        ParameterUpdate update = adagrad(params);
        Tensor control = tensor(new float[] {1, 1});        // StepControl: factor 1, skip flag set
        update.step(1, Slice.of(control));
        assertArrayEquals(new float[] {1, -2}, cpu.download(params.value("fc.weight")));
        assertArrayEquals(new float[] {0.1f, 0.1f}, cpu.download(params.state("fc.weight", Adagrad.SUM)));

        cpu.upload(new float[] {0.5f, 0}, control);          // clipped to half the gradient, applied
        update.step(1, Slice.of(control));
        // g = 0.5·[0.5, 0.25] + 0.01·w = [0.26, 0.105]
        assertArrayEquals(new float[] {(float) (1 - 0.1 * 0.26 / Math.sqrt(0.1 + 0.26 * 0.26)),
                (float) (-2 - 0.1 * 0.105 / Math.sqrt(0.1 + 0.105 * 0.105))}, cpu.download(params.value("fc.weight")), 1e-6f);
    }

    private Tensor tensor(float[] values) {
        Tensor t = cpu.allocate(Shape.of(values.length));
        cpu.upload(values, t);
        return t;
    }
}
