package org.neurite.engine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.neurite.io.FileFormatException;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;

/**
 * Files a training run keeps, all safetensors written atomically:
 * <ul>
 *   <li>{@code model.safetensors} — the weights alone, named and laid out as PyTorch's
 *       {@code state_dict} ({@code c1.weight [6, 1, 5, 5]}), so PyTorch loads them and they load
 *       from PyTorch; metadata says which script, epoch and accuracy;
 *   <li>{@code checkpoint.safetensors} — everything a run needs to continue exactly: the weights,
 *       the optimiser slots ({@code c1.weight#momentum}), the canonical script and its hash, the
 *       seed, epoch and step. Every random draw in Neurite derives from (seed, epoch, step), so
 *       these are the whole random state. A checkpoint written inside an epoch (Ctrl-C) also
 *       records how many samples of the next epoch were trained; the epoch's sample order
 *       depends only on (seed, epoch), so a resumed run picks up at that batch exactly.
 * </ul>
 *
 * <p>Loading refuses weights that are not finite, naming the tensor and the first bad element:
 * a NaN loaded silently would only surface steps later as a NaN loss, far from its cause.
 */
public final class Checkpoints {
    private Checkpoints() {}

    public static final String SCRIPT = "neurite.script";
    public static final String SCRIPT_HASH = "neurite.script_sha256";
    public static final String MODEL = "neurite.model";
    public static final String EPOCH = "neurite.epoch";
    public static final String STEP = "neurite.step";
    public static final String SEED = "neurite.seed";
    /** Samples of epoch {@code EPOCH + 1} already trained; absent (0) at an epoch boundary. */
    public static final String EPOCH_SAMPLES = "neurite.epoch_samples";

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
        requireFinite(file, contents.tensors());
        try {
            store.load(contents.tensors());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + " does not fit the model: " + e.getMessage(), e);
        }
        return contents;
    }

    /**
     * What a checkpoint says about where the run stood: {@code epoch} is the last finished epoch,
     * {@code epochSamples} how many samples of the next one were trained before it was written
     * (0 at an epoch boundary), {@code step} the optimiser steps taken in all.
     */
    public record Position(String model, String scriptHash, long seed, int epoch, int step, int epochSamples) {
        /** A position at the end of {@code epoch}. */
        public Position(String model, String scriptHash, long seed, int epoch, int step) {
            this(model, scriptHash, seed, epoch, step, 0);
        }
    }

    /** Weights and optimiser state, with the run position and the script in the metadata. */
    public static void saveCheckpoint(Path file, ParameterStore store, Position position, String script,
                                      Map<String, String> extra) throws IOException {
        List<NamedTensor> tensors = new ArrayList<>(store.export());
        tensors.addAll(store.exportState());
        Map<String, String> meta = new LinkedHashMap<>(extra);
        meta.put(MODEL, position.model());
        meta.put(SCRIPT_HASH, position.scriptHash());
        meta.put(SEED, Long.toString(position.seed()));
        meta.put(EPOCH, Integer.toString(position.epoch()));
        meta.put(STEP, Integer.toString(position.step()));
        if (position.epochSamples() > 0) meta.put(EPOCH_SAMPLES, Integer.toString(position.epochSamples()));
        meta.put(SCRIPT, script);
        SafeTensors.write(file, tensors, meta);
    }

    /** Reads a checkpoint file whole; check its {@link #position} before {@link #restore}-ing it. */
    public static SafeTensors.Contents read(Path file) throws IOException {
        return SafeTensors.read(file);
    }

    /** Where the run that wrote {@code contents} stood. */
    public static Position position(Path file, SafeTensors.Contents contents) throws IOException {
        Map<String, String> meta = contents.metadata();
        for (String key : List.of(MODEL, SCRIPT_HASH, SEED, EPOCH, STEP)) {
            if (!meta.containsKey(key)) throw new FileFormatException(file + ": not a Neurite checkpoint (no '" + key + "' in its metadata)");
        }
        try {
            int epochSamples = Integer.parseInt(meta.getOrDefault(EPOCH_SAMPLES, "0"));
            if (epochSamples < 0) throw new NumberFormatException(EPOCH_SAMPLES + " is negative: " + epochSamples);
            return new Position(meta.get(MODEL), meta.get(SCRIPT_HASH), Long.parseLong(meta.get(SEED)),
                    Integer.parseInt(meta.get(EPOCH)), Integer.parseInt(meta.get(STEP)), epochSamples);
        } catch (NumberFormatException e) {
            throw new FileFormatException(file + ": damaged checkpoint metadata (" + e.getMessage() + ")");
        }
    }

    /**
     * Restores weights and optimiser state (create the optimiser first, so its slots exist).
     *
     * @throws IllegalArgumentException naming the file and every tensor that does not fit
     */
    public static void restore(Path file, SafeTensors.Contents contents, ParameterStore store) {
        requireFinite(file, contents.tensors());
        try {
            store.load(contents.tensors());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + " does not fit the model: " + e.getMessage(), e);
        }
        store.loadState(contents.tensors());
    }

    /**
     * Refuses a file whose tensors hold NaN or an infinity, naming the tensor, how many values are
     * bad and where the first one is.
     *
     * @throws IllegalArgumentException naming the file and the first tensor that is not finite
     */
    public static void requireFinite(Path file, List<NamedTensor> tensors) {
        for (NamedTensor t : tensors) {
            float[] data = t.data();
            int first = -1;
            int bad = 0;
            for (int i = 0; i < data.length; i++) {
                if (!Float.isFinite(data[i])) {
                    if (first < 0) first = i;
                    bad++;
                }
            }
            if (first >= 0) {
                throw new IllegalArgumentException(file + ": tensor '" + t.name() + "' " + t.shape() + " holds " + bad
                        + (bad == 1 ? " value that is" : " values that are") + " not finite (the first, at index " + first + ", is "
                        + data[first] + "); refusing to load weights that are NaN or infinite");
            }
        }
    }
}
