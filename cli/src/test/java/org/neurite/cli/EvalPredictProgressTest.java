package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.tensor.Shape;

/**
 * {@code nn eval} and {@code nn predict} show a live bar on a terminal and nothing but their
 * results elsewhere; working through the data in chunks for the bar changes no number.
 */
class EvalPredictProgressTest {
    @TempDir static Path dir;
    static Path script;
    static Path weights;
    static double trainedTestAccuracy;

    @BeforeAll static void trainTiny() throws Exception {
        script = dir.resolve("tiny.nn");
        Files.writeString(script, TrainOutputTest.CLASSIFIER);
        Path run = dir.resolve("run");
        CliRunner.Result r = CliRunner.run("train", script.toString(), "--epochs", "1", "--limit", "256", "--threads", "2", "--out", run.toString());
        assertEquals(0, r.exit(), r.err());
        weights = run.resolve("model.safetensors");
        trainedTestAccuracy = new ObjectMapper().readTree(Files.readAllLines(run.resolve("metrics.jsonl")).get(0)).get("test_accuracy").asDouble();
    }

    private static CliRunner.Result withBar(Supplier<CliRunner.Result> command) {
        String before = System.getProperty(OutputMode.PROPERTY);
        System.setProperty(OutputMode.PROPERTY, "bar");
        try {
            return command.get();
        } finally {
            if (before == null) System.clearProperty(OutputMode.PROPERTY);
            else System.setProperty(OutputMode.PROPERTY, before);
        }
    }

    @Test void evalPrintsOnePlainLineOrABarThenTheSameLine() {
        CliRunner.Result plain = CliRunner.run("eval", script.toString(), "--weights", weights.toString(), "--threads", "2");
        assertEquals(0, plain.exit(), plain.err());
        Pictures.assertNoControlCharacters(plain.out());
        // The result line, then the per-class table: a header, ten classes and the macro average.
        List<String> lines = plain.out().lines().toList();
        assertEquals(13, lines.size(), plain.out());
        // The accuracy is the one training measured after its epoch, over the same ten thousand test images.
        assertTrue(lines.get(0).contains(String.format(Locale.ROOT, "accuracy %.2f%%", 100 * trainedTestAccuracy)), plain.out());
        assertTrue(lines.get(1).matches("class +precision +recall +f1 +support"), lines.get(1));
        assertTrue(lines.get(2).startsWith("T-shirt/top "), lines.get(2));
        assertTrue(lines.get(12).startsWith("macro average ") && lines.get(12).endsWith(" 10000"), lines.get(12));

        CliRunner.Result bar = withBar(() -> CliRunner.run("eval", script.toString(), "--weights", weights.toString(), "--threads", "2"));
        assertEquals(0, bar.exit(), bar.err());
        assertTrue(bar.out().contains("\reval 100% ") && bar.out().contains("10000/10000"), bar.out());
        String settled = bar.out().replaceAll("[^\n]*\r", "");
        assertEquals(plain.out(), settled);
    }

    @Test void predictOverManyInputsGivesTheSameOutputsBatchByBatch() throws Exception {
        // 600 random images: three batches of 256 with a bar, or one batch of 600.
        float[] x = new float[600 * 784];
        SplittableRandom random = new SplittableRandom(5);
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextDouble();
        Path inputs = dir.resolve("x.safetensors");
        SafeTensors.write(inputs, List.of(new NamedTensor("x", Shape.of(600, 1, 28, 28), x)), Map.of());
        Path batched = dir.resolve("batched.safetensors");
        Path whole = dir.resolve("whole.safetensors");

        CliRunner.Result bar = withBar(() -> CliRunner.run("predict", script.toString(), "--weights", weights.toString(), "--input", inputs.toString(),
                "--batch", "256", "--output", batched.toString()));
        assertEquals(0, bar.exit(), bar.err());
        assertTrue(bar.out().contains("\rpredict 100% ") && bar.out().contains("600/600"), bar.out());
        assertTrue(bar.out().endsWith("Wrote 600 predictions to " + batched + "\n"), bar.out());

        CliRunner.Result plain = CliRunner.run("predict", script.toString(), "--weights", weights.toString(), "--input", inputs.toString(),
                "--batch", "600", "--output", whole.toString());
        assertEquals(0, plain.exit(), plain.err());
        Pictures.assertNoControlCharacters(plain.out());
        assertEquals("Wrote 600 predictions to " + whole + "\n", plain.out());

        float[] a = SafeTensors.read(batched).get("y").data();
        float[] b = SafeTensors.read(whole).get("y").data();
        assertEquals(6000, a.length);
        assertArrayEquals(b, a, 1e-4f);
    }
}
