package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.data.Dataset;
import org.neurite.engine.NumericalFaultException;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.train.TrainSpec;

/** A NaN is caught in the step it appears, named by node and tensor, and never reaches the weights. */
class NumericalFaultTest {
    private static final String SCRIPT = """
            model Faulty {
                input x: [4]
                a = dense(3)
                b = relu
                output y = dense(2)
            }
            train Faulty { optimizer = sgd(lr=0.1); batch = 2; epochs = 1 }
            """;

    private static Backend cpu() {
        return Fixtures.RUNTIME.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> {});
    }

    private static Dataset data() {
        float[] x = {1, 2, 3, 4, 0.5f, -1, 2, 0, 1, 1, 1, 1, -2, 0, 3, 1};
        return new Dataset("toy", Shape.of(4), x, new int[] {0, 1, 1, 0}, 2, List.of(), false, "four samples");
    }

    @Test
    void aNaNWeightIsNamedWithItsLayerAndTheWeightsStayUntouched() {
        TypedGraph graph = Fixtures.model(SCRIPT);
        TrainSpec spec = new org.neurite.dsl.ScriptLoader(Fixtures.RUNTIME.layers()).parse("t.nn", SCRIPT).training("Faulty").orElseThrow();
        try (Backend backend = cpu(); ParameterStore store = new ParameterStore(graph, backend, 3); Trainer trainer = new Trainer(graph, store, spec)) {
            // Poison one weight of the second dense layer, as a diverging run would: weight [2, 3]
            // element 3 is unit 1, so output column 1 of the first sample is the first NaN.
            float[] w = backend.download(store.value("y.weight"));
            w[3] = Float.NaN;
            backend.upload(w, store.value("y.weight"));
            List<NamedTensor> before = store.export();
            NumericalFaultException e = assertThrows(NumericalFaultException.class,
                    () -> trainer.trainEpoch(data(), 1, TrainingListener.NONE));
            assertEquals("the loss became NaN at step 1 (epoch 1): node 'y' (dense) wrote NaN (first at element 1) into its output [2, 2]"
                    + " from finite inputs; its parameter y.weight holds NaN (first at element 3)", e.getMessage());
            List<NamedTensor> after = store.export();
            for (int i = 0; i < before.size(); i++) assertArrayEquals(before.get(i).data(), after.get(i).data(), 0f, before.get(i).name());
        }
    }
}
