package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;

/**
 * PyTorch models saved as safetensors (tools/fixtures/interop/make_interop_fixtures.py) load into
 * their twin .nn scripts by name, and {@code nn predict} reproduces PyTorch's outputs.
 */
class InteropTest {
    private static final Path FIXTURES = Path.of("src/test/resources/interop");

    @TempDir Path dir;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"cnn", "lstm"})
    void predictReproducesPyTorch(String model) throws Exception {
        Path out = dir.resolve(model + "_out.safetensors");
        CliRunner.Result r = CliRunner.run("predict", FIXTURES.resolve(model + ".nn").toString(),
                "--weights", FIXTURES.resolve(model + ".safetensors").toString(),
                "--input", FIXTURES.resolve(model + "_input.safetensors").toString(), "--output", out.toString());
        assertEquals(0, r.exit(), r.err());
        NamedTensor expected = SafeTensors.read(FIXTURES.resolve(model + "_expected.safetensors")).get("y");
        NamedTensor actual = SafeTensors.read(out).get("y");
        assertEquals(expected.shape(), actual.shape());
        for (int i = 0; i < expected.data().length; i++) {
            float e = expected.data()[i];
            float a = actual.data()[i];
            assertTrue(Math.abs(a - e) <= 1e-5 * Math.abs(e) + 1e-6, model + " output " + i + ": PyTorch " + e + ", Neurite " + a);
        }
    }

    @Test
    void jsonOutputHasClassesAndProbabilities() throws Exception {
        Path out = dir.resolve("cnn.json");
        CliRunner.Result r = CliRunner.run("predict", FIXTURES.resolve("cnn.nn").toString(),
                "--weights", FIXTURES.resolve("cnn.safetensors").toString(),
                "--input", FIXTURES.resolve("cnn_input.safetensors").toString(), "--output", out.toString());
        assertEquals(0, r.exit(), r.err());
        JsonNode rows = new ObjectMapper().readTree(out.toFile());
        assertEquals(5, rows.size());
        float[] y = SafeTensors.read(FIXTURES.resolve("cnn_expected.safetensors")).get("y").data();
        for (int i = 0; i < 5; i++) {
            int best = 0;
            for (int c = 1; c < 3; c++) if (y[i * 3 + c] > y[i * 3 + best]) best = c;
            assertEquals(best, rows.get(i).get("class").asInt(), "row " + i);
            double sum = 0;
            for (JsonNode p : rows.get(i).get("probabilities")) sum += p.asDouble();
            assertEquals(1.0, sum, 1e-5);
        }
    }

    @Test
    void inputOfTheWrongShapeIsBadInput() {
        CliRunner.Result r = CliRunner.run("predict", FIXTURES.resolve("lstm.nn").toString(),
                "--weights", FIXTURES.resolve("lstm.safetensors").toString(),
                "--input", FIXTURES.resolve("cnn_input.safetensors").toString());
        assertEquals(2, r.exit());
        assertEquals("nn: " + FIXTURES.resolve("cnn_input.safetensors") + ": tensor 'x' is [5, 1, 12, 12] but the model takes [7, 5] or [N, 7, 5]\n",
                r.err());
    }

    @Test
    void pytorchWeightsCanStartTraining() throws Exception {
        // --init loads a state_dict before training; one epoch on 64 samples must run from it.
        Path script = dir.resolve("lenet_init.nn");
        java.nio.file.Files.writeString(script, java.nio.file.Files.readString(Path.of("../examples/lenet5.nn")));
        Path first = dir.resolve("first");
        assertEquals(0, CliRunner.run("train", script.toString(), "--epochs", "1", "--limit", "64", "--out", first.toString()).exit());
        CliRunner.Result r = CliRunner.run("train", script.toString(), "--epochs", "1", "--limit", "64", "--init",
                first.resolve("model.safetensors").toString(), "--out", dir.resolve("second").toString());
        assertEquals(0, r.exit(), r.err());
    }
}
