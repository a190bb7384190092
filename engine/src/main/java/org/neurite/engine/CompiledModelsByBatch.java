package org.neurite.engine;

import java.util.HashMap;
import java.util.Map;
import org.neurite.backend.OutOfMemoryException;
import org.neurite.backend.Slice;
import org.neurite.data.Dataset;
import org.neurite.data.augment.AugmentationPipeline;
import org.neurite.graph.TypedGraph;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * Compiled models of one graph at the batch sizes a pass over a dataset needs (the full batch
 * and the remainder), sharing one {@link ParameterStore}, plus the host buffers used to feed
 * them. Nothing here is allocated per step once both sizes have been seen.
 *
 * <p>The host buffers are sized for the largest batch actually loaded, not for the batch size
 * asked for: a batch larger than the dataset is the whole dataset (as PyTorch's DataLoader makes
 * it), so {@code --batch 5000000} over 60,000 samples holds 60,000 samples' floats.
 *
 * <p>Targets: {@code targetSize} floats per sample. For classification each is a class index and
 * the output row of each target has {@code outputSize / targetSize} logits (one row per image, or
 * one per time step for sequence labelling).
 */
final class CompiledModelsByBatch implements AutoCloseable {
    final TypedGraph graph;
    final ParameterStore store;
    final int sampleSize;
    final int outputSize;
    final int targetSize;
    private final Map<Integer, CompiledModel> models = new HashMap<>();
    private final Map<Integer, Tensor> targets = new HashMap<>();
    /** Host buffers for {@link #capacity} samples: inputs, targets, outputs; grown by {@link #load}. */
    float[] x = new float[0];
    float[] y = new float[0];
    float[] outputs = new float[0];
    private int capacity;
    private final int maxBatch;
    private final boolean inputGradients;
    /** Forward only (evaluation): models compiled without gradient buffers. */
    private final boolean inference;

    CompiledModelsByBatch(TypedGraph graph, ParameterStore store, int maxBatch, int targetSize, boolean inputGradients) {
        this(graph, store, maxBatch, targetSize, inputGradients, false);
    }

    /** A run whose models only go forward (evaluation of a model that is not being trained here). */
    static CompiledModelsByBatch forInference(TypedGraph graph, ParameterStore store, int maxBatch, int targetSize) {
        return new CompiledModelsByBatch(graph, store, maxBatch, targetSize, false, true);
    }

    private CompiledModelsByBatch(TypedGraph graph, ParameterStore store, int maxBatch, int targetSize, boolean inputGradients, boolean inference) {
        this.graph = graph;
        this.store = store;
        this.inputGradients = inputGradients;
        this.inference = inference;
        this.sampleSize = graph.shape(graph.graph().inputs().get(0).name()).size();
        this.outputSize = graph.outputShape().size();
        this.targetSize = targetSize;
        if (maxBatch < 1) throw new IllegalArgumentException("a batch holds at least one sample, got " + maxBatch);
        this.maxBatch = maxBatch;
    }

    /**
     * Makes the host buffers hold {@code n} samples. The compiled model at {@code n} holds tensors
     * of the same sizes, so the memory planner has already refused a batch whose buffers Java
     * cannot allocate; the check here is for a caller that skipped it.
     */
    private void reserve(int n) {
        if (n <= capacity) return;
        if (n > maxBatch) throw new IllegalArgumentException("a batch of " + n + " samples, more than the " + maxBatch + " asked for");
        long largest = (long) n * Math.max(sampleSize, Math.max(targetSize, outputSize));
        if (largest > Integer.MAX_VALUE - 8) {
            throw new OutOfMemoryException("model " + graph.graph().name() + " at batch " + n + " needs a host buffer of " + largest
                    + " floats, more than Java can allocate (2^31-1); use a smaller batch");
        }
        x = new float[n * sampleSize];
        y = new float[n * targetSize];
        outputs = new float[n * outputSize];
        capacity = n;
    }

    // get, then put when absent: computeIfAbsent's capturing lambda would be garbage at every step.
    CompiledModel model(int batch) {
        CompiledModel m = models.get(batch);
        if (m == null) {
            m = inference ? CompiledModel.compileForInference(graph, store.backend(), batch, store)
                    : inputGradients ? CompiledModel.compileWithInputGradients(graph, store.backend(), batch, store)
                    : CompiledModel.compile(graph, store.backend(), batch, store);
            models.put(batch, m);
        }
        return m;
    }

    Tensor targets(int batch) {
        Tensor t = targets.get(batch);
        if (t == null) {
            t = store.backend().allocate(Shape.of(batch * targetSize));
            targets.put(batch, t);
        }
        return t;
    }

    /** Copies samples {@code order[from..from+n)} of {@code data} into the model's input and the targets. */
    CompiledModel load(Dataset data, int[] order, int from, int n) {
        return load(data, order, from, n, null, 0);
    }

    /**
     * {@link #load(Dataset, int[], int, int)} for training: the copied samples go through
     * {@code augmentation} as epoch {@code epoch} draws it before they are uploaded (null: none).
     */
    CompiledModel load(Dataset data, int[] order, int from, int n, AugmentationPipeline augmentation, int epoch) {
        CompiledModel m = model(n);
        reserve(n);
        data.copyBatch(order, from, n, x, y);
        if (augmentation != null) augmentation.applyToBatch(x, order, from, n, epoch);
        store.backend().upload(x, 0, Slice.of(m.input(0), 0, n * sampleSize));
        store.backend().upload(y, 0, Slice.of(targets(n), 0, n * targetSize));
        return m;
    }

    /** Rows (of {@code n} samples' targets) whose arg-max logit equals the class label. */
    int correct(CompiledModel m, int n) {
        int rows = n * targetSize;
        int classes = outputSize / targetSize;
        store.backend().download(Slice.of(m.output(), 0, n * outputSize), outputs, 0);
        int correct = 0;
        for (int r = 0; r < rows; r++) {
            int best = 0;
            float bestValue = outputs[r * classes];
            for (int c = 1; c < classes; c++) {
                float v = outputs[r * classes + c];
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
