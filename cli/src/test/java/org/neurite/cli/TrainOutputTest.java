package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.cli.plot.ConfusionChart;
import org.neurite.cli.plot.EpochCurves;
import org.neurite.cli.plot.GradientNormChart;
import org.neurite.config.DeploymentConfig;

/**
 * What {@code nn train} shows and leaves behind: plain epoch lines off a terminal, a live bar on
 * one, {@code --quiet} and {@code --json}; the plots, the recorded command and deployment.
 */
class TrainOutputTest {
    /** A small classifier that trains in a moment on 256 Fashion-MNIST images. */
    static final String CLASSIFIER = """
            model Tiny {
                input image: [1, 28, 28]
                h = flatten -> dense(16) -> relu
                output logits = dense(10)
            }
            train Tiny {
                data = fashion_mnist
                loss = softmax_cross_entropy
                optimizer = sgd(lr=0.05, momentum=0.9)
                batch = 64
                epochs = 2
                seed = 3
            }
            """;

    /** A small recurrent regression model on the adding problem (no accuracy, gradient norms per step). */
    static final String RECURRENT = """
            model Adder {
                input seq: [12, 2]
                h = rnn(8, sequences=false)
                output sum = dense(1)
            }
            train Adder {
                data = adding(length=12, size=256, test_size=64)
                loss = mse
                optimizer = adam(lr=0.01)
                batch = 32
                epochs = 3
                seed = 1
            }
            """;

    @TempDir Path dir;
    Path classifier;

    @BeforeEach void writeScripts() throws Exception {
        classifier = dir.resolve("tiny.nn");
        Files.writeString(classifier, CLASSIFIER);
    }

    private CliRunner.Result train(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", classifier.toString(), "--limit", "256", "--threads", "2", "--out", out.toString()));
        args.addAll(List.of(extra));
        return CliRunner.run(args.toArray(String[]::new));
    }

    @Test void offATerminalEachEpochIsOnePlainLineAndTheRunFolderHasPlotsCommandAndDeployment() throws Exception {
        Path out = dir.resolve("run");
        CliRunner.Result r = train(out);
        assertEquals(0, r.exit(), r.err());
        Pictures.assertNoControlCharacters(r.out());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(0).startsWith("Training Tiny on fashion_mnist (256 train / "), lines.get(0));
        assertTrue(lines.get(1).matches("epoch  1/2  loss \\d\\.\\d{4}  acc +\\d+\\.\\d\\d%  \\|  test loss .*"), lines.get(1));
        assertTrue(lines.get(2).startsWith("epoch  2/2  "), lines.get(2));
        assertFalse(lines.get(0).contains("schedule") || lines.get(2).contains("lr "), "a constant rate is not shown: " + r.out());
        assertTrue(lines.get(3).startsWith("Done in "), lines.get(3));
        assertEquals("Plots: loss.png, accuracy.png, confusion.png in " + out + "; a page with everything: nn report " + out, lines.get(4));
        assertEquals(5, lines.size(), r.out());

        Pictures.assertPicture(out.resolve("loss.png"), EpochCurves.WIDTH, EpochCurves.HEIGHT);
        Pictures.assertPicture(out.resolve("accuracy.png"), EpochCurves.WIDTH, EpochCurves.HEIGHT);
        // Ten Fashion-MNIST classes: 260 + 52 * 10 wide, 240 + 52 * 10 high.
        Pictures.assertPicture(out.resolve("confusion.png"), 780, 760);
        assertEquals(780, ConfusionChart.width(10));
        assertFalse(Files.exists(out.resolve("grad_norms.png")), "no --grad-norms, no gradient plot");

        // The exact command, runnable from the folder it was started in.
        String command = Files.readString(out.resolve("command.txt"));
        assertEquals("cd " + RunProvenance.quote(Path.of("").toAbsolutePath().toString()) + " && nn train " + classifier
                + " --limit 256 --threads 2 --out " + out + "\n", command);
        // The deployment reads back, with the command line's --threads applied and the backend in use.
        DeploymentConfig deployment = DeploymentConfig.parse(Files.readString(out.resolve("deployment.yaml")), "deployment.yaml", out);
        assertEquals("cpu", deployment.backend());
        assertEquals(2, deployment.threads());
        assertTrue(Files.readString(out.resolve("graph.dot")).startsWith("digraph"), "graph.dot holds DOT");
        String summary = Files.readString(out.resolve("summary.txt"));
        assertTrue(summary.contains("Memory at batch 64 (float32, counted as the engine allocates):"), summary);
    }

    @Test void theRecordedDeploymentHoldsTheSeedTheCommandLineGave() throws Exception {
        Path deploy = dir.resolve("seeded.yaml");
        Files.writeString(deploy, "backend: cpu\nseed: 7\n");
        Path out = dir.resolve("seeded");
        CliRunner.Result r = train(out, "--epochs", "1", "--deploy", deploy.toString(), "--seed", "9");
        assertEquals(0, r.exit(), r.err());
        DeploymentConfig deployment = DeploymentConfig.parse(Files.readString(out.resolve("deployment.yaml")), "deployment.yaml", out);
        assertEquals(9L, deployment.seed(), "--seed wins over the deployment's seed:, and --deploy of the record repeats the run");

        Path plain = dir.resolve("plain");
        r = train(plain, "--epochs", "1", "--deploy", deploy.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals(7L, DeploymentConfig.parse(Files.readString(plain.resolve("deployment.yaml")), "deployment.yaml", plain).seed());
    }

    @Test void theFirstLineSaysOneEpochInTheSingular() {
        CliRunner.Result r = train(dir.resolve("one"), "--epochs", "1");
        assertEquals(0, r.exit(), r.err());
        String first = r.out().lines().findFirst().orElseThrow();
        assertTrue(first.contains(" with sgd, batch 64, 1 epoch, "), first);
    }

    @Test void aScheduleShowsTheRateOfEachEpochOnItsLineInTheMetricsAndInTheReport() throws Exception {
        Files.writeString(classifier, CLASSIFIER.replace("    seed = 3\n", "    seed = 3\n    schedule = step(every=1, gamma=0.5)\n"));
        Path out = dir.resolve("scheduled");
        CliRunner.Result r = train(out, "--epochs", "3");
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(0).contains(" with sgd, lr schedule step(every=1, gamma=0.5), batch 64, 3 epochs, "), lines.get(0));
        assertTrue(lines.get(1).matches("epoch  1/3  loss \\d\\.\\d{4}  acc +\\d+\\.\\d\\d%  \\|  test loss .*s  \\|  lr 0\\.05"), lines.get(1));
        assertTrue(lines.get(2).startsWith("epoch  2/3  ") && lines.get(2).endsWith("s  |  lr 0.025"), lines.get(2));
        assertTrue(lines.get(3).startsWith("epoch  3/3  ") && lines.get(3).endsWith("s  |  lr 0.0125"), lines.get(3));

        ObjectMapper json = new ObjectMapper();
        List<String> metrics = Files.readAllLines(out.resolve("metrics.jsonl"));
        assertEquals(3, metrics.size());
        float[] expected = {0.05f, 0.025f, 0.0125f};
        for (int e = 0; e < 3; e++) assertEquals(expected[e], (float) json.readTree(metrics.get(e)).get("lr").asDouble(), 0f, metrics.get(e));
        assertTrue(metrics.get(2).contains("\"lr\":0.0125,"), "the float's shortest decimal: " + metrics.get(2));

        CliRunner.Result report = CliRunner.run("report", out.toString());
        assertEquals(0, report.exit(), report.err());
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("<th>epoch</th><th>lr</th><th>train loss</th>"), html);
        assertTrue(html.contains("<tr><td>3</td><td>0.0125</td><td>"), html);
    }

    @Test void learningRatesPrintToFourSignificantDigits() {
        assertEquals("0.01", TrainReporter.learningRate(0.01f));
        assertEquals("0.009045", TrainReporter.learningRate(0.0090450849f));
        assertEquals("0.1", TrainReporter.learningRate(0.1f));
        assertEquals("2.447e-05", TrainReporter.learningRate(2.4471742e-5f));
        assertEquals("0", TrainReporter.learningRate(0f));
    }

    @Test void quietPrintsOnlyTheResultLine() {
        CliRunner.Result r = train(dir.resolve("quiet"), "--quiet");
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(1, lines.size(), r.out());
        assertTrue(lines.get(0).matches("Done in \\d+\\.\\ds: test accuracy \\d+\\.\\d\\d% \\(train \\d+\\.\\d\\d%\\)\\. Weights: .*"), lines.get(0));
    }

    @Test void jsonPrintsOneEventPerLineWithTheMetricsOfEachEpoch() throws Exception {
        Path out = dir.resolve("json");
        CliRunner.Result r = train(out, "--json");
        assertEquals(0, r.exit(), r.err());
        Pictures.assertNoControlCharacters(r.out());
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> events = new ArrayList<>();
        for (String line : r.out().lines().toList()) events.add(json.readTree(line));
        assertEquals(List.of("start", "epoch", "epoch", "done", "note"), events.stream().map(e -> e.get("event").asText()).toList());
        assertEquals("Tiny", events.get(0).get("model").asText());
        assertEquals(256, events.get(0).get("train_samples").asInt());
        // An epoch event carries the same numbers as the metrics log's line for that epoch.
        JsonNode logged = json.readTree(Files.readAllLines(out.resolve("metrics.jsonl")).get(1));
        JsonNode second = events.get(2);
        assertEquals(2, second.get("epoch").asInt());
        assertEquals(logged.get("test_accuracy").asDouble(), second.get("test_accuracy").asDouble());
        assertEquals(logged.get("train_loss").asDouble(), second.get("train_loss").asDouble());
        // What the backend counted per step: the CPU's ops finish as they return, so the step's results are read after each step.
        assertEquals(1.0, second.get("syncs_per_step").asDouble(), 0, second.toString());
        assertTrue(second.get("launches_per_step").asDouble() > 10, second.toString());
        assertFalse(logged.has("syncs_per_step"), "the metrics log keeps the run's figures, not the backend's");
        JsonNode done = events.get(3);
        assertEquals(second.get("test_accuracy").asDouble(), done.get("test_accuracy").asDouble());
        assertEquals(3, done.get("plots").size());
    }

    @Test void onATerminalALiveBarRunsDuringEachEpochAndTheEpochLinesRemain() {
        String before = System.getProperty(OutputMode.PROPERTY);
        System.setProperty(OutputMode.PROPERTY, "bar");
        CliRunner.Result r;
        try {
            r = train(dir.resolve("bar"));
        } finally {
            if (before == null) System.clearProperty(OutputMode.PROPERTY);
            else System.setProperty(OutputMode.PROPERTY, before);
        }
        assertEquals(0, r.exit(), r.err());
        // The bar redraws in place with carriage returns; its task name and count are there.
        assertTrue(r.out().contains("\r"), r.out());
        assertTrue(r.out().contains("\repoch 1/2 100% ") && r.out().contains(" 256/256 "), r.out());
        // Once cleared, each epoch's summary line is printed in full on its own line.
        String settled = r.out().replaceAll("[^\n]*\r", "");
        assertTrue(settled.lines().anyMatch(l -> l.startsWith("epoch  1/2  loss ")), settled);
        assertTrue(settled.lines().anyMatch(l -> l.startsWith("epoch  2/2  loss ")), settled);
    }

    @Test void quietAndJsonDoNotCombine() {
        CliRunner.Result r = train(dir.resolve("both"), "--quiet", "--json");
        assertEquals(2, r.exit());
        assertEquals("nn: --quiet and --json do not combine; pick one\n", r.err());
    }

    @Test void aRecurrentRegressionRunDrawsLossAndGradientNormsButNoAccuracy() throws Exception {
        Path script = dir.resolve("adder.nn");
        Files.writeString(script, RECURRENT);
        Path out = dir.resolve("adder");
        CliRunner.Result r = CliRunner.run("train", script.toString(), "--grad-norms", "--threads", "2", "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        Pictures.assertNoControlCharacters(r.out());
        Pictures.assertPicture(out.resolve("loss.png"), EpochCurves.WIDTH, EpochCurves.HEIGHT);
        Pictures.assertPicture(out.resolve("grad_norms.png"), GradientNormChart.WIDTH, GradientNormChart.HEIGHT);
        assertFalse(Files.exists(out.resolve("accuracy.png")));
        assertFalse(Files.exists(out.resolve("confusion.png")));
        assertTrue(r.out().contains("Plots: loss.png, grad_norms.png in "), r.out());
    }
}
