package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.data.DatasetLocator;
import org.neurite.dsl.Script;
import org.neurite.engine.EpochStats;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Predictor;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.plugin.BackendOptions;
import org.neurite.train.TrainSpec;

/**
 * LeNet-5 from its example script, trained end to end on the bundled Fashion-MNIST subset through
 * the same classes the CLI uses: it must learn, and it must be reproducible.
 */
class LeNetTrainingTest {
    private static Backend cpu(int threads) {
        return Fixtures.RUNTIME.createBackend("cpu", new BackendOptions(threads, null), List.of(), w -> {});
    }

    @Test
    void learnsFashionMnistSubsetWellAboveChance() throws Exception {
        Script script = Fixtures.example("lenet5.nn");
        TypedGraph graph = script.mainModel();
        TrainSpec spec = script.training("LeNet5").orElseThrow();
        DatasetLocator.Located data = Fixtures.bundledSubset();
        assertEquals(5000, data.train().size());
        try (Backend backend = cpu(2);
             ParameterStore store = new ParameterStore(graph, backend, spec.seed());
             Trainer trainer = new Trainer(graph, store, spec)) {
            EpochStats first = trainer.trainEpoch(data.train(), 1, TrainingListener.NONE);
            EpochStats second = trainer.trainEpoch(data.train(), 2, TrainingListener.NONE);
            EpochStats test = trainer.evaluate(data.test(), 2);
            assertTrue(second.loss() < first.loss(), "training loss falls: " + first.loss() + " -> " + second.loss());
            // 157 steps on 5,000 images: a linear model reaches ~75%; LeNet-5 must do better than 70%.
            assertTrue(test.accuracy() > 0.70, "test accuracy " + test.accuracy());
            assertEquals(1000, test.samples());

            // The Predictor agrees with the evaluator's accuracy on the same weights.
            try (Predictor predictor = new Predictor(graph, store, 100)) {
                float[] logits = predictor.predict(data.test().features(), data.test().size());
                int[] predicted = Predictor.argmax(logits, 10);
                int correct = 0;
                for (int i = 0; i < predicted.length; i++) if (predicted[i] == data.test().label(i)) correct++;
                assertEquals(test.accuracy(), correct / 1000.0, 1e-9);
            }
        }
    }

    @Test
    void sameSeedGivesBitIdenticalWeightsForAnyThreadCount() throws Exception {
        Script script = Fixtures.example("lenet5.nn");
        TypedGraph graph = script.mainModel();
        TrainSpec spec = script.training("LeNet5").orElseThrow();
        DatasetLocator.Located data = Fixtures.bundledSubset();
        var small = data.train().head(640);
        List<NamedTensor> one = trainOnce(graph, spec, small, 1);
        List<NamedTensor> two = trainOnce(graph, spec, small, 2);
        assertEquals(one.size(), two.size());
        for (int i = 0; i < one.size(); i++) {
            assertArrayEquals(one.get(i).data(), two.get(i).data(), 0f, one.get(i).name());
        }
    }

    private static List<NamedTensor> trainOnce(TypedGraph graph, TrainSpec spec, org.neurite.data.Dataset data, int threads) {
        try (Backend backend = cpu(threads);
             ParameterStore store = new ParameterStore(graph, backend, spec.seed());
             Trainer trainer = new Trainer(graph, store, spec)) {
            trainer.trainEpoch(data, 1, TrainingListener.NONE);
            return store.export();
        }
    }
}
