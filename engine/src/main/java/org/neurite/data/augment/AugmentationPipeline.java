package org.neurite.data.augment;

import java.util.ArrayList;
import java.util.List;
import org.neurite.backend.CounterRandom;
import org.neurite.layer.LayerArgs;
import org.neurite.tensor.Shape;
import org.neurite.train.AugmentSpec;
import org.neurite.train.Augmentations;

/**
 * A train section's {@code augment = [...]} as the transformation of training samples [C, H, W]:
 * each listed {@link Augmentations augmentation} in turn, on the sample's floats in place, as the
 * trainer gathers a batch (never for evaluation, testing or prediction).
 *
 * <p>Deterministic and resume-safe: every random choice made for a sample depends only on
 * (seed, epoch, sample index) — counter-based draws ({@link CounterRandom}), no generator state
 * carried from one sample or batch to the next. A sample is therefore transformed the same way
 * whatever batch it lands in, and a run resumed inside an epoch from a checkpoint sees exactly
 * the pictures the uninterrupted run saw; each new epoch draws afresh. It works on a sample's
 * floats wherever they came from, so it does not care how a dataset stores its rows.
 *
 * <p>Holds one sample of scratch space: one pipeline per thread.
 */
public final class AugmentationPipeline {
    /** Mixed into the seed so the augmentation draws are unrelated to shuffling and dropout ("augment"). */
    private static final long SALT = 0x61756775_6D656E74L;

    private final Shape sample;
    private final long seed;
    private final List<Augmentation> steps;
    private final float[] scratch;

    private AugmentationPipeline(Shape sample, long seed, List<Augmentation> steps) {
        this.sample = sample;
        this.seed = seed;
        this.steps = List.copyOf(steps);
        this.scratch = new float[steps.isEmpty() ? 0 : sample.size()];
    }

    /**
     * The pipeline of {@code specs} for samples shaped {@code sample}, drawing from {@code seed}
     * (the train section's).
     *
     * @throws IllegalArgumentException when there are augmentations and {@code sample} is not
     *     [C, H, W], or when an augmentation is unknown or does not fit {@code sample}
     *     (the language refuses both before a run starts)
     */
    public static AugmentationPipeline of(List<AugmentSpec> specs, Shape sample, long seed) {
        if (specs.isEmpty()) return new AugmentationPipeline(sample, seed, List.of());
        if (sample.rank() != 3) {
            throw new IllegalArgumentException("augment works on images [channels, height, width], not samples shaped " + sample);
        }
        int c = sample.dim(0);
        int h = sample.dim(1);
        int w = sample.dim(2);
        List<Augmentation> steps = new ArrayList<>();
        for (AugmentSpec spec : specs) {
            if (Augmentations.schema(spec.name()) == null) {
                throw new IllegalArgumentException("unknown augmentation '" + spec.name() + "' (augmentations: "
                        + String.join(", ", Augmentations.NAMES) + ")");
            }
            LayerArgs a = spec.args();
            try {
                Augmentations.check(spec.name(), a, sample);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(spec.name() + ": " + e.getMessage(), e);
            }
            steps.add(switch (spec.name()) {
                case "random_crop" -> new RandomCrop(c, h, w, a.getInt("pad"));
                case "flip" -> new Flip(c, h, w, a.getString("direction").equals("vertical"), a.getDouble("p"));
                case "rotate" -> new Rotate(c, h, w, a.getDouble("degrees"));
                case "jitter" -> new Jitter(c, h, w, a.getDouble("brightness"), a.getDouble("contrast"));
                default -> throw new IllegalStateException("augmentation '" + spec.name() + "' has no implementation");
            });
        }
        return new AugmentationPipeline(sample, seed, steps);
    }

    /** Whether this pipeline leaves samples as they are (no augmentation listed). */
    public boolean isEmpty() { return steps.isEmpty(); }

    /** The sample shape [C, H, W] this pipeline transforms. */
    public Shape sampleShape() { return sample; }

    /**
     * Transforms sample {@code index} of the dataset, stored at {@code x[offset .. offset + C*H*W)},
     * as epoch {@code epoch} (counted from 1, as the trainer counts) sees it.
     */
    public void apply(float[] x, int offset, int index, int epoch) {
        if (steps.isEmpty()) return;
        long key = sampleKey(seed, epoch, index);
        for (int s = 0; s < steps.size(); s++) steps.get(s).apply(x, offset, CounterRandom.mix(key + s), scratch);
    }

    /**
     * Transforms a gathered batch: {@code x} holds {@code count} samples one after another, the
     * {@code i}-th being dataset sample {@code order[from + i]}.
     */
    public void applyToBatch(float[] x, int[] order, int from, int count, int epoch) {
        if (steps.isEmpty()) return;
        int size = sample.size();
        for (int i = 0; i < count; i++) apply(x, i * size, order[from + i], epoch);
    }

    /** The key all of one sample's draws in one epoch derive from: a mix of the three numbers alone. */
    static long sampleKey(long seed, int epoch, int index) {
        long k = CounterRandom.mix(seed ^ SALT);
        k = CounterRandom.mix(k + epoch);
        return CounterRandom.mix(k + index);
    }
}
