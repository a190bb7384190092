package org.neurite.cli.viz;

/**
 * Maps a number in [0, 1] to an sRGB colour ({@code 0xRRGGBB}). {@link #GREY} is for pictures that
 * are images themselves (filters, filtered photos); {@link #VIRIDIS} is perceptually uniform and
 * readable in greyscale and by colour-blind readers, so feature maps and heat maps use it;
 * {@link #BLUES} runs from white to dark blue for counts where zero should look empty (confusion
 * matrices). Values outside [0, 1] are clamped, NaN maps to 0.
 */
public enum Colormap {
    GREY(new int[] {0x000000, 0xFFFFFF}),
    // matplotlib's viridis sampled at nine evenly spaced points; linear in between.
    VIRIDIS(new int[] {0x440154, 0x482878, 0x3E4989, 0x31688E, 0x26828E, 0x1F9E89, 0x35B779, 0x6ECE58, 0xFDE725}),
    // ColorBrewer's sequential Blues, nine classes.
    BLUES(new int[] {0xF7FBFF, 0xDEEBF7, 0xC6DBEF, 0x9ECAE1, 0x6BAED6, 0x4292C6, 0x2171B5, 0x08519C, 0x08306B});

    private final int[] anchors;

    Colormap(int[] anchors) { this.anchors = anchors; }

    /** The colour at {@code t}, interpolated linearly between the map's anchor colours. */
    public int rgb(double t) {
        if (!(t > 0)) t = 0;    // also NaN
        if (t > 1) t = 1;
        double at = t * (anchors.length - 1);
        int i = Math.min((int) at, anchors.length - 2);
        double f = at - i;
        int a = anchors[i];
        int b = anchors[i + 1];
        int r = mix((a >> 16) & 0xFF, (b >> 16) & 0xFF, f);
        int g = mix((a >> 8) & 0xFF, (b >> 8) & 0xFF, f);
        int bl = mix(a & 0xFF, b & 0xFF, f);
        return (r << 16) | (g << 8) | bl;
    }

    /** Whether black text is easier to read than white on {@link #rgb}{@code (t)} (relative luminance above 0.4). */
    public boolean isLight(double t) {
        int c = rgb(t);
        double lum = 0.2126 * linear((c >> 16) & 0xFF) + 0.7152 * linear((c >> 8) & 0xFF) + 0.0722 * linear(c & 0xFF);
        return lum > 0.4;
    }

    private static double linear(int channel) {
        double s = channel / 255.0;
        return s <= 0.04045 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    }

    private static int mix(int a, int b, double f) {
        return (int) Math.round(a + (b - a) * f);
    }
}
