package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.data.Dataset;
import org.neurite.engine.Evaluation;
import org.neurite.engine.Evaluator;
import org.neurite.engine.ParameterStore;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;

/**
 * The evaluator's metrics on logits chosen by hand: a dense layer set to the identity passes each
 * sample through as its six logits, so accuracy, top-5 (ties ranked as the arg-max breaks them:
 * lower class first), per-class precision, recall and F1 and the loss are the values worked out
 * below, whatever the batch boundaries (batch 3 over 8 rows).
 */
class EvaluationMetricsTest {
    static final float[][] LOGITS = {
            {9, 1, 2, 3, 4, 5},     // label 0: predicted 0
            {9, 8, 0, 0, 0, 0},     // label 1: predicted 0, label second: in the top 5
            {6, 5, 4, 3, 2, 1},     // label 2: predicted 0, third
            {6, 5, 4, 3, 2, 1},     // label 5: predicted 0, sixth: not in the top 5
            {0, 0, 0, 1, 0, 0},     // label 3: predicted 3
            {1, 1, 1, 1, 1, 1},     // label 4: a tie, predicted 0; four lower classes rank above it: fifth
            {1, 1, 1, 1, 1, 1},     // label 5: a tie, predicted 0; sixth
            {0, 0, 0, 0, 0, 7}};    // label 0: predicted 5, second
    static final int[] LABELS = {0, 1, 2, 5, 3, 4, 5, 0};

    @Test void accuracyTopFivePrecisionRecallF1AndLossAreTheHandComputedOnes() {
        TypedGraph graph = Fixtures.model("model Id { input x: [6]; output y = dense(6) }");
        float[] x = new float[LOGITS.length * 6];
        for (int r = 0; r < LOGITS.length; r++) System.arraycopy(LOGITS[r], 0, x, r * 6, 6);
        Dataset data = new Dataset("logits", Shape.of(6), x, LABELS, 6, List.of(), false, "hand-chosen logits");
        float[] identity = new float[36];
        for (int i = 0; i < 6; i++) identity[i * 6 + i] = 1;
        try (Backend cpu = Fixtures.RUNTIME.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> { });
             ParameterStore store = new ParameterStore(graph, cpu, 1);
             Evaluator evaluator = new Evaluator(graph, store, "softmax_cross_entropy", 3)) {
            store.load(List.of(new NamedTensor("y.weight", Shape.of(6, 6), identity), new NamedTensor("y.bias", Shape.of(6), new float[6])));
            Evaluation e = evaluator.evaluate(data);

            assertEquals(8, e.samples());
            assertEquals(2 / 8.0, e.accuracy(), 0);
            assertEquals(6 / 8.0, e.top5(), 0);
            // Predicted: class 0 six times, 3 once, 5 once. Right: one of class 0, the one of class 3.
            Map<Integer, double[]> expected = Map.of(   // class -> precision, recall, F1, support
                    0, new double[] {1 / 6.0, 1 / 2.0, 0.25, 2},
                    1, new double[] {0, 0, 0, 1},
                    2, new double[] {0, 0, 0, 1},
                    3, new double[] {1, 1, 1, 1},
                    4, new double[] {0, 0, 0, 1},
                    5, new double[] {0, 0, 0, 2});
            for (int c = 0; c < 6; c++) {
                double[] p = expected.get(c);
                assertEquals(p[0], e.precision(c), 1e-15, "precision of " + c);
                assertEquals(p[1], e.recall(c), 1e-15, "recall of " + c);
                assertEquals(p[2], e.f1(c), 1e-15, "F1 of " + c);
                assertEquals((long) p[3], e.support(c), "support of " + c);
            }
            assertEquals(1.25 / 6, e.macroF1(), 1e-15);
            double loss = 0;
            for (int r = 0; r < LOGITS.length; r++) {
                double sum = 0;
                for (float v : LOGITS[r]) sum += Math.exp(v);
                loss -= LOGITS[r][LABELS[r]] - Math.log(sum);
            }
            assertEquals(loss / 8, e.loss(), 1e-5);
        }
    }
}
