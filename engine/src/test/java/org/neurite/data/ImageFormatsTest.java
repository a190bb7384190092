package org.neurite.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.tensor.Shape;

/**
 * Picture formats beyond PNG and JPEG: WebP through the TwelveMonkeys plug-in (the JDK has no
 * WebP reader; the fixture is lossless, made by {@code tools/fixtures/images/make_webp_fixture.py}),
 * and BMP, GIF and TIFF written by ImageIO itself, all found in an image folder by their endings.
 */
class ImageFormatsTest {
    /** The fixture's pixels, row by row, as the script that made it lists them. */
    private static final int[][] PIXELS = {
            {0xFF0000, 0x00FF00, 0x0000FF, 0xFFFFFF},
            {0x000000, 0x804020, 0x0AC85A, 0x4D4D4D},
    };

    @TempDir Path dir;

    private Path webp(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        try (InputStream in = ImageFormatsTest.class.getResourceAsStream("/fixtures/images/eight-colours.webp")) {
            Files.copy(in, file);
        }
        return file;
    }

    @Test void aLosslessWebPReadsBackEveryPixelExactly() throws IOException {
        Path file = webp(dir.resolve("eight-colours.webp"));
        assertTrue(ImageFiles.isImage(file));
        float[] x = ImageFiles.read(file, Shape.of(3, 2, 4));
        float[] expected = new float[24];
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 4; j++) {
                int rgb = PIXELS[i][j];
                expected[i * 4 + j] = ((rgb >> 16) & 0xFF) / 255f;
                expected[8 + i * 4 + j] = ((rgb >> 8) & 0xFF) / 255f;
                expected[16 + i * 4 + j] = (rgb & 0xFF) / 255f;
            }
        }
        assertArrayEquals(expected, x, 0f);
    }

    @Test void anImageFolderTakesBmpGifTiffAndWebPAlongsidePng() throws IOException {
        Path root = dir.resolve("photos");
        webp(root.resolve("mixed/a.webp"));
        for (String format : List.of("bmp", "gif", "tiff", "png")) {
            BufferedImage image = new BufferedImage(6, 6, BufferedImage.TYPE_INT_RGB);
            var g = image.createGraphics();
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, 6, 6);
            g.dispose();
            Path file = root.resolve("white/w." + (format.equals("tiff") ? "tif" : format));
            Files.createDirectories(file.getParent());
            assertTrue(ImageIO.write(image, format, file.toFile()), "an ImageIO writer for " + format);
        }
        Files.writeString(root.resolve("white/notes.txt"), "not a picture: ignored");
        assertFalse(ImageFiles.isImage(root.resolve("white/notes.txt")));
        Dataset d = ImageFolder.load(root, Shape.of(1, 4, 4), ImageFolder.classNames(root), "training");
        assertEquals(5, d.size(), "one WebP and four white pictures");
        assertEquals(List.of(0, 1, 1, 1, 1), List.of(d.label(0), d.label(1), d.label(2), d.label(3), d.label(4)));
        for (int s = 1; s < 5; s++) {
            for (int k = 0; k < 16; k++) assertEquals(1f, d.features()[s * 16 + k], 1e-6f, "white sample " + s);
        }
    }

    /** A file with a picture's ending that no reader decodes is refused without implying its format is not read. */
    @Test void aWebPThatDoesNotDecodeIsNotCalledNotAPngOrJpeg() throws IOException {
        Path file = dir.resolve("photos/cat/broken.webp");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "not a picture at all");
        assertTrue(ImageFiles.isImage(file), "a .webp ending is a picture's");
        org.neurite.io.FileFormatException e = org.junit.jupiter.api.Assertions.assertThrows(
                org.neurite.io.FileFormatException.class, () -> ImageFiles.read(file, Shape.of(1, 2, 2)));
        assertEquals(file + ": not a PNG, JPEG, BMP, GIF, TIFF or WebP picture", e.getMessage());
    }

    /** ImageIO's PNG reader wraps an OutOfMemoryError in an IIOException; it is a shortage of heap, not a bad picture. */
    @Test void aPictureTooLargeForTheHeapIsNotCalledUndecodable() {
        java.nio.file.Path file = java.nio.file.Path.of("photos/cat/huge.png");
        javax.imageio.IIOException wrapped = new javax.imageio.IIOException("Caught exception during read: ",
                new OutOfMemoryError("Java heap space"));
        OutOfMemoryError oom = org.junit.jupiter.api.Assertions.assertThrows(OutOfMemoryError.class,
                () -> ImageFiles.decodeFailure(file, wrapped));
        org.junit.jupiter.api.Assertions.assertEquals("Java heap space while decoding " + file, oom.getMessage());
        org.junit.jupiter.api.Assertions.assertEquals(file + ": cannot decode image (Error reading PNG image data)",
                ImageFiles.decodeFailure(file, new javax.imageio.IIOException("Error reading PNG image data")).getMessage());
    }
}
