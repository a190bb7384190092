package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.data.Dataset;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.train.TrainSpec;

/**
 * {@code clip = c} in a train section: the step's gradients are scaled to global norm c when
 * their norm is above it (PyTorch's clip_grad_norm_), so one plain SGD step moves the weights by
 * exactly lr * c in global L2 norm; below the limit, or without clip, the step is the unclipped one.
 */
class GradientClippingTest {
    private static String script(String clip) {
        return """
                model Small {
                    input x: [4]
                    a = dense(3) -> tanh
                    output y = dense(2)
                }
                train Small { optimizer = sgd(lr=0.5); batch = 4; epochs = 1; seed = 5%s }
                """.formatted(clip);
    }

    private static Dataset data() {
        float[] x = {1, 2, 3, 4, 0.5f, -1, 2, 0, 1, 1, 1, 1, -2, 0, 3, 1};
        return new Dataset("toy", Shape.of(4), x, new int[] {0, 1, 1, 0}, 2, List.of(), false, "four samples");
    }

    /** Global L2 norm of the weight change of one training step (one batch of all four samples), and the step's gradient norm. */
    private static double[] oneStep(String clip) {
        String source = script(clip);
        TypedGraph graph = Fixtures.model(source);
        TrainSpec spec = new org.neurite.dsl.ScriptLoader(Fixtures.RUNTIME.layers()).parse("t.nn", source).training("Small").orElseThrow();
        try (Backend backend = Fixtures.RUNTIME.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> {});
             ParameterStore store = new ParameterStore(graph, backend, 3); Trainer trainer = new Trainer(graph, store, spec)) {
            List<NamedTensor> before = store.export();
            trainer.trainEpoch(data(), 1, TrainingListener.NONE);
            List<NamedTensor> after = store.export();
            double squares = 0;
            for (int i = 0; i < before.size(); i++) {
                float[] b = before.get(i).data(), a = after.get(i).data();
                for (int j = 0; j < b.length; j++) squares += (double) (a[j] - b[j]) * (a[j] - b[j]);
            }
            return new double[] {Math.sqrt(squares), trainer.lastGradientNorm()};
        }
    }

    @Test
    void aClippedStepMovesTheWeightsByLrTimesTheLimit() {
        double[] free = oneStep("");
        double gradientNorm = free[1];
        assertEquals(0.5 * gradientNorm, free[0], 1e-5 * free[0], "unclipped SGD moves by lr * |g|");
        double limit = gradientNorm / 4;
        double[] clipped = oneStep("; clip = " + limit);
        assertEquals(gradientNorm, clipped[1], 0, "lastGradientNorm is the norm before clipping");
        assertEquals(0.5 * limit, clipped[0], 1e-5 * clipped[0], "clipped to the limit");
        assertTrue(clipped[0] < free[0] / 3, clipped[0] + " vs " + free[0]);
        double[] loose = oneStep("; clip = " + gradientNorm * 2);
        assertEquals(free[0], loose[0], 0, "a limit above the norm changes nothing");
    }
}
