package org.neurite.data.augment;

import org.neurite.backend.CounterRandom;

/**
 * {@code flip(horizontal | vertical, p)}: with probability {@code p} the sample is mirrored
 * left-right (horizontal) or upside down (vertical), every channel alike
 * (torchvision's {@code RandomHorizontalFlip(p)}, {@code RandomVerticalFlip(p)}).
 */
final class Flip implements Augmentation {
    private final int channels;
    private final int height;
    private final int width;
    private final boolean vertical;
    private final double p;

    Flip(int channels, int height, int width, boolean vertical, double p) {
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.vertical = vertical;
        this.p = p;
    }

    @Override public void apply(float[] x, int offset, long key, float[] scratch) {
        if (CounterRandom.uniform(key, 0) < p) flip(x, offset);
    }

    /** Mirrors the sample unconditionally: swaps columns j and W-1-j (horizontal) or rows i and H-1-i. */
    void flip(float[] x, int offset) {
        int plane = height * width;
        for (int c = 0; c < channels; c++) {
            int base = offset + c * plane;
            if (vertical) {
                for (int i = 0, k = height - 1; i < k; i++, k--) {
                    for (int j = 0; j < width; j++) swap(x, base + i * width + j, base + k * width + j);
                }
            } else {
                for (int i = 0; i < height; i++) {
                    int row = base + i * width;
                    for (int j = 0, k = width - 1; j < k; j++, k--) swap(x, row + j, row + k);
                }
            }
        }
    }

    private static void swap(float[] x, int a, int b) {
        float t = x[a];
        x[a] = x[b];
        x[b] = t;
    }
}
