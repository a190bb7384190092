package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A user's own data through the command line: a folder of pictures (three classes, PNG and JPEG,
 * sizes and colour modes mixed) and a CSV table each train for a few steps, and `nn predict`
 * answers with the class names the data gave.
 */
class UserDataCommandTest {
    @TempDir Path dir;

    /** A noisy picture whose dominant colour is {@code color}. */
    private static void picture(Path file, int w, int h, int type, Color color, SplittableRandom random) throws IOException {
        Files.createDirectories(file.getParent());
        BufferedImage image = new BufferedImage(w, h, type);
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                int noise = random.nextInt(60);
                int r = Math.max(0, color.getRed() - noise), g = Math.max(0, color.getGreen() - noise), b = Math.max(0, color.getBlue() - noise);
                image.setRGB(j, i, new Color(r, g, b).getRGB());
            }
        }
        ImageIO.write(image, file.toString().endsWith(".png") ? "png" : "jpg", file.toFile());
    }

    @Test
    void aFolderOfPicturesTrainsAndPredictsWithItsClassNames() throws Exception {
        SplittableRandom random = new SplittableRandom(3);
        Color[] colors = {new Color(220, 30, 30), new Color(30, 200, 40), new Color(40, 60, 230)};
        String[] names = {"poppy", "fern", "sky"};
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < 12; i++) {
                boolean png = i % 3 != 0;
                int type = i % 4 == 1 ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB;
                picture(dir.resolve("photos/" + names[c] + "/" + i + (png ? ".png" : ".jpg")), 10 + i, 14 + 2 * i, type, colors[c], random);
            }
        }
        Path script = Files.writeString(dir.resolve("colours.nn"), """
                model Colours {
                    input image: [3, 8, 8]
                    output logits = flatten -> dense(3)
                }

                train Colours {
                    data = images(folder="photos", size=[3, 8, 8], test_fraction=0.25)
                    loss = softmax_cross_entropy
                    optimizer = sgd(lr=0.1, momentum=0.9); batch = 9; epochs = 8
                }
                """);
        Path out = dir.resolve("run");
        CliRunner.Result train = CliRunner.run("train", script.toString(), "--threads", "1", "--out", out.toString());
        assertEquals(0, train.exit(), train.err());
        assertTrue(train.out().contains("epoch  8/8"), train.out());

        Path sky = dir.resolve("query.png");
        picture(sky, 20, 20, BufferedImage.TYPE_INT_RGB, colors[2], random);
        CliRunner.Result predict = CliRunner.run("predict", script.toString(), "--weights", out.resolve("model.safetensors").toString(),
                "--input", sky.toString());
        assertEquals(0, predict.exit(), predict.err());
        assertTrue(predict.out().startsWith("0: class 2 sky (p="), predict.out());   // classes: fern, poppy, sky
    }

    @Test
    void aCsvTableTrainsAndPredictsItsNamedClasses() throws Exception {
        SplittableRandom random = new SplittableRandom(5);
        StringBuilder csv = new StringBuilder("width,kind,height\n");
        for (int i = 0; i < 60; i++) {
            boolean tall = i % 2 == 0;
            csv.append(String.format(java.util.Locale.ROOT, "%.3f,%s,%.3f%n", random.nextDouble(), tall ? "tall" : "wide",
                    tall ? 2 + random.nextDouble() : random.nextDouble()));
        }
        Files.writeString(dir.resolve("shapes.csv"), csv);
        Path script = Files.writeString(dir.resolve("shapes.nn"), """
                model Shapes {
                    input row: [2]
                    output logits = dense(2)
                }

                train Shapes {
                    data = csv(file="shapes.csv", label="kind")
                    loss = softmax_cross_entropy
                    optimizer = sgd(lr=0.1, momentum=0.9); batch = 8; epochs = 10
                }
                """);
        Path out = dir.resolve("run");
        CliRunner.Result train = CliRunner.run("train", script.toString(), "--threads", "1", "--out", out.toString());
        assertEquals(0, train.exit(), train.err());
        // the held-out 10% (6 rows) is the test split
        assertTrue(train.out().contains("test acc"), train.out());

        // one row: width 0.5, height 2.5 — tall
        Path query = dir.resolve("row.safetensors");
        org.neurite.io.SafeTensors.write(query, java.util.List.of(new org.neurite.io.NamedTensor("x",
                org.neurite.tensor.Shape.of(1, 2), new float[] {0.5f, 2.5f})), java.util.Map.of());
        CliRunner.Result predict = CliRunner.run("predict", script.toString(), "--weights", out.resolve("model.safetensors").toString(),
                "--input", query.toString());
        assertEquals(0, predict.exit(), predict.err());
        assertTrue(predict.out().startsWith("0: class 0 tall (p="), predict.out());

        Files.writeString(dir.resolve("shapes.csv"), "width,kind,height\n0.1,tall,oops\n");
        CliRunner.Result bad = CliRunner.run("train", script.toString(), "--out", dir.resolve("bad").toString());
        assertEquals(2, bad.exit());
        assertTrue(bad.err().contains("shapes.csv:2, column 'height': 'oops' is not a finite number"), bad.err());
    }

    /**
     * {@code --data} says where a dataset named in the train section lies; a script whose data is
     * a source call (a table here) would silently ignore it, so it is refused before anything runs
     * or is written, in train and eval alike.
     */
    @Test
    void dataFolderRefusedWhereTheScriptReadsItsOwnData() throws Exception {
        Files.writeString(dir.resolve("shapes.csv"), "width,kind,height\n0.1,tall,2.0\n0.9,wide,0.2\n0.2,tall,2.5\n0.8,wide,0.1\n");
        Path script = Files.writeString(dir.resolve("shapes.nn"), """
                model Shapes {
                    input row: [2]
                    output logits = dense(2)
                }

                train Shapes {
                    data = csv(file="shapes.csv", label="kind", test_fraction=0.25)
                    batch = 2; epochs = 1
                }
                """);
        Path out = dir.resolve("run");
        CliRunner.Result train = CliRunner.run("train", script.toString(), "--data", dir.resolve("idx").toString(), "--out", out.toString());
        assertEquals(2, train.exit(), train.err());
        assertTrue(train.err().contains("Shapes's train section reads csv(...), which finds its own data: leave --data out"), train.err());
        assertTrue(!Files.exists(out), "no run folder for a refused run");

        CliRunner.Result ok = CliRunner.run("train", script.toString(), "--threads", "1", "--out", out.toString());
        assertEquals(0, ok.exit(), ok.err());
        CliRunner.Result eval = CliRunner.run("eval", script.toString(), "--weights", out.resolve("model.safetensors").toString(),
                "--data", dir.resolve("idx").toString());
        assertEquals(2, eval.exit(), eval.err());
        assertTrue(eval.err().contains("leave --data out"), eval.err());
    }

    /** A model that does not fit the data is refused at the script line at fault, inside a block too. */
    @Test
    void aModelThatDoesNotFitTheDataIsRefusedAtItsLine() throws Exception {
        Files.writeString(dir.resolve("shapes.csv"), "width,kind,height\n0.1,tall,2.0\n0.9,wide,0.2\n0.2,tall,2.5\n0.8,wide,0.1\n");
        String train = "train Shapes {\n    data = csv(file=\"shapes.csv\", label=\"kind\", test_fraction=0.25)\n    batch = 2\n}\n";
        Path narrow = Files.writeString(dir.resolve("narrow.nn"), """
                block head(n)(x) {
                    return x -> dense(n)
                }

                model Shapes {
                    input row: [2]
                    output logits = head(1)
                }

                """ + train);
        Path out = dir.resolve("run");
        CliRunner.Result r = CliRunner.run("train", narrow.toString(), "--out", out.toString());
        assertEquals(2, r.exit(), r.err());
        assertEquals(narrow + ":2:17: error: model output 'logits' [1] cannot score 2 classes of shapes.csv\n"
                + "        return x -> dense(n)\n"
                + "                    ^~~~~~~~\n"
                + narrow + ":7:21: note: in block called from here\n"
                + "        output logits = head(1)\n"
                + "                        ^~~~~~~\n", r.err());

        Path wide = Files.writeString(dir.resolve("wide.nn"), """
                model Shapes {
                    input row: [3]
                    output logits = dense(2)
                }

                """ + train);
        r = CliRunner.run("train", wide.toString(), "--out", out.toString());
        assertEquals(2, r.exit(), r.err());
        assertEquals(wide + ":2:5: error: model input 'row' is [3] but the samples of shapes.csv are [2]\n"
                + "        input row: [3]\n"
                + "        ^~~~~~~~~~~~~~\n", r.err());
        assertTrue(!Files.exists(out), "no run folder for a refused run");
    }
}
