package org.neurite.data;

/**
 * How an image reader turns pixel bytes into floats. Every pixel is first scaled to
 * {@code [0, 1]} by dividing by 255; then {@code (v - mean) / std} is applied. {@link #NONE}
 * (mean 0, std 1) keeps the plain {@code [0, 1]} values; standardising with the training set's
 * statistics (Fashion-MNIST: mean 0.2860, std 0.3530) centres the inputs, which some models
 * train faster with.
 */
public record Normalization(double mean, double std) {
    /** Pixels in {@code [0, 1]}, nothing else. */
    public static final Normalization NONE = new Normalization(0, 1);

    public Normalization {
        if (!Double.isFinite(mean) || !Double.isFinite(std) || !(std > 0)) {
            throw new IllegalArgumentException("normalisation needs a finite mean and a positive std, got mean "
                    + mean + ", std " + std);
        }
    }

    public static Normalization meanStd(double mean, double std) { return new Normalization(mean, std); }

    /**
     * The float for each of the 256 byte values, so readers convert with one table look-up.
     * Entry {@code b} is {@code (b / 255 - mean) / std}.
     */
    float[] table() {
        float[] t = new float[256];
        for (int b = 0; b < 256; b++) t[b] = (float) ((b / 255.0 - mean) / std);
        return t;
    }
}
