package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.engine.CompiledModel;
import org.neurite.engine.Loss;
import org.neurite.engine.ParameterStore;
import org.neurite.graph.ParamInfo;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The engine's backward pass through a whole model (conv, tanh, average pooling, dense, the
 * fused softmax cross-entropy) against central finite differences of the loss, for every
 * parameter tensor and for the input. Layers are checked one by one in their own modules; this
 * checks that the engine chains them correctly.
 */
class ModelGradientTest {
    private static final String SCRIPT = """
            model Small {
                input x: [2, 8, 8]
                a = conv(3, kernel=3, pad=1) -> tanh -> avgpool(2)
                b = conv(4, kernel=3, groups=1) -> sigmoid
                output y = flatten -> dense(5)
            }
            """;

    @Test
    void wholeModelGradientsMatchFiniteDifferences() {
        TypedGraph graph = Fixtures.model(SCRIPT);
        int batch = 3;
        try (Backend backend = Fixtures.RUNTIME.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> {});
             ParameterStore store = new ParameterStore(graph, backend, 7);
             CompiledModel model = CompiledModel.compileWithInputGradients(graph, backend, batch, store)) {
            SplittableRandom rng = new SplittableRandom(3);
            float[] x = new float[batch * 2 * 8 * 8];
            for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble(-1, 1);
            backend.upload(x, model.input(0));
            Tensor labels = backend.allocate(Shape.of(batch));
            backend.upload(new float[] {1, 4, 0}, labels);
            Loss loss = Loss.byName("softmax_cross_entropy");

            model.forward(true, 0);
            loss.compute(model.output(), labels, model.gradOutput(), batch);
            model.backward();

            double step = 1e-2;
            for (ParamInfo p : graph.params()) {
                Tensor value = store.value(p.fullName());
                float[] analytic = backend.download(store.grad(p.fullName()));
                compare(p.fullName(), value, analytic, step, () -> {
                    model.forward(true, 0);
                    return loss.compute(model.output(), labels, model.gradOutput(), batch) / batch;
                });
            }
            float[] inputGrad = backend.download(model.gradient("x"));
            compare("input x", model.input(0), inputGrad, step, () -> {
                model.forward(true, 0);
                return loss.compute(model.output(), labels, model.gradOutput(), batch) / batch;
            });
        }
    }

    /** Central differences on up to 40 seeded elements of {@code tensor}. */
    private static void compare(String name, Tensor tensor, float[] analytic, double step,
                                java.util.function.DoubleSupplier meanLoss) {
        Backend b = tensor.backend();
        float[] values = b.download(tensor);
        SplittableRandom pick = new SplittableRandom(name.hashCode());
        int checks = Math.min(40, values.length);
        for (int c = 0; c < checks; c++) {
            int i = values.length <= 40 ? c : pick.nextInt(values.length);
            float original = values[i];
            values[i] = (float) (original + step);
            b.upload(values, tensor);
            double plus = meanLoss.getAsDouble();
            values[i] = (float) (original - step);
            b.upload(values, tensor);
            double minus = meanLoss.getAsDouble();
            values[i] = original;
            b.upload(values, tensor);
            double numeric = (plus - minus) / (2 * step);
            double error = Math.abs(numeric - analytic[i]);
            assertTrue(error <= 1e-4 + 1e-2 * Math.abs(numeric),
                    name + "[" + i + "]: analytic " + analytic[i] + ", numeric " + numeric);
        }
    }
}
