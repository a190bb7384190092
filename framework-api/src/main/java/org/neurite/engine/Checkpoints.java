package org.neurite.engine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.neurite.io.SafeTensors;

/**
 * Trained weights as safetensors, named and laid out as PyTorch's {@code state_dict}
 * ({@code c1.weight [6, 1, 5, 5]}), with string metadata (script hash, epoch, accuracy...).
 * Written atomically.
 */
public final class Checkpoints {
    private Checkpoints() {}

    public static void saveWeights(Path file, ParameterStore store, Map<String, String> metadata) throws IOException {
        SafeTensors.write(file, store.export(), metadata);
    }

    /**
     * Loads weights into {@code store}.
     *
     * @throws IllegalArgumentException naming the file and every tensor that is missing or mis-shaped
     */
    public static SafeTensors.Contents loadWeights(Path file, ParameterStore store) throws IOException {
        SafeTensors.Contents contents = SafeTensors.read(file);
        try {
            store.load(contents.tensors());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + " does not fit the model: " + e.getMessage(), e);
        }
        return contents;
    }
}
