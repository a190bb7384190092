package org.neurite.data;

import java.util.List;
import java.util.Objects;
import org.neurite.tensor.Shape;

/**
 * An in-memory dataset: {@code size()} samples of {@link #sampleShape()} floats each (row-major,
 * batch dimension excluded, e.g. {@code [1, 28, 28]} for a grey image, {@code [100, 2]} for a
 * sequence of 100 steps) and, per sample, a target of {@link #targetShape()} floats. For
 * classification ({@code classes() > 0}) targets are class indices in {@code [0, classes)}: one per
 * image ({@code targetShape() = []}), or one per time step for sequence labelling ({@code [T]}).
 * For regression ({@code classes() == 0}) they are real values.
 *
 * <p>The trainer draws batches with {@link #copyBatch(int[], int, int, float[], float[])}, which
 * writes into the caller's buffers so a training step allocates nothing. It also says where it
 * came from: {@link #isSubset()} and {@link #description()} let the CLI tell the user that the
 * bundled subset is in use and how to get the full set. The arrays are shared, not copied: a
 * dataset is read-only by convention.
 *
 * <p>A <em>streamed</em> dataset ({@link #isStreamed()}, made by {@link ImageFolder#stream} or
 * {@link IdxFolderStream}) keeps only its targets in memory; {@link #copyBatch} reads the samples
 * from disk through a {@link StreamingLoader}, which holds at most its memory bound of them. Its
 * batches equal those of the same data held in memory, so training on either is bit-identical.
 */
public final class Dataset {
    private final String name;
    private final Shape sampleShape;
    private final int sampleSize;
    /** Samples, row after row; null when streamed. */
    private final float[] features;
    /** Where a streamed dataset's samples come from; null when they are in {@link #features}. */
    private final StreamedSamples streamed;
    private final Shape targetShape;
    private final int targetSize;
    private final float[] targets;
    private final int classes;
    private final List<String> classNames;
    private final boolean subset;
    private final String description;

    /**
     * A classification dataset with one label per sample.
     *
     * @param name the dataset's name as scripts write it ({@code fashion_mnist}) or a folder name
     * @param sampleShape shape of one sample, without the batch dimension
     * @param features {@code labels.length * sampleShape.size()} floats, sample after sample
     * @param labels one class index per sample, each in {@code [0, classes)}
     * @param classNames a display name per class, or an empty list when the classes have none
     * @param subset whether this is a reduced sample of a larger dataset
     * @param description one line for users, e.g. "the bundled 5,000-image subset of Fashion-MNIST; ..."
     */
    public Dataset(String name, Shape sampleShape, float[] features, int[] labels, int classes,
                   List<String> classNames, boolean subset, String description) {
        this(name, sampleShape, features, Shape.of(), toFloats(labels), classes, classNames, subset, description);
    }

    /**
     * Any dataset: targets of {@code targetShape} per sample; {@code classes > 0} makes them class
     * indices (checked), {@code classes == 0} real values.
     */
    public Dataset(String name, Shape sampleShape, float[] features, Shape targetShape, float[] targets, int classes,
                   List<String> classNames, boolean subset, String description) {
        this(name, sampleShape, Objects.requireNonNull(features, "features"), null, targetShape, targets, classes, classNames,
                subset, description);
    }

    /**
     * A classification dataset whose samples {@code reader} reads from disk through {@code loader}
     * as batches are drawn; {@code labels} (one per sample) are held.
     */
    static Dataset streamed(String name, Shape sampleShape, SampleReader reader, StreamingLoader loader, int[] labels, int classes,
                            List<String> classNames, String description) {
        return new Dataset(name, sampleShape, null, new StreamedSamples(reader, loader), Shape.of(), toFloats(labels), classes,
                classNames, false, description);
    }

    private Dataset(String name, Shape sampleShape, float[] features, StreamedSamples streamed, Shape targetShape, float[] targets,
                    int classes, List<String> classNames, boolean subset, String description) {
        this.name = Objects.requireNonNull(name, "name");
        this.sampleShape = Objects.requireNonNull(sampleShape, "sampleShape");
        this.sampleSize = sampleShape.size();
        this.features = features;
        this.streamed = streamed;
        this.targetShape = Objects.requireNonNull(targetShape, "targetShape");
        this.targetSize = targetShape.size();
        this.targets = Objects.requireNonNull(targets, "targets");
        this.classes = classes;
        this.classNames = List.copyOf(classNames);
        this.subset = subset;
        this.description = Objects.requireNonNull(description, "description");
        if (targetSize < 1 || targets.length % targetSize != 0) {
            throw new IllegalArgumentException(name + ": " + targets.length + " target values do not divide into targets shaped " + targetShape);
        }
        int samples = targets.length / targetSize;
        if (streamed != null && (streamed.size() != samples || streamed.sampleSize() != sampleSize)) {
            throw new IllegalArgumentException(name + ": " + samples + " labels of samples shaped " + sampleShape + " but "
                    + streamed.size() + " streamed samples of " + streamed.sampleSize() + " floats");
        }
        if (streamed == null && (long) samples * sampleSize != features.length) {
            throw new IllegalArgumentException(name + ": " + samples + " labels of samples shaped " + sampleShape
                    + " need " + (long) samples * sampleSize + " feature values, got " + features.length);
        }
        if (classes < 0) throw new IllegalArgumentException(name + ": classes must be at least 0, got " + classes);
        if (!this.classNames.isEmpty() && this.classNames.size() != classes) {
            throw new IllegalArgumentException(name + ": " + this.classNames.size() + " class names for " + classes + " classes");
        }
        if (classes > 0) {
            for (int i = 0; i < targets.length; i++) {
                float t = targets[i];
                if (!(t >= 0 && t < classes) || t != Math.rint(t)) {
                    throw new IllegalArgumentException(name + ": label " + formatLabel(t) + " of sample " + i / targetSize
                            + " is outside [0, " + classes + ")");
                }
            }
        }
    }

    private static float[] toFloats(int[] labels) {
        Objects.requireNonNull(labels, "labels");
        float[] out = new float[labels.length];
        for (int i = 0; i < labels.length; i++) out[i] = labels[i];
        return out;
    }

    private static String formatLabel(float t) {
        return t == Math.rint(t) && Math.abs(t) < 1e9 ? Long.toString((long) t) : Float.toString(t);
    }

    public String name() { return name; }

    /** Shape of one sample without the batch dimension, e.g. {@code [1, 28, 28]}. */
    public Shape sampleShape() { return sampleShape; }

    /** Floats per sample: {@code sampleShape().size()}. */
    public int sampleSize() { return sampleSize; }

    /** Number of samples. */
    public int size() { return targets.length / targetSize; }

    /** Number of classes; every label is below it. 0 for a regression dataset. */
    public int classes() { return classes; }

    /** Whether targets are class indices (rather than real values). */
    public boolean isClassification() { return classes > 0; }

    /** Shape of one sample's target: {@code []} for one label or value, {@code [T]} for one per step. */
    public Shape targetShape() { return targetShape; }

    /** Floats per sample's target: {@code targetShape().size()}. */
    public int targetSize() { return targetSize; }

    /** Display name of each class ({@code "Ankle boot"}), or empty when the dataset has none. */
    public List<String> classNames() { return classNames; }

    /** Whether this is a reduced sample of a larger dataset (the bundled subset). */
    public boolean isSubset() { return subset; }

    /** One line for users: what this is, where it came from, and for a subset how to get the full set. */
    public String description() { return description; }

    /** Label of sample {@code index} (its first label when there is one per step). */
    public int label(int index) { return (int) targets[index * targetSize]; }

    /** Target value {@code k} of sample {@code index}. */
    public float target(int index, int k) { return targets[index * targetSize + k]; }

    /**
     * The feature array itself (not a copy), {@code size() * sampleSize()} floats; do not modify it.
     *
     * @throws IllegalStateException for a streamed dataset, whose samples are only ever read a batch at a time
     */
    public float[] features() {
        if (streamed != null) {
            throw new IllegalStateException(name + " is streamed from disk (" + description + "); read its samples with copyBatch");
        }
        return features;
    }

    /** Whether the samples stay on disk and are read as batches are drawn (see {@link StreamingLoader}). */
    public boolean isStreamed() { return streamed != null; }

    /**
     * Copies samples {@code indices[from .. from+count)} into batch buffers: {@code x} receives
     * {@code count * sampleSize()} floats laid out as {@code [count, ...sampleShape]}, {@code y}
     * receives {@code count * targetSize()} targets as floats (the loss reads class indices from a
     * float tensor). Allocates nothing, so a training loop can call it every step.
     *
     * @param indices sample order for the epoch, usually an {@link EpochOrder} permutation
     * @throws IllegalArgumentException when the range or the buffers are too small
     */
    public void copyBatch(int[] indices, int from, int count, float[] x, float[] y) {
        if (from < 0 || count < 0 || from > indices.length - count) {
            throw new IllegalArgumentException("batch [" + from + ", " + ((long) from + count) + ") is outside the "
                    + indices.length + " indices");
        }
        if (x.length < (long) count * sampleSize || y.length < (long) count * targetSize) {
            throw new IllegalArgumentException("a batch of " + count + " needs x of " + (long) count * sampleSize
                    + " floats and y of " + (long) count * targetSize + "; got " + x.length + " and " + y.length);
        }
        for (int i = 0; i < count; i++) {
            int sample = indices[from + i];
            if (streamed == null) System.arraycopy(features, sample * sampleSize, x, i * sampleSize, sampleSize);
            System.arraycopy(targets, sample * targetSize, y, i * targetSize, targetSize);
        }
        if (streamed != null) streamed.copy(indices, from, count, x);
    }

    /**
     * The first {@code n} samples (all of them when {@code n >= size()}), sharing nothing with this
     * dataset; for quick runs ({@code nn train --limit N}).
     */
    public Dataset head(int n) {
        if (n < 0) throw new IllegalArgumentException("cannot keep " + n + " samples");
        if (n >= size()) return this;
        if (streamed != null) {
            int[] first = new int[n];
            for (int i = 0; i < n; i++) first[i] = i;
            return new Dataset(name, sampleShape, null, streamed.select(first), targetShape, java.util.Arrays.copyOf(targets, n * targetSize),
                    classes, classNames, true, "the first " + n + " samples of " + description);
        }
        return new Dataset(name, sampleShape, java.util.Arrays.copyOf(features, n * sampleSize), targetShape,
                java.util.Arrays.copyOf(targets, n * targetSize), classes, classNames, true,
                "the first " + n + " samples of " + description);
    }

    /**
     * The samples at {@code indices}, in that order, sharing nothing with this dataset: a held-out
     * validation split, for one. {@code description} says what the selection is.
     */
    public Dataset select(int[] indices, String description) {
        if (streamed != null) {
            float[] y = new float[Math.multiplyExact(indices.length, targetSize)];
            for (int i = 0; i < indices.length; i++) System.arraycopy(targets, indices[i] * targetSize, y, i * targetSize, targetSize);
            return new Dataset(name, sampleShape, null, streamed.select(indices), targetShape, y, classes, classNames, subset, description);
        }
        float[] x = new float[Math.multiplyExact(indices.length, sampleSize)];
        float[] y = new float[Math.multiplyExact(indices.length, targetSize)];
        copyBatch(indices, 0, indices.length, x, y);
        return new Dataset(name, sampleShape, x, targetShape, y, classes, classNames, subset, description);
    }

    /**
     * The same samples declaring {@code classes} classes (at least as many as now): a test split
     * that happens not to contain the highest label still scores against the training split's
     * classes.
     */
    public Dataset withClasses(int classes) {
        if (this.classes == 0 || classes < this.classes) throw new IllegalArgumentException(name + ": cannot declare " + classes + " classes");
        return new Dataset(name, sampleShape, features, streamed, targetShape, targets, classes, List.of(), subset, description);
    }

    @Override public String toString() {
        return name + " (" + size() + " samples of " + sampleShape
                + (classes > 0 ? ", " + classes + " classes)" : ", targets " + targetShape + ")");
    }
}
