package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code nn train} shows and keeps for a train section with a validation split, early
 * stopping and {@code keep = best}: the split sizes in the header, the validation figures on
 * every epoch line and in {@code metrics.jsonl}, the kept epoch in the result line, the test
 * split's per-class metrics of the kept weights in {@code evaluation.json} (the same figures
 * {@code nn eval --json} computes from {@code model.safetensors}) and both in {@code nn report}.
 */
class ValidationOutputTest {
    static final String SCRIPT = """
            model Tiny {
                input image: [1, 28, 28]
                h = flatten -> dense(32) -> relu
                output logits = dense(10)
            }
            train Tiny {
                data = fashion_mnist
                loss = softmax_cross_entropy
                optimizer = adamw(lr=0.01)
                schedule = cosine(warmup=1)
                batch = 32
                epochs = 6
                seed = 2
                validation = 0.25
                early_stopping = patience(2, metric="val_accuracy")
                keep = best(metric="val_accuracy")
            }
            """;

    @TempDir Path dir;

    @Test void validationFiguresTheKeptEpochAndPerClassMetricsReachEveryOutput() throws Exception {
        Path script = Files.writeString(dir.resolve("tiny.nn"), SCRIPT);
        Path out = dir.resolve("run");
        CliRunner.Result r = CliRunner.run("train", script.toString(), "--limit", "256", "--threads", "2", "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(0).startsWith("Training Tiny on fashion_mnist (192 train / 64 validation / 10,000 test samples) with adamw, "
                + "lr schedule cosine(min_lr=0, warmup=1), batch 32, 6 epochs, "), lines.get(0));
        assertTrue(lines.get(0).contains(", early stopping on val_accuracy (patience 2), keeping the best val_accuracy; results in "),
                lines.get(0));
        assertTrue(lines.get(1).matches("epoch  1/6  loss .*  \\|  val loss \\d\\.\\d{4}  val acc +\\d+\\.\\d\\d%  \\|  test loss .*"
                + "  \\|  lr 0\\.005  \\(kept\\)"), r.out());

        ObjectMapper json = new ObjectMapper();
        List<JsonNode> records = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) records.add(json.readTree(line));
        // Which epoch is best, and whether the patience ran out, from the figures themselves.
        int best = 1;
        int stop = 0;
        for (JsonNode rec : records) {
            int e = rec.get("epoch").asInt();
            if (rec.get("val_accuracy").asDouble() > records.get(best - 1).get("val_accuracy").asDouble()) best = e;
            else if (e - best >= 2 && e < 6 && stop == 0) stop = e;   // at the last epoch the run ends anyway
            assertTrue(rec.has("test_top5") && rec.has("val_top5"), rec.toString());
        }
        assertEquals(stop == 0 ? 6 : stop, records.size());
        String done = lines.stream().filter(l -> l.startsWith("Done in ")).findFirst().orElseThrow();
        assertTrue(done.contains(": kept epoch " + best + " (best val_accuracy), test accuracy "), done);
        assertEquals(stop != 0, r.out().contains("Stopped early after epoch " + stop + ": val_accuracy has not improved for 2 epochs"),
                r.out());

        // evaluation.json: the kept weights on the test split, as nn eval measures model.safetensors.
        JsonNode kept = json.readTree(out.resolve("evaluation.json").toFile());
        assertEquals(best, kept.get("epoch").asInt());
        assertEquals(10, kept.get("classes").size());
        assertEquals("T-shirt/top", kept.get("classes").get(0).get("name").asText());
        assertEquals(records.get(best - 1).get("test_accuracy").asDouble(), kept.get("accuracy").asDouble(), 1e-12);
        CliRunner.Result eval = CliRunner.run("eval", script.toString(), "--weights", out.resolve("model.safetensors").toString(),
                "--threads", "2", "--batch", "32", "--json");
        assertEquals(0, eval.exit(), eval.err());
        JsonNode measured = json.readTree(eval.out());
        assertEquals("Tiny", measured.get("model").asText());
        for (String field : List.of("accuracy", "top5", "macro_f1")) {
            assertEquals(kept.get(field).asDouble(), measured.get(field).asDouble(), 1e-6, field);
        }
        for (int c = 0; c < 10; c++) {
            assertEquals(kept.get("classes").get(c).get("support").asLong(), measured.get("classes").get(c).get("support").asLong());
            assertEquals(kept.get("classes").get(c).get("f1").asDouble(), measured.get("classes").get(c).get("f1").asDouble(), 1e-6);
        }

        assertEquals(0, CliRunner.run("report", out.toString()).exit());
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("<h2>Per class (test split, epoch " + best + ")</h2>"), "per-class table");
        assertTrue(html.contains("<div class=\"label\">validation accuracy</div>") && html.contains("<th>val accuracy</th>"), "validation figures");
        assertTrue(html.contains("<td>" + best + " (kept)</td>"), "the kept epoch is marked");
        assertFalse(html.contains("NaN"), "no missing figure shows as NaN");
    }

    /**
     * A run that early stopping ended has nothing left to resume: {@code --resume} (even with more
     * {@code --epochs}) exits 2 saying why it stopped, and changes none of its files. It used to
     * train on past the stop, replacing the kept model, the checkpoint and the metrics.
     */
    @Test void resumingARunThatStoppedEarlyIsRefusedAndChangesNothing() throws Exception {
        // The classifier of EarlyStoppingAndKeepBestTest: on 48 images it memorises them within a
        // few epochs, and the loss on the 48 held out climbs.
        Path script = Files.writeString(dir.resolve("wide.nn"), """
                model Wide {
                    input image: [1, 28, 28]
                    h = flatten -> dense(128) -> relu
                    output logits = dense(10)
                }
                train Wide {
                    data = fashion_mnist
                    optimizer = adam(lr=0.01)
                    batch = 16
                    epochs = 30
                    seed = 5
                    validation = 0.5
                    early_stopping = patience(2, metric="val_loss")
                    keep = best(metric="val_loss")
                }
                """);
        Path out = dir.resolve("stopped");
        CliRunner.Result r = CliRunner.run("train", script.toString(), "--limit", "96", "--threads", "2", "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        String stopped = r.out().lines().filter(l -> l.startsWith("Stopped early after epoch ")).findFirst().orElseThrow(
                () -> new AssertionError("the run should stop early: " + r.out()));
        List<byte[]> before = new ArrayList<>();
        List<String> files = List.of("model.safetensors", "checkpoint.safetensors", "metrics.jsonl", "evaluation.json");
        for (String f : files) before.add(Files.readAllBytes(out.resolve(f)));

        for (String epochs : List.of("30", "40")) {
            CliRunner.Result resumed = CliRunner.run("train", script.toString(), "--resume", out.toString(), "--threads", "2",
                    "--epochs", epochs);
            assertEquals(2, resumed.exit(), resumed.out() + resumed.err());
            String why = stopped.substring("Stopped early after ".length());   // "epoch N: val_loss has not improved ..."
            assertTrue(resumed.err().contains("the run in " + out + " stopped early after " + why.replaceAll("\\.$", "")),
                    resumed.err());
            assertTrue(resumed.err().contains("nothing left to resume"), resumed.err());
            assertFalse(resumed.err().contains("Exception"), resumed.err());
            for (int i = 0; i < files.size(); i++) {
                assertTrue(Arrays.equals(before.get(i), Files.readAllBytes(out.resolve(files.get(i)))), files.get(i) + " unchanged");
            }
        }
    }
}
