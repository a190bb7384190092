package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.cli.viz.ImageGrid;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.tensor.Shape;

/** {@code nn viz}: kernels, feature maps and the fixed filters of {@code examples/filters.nn}, as pictures. */
class VizCommandTest {
    @TempDir Path dir;

    /** Where tile {@code i} of a grid starts in a picture {@code width} wide (the grid is centred under the title). */
    private static int[] tileOrigin(int width, int i, int columns, int tile, boolean labels) {
        int gridW = columns * tile + (columns - 1) * ImageGrid.GAP;
        int left = ImageGrid.MARGIN + (width - 2 * ImageGrid.MARGIN - gridW) / 2;
        int cell = tile + (labels ? ImageGrid.LABEL_HEIGHT : 0);
        return new int[] {left + (i % columns) * (tile + ImageGrid.GAP), ImageGrid.MARGIN + ImageGrid.TITLE_HEIGHT + (i / columns) * (cell + ImageGrid.GAP)};
    }

    private static int height(int rows, int tile, boolean labels) {
        int cell = tile + (labels ? ImageGrid.LABEL_HEIGHT : 0);
        return ImageGrid.MARGIN + ImageGrid.TITLE_HEIGHT + rows * cell + (rows - 1) * ImageGrid.GAP + ImageGrid.MARGIN;
    }

    @Test void filtersDrawsEachKernelScaledFromItsMinimumToItsMaximum() throws Exception {
        Path script = dir.resolve("edge.nn");
        Files.writeString(script, "model Edge {\n    input x: [1, 8, 8]\n    output y = conv(2, kernel=3)\n}\n");
        // Filter 0 rises 0..8 row by row, filter 1 falls 8..0.
        float[] w = new float[18];
        for (int k = 0; k < 9; k++) {
            w[k] = k;
            w[9 + k] = 8 - k;
        }
        Path weights = dir.resolve("w.safetensors");
        SafeTensors.write(weights, List.of(new NamedTensor("y.weight", Shape.of(2, 1, 3, 3), w), new NamedTensor("y.bias", Shape.of(2), new float[2])),
                Map.of());
        Path png = dir.resolve("filters.png");
        CliRunner.Result r = CliRunner.run("viz", "filters", script.toString(), "--weights", weights.toString(), "-o", png.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals("Wrote " + png + ": 2 filters of [1, 3, 3] from y.weight\n", r.out());
        Pictures.assertNoControlCharacters(r.out());

        // 3x3 kernels are enlarged 32 times (96 pixels), two tiles in a row, each labelled.
        assertEquals(32, ImageGrid.scale(3, 3));
        BufferedImage image = ImageIO.read(png.toFile());
        Pictures.assertPicture(png, image.getWidth(), height(1, 96, true));
        assertTrue(image.getWidth() >= 2 * ImageGrid.MARGIN + 2 * 96 + ImageGrid.GAP, "wide enough for the grid");
        for (int f = 0; f < 2; f++) {
            int[] origin = tileOrigin(image.getWidth(), f, 2, 96, true);
            for (int r0 = 0; r0 < 3; r0++) {
                for (int c = 0; c < 3; c++) {
                    int k = 3 * r0 + c;
                    int expected = Math.round(255f * (f == 0 ? k : 8 - k) / 8);
                    int rgb = image.getRGB(origin[0] + 32 * c + 16, origin[1] + 32 * r0 + 16);
                    assertEquals(expected, rgb & 0xFF, "filter " + f + " tap (" + r0 + ", " + c + ")");
                    assertEquals(expected, (rgb >> 16) & 0xFF, "grey: red equals blue");
                }
            }
        }
    }

    @Test void filtersRefusesANodeWithoutKernels() throws Exception {
        CliRunner.Result r = CliRunner.run("viz", "filters", "../examples/lenet5.nn", "--layer", "f5", "-o", dir.resolve("x.png").toString());
        assertEquals(2, r.exit());
        assertEquals("nn: node 'f5' (dense) has no kernels [out, in, kh, kw] to draw\n", r.err());
    }

    /** A picture is PNG whatever -o says, so -o must say .png; a graph is DOT or SVG, so -o must say which. */
    @Test void outputNamesThatSayAnotherFormatAreRefusedBeforeAnythingIsWritten() throws Exception {
        Path jpg = dir.resolve("f.jpg");
        CliRunner.Result r = CliRunner.run("viz", "filters", "../examples/lenet5.nn", "-o", jpg.toString());
        assertEquals(2, r.exit());
        assertEquals("nn: -o must name a .png file (the picture is a PNG), got " + jpg + "\n", r.err());
        Path samples = dir.resolve("samples");
        r = CliRunner.run("viz", "samples", "../examples/lenet5.nn", "-o", samples.toString());
        assertEquals(2, r.exit());
        assertEquals("nn: -o must name a .png file (the picture is a PNG), got " + samples + "\n", r.err());
        Path png = dir.resolve("graph.png");
        r = CliRunner.run("graph", "../examples/lenet5.nn", "-o", png.toString());
        assertEquals(2, r.exit());
        assertEquals("nn: -o must name a .dot, .gv or .svg file, got " + png + "\n", r.err());
        assertFalse(Files.exists(jpg) || Files.exists(samples) || Files.exists(png));
    }

    /** A refused input leaves no empty folder behind, and a file named as the folder is refused by what it is. */
    @Test void featuresAndApplyMakeTheirFolderOnlyForPicturesTheyDraw() throws Exception {
        Path notAnImage = Files.writeString(dir.resolve("input.json"), "{}");
        for (String[] command : List.of(new String[] {"features", "../examples/lenet5.nn"}, new String[] {"apply", "../examples/filters.nn"})) {
            Path out = dir.resolve(command[0]);
            CliRunner.Result r = CliRunner.run("viz", command[0], command[1], "--input", notAnImage.toString(), "-o", out.toString());
            assertEquals(2, r.exit(), r.err());
            assertFalse(Files.exists(out), command[0] + " left " + out + " behind: " + r.err());
        }
        Path file = Files.writeString(dir.resolve("a-file"), "mine");
        CliRunner.Result r = CliRunner.run("viz", "features", "../examples/lenet5.nn", "--input", notAnImage.toString(), "-o", file.toString());
        assertEquals(2, r.exit());
        assertEquals("nn: -o " + file + " is a file; the pictures go into a folder: name a folder (it is made if missing)\n", r.err());
        assertEquals("mine", Files.readString(file));
    }

    @Test void featuresDrawsTheInputAndEveryNodeThatIsStillAnImage() throws Exception {
        // A 28x28 grey picture: black with a white square in the middle.
        BufferedImage input = new BufferedImage(28, 28, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = input.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(9, 9, 10, 10);
        g.dispose();
        Path img = dir.resolve("square.png");
        ImageIO.write(input, "png", img.toFile());
        Path out = dir.resolve("features");

        CliRunner.Result r = CliRunner.run("viz", "features", "../examples/lenet5.nn", "--input", img.toString(), "-o", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals("Wrote 7 pictures to " + out + ": 00_image.png, 01_c1.png, 02_c1.relu.png, 03_c1.maxpool.png, 04_c3.png, "
                + "05_c3.relu.png, 06_c3.maxpool.png\n", r.out());

        // The input as the model sees it: 28x28 enlarged 4 times, the square white on black.
        BufferedImage seen = ImageIO.read(out.resolve("00_image.png").toFile());
        Pictures.assertPicture(out.resolve("00_image.png"), seen.getWidth(), height(1, 112, false));
        int[] origin = tileOrigin(seen.getWidth(), 0, 1, 112, false);
        assertEquals(0xFFFFFF, seen.getRGB(origin[0] + 4 * 14, origin[1] + 4 * 14) & 0xFFFFFF, "inside the square");
        assertEquals(0x000000, seen.getRGB(origin[0] + 4 * 2, origin[1] + 4 * 2) & 0xFFFFFF, "outside it");
        // Six channels of 28x28 in a row; 6 of 14x14 (x7 = 98 pixels); 16 of 5x5 as a 4x4 grid (x20 = 100 pixels).
        for (String name : List.of("01_c1.png", "02_c1.relu.png")) {
            BufferedImage p = ImageIO.read(out.resolve(name).toFile());
            Pictures.assertPicture(out.resolve(name), p.getWidth(), height(1, 112, true));
            assertTrue(p.getWidth() >= 2 * ImageGrid.MARGIN + 6 * 112 + 5 * ImageGrid.GAP, name);
        }
        BufferedImage pooled = ImageIO.read(out.resolve("03_c1.maxpool.png").toFile());
        Pictures.assertPicture(out.resolve("03_c1.maxpool.png"), pooled.getWidth(), height(1, 98, true));
        for (String name : List.of("04_c3.png", "05_c3.relu.png")) {
            BufferedImage p = ImageIO.read(out.resolve(name).toFile());
            Pictures.assertPicture(out.resolve(name), p.getWidth(), height(4, 100, true));    // 10x10 maps: scale 10
        }
        BufferedImage last = ImageIO.read(out.resolve("06_c3.maxpool.png").toFile());
        Pictures.assertPicture(out.resolve("06_c3.maxpool.png"), last.getWidth(), height(4, 100, true));
    }

    @Test void theFiltersExampleBlursFindsEdgesAndSharpensExactlyAsTheConvolutionSays() throws Exception {
        Path input = Path.of("../examples/images/test_pattern.png");
        Path out = dir.resolve("filtered");
        CliRunner.Result r = CliRunner.run("viz", "apply", "../examples/filters.nn", "--input", input.toString(), "-o", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals("Wrote lowpass.png, laplace.png, highpass.png to " + out + "\n", r.out());

        double[][] x = pixels(ImageIO.read(input.toFile()).getRaster());
        int h = x.length;
        int w = x[0].length;
        double[][] box = {{1 / 9.0, 1 / 9.0, 1 / 9.0}, {1 / 9.0, 1 / 9.0, 1 / 9.0}, {1 / 9.0, 1 / 9.0, 1 / 9.0}};
        double[][] laplace = {{0, 1, 0}, {1, -4, 1}, {0, 1, 0}};
        double[][] sharpen = {{0, -1, 0}, {-1, 5, -1}, {0, -1, 0}};
        double[][] blurred = check(out.resolve("lowpass.png"), x, box);
        double[][] edges = check(out.resolve("laplace.png"), x, laplace);
        double[][] sharp = check(out.resolve("highpass.png"), x, sharpen);

        // Blurring lowers the variance, sharpening raises it.
        assertTrue(variance(blurred) < variance(x), "blurred variance " + variance(blurred) + " vs input " + variance(x));
        assertTrue(variance(sharp) > variance(x), "sharpened variance " + variance(sharp) + " vs input " + variance(x));
        // The Laplace image is black wherever the input is flat, and not black everywhere.
        int flat = 0;
        int lit = 0;
        for (int i = 1; i < h - 1; i++) {
            for (int j = 1; j < w - 1; j++) {
                if (edges[i][j] > 0) lit++;
                if (!isFlat(x, i, j)) continue;
                flat++;
                assertEquals(0, edges[i][j], "Laplace at flat pixel (" + i + ", " + j + ")");
            }
        }
        assertTrue(flat > 5000, flat + " flat pixels: the pattern is mostly flat regions");
        assertTrue(lit > 300, lit + " edge pixels lit");
    }

    /** The PNG has the input's size and each pixel is the clamped convolution of the input, within one grey level. */
    private static double[][] check(Path png, double[][] x, double[][] kernel) throws Exception {
        int h = x.length;
        int w = x[0].length;
        Pictures.assertPicture(png, w, h);
        double[][] got = pixels(ImageIO.read(png.toFile()).getRaster());
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                double sum = 0;
                for (int di = -1; di <= 1; di++) {
                    for (int dj = -1; dj <= 1; dj++) {
                        int a = i + di;
                        int b = j + dj;
                        if (a >= 0 && a < h && b >= 0 && b < w) sum += kernel[di + 1][dj + 1] * x[a][b];    // zero padding
                    }
                }
                double expected = Math.round(255 * Math.max(0, Math.min(1, sum)));
                assertEquals(expected, 255 * got[i][j], 1.0, png.getFileName() + " at (" + i + ", " + j + ")");
            }
        }
        return got;
    }

    /** A grey PNG's stored levels scaled to [0, 1], as the model reads them. */
    private static double[][] pixels(Raster raster) {
        double[][] v = new double[raster.getHeight()][raster.getWidth()];
        for (int i = 0; i < v.length; i++) for (int j = 0; j < v[0].length; j++) v[i][j] = raster.getSample(j, i, 0) / 255.0;
        return v;
    }

    private static boolean isFlat(double[][] x, int i, int j) {
        for (int di = -1; di <= 1; di++) for (int dj = -1; dj <= 1; dj++) if (x[i + di][j + dj] != x[i][j]) return false;
        return true;
    }

    private static double variance(double[][] v) {
        double sum = 0;
        double sumSq = 0;
        int n = 0;
        for (double[] row : v) {
            for (double a : row) {
                sum += a;
                sumSq += a * a;
                n++;
            }
        }
        return sumSq / n - (sum / n) * (sum / n);
    }
}
