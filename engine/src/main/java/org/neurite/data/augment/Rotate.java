package org.neurite.data.augment;

/**
 * {@code rotate(degrees)}: the sample turned about its centre ((H-1)/2, (W-1)/2) by an angle drawn
 * uniformly from {@code [-degrees, degrees]}, positive counter-clockwise as seen on screen
 * (torchvision's {@code RandomRotation(degrees)}), sampled bilinearly; what comes from outside the
 * picture is 0.
 */
final class Rotate implements Augmentation {
    private final int channels;
    private final int height;
    private final int width;
    private final double degrees;

    Rotate(int channels, int height, int width, double degrees) {
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.degrees = degrees;
    }

    @Override public void apply(float[] x, int offset, long key, float[] scratch) {
        turn(x, offset, degrees * Augmentation.symmetric(key, 0), scratch);
    }

    /**
     * Turns the sample by {@code angle} degrees counter-clockwise. Each output pixel reads the
     * input where the inverse turn takes it: with (di, dj) its offset from the centre (rows down),
     * the source is row {@code cy + sin·dj + cos·di}, column {@code cx + cos·dj − sin·di}.
     */
    void turn(float[] x, int offset, double angle, float[] scratch) {
        int plane = height * width;
        System.arraycopy(x, offset, scratch, 0, channels * plane);
        double radians = Math.toRadians(angle);
        double cos = Math.cos(radians);
        double sin = Math.sin(radians);
        double cy = (height - 1) / 2.0;
        double cx = (width - 1) / 2.0;
        for (int i = 0; i < height; i++) {
            double di = i - cy;
            for (int j = 0; j < width; j++) {
                double dj = j - cx;
                double r = cy + sin * dj + cos * di;
                double col = cx + cos * dj - sin * di;
                int r0 = (int) Math.floor(r);
                int c0 = (int) Math.floor(col);
                float fr = (float) (r - r0);
                float fc = (float) (col - c0);
                for (int c = 0; c < channels; c++) {
                    int base = c * plane;
                    float top = (1 - fc) * pixel(scratch, base, r0, c0) + fc * pixel(scratch, base, r0, c0 + 1);
                    float bottom = (1 - fc) * pixel(scratch, base, r0 + 1, c0) + fc * pixel(scratch, base, r0 + 1, c0 + 1);
                    x[offset + base + i * width + j] = (1 - fr) * top + fr * bottom;
                }
            }
        }
    }

    /** The source pixel, 0 outside the picture. */
    private float pixel(float[] source, int base, int row, int col) {
        return row >= 0 && row < height && col >= 0 && col < width ? source[base + row * width + col] : 0f;
    }
}
