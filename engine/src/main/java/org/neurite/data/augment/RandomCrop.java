package org.neurite.data.augment;

/**
 * {@code random_crop(size, pad)}: the sample with {@code pad} zero pixels added on every side, cut
 * back to its own H x W at a random place (torchvision's {@code RandomCrop(size, padding=pad)} with
 * {@code size} the input's size). In effect a shift by (dy, dx), each drawn uniformly from
 * {@code [-pad, pad]}, with the uncovered border filled with 0.
 */
final class RandomCrop implements Augmentation {
    private final int channels;
    private final int height;
    private final int width;
    private final int pad;

    RandomCrop(int channels, int height, int width, int pad) {
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.pad = pad;
    }

    @Override public void apply(float[] x, int offset, long key, float[] scratch) {
        int span = 2 * pad + 1;
        // The crop's top-left corner in the padded picture is (top, left) in [0, 2*pad]^2.
        int top = Augmentation.below(key, 0, span);
        int left = Augmentation.below(key, 1, span);
        shift(x, offset, top - pad, left - pad, scratch);
    }

    /** out[c, i, j] = in[c, i + dy, j + dx], or 0 where that falls outside the picture. */
    void shift(float[] x, int offset, int dy, int dx, float[] scratch) {
        int plane = height * width;
        System.arraycopy(x, offset, scratch, 0, channels * plane);
        for (int c = 0; c < channels; c++) {
            for (int i = 0; i < height; i++) {
                int from = i + dy;
                int row = offset + c * plane + i * width;
                for (int j = 0; j < width; j++) {
                    int col = j + dx;
                    x[row + j] = from >= 0 && from < height && col >= 0 && col < width ? scratch[c * plane + from * width + col] : 0f;
                }
            }
        }
    }
}
