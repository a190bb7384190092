package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code nn report RUN_DIR}: one page per run that refers only to files that exist. */
class ReportCommandTest {
    private static final Pattern REFERENCE = Pattern.compile("\\b(?:src|href)=\"([^\"]*)\"");

    @TempDir static Path dir;
    static Path classifierRun;
    static Path regressionRun;

    @BeforeAll static void trainTwoRuns() throws Exception {
        Path classifier = dir.resolve("tiny.nn");
        Files.writeString(classifier, TrainOutputTest.CLASSIFIER);
        classifierRun = dir.resolve("tiny run");    // a space, so paths in the page and command need care
        CliRunner.Result a = CliRunner.run("train", classifier.toString(), "--limit", "256", "--threads", "2", "--out", classifierRun.toString());
        assertEquals(0, a.exit(), a.err());
        Path recurrent = dir.resolve("adder.nn");
        Files.writeString(recurrent, TrainOutputTest.RECURRENT);
        regressionRun = dir.resolve("adder");
        CliRunner.Result b = CliRunner.run("train", recurrent.toString(), "--grad-norms", "--threads", "2", "--out", regressionRun.toString());
        assertEquals(0, b.exit(), b.err());
    }

    /** Every src and href of the page, in order. */
    private static List<String> references(String html) {
        List<String> refs = new ArrayList<>();
        Matcher m = REFERENCE.matcher(html);
        while (m.find()) refs.add(m.group(1));
        return refs;
    }

    @Test void aClassifiersPageShowsItsPlotsMetricsGraphSummaryAndHowToRepeatTheRun() throws Exception {
        CliRunner.Result r = CliRunner.run("report", classifierRun.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals("Wrote " + classifierRun.resolve("report.html") + "\n", r.out());
        String html = Files.readString(classifierRun.resolve("report.html"));

        List<String> refs = references(html);
        assertEquals(List.of("loss.png", "accuracy.png", "confusion.png"), refs.stream().filter(s -> s.endsWith(".png")).toList());
        for (String ref : refs) {
            assertTrue(Files.isRegularFile(classifierRun.resolve(ref)), "the page refers to " + ref + ", which does not exist");
        }
        // Self-contained: inline CSS, nothing fetched from elsewhere (an inline SVG's xmlns names are not fetched), no scripts.
        assertTrue(html.contains("<style>"));
        assertFalse(html.contains("<link") || html.contains("<script") || html.contains("@import") || html.contains("url("), html);
        assertTrue(refs.stream().noneMatch(ref -> ref.contains(":")), "only relative references: " + refs);

        // Final metrics come from the last line of metrics.jsonl.
        String last = Files.readAllLines(classifierRun.resolve("metrics.jsonl")).get(1);
        double testAccuracy = new com.fasterxml.jackson.databind.ObjectMapper().readTree(last).get("test_accuracy").asDouble();
        assertTrue(html.contains(String.format(java.util.Locale.ROOT, "<div class=\"value\">%.2f%%</div><div class=\"label\">test accuracy</div>",
                100 * testAccuracy)), html);
        // The graph is drawn when Graphviz is installed, else shown as DOT text; either way its nodes are named.
        assertTrue(html.contains("<svg") || html.contains("<pre class=\"dot\">digraph"), html);
        assertTrue(html.contains("logits"), html);
        assertTrue(html.contains("Memory at batch 64"), "the summary with the memory estimate");
        // The command is quoted for the shell (the folder name has a space), and HTML-escaped on the page.
        assertTrue(html.contains("--out &#39;" + classifierRun + "&#39;"), html);
        assertTrue(html.contains("backend: cpu"), "the deployment");
    }

    @Test void aRegressionPageHasNoAccuracyOrConfusionButItsGradientNorms() throws Exception {
        assertEquals(0, CliRunner.run("report", regressionRun.toString()).exit());
        String html = Files.readString(regressionRun.resolve("report.html"));
        List<String> refs = references(html);
        assertEquals(List.of("loss.png", "grad_norms.png"), refs.stream().filter(s -> s.endsWith(".png")).toList());
        for (String ref : refs) assertTrue(Files.isRegularFile(regressionRun.resolve(ref)), ref);
        assertFalse(html.contains("accuracy"), "a regression run has no accuracy anywhere on its page");
        assertTrue(html.contains("grad_norms.csv"), "the recorded norms are linked");
    }

    @Test void aFolderThatIsNotARunIsRefused() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        CliRunner.Result r = CliRunner.run("report", empty.toString());
        assertEquals(2, r.exit());
        assertEquals("nn: " + empty + " is not a run folder of nn train: it has no metrics.jsonl\n", r.err());
    }

    /**
     * A damaged evaluation.json or metrics.jsonl is named, exit 2, and no page is written: a
     * cut-short evaluation.json was "I/O error: Unexpected end-of-input ... REDACTED", exit 1, and
     * a metrics line that is a list gave a page of blank epochs.
     */
    @Test void aDamagedRunFileIsNamedAndNoPageWritten() throws Exception {
        Path run = Files.createDirectories(dir.resolve("damaged"));
        Files.writeString(run.resolve("metrics.jsonl"), "{\"epoch\": 1, \"train_loss\": 0.5}\n");
        for (String evaluation : List.of("{\"split\": \"test\", \"classes\": [", "[1, 2]\n")) {
            Files.writeString(run.resolve("evaluation.json"), evaluation);
            CliRunner.Result r = CliRunner.run("report", run.toString());
            assertEquals(2, r.exit(), r.err());
            assertTrue(r.err().startsWith("nn: " + run.resolve("evaluation.json") + ": not a JSON object"), r.err());
            assertEquals(1, r.err().lines().count(), r.err());
        }
        Files.write(run.resolve("evaluation.json"), new byte[] {'{', (byte) 0xff, '}'});
        CliRunner.Result utf8 = CliRunner.run("report", run.toString());
        assertEquals(2, utf8.exit(), utf8.err());
        assertEquals("nn: " + run.resolve("evaluation.json") + ": not valid UTF-8 text\n", utf8.err());
        Files.delete(run.resolve("evaluation.json"));
        Files.writeString(run.resolve("metrics.jsonl"), "{\"epoch\": 1, \"train_loss\": 0.5}\n[1, 2]\n");
        CliRunner.Result list = CliRunner.run("report", run.toString());
        assertEquals(2, list.exit(), list.err());
        assertEquals("nn: " + run.resolve("metrics.jsonl") + ":2: not a JSON object\n", list.err());
        assertFalse(Files.exists(run.resolve("report.html")), "no page from a damaged run");
    }
}
