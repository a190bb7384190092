package org.neurite.cli.viz;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.neurite.io.AtomicFiles;

/**
 * Writes PNG files atomically (a reader, such as a browser showing the report while training
 * runs, never sees half a picture) and keeps AWT headless: every chart and image here is drawn
 * off-screen, on servers and in CI without a display.
 */
public final class PngFiles {
    static {
        headless();
    }

    private PngFiles() {}

    /**
     * Puts AWT in headless mode. Takes effect only before AWT first starts, so commands that draw
     * call it first; the {@code nn} launcher may also pass {@code -Djava.awt.headless=true}.
     */
    public static void headless() {
        System.setProperty("java.awt.headless", "true");
    }

    /** Writes {@code image} to {@code file} as PNG, replacing it atomically. */
    public static void write(BufferedImage image, Path file) throws IOException {
        AtomicFiles.write(file, out -> {
            if (!ImageIO.write(image, "png", out)) throw new IOException("no PNG writer in this Java runtime");
        });
    }

    /** A one-channel image of floats in [0, 1] (clamped) as 8-bit grey, {@code [H, W]} row-major. */
    public static BufferedImage grey(float[] values, int offset, int height, int width) {
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        var raster = out.getRaster();
        for (int r = 0; r < height; r++) {
            for (int c = 0; c < width; c++) raster.setSample(c, r, 0, toByte(values[offset + r * width + c]));
        }
        return out;
    }

    /** A three-channel image of floats in [0, 1] (clamped) as 8-bit RGB, {@code [3, H, W]} row-major. */
    public static BufferedImage rgb(float[] values, int offset, int height, int width) {
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int plane = height * width;
        for (int r = 0; r < height; r++) {
            for (int c = 0; c < width; c++) {
                int at = offset + r * width + c;
                out.setRGB(c, r, (toByte(values[at]) << 16) | (toByte(values[at + plane]) << 8) | toByte(values[at + 2 * plane]));
            }
        }
        return out;
    }

    /** [0, 1] to 0..255, rounding to nearest; outside values clamp, NaN is black. */
    public static int toByte(float unit) {
        if (!(unit > 0)) return 0;
        if (unit >= 1) return 255;
        return Math.round(unit * 255);
    }
}
