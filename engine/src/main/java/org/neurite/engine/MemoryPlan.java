package org.neurite.engine;

import java.util.List;

/**
 * The memory a model takes on its backend to train or run at one batch size, counted by
 * {@link MemoryPlanner} before anything is allocated; every amount in bytes (float32).
 *
 * <p>Counted: what the engine allocates on the backend. The parameters and, for every trainable
 * one, a gradient ({@link ParameterStore} allocates them for inference too); for training what
 * the {@link Trainer} keeps: its optimiser's state (SGD one velocity per parameter, Adam two
 * moments) and a few floats of step status; and for every batch size
 * a pass over the data compiles ({@code compiledBatches}: the batch, and the remainder of each
 * dataset when its size is not a multiple of it) the activations, their gradients and the state
 * layers keep between passes (pooling indices, dropout masks, recurrent states), and those of the
 * forward-only compiles of a pass made while the training models are still allocated
 * ({@code forwardBatches}; {@code nn train}'s confusion matrix). Not counted:
 * the backend's own scratch (GEMM panels, im2col columns, packed weights), the loss targets and
 * host staging arrays (one float per label and input), the dataset (already loaded), and the JVM.
 *
 * @param model the model's name
 * @param batch the batch size asked for
 * @param compiledBatches the batch sizes compiled for it (with shards, the first shard's models;
 *     a predictor's in shards also its whole-batch models of single samples, so a size may repeat)
 * @param secondShardBatches with training steps in two shards ({@link TrainStep}) or a predictor's
 *     calls in shards ({@link Predictor}, {@link MemoryPlanner#forwardInShards}), the batch sizes of
 *     the second shard's models; else empty
 * @param forwardBatches the batch sizes compiled forward only besides them (none: empty; a
 *     predictor's in shards: its three sets of models, one after another)
 * @param training whether the plan is for training (optimiser state, gradients of activations)
 * @param parameters parameter values
 * @param parameterGradients gradients of the trainable parameters (with shards, two sets)
 * @param optimizer the optimiser's name, or "" for inference
 * @param optimizerState the optimiser's state tensors and the trainer's step status
 * @param activations graph inputs and node outputs
 * @param activationGradients gradients of the activations (training; for inference the output's only)
 * @param layerState what layers keep between forward and backward
 * @param tooLarge null when every tensor can be allocated; else the first tensor with more than
 *     2^31-1 elements (which no backend holds) and its shape
 */
public record MemoryPlan(String model, int batch, List<Integer> compiledBatches, List<Integer> secondShardBatches,
                         List<Integer> forwardBatches, boolean training,
                         long parameters,
                         long parameterGradients, String optimizer, long optimizerState, long activations,
                         long activationGradients, long layerState, String tooLarge) {
    /** Everything counted. */
    public long total() {
        return fixed() + activations + activationGradients + layerState;
    }

    /** What does not depend on the batch size: parameters, their gradients and the optimiser's state. */
    public long fixed() {
        return parameters + parameterGradients + optimizerState;
    }

    /** Whether it fits in {@code bytes}: every tensor can be allocated and the total is at most that. */
    public boolean fitsIn(long bytes) {
        return tooLarge == null && total() <= bytes;
    }

    /** Optimiser state tensors per trainable parameter (SGD 1, Adam 2), 0 without one. */
    public int optimizerSlots() {
        long oneSet = secondShardBatches.isEmpty() ? parameterGradients : parameterGradients / 2;
        return oneSet == 0 ? 0 : (int) (optimizerState / oneSet);
    }
}
