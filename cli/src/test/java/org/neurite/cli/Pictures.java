package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;

/** Checks the tests share for what people look at: pictures that decode and show something, text without control characters. */
final class Pictures {
    private static final Pattern CONTROL = Pattern.compile("[\\p{Cntrl}&&[^\\n]]");

    private Pictures() {}

    /** {@code file} is a PNG of exactly {@code width x height} whose pixels are not all alike; returns it decoded. */
    static BufferedImage assertPicture(Path file, int width, int height) throws IOException {
        assertTrue(Files.isRegularFile(file), file + " was not written");
        BufferedImage image = ImageIO.read(file.toFile());
        assertNotNull(image, file + " does not decode as an image");
        assertEquals(width + "x" + height, image.getWidth() + "x" + image.getHeight(), file + " size");
        assertTrue(variance(image) > 0, file + " is blank");
        return image;
    }

    /** Variance of the pixels' grey levels (0..255). */
    static double variance(BufferedImage image) {
        double sum = 0;
        double sumSq = 0;
        long n = (long) image.getWidth() * image.getHeight();
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                double v = grey(image, x, y);
                sum += v;
                sumSq += v * v;
            }
        }
        double mean = sum / n;
        return sumSq / n - mean * mean;
    }

    /** The stored grey level of a one-channel image, else the mean of red, green and blue. */
    static double grey(BufferedImage image, int x, int y) {
        if (image.getRaster().getNumBands() == 1) return image.getRaster().getSample(x, y, 0);
        int rgb = image.getRGB(x, y);
        return (((rgb >> 16) & 0xFF) + ((rgb >> 8) & 0xFF) + (rgb & 0xFF)) / 3.0;
    }

    /** Fails naming the first control character other than a newline (carriage returns, escapes, ...). */
    static void assertNoControlCharacters(String text) {
        Matcher m = CONTROL.matcher(text);
        if (m.find()) {
            fail(String.format("control character U+%04X at offset %d in:%n%s", (int) m.group().charAt(0), m.start(), text));
        }
    }
}
