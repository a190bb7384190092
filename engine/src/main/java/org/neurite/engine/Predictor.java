package org.neurite.engine;

import org.neurite.backend.Slice;
import org.neurite.graph.TypedGraph;
import org.neurite.tensor.Tensor;

/**
 * Runs a trained graph forward in evaluation mode over host arrays: usable from plain Java
 * without datasets. Input rows are laid out as the graph's first input, output rows as its first
 * output.
 */
public final class Predictor implements AutoCloseable {
    private final TypedGraph graph;
    private final ParameterStore store;
    private final int batch;
    private final java.util.Map<Integer, CompiledModel> models = new java.util.HashMap<>();

    public Predictor(TypedGraph graph, ParameterStore store, int batch) {
        this.graph = graph;
        this.store = store;
        this.batch = batch;
    }

    /** Size of one input sample (floats). */
    public int inputSize() { return graph.shape(graph.graph().inputs().get(0).name()).size(); }

    /** Size of one output row (floats). */
    public int outputSize() { return graph.outputShape().size(); }

    /** Outputs for {@code count} samples packed in {@code inputs}; returns count * outputSize() floats. */
    public float[] predict(float[] inputs, int count) {
        int in = inputSize();
        int out = outputSize();
        if (inputs.length < (long) count * in)
            throw new IllegalArgumentException("expected " + count + " samples of " + in + " floats, got " + inputs.length + " floats");
        float[] result = new float[count * out];
        for (int from = 0; from < count; from += batch) {
            int n = Math.min(batch, count - from);
            CompiledModel m = models.computeIfAbsent(n, b -> CompiledModel.compileForInference(graph, store.backend(), b, store));
            store.backend().upload(inputs, from * in, Slice.of(m.input(0), 0, n * in));
            m.forward(false, 0);
            Tensor y = m.output();
            store.backend().download(Slice.of(y, 0, n * out), result, from * out);
        }
        return result;
    }

    /** Index of the largest value in each output row. */
    public static int[] argmax(float[] outputs, int rowSize) {
        int[] best = new int[outputs.length / rowSize];
        for (int r = 0; r < best.length; r++) {
            int b = 0;
            for (int c = 1; c < rowSize; c++) if (outputs[r * rowSize + c] > outputs[r * rowSize + b]) b = c;
            best[r] = b;
        }
        return best;
    }

    @Override public void close() { models.values().forEach(CompiledModel::close); }
}
