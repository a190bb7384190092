package org.neurite.cli;

import org.neurite.data.Dataset;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Predictor;
import org.neurite.graph.TypedGraph;

/**
 * A classifier's confusion counts on a dataset: {@code counts[true][predicted]}, the prediction
 * being the arg-max of the model's outputs. For sequence labelling (a target per time step) each
 * step counts once, its outputs being the step's slice of {@code classes} logits.
 */
final class ConfusionCounts {
    private ConfusionCounts() {}

    /** The number of classes the model scores per target: outputs / targets per sample. */
    static int classes(TypedGraph graph, Dataset data) {
        return graph.outputShape().size() / data.targetSize();
    }

    /** Runs the model over {@code data} in batches of {@code batch} (evaluation mode) and counts. */
    static int[][] count(TypedGraph graph, ParameterStore store, Dataset data, int batch, LiveBar bar) {
        int classes = classes(graph, data);
        int[][] counts = new int[classes][classes];
        int sample = data.sampleSize();
        int n = data.size();
        // Batches are gathered with copyBatch in file order, so a streamed test split is read a batch at a time too.
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        batch = Math.max(1, Math.min(batch, n));   // a batch larger than the split is the split
        float[] x = new float[batch * sample];
        float[] targets = new float[batch * data.targetSize()];
        try (Predictor predictor = new Predictor(graph, store, batch)) {
            for (int from = 0; from < n; from += batch) {
                int count = Math.min(batch, n - from);
                data.copyBatch(order, from, count, x, targets);
                // One row of `classes` logits per (sample, step): [count * targetSize, classes].
                int[] predicted = Predictor.argmax(predictor.predict(x, count), classes);
                for (int row = 0; row < predicted.length; row++) {
                    int s = from + row / data.targetSize();
                    int k = row % data.targetSize();
                    counts[(int) data.target(s, k)][predicted[row]]++;
                }
                bar.update(from + count, "");
            }
        }
        return counts;
    }
}
