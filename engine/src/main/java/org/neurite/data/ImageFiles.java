package org.neurite.data;

import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.neurite.io.FileFormatException;
import org.neurite.tensor.Shape;

/**
 * Pictures as model inputs: a PNG, JPEG, BMP, GIF, TIFF, WebP (any format an installed ImageIO
 * reader decodes; WebP and the wider TIFF support come from the TwelveMonkeys plug-ins) as a
 * [C, H, W] sample in [0, 1], resized to H x W (bilinear) and converted to C channels — 1 (grey,
 * ITU-R BT.601 luma) or 3 (RGB). Transparent pixels are composed onto black. One conversion for
 * training ({@link ImageFolder}) and for {@code nn predict}, so a picture means the same to both.
 */
public final class ImageFiles {
    private ImageFiles() {}

    /** The formats pictures may be in, as messages name them (the installed readers may know more). */
    public static final String FORMATS = "PNG, JPEG, BMP, GIF, TIFF or WebP";

    /** File endings of the installed ImageIO readers, lower case: png, jpg, jpeg, bmp, gif, tif, tiff, webp, ... */
    private static final Set<String> SUFFIXES = Arrays.stream(ImageIO.getReaderFileSuffixes())
            .map(s -> s.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());

    /** Whether {@code file} has the ending of a format an installed ImageIO reader decodes (.png, .jpg, .webp, ...; any case). */
    public static boolean isImage(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        int dot = name.lastIndexOf('.');
        return dot >= 0 && SUFFIXES.contains(name.substring(dot + 1));
    }

    /** Whether {@code sample} is an image shape this class can fill: [1 or 3, H, W]. */
    public static boolean isImageShape(Shape sample) {
        return sample.rank() == 3 && (sample.dim(0) == 1 || sample.dim(0) == 3) && sample.dim(1) > 0 && sample.dim(2) > 0;
    }

    /**
     * Decodes {@code file} into {@code out[offset ..]} as a {@code sample}-shaped [C, H, W] picture.
     *
     * @throws FileFormatException when the file is not an image ImageIO can decode
     */
    public static void read(Path file, Shape sample, float[] out, int offset) throws IOException {
        if (!isImageShape(sample)) throw new IllegalArgumentException("not an image shape [1 or 3, H, W]: " + sample);
        BufferedImage image;
        try {
            image = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw decodeFailure(file, e);
        }
        if (image == null) throw new FileFormatException(file + ": not a " + FORMATS + " picture");
        convert(image, sample, out, offset);
    }

    /**
     * What a failed decode of {@code file} becomes: a {@link FileFormatException} naming it, or,
     * when the heap ran out, an {@link OutOfMemoryError} naming it. ImageIO's PNG reader wraps
     * whatever it catches, an OutOfMemoryError included (a picture of 40000 x 40000 pixels, or a
     * small file that claims so), in "Caught exception during read": that is not a picture that
     * does not decode but one too large for the heap, and {@code nn} says so (exit 1, more heap).
     */
    static FileFormatException decodeFailure(Path file, IOException e) {
        for (Throwable t = e.getCause(); t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof OutOfMemoryError oom) {
                OutOfMemoryError named = new OutOfMemoryError((oom.getMessage() == null ? "memory" : oom.getMessage())
                        + " while decoding " + file);
                named.initCause(e);
                throw named;
            }
        }
        return new FileFormatException(file + ": cannot decode image (" + e.getMessage() + ")");
    }

    /**
     * A decoded picture into {@code out[offset ..]} as a {@code sample}-shaped [C, H, W] sample:
     * what {@link #read} does after decoding (the server uses it for uploads).
     */
    public static void convert(BufferedImage image, Shape sample, float[] out, int offset) {
        if (!isImageShape(sample)) throw new IllegalArgumentException("not an image shape [1 or 3, H, W]: " + sample);
        int channels = sample.dim(0), h = sample.dim(1), w = sample.dim(2);
        BufferedImage scaled = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        var g = scaled.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(image, 0, 0, w, h, null);
        g.dispose();
        int plane = h * w;
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                int rgb = scaled.getRGB(j, i);
                float r = ((rgb >> 16) & 0xFF) / 255f;
                float gr = ((rgb >> 8) & 0xFF) / 255f;
                float b = (rgb & 0xFF) / 255f;
                int at = offset + i * w + j;
                if (channels == 1) {
                    out[at] = 0.299f * r + 0.587f * gr + 0.114f * b;
                } else {
                    out[at] = r;
                    out[at + plane] = gr;
                    out[at + 2 * plane] = b;
                }
            }
        }
    }

    /** {@link #read(Path, Shape, float[], int)} into a new array. */
    public static float[] read(Path file, Shape sample) throws IOException {
        float[] out = new float[sample.size()];
        read(file, sample, out, 0);
        return out;
    }
}
