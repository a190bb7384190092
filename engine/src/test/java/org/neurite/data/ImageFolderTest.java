package org.neurite.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.io.FileFormatException;
import org.neurite.tensor.Shape;

/**
 * Image folders as torchvision lays them out: pictures of several sizes and colour modes (grey,
 * RGB, RGB with alpha; PNG and JPEG) become [C, H, W] samples in [0, 1], labelled by their
 * sorted class folders; what is not a picture folder is refused with the path at fault.
 */
class ImageFolderTest {
    @TempDir Path dir;

    /** A solid picture of {@code color}, {@code w} x {@code h}, of the given BufferedImage type, written as png or jpg. */
    static Path picture(Path file, int w, int h, int type, Color color) throws IOException {
        Files.createDirectories(file.getParent());
        BufferedImage image = new BufferedImage(w, h, type);
        var g = image.createGraphics();
        g.setColor(color);
        g.fillRect(0, 0, w, h);
        g.dispose();
        String format = file.toString().endsWith(".png") ? "png" : "jpg";
        if (!ImageIO.write(image, format, file.toFile())) throw new IllegalStateException("no ImageIO writer for " + format);
        return file;
    }

    /** Three classes: red (2 PNGs of different sizes, one grey-typed is blue-free), green (a JPEG), blue (an ARGB PNG). */
    static Path threeClasses(Path root) throws IOException {
        picture(root.resolve("red/a.png"), 5, 7, BufferedImage.TYPE_INT_RGB, Color.RED);
        picture(root.resolve("red/b.PNG"), 30, 12, BufferedImage.TYPE_INT_RGB, Color.RED);
        picture(root.resolve("green/g.jpg"), 9, 9, BufferedImage.TYPE_INT_RGB, Color.GREEN);
        picture(root.resolve("blue/x.png"), 4, 4, BufferedImage.TYPE_INT_ARGB, Color.BLUE);
        Files.writeString(root.resolve("blue/readme.txt"), "not a picture: ignored");
        return root;
    }

    @Test void classesAreTheSortedSubfoldersAndEveryPictureIsASample() throws IOException {
        Path root = threeClasses(dir.resolve("train"));
        List<String> classes = ImageFolder.classNames(root);
        assertEquals(List.of("blue", "green", "red"), classes);
        Dataset d = ImageFolder.load(root, Shape.of(3, 4, 4), classes, "training");
        assertEquals(4, d.size());
        assertEquals(3, d.classes());
        assertEquals(classes, d.classNames());
        assertEquals(List.of(0, 1, 2, 2), List.of(d.label(0), d.label(1), d.label(2), d.label(3)));
        float[] x = d.features();
        // blue (ARGB, opaque), then green (JPEG: close to pure green), then two reds resized from other sizes
        assertArrayEquals(new float[] {0, 0, 1}, new float[] {x[0], x[16], x[32]}, "blue's channels");
        assertEquals(0f, x[48], 0.02f);
        assertEquals(1f, x[48 + 16], 0.02f);
        assertEquals(0f, x[48 + 32], 0.02f);
        for (int s = 2; s < 4; s++) {
            assertEquals(1f, x[s * 48], 0.01f, "red sample " + s);   // bilinear downscaling of a solid picture: ~1
            assertEquals(0f, x[s * 48 + 16], 0.01f);
            assertEquals(0f, x[s * 48 + 47], 0.01f);
        }
    }

    @Test void greyIsLumaOfTheColours() throws IOException {
        Path root = threeClasses(dir.resolve("train"));
        Dataset d = ImageFolder.load(root, Shape.of(1, 2, 3), ImageFolder.classNames(root), "training");
        assertEquals(Shape.of(1, 2, 3), d.sampleShape());
        assertEquals(0.114f, d.features()[0], 1e-6f);   // blue
        assertEquals(0.299f, d.features()[2 * 6], 1e-6f);   // red
    }

    @Test void whatIsNotAnImageFolderIsRefusedWithThePath() throws IOException {
        Files.createDirectories(dir.resolve("flat"));
        picture(dir.resolve("flat/a.png"), 2, 2, BufferedImage.TYPE_INT_RGB, Color.RED);
        FileFormatException flat = assertThrows(FileFormatException.class, () -> ImageFolder.classNames(dir.resolve("flat")));
        assertTrue(flat.getMessage().startsWith("image folder " + dir.resolve("flat") + " has no class folders"), flat.getMessage());

        assertEquals("image folder " + dir.resolve("missing") + " does not exist",
                assertThrows(FileFormatException.class, () -> ImageFolder.classNames(dir.resolve("missing"))).getMessage());
        assertEquals("image folder " + dir.resolve("flat/a.png") + " is a file, not a folder",
                assertThrows(FileFormatException.class, () -> ImageFolder.classNames(dir.resolve("flat/a.png"))).getMessage());

        Path root = threeClasses(dir.resolve("train"));
        Files.createDirectories(root.resolve("empty"));
        List<String> classes = ImageFolder.classNames(root);
        assertEquals("class folder " + root.resolve("empty") + " holds no pictures (PNG, JPEG, BMP, GIF, TIFF or WebP)",
                assertThrows(FileFormatException.class, () -> ImageFolder.load(root, Shape.of(3, 4, 4), classes, "training")).getMessage());

        Path broken = dir.resolve("broken");
        picture(broken.resolve("cat/ok.png"), 2, 2, BufferedImage.TYPE_INT_RGB, Color.RED);
        Files.writeString(broken.resolve("cat/bad.png"), "not a png at all");
        FileFormatException bad = assertThrows(FileFormatException.class,
                () -> ImageFolder.load(broken, Shape.of(1, 2, 2), ImageFolder.classNames(broken), "training"));
        assertTrue(bad.getMessage().startsWith(broken.resolve("cat/bad.png").toString()), bad.getMessage());
    }

    @Test void aTestFolderUsesTheTrainingClassesAndMayLackSome() throws IOException {
        Path train = threeClasses(dir.resolve("train"));
        List<String> classes = ImageFolder.classNames(train);
        picture(dir.resolve("test/red/t.png"), 3, 3, BufferedImage.TYPE_BYTE_GRAY, Color.WHITE);
        Dataset test = ImageFolder.load(dir.resolve("test"), Shape.of(3, 2, 2), classes, "test");
        assertEquals(1, test.size());
        assertEquals(2, test.label(0));
        assertEquals(3, test.classes());

        picture(dir.resolve("other/cat/t.png"), 3, 3, BufferedImage.TYPE_INT_RGB, Color.WHITE);
        assertEquals("the test image folder " + dir.resolve("other") + " has a class 'cat' that the training folder lacks (classes: blue, green, red)",
                assertThrows(FileFormatException.class, () -> ImageFolder.load(dir.resolve("other"), Shape.of(3, 2, 2), classes, "test"))
                        .getMessage());
    }

    @Test void hiddenFilesAreNotSamples() throws IOException {
        Path root = dir.resolve("mac");
        picture(root.resolve("cat/a.png"), 2, 2, BufferedImage.TYPE_INT_RGB, Color.RED);
        // What macOS writes beside a.png on a FAT or network disk: an AppleDouble resource fork, not a PNG.
        Files.write(root.resolve("cat/._a.png"), new byte[] {0, 5, 22, 7, 0, 2, 0, 0});
        Files.write(root.resolve("cat/.DS_Store"), new byte[] {0, 0, 0, 1, 'B', 'u', 'd', '1'});
        Dataset d = ImageFolder.load(root, Shape.of(1, 2, 2), ImageFolder.classNames(root), "training");
        assertEquals(1, d.size());
    }
}
