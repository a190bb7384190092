package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.io.SafeTensors;

/** A short real training run through the command line, then evaluation of what it wrote. */
class TrainAndEvalCommandTest {
    @TempDir Path dir;

    @Test
    void trainWritesWeightsMetricsAndScriptThatEvalReadsBack() throws Exception {
        Path out = dir.resolve("run");
        CliRunner.Result train = CliRunner.run("train", "../examples/lenet5.nn", "--epochs", "2", "--limit", "1024",
                "--threads", "2", "--out", out.toString());
        assertEquals(0, train.exit(), train.err());
        assertTrue(train.out().contains("epoch  1/2"), train.out());
        assertTrue(train.out().contains("epoch  2/2"), train.out());

        // The weights are PyTorch-named safetensors with the run's metadata.
        SafeTensors.Contents weights = SafeTensors.read(out.resolve("model.safetensors"));
        assertEquals(List.of("c1.weight", "c1.bias", "c3.weight", "c3.bias", "f5.weight", "f5.bias", "f6.weight", "f6.bias",
                "logits.weight", "logits.bias"), weights.tensors().stream().map(t -> t.name()).toList());
        assertEquals("2", weights.metadata().get("neurite.epoch"));
        assertEquals("LeNet5", weights.metadata().get("neurite.model"));
        assertEquals(Session.sha256(Files.readString(Path.of("../examples/lenet5.nn"))), weights.metadata().get("neurite.script_sha256"));

        // One JSON line per epoch; 2 x ceil(1024 / 64) steps.
        List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
        assertEquals(2, lines.size());
        JsonNode second = new ObjectMapper().readTree(lines.get(1));
        assertEquals(2, second.get("epoch").asInt());
        assertEquals(32, second.get("step").asInt());
        double testAccuracy = second.get("test_accuracy").asDouble();
        // 1,024 images and 32 steps already beat chance (10%) by far on Fashion-MNIST.
        assertTrue(testAccuracy > 0.5, "test accuracy " + testAccuracy);
        assertEquals(Files.readString(Path.of("../examples/lenet5.nn")), Files.readString(out.resolve("model.nn")));

        CliRunner.Result eval = CliRunner.run("eval", "../examples/lenet5.nn", "--weights", out.resolve("model.safetensors").toString());
        assertEquals(0, eval.exit(), eval.err());
        String expected = String.format(java.util.Locale.ROOT, "accuracy %.2f%%", 100 * testAccuracy);
        assertTrue(eval.out().contains(expected), eval.out() + " should report " + expected);
    }

    @Test
    void evalRefusesWeightsOfAnotherModel() throws Exception {
        Path script = dir.resolve("other.nn");
        Files.writeString(script, "model Other {\n    input x: [1, 28, 28]\n    output y = flatten -> dense(10)\n}\n");
        Path out = dir.resolve("other");
        assertEquals(0, CliRunner.run("train", script.toString(), "--epochs", "1", "--limit", "64", "--out", out.toString()).exit());
        CliRunner.Result eval = CliRunner.run("eval", "../examples/lenet5.nn", "--weights", out.resolve("model.safetensors").toString());
        assertEquals(2, eval.exit());
        assertTrue(eval.err().startsWith("nn: " + out.resolve("model.safetensors") + " does not fit the model: missing 'c1.weight' [6, 1, 5, 5]"),
                eval.err());
    }

    @Test
    void badNumbersOnTheCommandLineAreUsageErrors() {
        CliRunner.Result r = CliRunner.run("train", "../examples/lenet5.nn", "--epochs", "0", "--out", dir.toString());
        assertEquals(2, r.exit());
        assertEquals("nn: --epochs must be at least 1, got 0\n", r.err());
    }
}
