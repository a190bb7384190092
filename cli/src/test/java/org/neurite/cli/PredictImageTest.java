package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.tensor.Shape;

/** PNG and JPEG inputs become the model's [C, H, W] in [0, 1], resized to its input. */
class PredictImageTest {
    private static final Path FIXTURES = Path.of("src/test/resources/interop");

    @TempDir Path dir;

    @Test
    void aFlatGreyPngPredictsLikeTheSameValuesGivenAsATensor() throws Exception {
        // 24x24 RGB, every pixel (128, 128, 128): grey 128/255 whatever the resize to 12x12 does.
        BufferedImage image = new BufferedImage(24, 24, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 24; y++) for (int x = 0; x < 24; x++) image.setRGB(x, y, 0x808080);
        Path png = dir.resolve("grey.png");
        ImageIO.write(image, "png", png.toFile());
        float[] grey = new float[144];
        Arrays.fill(grey, 0.299f * 128 / 255 + 0.587f * 128 / 255 + 0.114f * 128 / 255);
        Path tensor = dir.resolve("grey.safetensors");
        SafeTensors.write(tensor, List.of(new NamedTensor("x", Shape.of(1, 1, 12, 12), grey)), Map.of());

        float[] fromPng = predict(png, dir.resolve("a.safetensors"));
        float[] fromTensor = predict(tensor, dir.resolve("b.safetensors"));
        assertEquals(3, fromPng.length);
        assertArrayEquals(fromTensor, fromPng, 1e-6f);
    }

    @Test
    void aFileThatIsNotAnImageIsBadInput() throws Exception {
        Path fake = dir.resolve("fake.png");
        java.nio.file.Files.writeString(fake, "not a picture");
        CliRunner.Result r = CliRunner.run("predict", FIXTURES.resolve("cnn.nn").toString(),
                "--weights", FIXTURES.resolve("cnn.safetensors").toString(), "--input", fake.toString());
        assertEquals(2, r.exit());
        assertEquals("nn: " + fake + ": not a PNG, JPEG, BMP, GIF, TIFF or WebP picture\n", r.err());
    }

    private float[] predict(Path input, Path output) throws Exception {
        CliRunner.Result r = CliRunner.run("predict", FIXTURES.resolve("cnn.nn").toString(),
                "--weights", FIXTURES.resolve("cnn.safetensors").toString(), "--input", input.toString(), "--output", output.toString());
        assertEquals(0, r.exit(), r.err());
        return SafeTensors.read(output).get("y").data();
    }
}
