package org.neurite.data.augment;

/**
 * {@code jitter(brightness, contrast)}: torchvision's {@code ColorJitter} on pixel values in
 * [0, 1], brightness first, then contrast (torchvision shuffles the order; a fixed order keeps the
 * draw per sample simple):
 * <ul>
 *   <li>brightness: {@code x ← clamp(b·x)}, b drawn from {@code [1 − brightness, 1 + brightness]};</li>
 *   <li>contrast: {@code x ← clamp(k·x + (1 − k)·m)}, k drawn from {@code [1 − contrast, 1 + contrast]},
 *       m the mean grey of the sample (BT.601 luma for three channels, the mean value otherwise).</li>
 * </ul>
 * clamp is to [0, 1]. A factor whose range is 0 is not applied at all.
 */
final class Jitter implements Augmentation {
    private final int channels;
    private final int plane;
    private final double brightness;
    private final double contrast;

    Jitter(int channels, int height, int width, double brightness, double contrast) {
        this.channels = channels;
        this.plane = height * width;
        this.brightness = brightness;
        this.contrast = contrast;
    }

    @Override public void apply(float[] x, int offset, long key, float[] scratch) {
        float b = (float) (1 + brightness * Augmentation.symmetric(key, 0));
        float k = (float) (1 + contrast * Augmentation.symmetric(key, 1));
        jitter(x, offset, brightness > 0 ? b : 1f, contrast > 0 ? k : 1f);
    }

    /** Applies brightness factor {@code b} then contrast factor {@code k} (1 leaves a step out). */
    void jitter(float[] x, int offset, float b, float k) {
        int n = channels * plane;
        if (b != 1f) {
            for (int i = offset; i < offset + n; i++) x[i] = clamp(b * x[i]);
        }
        if (k != 1f) {
            float shift = (1 - k) * meanGrey(x, offset);
            for (int i = offset; i < offset + n; i++) x[i] = clamp(k * x[i] + shift);
        }
    }

    /** Mean of the sample's grey picture: BT.601 luma of R, G, B for three channels, else the mean of all values. */
    float meanGrey(float[] x, int offset) {
        double sum = 0;
        if (channels == 3) {
            for (int i = 0; i < plane; i++) {
                sum += 0.299f * x[offset + i] + 0.587f * x[offset + plane + i] + 0.114f * x[offset + 2 * plane + i];
            }
            return (float) (sum / plane);
        }
        for (int i = offset; i < offset + channels * plane; i++) sum += x[i];
        return (float) (sum / (channels * plane));
    }

    private static float clamp(float v) {
        return v < 0 ? 0f : v > 1 ? 1f : v;
    }
}
