package org.neurite.engine;

import java.util.HashMap;
import java.util.Map;
import org.neurite.graph.TypedGraph;
import org.neurite.tensor.Tensor;

/**
 * Compiled models of one graph at the batch sizes a pass over a dataset needs (the full batch
 * and the remainder), sharing one {@link ParameterStore}, plus the host buffers used to feed
 * them. Nothing here is allocated per step once both sizes have been seen.
 */
final class ClassifierRun implements AutoCloseable {
    final TypedGraph graph;
    final ParameterStore store;
    final int sampleSize;
    final int classes;
    private final Map<Integer, CompiledModel> models = new HashMap<>();
    private final Map<Integer, Tensor> targets = new HashMap<>();
    final float[] x;
    final float[] y;
    final float[] logits;
    private final boolean inputGradients;

    ClassifierRun(TypedGraph graph, ParameterStore store, int maxBatch, boolean inputGradients) {
        this.graph = graph;
        this.store = store;
        this.inputGradients = inputGradients;
        this.sampleSize = graph.shape(graph.graph().inputs().get(0).name()).size();
        this.classes = graph.outputShape().size();
        this.x = new float[maxBatch * sampleSize];
        this.y = new float[maxBatch];
        this.logits = new float[maxBatch * classes];
    }

    CompiledModel model(int batch) {
        return models.computeIfAbsent(batch, b -> inputGradients
                ? CompiledModel.compileWithInputGradients(graph, store.backend(), b, store)
                : CompiledModel.compile(graph, store.backend(), b, store));
    }

    Tensor targets(int batch) {
        return targets.computeIfAbsent(batch, b -> store.backend().allocate(org.neurite.tensor.Shape.of(b)));
    }

    /** Uploads {@code n} samples from the host buffers into the model and target tensors. */
    void upload(CompiledModel m, int n) {
        store.backend().upload(x, 0, m.input(0), 0, n * sampleSize);
        store.backend().upload(y, 0, targets(n), 0, n);
    }

    /** Number of rows among the first {@code n} whose arg-max logit equals the label. */
    int correct(CompiledModel m, int n) {
        store.backend().download(m.output(), 0, logits, 0, n * classes);
        int correct = 0;
        for (int r = 0; r < n; r++) {
            int best = 0;
            float bestValue = logits[r * classes];
            for (int c = 1; c < classes; c++) {
                float v = logits[r * classes + c];
                if (v > bestValue) { bestValue = v; best = c; }
            }
            if (best == (int) y[r]) correct++;
        }
        return correct;
    }

    @Override public void close() {
        models.values().forEach(CompiledModel::close);
        targets.values().forEach(Tensor::close);
    }
}
