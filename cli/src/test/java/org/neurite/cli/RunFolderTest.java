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
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs are never written over: a second default run goes to {@code runs/<model>-2}, {@code --out}
 * on a finished run is refused unless {@code --overwrite}, and the {@code .lock} in a run folder
 * keeps a second writer (or {@code --resume}) out while the first runs, unless its process is gone.
 */
class RunFolderTest {
    @TempDir Path dir;
    Path script;
    Path runs;
    final long self = ProcessHandle.current().pid();

    @BeforeEach void tinyScriptAndRunsFolder() throws Exception {
        script = Files.writeString(dir.resolve("tiny.nn"), TrainOutputTest.CLASSIFIER);
        runs = dir.resolve("runs");
        System.setProperty(RunFolder.ROOT_PROPERTY, runs.toString());
    }

    @AfterEach void defaultRunsFolder() {
        System.clearProperty(RunFolder.ROOT_PROPERTY);
    }

    private CliRunner.Result train(String... extra) {
        List<String> args = new ArrayList<>(List.of("train", script.toString(), "--limit", "64", "--threads", "2"));
        args.addAll(List.of(extra));
        if (!args.contains("--epochs")) args.addAll(List.of("--epochs", "1"));
        return CliRunner.run(args.toArray(String[]::new));
    }

    /** The error line (a note on the dataset in use may come before it). */
    private static String lastLine(String err) {
        List<String> lines = err.lines().toList();
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }

    /** What a lock file of process {@code pid} on this host holds. */
    private static String lockOf(long pid) {
        return "pid=" + pid + "\nhost=" + RunFolder.hostName() + "\n";
    }

    @Test void aSecondDefaultRunGoesToTheFirstFreeSiblingAndSaysSoOnItsFirstLine() throws Exception {
        CliRunner.Result first = train();
        assertEquals(0, first.exit(), first.err());
        Path tiny = runs.resolve("Tiny");
        assertTrue(first.out().lines().findFirst().orElseThrow().endsWith("; results in " + tiny), first.out());
        String metrics = Files.readString(tiny.resolve("metrics.jsonl"));

        CliRunner.Result second = train();
        assertEquals(0, second.exit(), second.err());
        Path tiny2 = runs.resolve("Tiny-2");
        List<String> lines = second.out().lines().toList();
        assertTrue(lines.get(0).startsWith("Training Tiny on fashion_mnist (64 train / "), lines.get(0));
        assertTrue(lines.get(0).endsWith("; results in " + tiny2 + " (" + tiny + " holds another run)"), lines.get(0));
        assertTrue(lines.get(1).startsWith("epoch  1/1  "), lines.get(1));
        assertTrue(lines.get(2).startsWith("Done in ") && lines.get(2).endsWith("Weights: " + tiny2.resolve("model.safetensors")
                + "  Metrics: " + tiny2.resolve("metrics.jsonl")), lines.get(2));
        assertEquals(4, lines.size(), second.out());
        assertTrue(Files.exists(tiny2.resolve("model.safetensors")));
        assertEquals(metrics, Files.readString(tiny.resolve("metrics.jsonl")), "the first run is untouched");

        // The JSON start event names the folder and the one it skipped.
        CliRunner.Result third = train("--json");
        assertEquals(0, third.exit(), third.err());
        JsonNode start = new ObjectMapper().readTree(third.out().lines().findFirst().orElseThrow());
        assertEquals("start", start.get("event").asText());
        assertEquals(runs.resolve("Tiny-3").toString(), start.get("run").asText());
        assertEquals(tiny.toString(), start.get("skipped").asText());
    }

    @Test void outOnAFolderHoldingARunIsRefusedUnlessOverwrite() throws Exception {
        Path run = dir.resolve("run");
        assertEquals(0, train("--out", run.toString()).exit());
        String metrics = Files.readString(run.resolve("metrics.jsonl"));

        CliRunner.Result again = train("--out", run.toString());
        assertEquals(2, again.exit());
        assertEquals("nn: " + run + " already holds a run (model.safetensors, checkpoint.safetensors, metrics.jsonl); choose another"
                + " --out, add --overwrite to write over it, or continue it with --resume " + run, lastLine(again.err()));
        assertEquals("", again.out());
        assertEquals(metrics, Files.readString(run.resolve("metrics.jsonl")));
        assertFalse(Files.exists(run.resolve(RunFolder.LOCK)), "a refused run leaves no lock");

        CliRunner.Result overwritten = train("--out", run.toString(), "--overwrite", "--seed", "5");
        assertEquals(0, overwritten.exit(), overwritten.err());
        assertTrue(overwritten.out().lines().findFirst().orElseThrow().endsWith("; results in " + run), overwritten.out());
        assertTrue(Files.readString(run.resolve("command.txt")).contains(" --overwrite --seed 5 "), "the new run's files");
        assertFalse(Files.readString(run.resolve("metrics.jsonl")).equals(metrics), "another seed, other metrics");
    }

    @Test void aFolderLockedByALiveProcessIsRefusedNamingItsPid() throws Exception {
        Path run = Files.createDirectories(dir.resolve("busy"));
        Path lock = Files.writeString(run.resolve(RunFolder.LOCK), lockOf(self));

        CliRunner.Result r = train("--out", run.toString(), "--overwrite");
        assertEquals(2, r.exit());
        assertEquals("nn: " + run + " is in use by another nn train (PID " + self + " on host " + RunFolder.hostName()
                + "); wait for it to finish, or delete " + lock + " if that run is gone", lastLine(r.err()));
        assertEquals(lockOf(self), Files.readString(lock), "the holder's lock is left alone");
        assertFalse(Files.exists(run.resolve("model.nn")), "nothing written into a locked folder");
    }

    @Test void aDefaultFolderLockedByALiveProcessGivesWayToASibling() throws Exception {
        Path tiny = Files.createDirectories(runs.resolve("Tiny"));
        Files.writeString(tiny.resolve(RunFolder.LOCK), lockOf(self));
        CliRunner.Result r = train();
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().lines().findFirst().orElseThrow().endsWith("; results in " + runs.resolve("Tiny-2")
                + " (" + tiny + " holds another run)"), r.out());
        assertFalse(Files.exists(tiny.resolve("model.nn")));
    }

    @Test void aStaleLockIsReportedInOneLineReplacedAndGoneAfterTheRun() throws Exception {
        long gone = 999_999;
        while (ProcessHandle.of(gone).isPresent()) gone++;
        Path run = Files.createDirectories(dir.resolve("crashed"));
        Path lock = Files.writeString(run.resolve(RunFolder.LOCK), lockOf(gone));

        CliRunner.Result r = train("--out", run.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().lines().toList().contains("nn: replaced the stale lock " + lock + " (PID " + gone + " on host "
                + RunFolder.hostName() + ", no longer running)"), r.err());
        assertTrue(Files.exists(run.resolve("model.safetensors")));
        assertFalse(Files.exists(lock), "the run's own lock is removed when it ends");
    }

    @Test void aSecondWriterIsRefusedWhileTheFirstRunsAndTheLockIsGoneAfterIt() throws Exception {
        Path run = dir.resolve("shared");
        Path lock = run.resolve(RunFolder.LOCK);
        // LeNet-5 evaluating the whole test split: long enough to be seen holding its lock.
        CompletableFuture<CliRunner.Result> first = CompletableFuture.supplyAsync(() -> CliRunner.run("train", "../examples/lenet5.nn",
                "--epochs", "1", "--limit", "64", "--threads", "2", "--out", run.toString()));
        long deadline = System.nanoTime() + 60_000_000_000L;
        String holder = "pid=" + self + "\nhost=" + RunFolder.hostName() + "\nstarted=";
        // The lock is created, then written: wait for its content, not just the file.
        while (!lockHolds(lock, holder) && !first.isDone() && System.nanoTime() < deadline) Thread.onSpinWait();
        assertTrue(Files.exists(lock), "the first run holds " + lock + " while it runs");
        assertTrue(lockHolds(lock, holder), Files.readString(lock));

        CliRunner.Result second = CliRunner.run("train", "../examples/lenet5.nn", "--epochs", "1", "--limit", "64", "--out", run.toString());
        assertEquals(2, second.exit());
        assertTrue(lastLine(second.err()).startsWith("nn: " + run + " is in use by another nn train (PID " + self + " on host "), second.err());

        assertEquals(0, first.get().exit(), first.get().err());
        assertFalse(Files.exists(lock), "the lock is removed when the run ends");
    }

    /** Whether the lock file exists and its text starts with {@code prefix}. */
    private static boolean lockHolds(Path lock, String prefix) {
        try {
            return Files.readString(lock).startsWith(prefix);
        } catch (java.io.IOException gone) {
            return false;
        }
    }

    @Test void resumeIsRefusedWhileTheRunIsLockedAndTakesTheLockItself() throws Exception {
        Path run = dir.resolve("resumable");
        assertEquals(0, train("--out", run.toString()).exit());
        Path lock = Files.writeString(run.resolve(RunFolder.LOCK), lockOf(self));

        CliRunner.Result locked = train("--epochs", "2", "--resume", run.toString());
        assertEquals(2, locked.exit());
        assertTrue(lastLine(locked.err()).startsWith("nn: " + run + " is in use by another nn train (PID " + self + " on host "), locked.err());
        assertEquals(1, Files.readAllLines(run.resolve("metrics.jsonl")).size(), "nothing trained");

        Files.delete(lock);
        CliRunner.Result resumed = train("--epochs", "2", "--resume", run.toString());
        assertEquals(0, resumed.exit(), resumed.err());
        assertTrue(resumed.out().contains("Resuming Tiny at epoch 2"), resumed.out());
        assertFalse(Files.exists(lock));
        // A resume that fails after taking the lock releases it too.
        CliRunner.Result finished = train("--epochs", "2", "--resume", run.toString());
        assertEquals(2, finished.exit());
        assertTrue(finished.err().contains("already finished epoch 2 of 2"), finished.err());
        assertFalse(Files.exists(lock));
    }
}
