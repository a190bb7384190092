package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code --batch} larger than the data is the whole data, one step an epoch (PyTorch's
 * DataLoader makes the same single batch), up to {@code Integer.MAX_VALUE}: host buffers are
 * sized for the batches actually loaded, never batch × sample size (which overflowed int).
 */
class BatchLargerThanDataTest {
    @TempDir Path dir;

    private Path script() throws Exception {
        Path script = dir.resolve("tiny.nn");
        Files.writeString(script, "model Tiny {\n    input x: [1, 28, 28]\n    output y = flatten -> dense(10)\n}\n");
        return script;
    }

    private JsonNode train(Path script, String batch) throws Exception {
        Path out = dir.resolve("run-" + batch);
        CliRunner.Result r = CliRunner.run("train", script.toString(), "--epochs", "1", "--limit", "100", "--batch", batch,
                "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        return new ObjectMapper().readTree(Files.readAllLines(out.resolve("metrics.jsonl")).get(0));
    }

    @Test void trainingTakesTheWholeSetAsOneBatch() throws Exception {
        Path script = script();
        JsonNode whole = train(script, "100");
        for (String batch : new String[] {"5000000", "1073741824", String.valueOf(Integer.MAX_VALUE)}) {
            JsonNode line = train(script, batch);
            assertEquals(1, line.get("step").asInt(), batch + ": " + line);
            assertEquals(whole.get("train_loss").asDouble(), line.get("train_loss").asDouble(), 0.0, batch + ": " + line);
            assertEquals(whole.get("test_accuracy").asDouble(), line.get("test_accuracy").asDouble(), 0.0, batch + ": " + line);
        }
    }

    @Test void evaluationTakesTheWholeSetAsOneBatch() throws Exception {
        Path script = script();
        train(script, "100");
        String weights = dir.resolve("run-100").resolve("model.safetensors").toString();
        CliRunner.Result usual = CliRunner.run("eval", script.toString(), "--weights", weights);
        assertEquals(0, usual.exit(), usual.err());
        for (String batch : new String[] {"5000000", String.valueOf(Integer.MAX_VALUE)}) {
            CliRunner.Result r = CliRunner.run("eval", script.toString(), "--weights", weights, "--batch", batch);
            assertEquals(0, r.exit(), batch + ": " + r.err());
            assertTrue(r.out().contains("accuracy"), r.out());
            assertEquals(usual.out(), r.out(), batch);
        }
    }
}
