package org.neurite.train;

import java.util.List;
import org.neurite.tensor.Shape;

/**
 * One split of a plugin's {@link DataSource}, in memory: {@code n} samples of
 * {@code sampleShape} and their targets of {@code targetShape}. With {@code classes > 0} the
 * targets are class indices in {@code [0, classes)} stored as floats (a classifier's data;
 * {@code targetShape} {@code []} for one label per sample, {@code [T]} for one per time step);
 * with {@code classes == 0} they are real values (a regression's).
 *
 * @param name the split's data as users see it, e.g. {@code xor_points}
 * @param features {@code n * sampleShape.size()} floats, sample after sample
 * @param targets {@code n * targetShape.size()} floats, sample after sample
 * @param classNames a display name per class, or empty
 * @param description one line for users saying what the data is
 */
public record Samples(String name, Shape sampleShape, float[] features, Shape targetShape, float[] targets, int classes,
                      List<String> classNames, String description) {
    public Samples {
        classNames = List.copyOf(classNames);
        if (sampleShape.size() == 0 || features.length % sampleShape.size() != 0) {
            throw new IllegalArgumentException(name + ": " + features.length + " features do not make whole samples of " + sampleShape);
        }
        long n = features.length / sampleShape.size();
        if ((long) targets.length != n * Math.max(1, targetShape.size())) {
            throw new IllegalArgumentException(name + ": " + n + " samples of " + sampleShape + " need " + n * Math.max(1, targetShape.size())
                    + " targets of " + targetShape + ", got " + targets.length);
        }
        if (classes < 0) throw new IllegalArgumentException(name + ": classes is at least 0, got " + classes);
    }

    /** A classifier's split with one label per sample. */
    public static Samples classification(String name, Shape sampleShape, float[] features, int[] labels, int classes, String description) {
        float[] targets = new float[labels.length];
        for (int i = 0; i < labels.length; i++) targets[i] = labels[i];
        return new Samples(name, sampleShape, features, Shape.of(), targets, classes, List.of(), description);
    }

    /** How many samples. */
    public int size() { return features.length / sampleShape.size(); }
}
