package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.cli.viz.ImageGrid;

/**
 * {@code nn viz samples}: training pictures drawn as the network sees them. Every picture of the
 * folder is black on its left half and white on its right; {@code flip(horizontal, p=1)} mirrors
 * every one, so every tile must show white on the left and black on the right. The picture has
 * the grid's size, is written atomically (nothing else is left in the folder), and an existing
 * file is kept unless {@code --overwrite}.
 */
class VizSamplesCommandTest {
    @TempDir Path dir;

    private Path script(String augment) throws IOException {
        for (String name : List.of("left", "right")) {
            for (int i = 0; i < 3; i++) {
                Path file = dir.resolve("photos/" + name + "/" + i + ".png");
                Files.createDirectories(file.getParent());
                BufferedImage image = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
                for (int r = 0; r < 8; r++) for (int c = 4; c < 8; c++) image.setRGB(c, r, 0xFFFFFF);
                ImageIO.write(image, "png", file.toFile());
            }
        }
        return Files.writeString(dir.resolve("halves.nn"), """
                model Halves {
                    input image: [1, 8, 8]
                    output logits = flatten -> dense(2)
                }
                train Halves {
                    data = images(folder="photos", size=[1, 8, 8], test="photos")
                    seed = 4
                    %s
                }
                """.formatted(augment));
    }

    @Test void drawsEveryRequestedSampleFlippedAsTrainingFlipsIt() throws Exception {
        Path script = script("augment = [flip(horizontal, p=1)]");
        Path out = dir.resolve("pictures/samples.png");
        Files.createDirectories(out.getParent());
        CliRunner.Result r = CliRunner.run("viz", "samples", script.toString(), "-o", out.toString(), "--count", "4", "--epoch", "2");
        assertEquals(0, r.exit(), r.err());
        assertEquals("Wrote " + out + ": 4 samples of epoch 2, augmented\n", r.out());

        // 8 x 8 pictures are enlarged 12 times (96 pixels); 4 tiles in one labelled row.
        BufferedImage image = ImageIO.read(out.toFile());
        int tile = 96;
        int cell = tile + ImageGrid.LABEL_HEIGHT;
        Pictures.assertPicture(out, image.getWidth(), ImageGrid.MARGIN + ImageGrid.TITLE_HEIGHT + cell + ImageGrid.MARGIN);
        int gridW = 4 * tile + 3 * ImageGrid.GAP;
        assertTrue(image.getWidth() >= 2 * ImageGrid.MARGIN + gridW);
        int left = ImageGrid.MARGIN + (image.getWidth() - 2 * ImageGrid.MARGIN - gridW) / 2;
        int top = ImageGrid.MARGIN + ImageGrid.TITLE_HEIGHT;
        for (int t = 0; t < 4; t++) {
            int x = left + t * (tile + ImageGrid.GAP);
            assertEquals(0xFFFFFF, image.getRGB(x + 20, top + 40) & 0xFFFFFF, "tile " + t + ": the white half is now on the left");
            assertEquals(0x000000, image.getRGB(x + tile - 20, top + 40) & 0xFFFFFF, "tile " + t + ": the black half on the right");
        }
        try (Stream<Path> files = Files.list(out.getParent())) {
            assertEquals(List.of(out), files.toList(), "no temporary file left beside the picture");
        }
    }

    @Test void keepsAnExistingPictureUnlessToldToOverwrite() throws Exception {
        Path script = script("augment = [rotate(degrees=10)]");
        Path out = dir.resolve("samples.png");
        Files.writeString(out, "keep me");
        CliRunner.Result refused = CliRunner.run("viz", "samples", script.toString(), "-o", out.toString());
        assertEquals(2, refused.exit());
        assertEquals("nn: " + out + " already exists; choose another -o, or add --overwrite to replace it\n", refused.err());
        assertEquals("keep me", Files.readString(out));

        CliRunner.Result replaced = CliRunner.run("viz", "samples", script.toString(), "-o", out.toString(), "--overwrite");
        assertEquals(0, replaced.exit(), replaced.err());
        assertEquals("Wrote " + out + ": 6 samples of epoch 1, augmented\n", replaced.out(), "all 6 pictures: fewer than --count 16");
        assertTrue(ImageIO.read(out.toFile()).getWidth() > 0);
    }

    @Test void refusesAModelThatDoesNotTakeImages() throws Exception {
        Path script = Files.writeString(dir.resolve("flat.nn"), "model Flat {\n    input x: [4]\n    output y = dense(2)\n}\n");
        CliRunner.Result r = CliRunner.run("viz", "samples", script.toString(), "-o", dir.resolve("s.png").toString());
        assertEquals(2, r.exit());
        assertEquals("nn: model Flat takes [4], not images [1 or 3, height, width]; there are no pictures to draw\n", r.err());
    }
}
