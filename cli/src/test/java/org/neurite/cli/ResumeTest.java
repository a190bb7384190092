package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;

/**
 * A run stopped after epoch 1 and resumed ends with exactly the weights of the run that never
 * stopped: the checkpoint holds the weights, the momentum buffers and the step, and every random
 * draw derives from (seed, epoch, step).
 */
class ResumeTest {
    @TempDir Path dir;

    @Test
    void resumedRunIsBitIdenticalToAnUninterruptedOne() throws Exception {
        Path straight = dir.resolve("straight");
        Path stopped = dir.resolve("stopped");
        String[] common = {"--limit", "640", "--threads", "2"};
        assertEquals(0, run("train", "../examples/lenet5.nn", "--epochs", "2", "--out", straight.toString(), common[0], common[1], common[2], common[3]));
        assertEquals(0, run("train", "../examples/lenet5.nn", "--epochs", "1", "--out", stopped.toString(), common[0], common[1], common[2], common[3]));
        CliRunner.Result resumed = CliRunner.run("train", "../examples/lenet5.nn", "--epochs", "2", "--resume", stopped.toString(),
                common[0], common[1], common[2], common[3]);
        assertEquals(0, resumed.exit(), resumed.err());
        assertTrue(resumed.out().contains("Resuming LeNet5 at epoch 2 (step 10)"), resumed.out());

        var a = SafeTensors.read(straight.resolve("model.safetensors")).tensors();
        var b = SafeTensors.read(stopped.resolve("model.safetensors")).tensors();
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            NamedTensor x = a.get(i);
            assertEquals(x.name(), b.get(i).name());
            assertArrayEquals(x.data(), b.get(i).data(), 0f, x.name());
        }
        assertEquals(2, Files.readAllLines(stopped.resolve("metrics.jsonl")).size(), "one metrics line per epoch, none repeated");
        var checkpoint = SafeTensors.read(stopped.resolve("checkpoint.safetensors"));
        assertEquals("2", checkpoint.metadata().get("neurite.epoch"));
        assertTrue(checkpoint.get("c1.weight#momentum") != null, "the momentum buffers travel in the checkpoint");
    }

    /**
     * A cosine schedule over 3 epochs: the first epoch's rate is the optimizer's lr whatever the
     * run's length, so a run of 1 epoch resumed with --epochs 3 trains epochs 2 and 3 at the rates
     * of the 3-epoch run (set from the epoch number, not carried over) and ends with its weights.
     */
    @Test
    void aResumedRunWithAScheduleContinuesAtTheRateOfItsEpoch() throws Exception {
        Path script = Files.writeString(dir.resolve("tiny.nn"), TrainOutputTest.CLASSIFIER
                .replace("    seed = 3\n", "    seed = 3\n    schedule = cosine(min_lr=0.005)\n"));
        Path straight = dir.resolve("straight");
        Path stopped = dir.resolve("stopped");
        String[] common = {"--limit", "256", "--threads", "2"};
        CliRunner.Result whole = CliRunner.run("train", script.toString(), "--epochs", "3", "--out", straight.toString(),
                common[0], common[1], common[2], common[3]);
        assertEquals(0, whole.exit(), whole.err());
        assertEquals(0, run("train", script.toString(), "--epochs", "1", "--out", stopped.toString(), common[0], common[1], common[2], common[3]));
        CliRunner.Result resumed = CliRunner.run("train", script.toString(), "--epochs", "3", "--resume", stopped.toString(),
                common[0], common[1], common[2], common[3]);
        assertEquals(0, resumed.exit(), resumed.err());
        assertTrue(resumed.out().contains("Resuming Tiny at epoch 2 (step 4)"), resumed.out());

        // cosine: 0.005 + 0.045 * (1 + cos(pi * e / 3)) / 2 for e = 0, 1, 2
        List<String> rates = List.of("lr 0.05", "lr 0.03875", "lr 0.01625");
        assertEquals(rates, rates(whole.out()));
        assertEquals(rates.subList(1, 3), rates(resumed.out()));

        var a = SafeTensors.read(straight.resolve("model.safetensors")).tensors();
        var b = SafeTensors.read(stopped.resolve("model.safetensors")).tensors();
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) assertArrayEquals(a.get(i).data(), b.get(i).data(), 0f, a.get(i).name());
    }

    /** The "lr x" ends of the epoch lines. */
    private static List<String> rates(String out) {
        return out.lines().filter(l -> l.startsWith("epoch ")).map(l -> l.substring(l.lastIndexOf("|  ") + 3)).toList();
    }

    @Test
    void resumingWithAnotherScriptIsRefused() throws Exception {
        Path run = dir.resolve("run");
        assertEquals(0, run("train", "../examples/lenet5.nn", "--epochs", "1", "--limit", "64", "--out", run.toString()));
        Path other = dir.resolve("other.nn");
        Files.writeString(other, Files.readString(Path.of("../examples/lenet5.nn")).replace("dense(84)", "dense(80)"));
        CliRunner.Result r = CliRunner.run("train", other.toString(), "--epochs", "2", "--limit", "64", "--resume", run.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("nn: " + run.resolve("checkpoint.safetensors") + " was written by another script or model"), r.err());
    }

    @Test
    void aRefusedResumeChangesNoFileOfTheRun() throws Exception {
        Path run = dir.resolve("run");
        assertEquals(0, run("train", "../examples/lenet5.nn", "--epochs", "1", "--limit", "64", "--out", run.toString()));
        java.util.Map<String, String> before = contents(run);

        CliRunner.Result other = CliRunner.run("train", "../examples/fashion_cnn.nn", "--epochs", "2", "--limit", "64", "--resume", run.toString());
        assertEquals(2, other.exit());
        assertTrue(other.err().contains("resume with the script that started the run (" + run.resolve("model.nn") + ")"), other.err());
        CliRunner.Result finished = CliRunner.run("train", "../examples/lenet5.nn", "--resume", run.toString());
        assertEquals(2, finished.exit());
        assertTrue(finished.err().contains("already finished epoch 1 of 1"), finished.err());
        assertEquals(before, contents(run), "model.nn, summary.txt, command.txt, ... are the run's own still");

        CliRunner.Result fromModelNn = CliRunner.run("train", run.resolve("model.nn").toString(), "--epochs", "2", "--resume", run.toString());
        assertEquals(0, fromModelNn.exit(), fromModelNn.err());
    }

    /** Every file of {@code dir} by name, with its text (or size, for binary files). */
    private static java.util.Map<String, String> contents(Path dir) throws Exception {
        java.util.Map<String, String> m = new java.util.TreeMap<>();
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                byte[] b = Files.readAllBytes(f);
                m.put(f.getFileName().toString(), f.toString().endsWith(".png") || f.toString().endsWith(".safetensors")
                        ? java.util.Arrays.hashCode(b) + "" : new String(b, java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        return m;
    }

    /**
     * A run stopped after epoch 1 of 2 with --limit, --batch and --seed resumes with no options
     * but --resume: the checkpoint recorded them, and the result is the uninterrupted run's.
     * Different values are refused.
     */
    @Test
    void resumeReusesTheRunsLimitBatchEpochsAndSeedAndRefusesOthers() throws Exception {
        Path straight = dir.resolve("straight");
        String[] common = {"--limit", "320", "--batch", "32", "--seed", "4", "--threads", "2"};
        assertEquals(0, run(concat(new String[] {"train", "../examples/lenet5.nn", "--epochs", "2", "--out", straight.toString()}, common)));
        // Make it a run stopped after epoch 1: the checkpoint and log of epoch 1, as the stopped run left them.
        Path once = dir.resolve("once");
        assertEquals(0, run(concat(new String[] {"train", "../examples/lenet5.nn", "--epochs", "1", "--out", once.toString()}, common)));
        var checkpoint = SafeTensors.read(once.resolve("checkpoint.safetensors"));
        java.util.Map<String, String> meta = new java.util.LinkedHashMap<>(checkpoint.metadata());
        meta.put(RunSettings.EPOCHS, "2");   // as a 2-epoch run stopped after its first epoch records it
        SafeTensors.write(once.resolve("checkpoint.safetensors"), checkpoint.tensors(), meta);

        for (String[] other : List.of(new String[] {"--limit", "640"}, new String[] {"--batch", "64"}, new String[] {"--seed", "5"})) {
            CliRunner.Result r = CliRunner.run(concat(new String[] {"train", "../examples/lenet5.nn", "--resume", once.toString()}, other));
            assertEquals(2, r.exit(), String.join(" ", other));
            assertEquals("nn: the run in " + once + " ran with " + other[0] + " " + (other[0].equals("--limit") ? "320"
                    : other[0].equals("--batch") ? "32" : "4") + ", not " + other[0] + " " + other[1] + "; resume it without " + other[0]
                    + " (its own setting is used), or start a new run", r.err().strip().lines().reduce((a, b) -> b).orElse(""));
        }
        CliRunner.Result resumed = CliRunner.run("train", "../examples/lenet5.nn", "--resume", once.toString(), "--threads", "2");
        assertEquals(0, resumed.exit(), resumed.err());
        assertTrue(resumed.out().contains("Resuming LeNet5 at epoch 2 (step 10)"), resumed.out());
        assertTrue(resumed.out().contains("epoch  2/2"), resumed.out());
        var a = SafeTensors.read(straight.resolve("model.safetensors")).tensors();
        var b = SafeTensors.read(once.resolve("model.safetensors")).tensors();
        for (int i = 0; i < a.size(); i++) assertArrayEquals(a.get(i).data(), b.get(i).data(), 0f, a.get(i).name());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private static int run(String... args) {
        CliRunner.Result r = CliRunner.run(args);
        if (r.exit() != 0) System.err.println(r.err());
        return r.exit();
    }
}
