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

    /** A second process that stays alive while a test needs it, for a lock held by a live process with its real start time. */
    private static Process liveProcess() throws Exception {
        return new ProcessBuilder("sleep", "60").start();
    }

    @Test void overwriteIsRefusedWhileAnotherLiveProcessHoldsTheLock() throws Exception {
        Path run = dir.resolve("busy");
        assertEquals(0, train("--out", run.toString()).exit());
        String metrics = Files.readString(run.resolve("metrics.jsonl"));
        Process other = liveProcess();
        try {
            Path lock = Files.writeString(run.resolve(RunFolder.LOCK), RunFolder.ownerOf(other.toHandle()));
            CliRunner.Result r = train("--out", run.toString(), "--overwrite", "--seed", "9");
            assertEquals(2, r.exit(), r.out());
            assertEquals("nn: " + run + " is in use by another nn train (PID " + other.pid() + " on host " + RunFolder.hostName()
                    + "); wait for it to finish, or delete " + lock + " if that run is gone", lastLine(r.err()));
            assertEquals(metrics, Files.readString(run.resolve("metrics.jsonl")), "the running run's files are untouched");
            assertEquals(RunFolder.ownerOf(other.toHandle()), Files.readString(lock));
        } finally {
            other.destroy();
        }
    }

    @Test void aRunThatDoesNotStartLeavesNoFolder() throws Exception {
        Path missing = dir.resolve("nonexist");
        CliRunner.Result resumed = train("--resume", missing.toString());
        assertEquals(2, resumed.exit());
        assertEquals("nn: " + missing + " does not exist; --resume takes the folder of a run that was stopped", lastLine(resumed.err()));
        assertFalse(Files.exists(missing), "--resume of a missing folder creates nothing");

        // Weights of another model, and weights holding NaN: refused, and no folder (nor its new parent) is left.
        Path other = dir.resolve("other");
        assertEquals(0, CliRunner.run("train", "../examples/lenet5.nn", "--epochs", "1", "--limit", "64", "--out", other.toString()).exit());
        Path out = dir.resolve("new/run");
        CliRunner.Result wrong = train("--out", out.toString(), "--init", other.resolve("model.safetensors").toString());
        assertEquals(2, wrong.exit());
        assertTrue(lastLine(wrong.err()).contains("does not fit the model"), wrong.err());
        assertFalse(Files.exists(dir.resolve("new")), "nothing created for a run that did not start");

        var weights = org.neurite.io.SafeTensors.read(runOf("Tiny-init").resolve("model.safetensors"));
        List<org.neurite.io.NamedTensor> tensors = new ArrayList<>(weights.tensors());
        org.neurite.io.NamedTensor first = tensors.get(0);
        float[] data = first.data().clone();
        data[0] = Float.NaN;
        tensors.set(0, new org.neurite.io.NamedTensor(first.name(), first.shape(), data));
        Path nan = dir.resolve("nan.safetensors");
        org.neurite.io.SafeTensors.write(nan, tensors, java.util.Map.of());
        CliRunner.Result bad = train("--out", out.toString(), "--init", nan.toString());
        assertEquals(2, bad.exit());
        assertTrue(lastLine(bad.err()).contains("not finite"), bad.err());
        assertFalse(Files.exists(dir.resolve("new")), "nothing created for a run that did not start");
    }

    /** A finished run of the tiny script in {@code dir/name}. */
    private Path runOf(String name) {
        Path run = dir.resolve(name);
        assertEquals(0, train("--out", run.toString()).exit());
        return run;
    }

    @Test void outOnAFolderHoldingTheUsersFilesThatARunWritesIsRefused() throws Exception {
        Path mine = Files.createDirectories(dir.resolve("mine"));
        Files.writeString(mine.resolve("model.nn"), "my own script");
        Files.writeString(mine.resolve("summary.txt"), "my notes");
        CliRunner.Result r = train("--out", mine.toString());
        assertEquals(2, r.exit());
        assertEquals("nn: " + mine + " holds files this run would write over (model.nn, summary.txt); choose another --out, or add"
                + " --overwrite to replace them", lastLine(r.err()));
        assertEquals("my own script", Files.readString(mine.resolve("model.nn")));
        assertEquals("my notes", Files.readString(mine.resolve("summary.txt")));
        assertFalse(Files.exists(mine.resolve(RunFolder.LOCK)));

        // A default folder holding such files gives way to a sibling, as one holding a run does.
        Path tiny = Files.createDirectories(runs.resolve("Tiny"));
        Files.writeString(tiny.resolve("summary.txt"), "my notes");
        CliRunner.Result d = train();
        assertEquals(0, d.exit(), d.err());
        assertTrue(Files.exists(runs.resolve("Tiny-2").resolve("model.safetensors")));
        assertEquals("my notes", Files.readString(tiny.resolve("summary.txt")));
    }

    @Test void overwriteRemovesTheOldRunsFilesButKeepsTheUsersOwn() throws Exception {
        Path run = runOf("old");
        assertEquals(0, CliRunner.run("report", run.toString()).exit());
        Files.writeString(run.resolve("notes.md"), "mine");
        Files.writeString(run.resolve("grad_norms.csv"), "an old run's");
        CliRunner.Result overwritten = train("--out", run.toString(), "--overwrite", "--seed", "5");
        assertEquals(0, overwritten.exit(), overwritten.err());
        assertFalse(Files.exists(run.resolve("report.html")), "the old run's report is gone");
        assertFalse(Files.exists(run.resolve("grad_norms.csv")), "the old run's gradient norms are gone");
        assertEquals("mine", Files.readString(run.resolve("notes.md")), "the user's own file stays");
    }

    @Test void theDeploymentsOutputAndSeedAreUsedAndTheCommandLineWins() throws Exception {
        Path deploy = Files.writeString(dir.resolve("deploy.yaml"), "output: elsewhere\nseed: 7\n");
        CliRunner.Result r = train("--deploy", deploy.toString());
        assertEquals(0, r.exit(), r.err());
        Path run = dir.resolve("elsewhere").resolve("Tiny");
        assertTrue(r.out().lines().findFirst().orElseThrow().endsWith("; results in " + run), r.out());
        assertEquals("7", org.neurite.io.SafeTensors.read(run.resolve("checkpoint.safetensors")).metadata().get("neurite.seed"));
        assertFalse(Files.exists(runs), "nothing in the default runs folder");

        Path out = dir.resolve("flags");
        CliRunner.Result flags = train("--deploy", deploy.toString(), "--seed", "8", "--out", out.toString());
        assertEquals(0, flags.exit(), flags.err());
        assertEquals("8", org.neurite.io.SafeTensors.read(out.resolve("checkpoint.safetensors")).metadata().get("neurite.seed"));
        // Without the deployment, the script's seed (3).
        Path plain = runOf("plain");
        assertEquals("3", org.neurite.io.SafeTensors.read(plain.resolve("checkpoint.safetensors")).metadata().get("neurite.seed"));
    }

    @Test void aRunFolderHoldsTheScriptsItsModelUsesAndLoadsOnItsOwn() throws Exception {
        Path project = Files.createDirectories(dir.resolve("project/models"));
        Files.createDirectories(dir.resolve("project/shared"));
        Files.createDirectories(project.resolve("blocks"));
        Files.writeString(dir.resolve("project/shared/act.nn"), "block act()(x) {\n    y = x -> relu\n    return y\n}\n");
        Files.writeString(project.resolve("blocks/mlp.nn"), "use \"../../shared/act.nn\"\n"
                + "block mlp(n: int)(x) {\n    y = x -> flatten -> dense(n) -> act()\n    return y\n}\n");
        Path used = Files.writeString(project.resolve("net.nn"), "use \"blocks/mlp.nn\"\n" + TrainOutputTest.CLASSIFIER
                .replace("h = flatten -> dense(16) -> relu", "h = mlp(16)"));
        Path run = dir.resolve("run");
        CliRunner.Result r = CliRunner.run("train", used.toString(), "--limit", "64", "--epochs", "1", "--threads", "2", "--out", run.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals(Files.readString(used), Files.readString(run.resolve("model.nn")), "model.nn is the script as written");
        assertTrue(Files.exists(run.resolve("blocks/mlp.nn")));
        assertTrue(Files.readString(run.resolve("blocks/mlp.nn")).startsWith("use \"../used/up/shared/act.nn\"\n"),
                "a use outside the folder points at its copy");
        assertTrue(Files.exists(run.resolve("used/up/shared/act.nn")));

        // The folder alone: moved away from the project, its model loads and evaluates.
        Path moved = Files.move(run, Files.createDirectories(dir.resolve("elsewhere/deeper")).resolve("run"));
        CliRunner.Result eval = CliRunner.run("eval", moved.resolve("model.nn").toString(), "--weights", moved.resolve("model.safetensors").toString());
        assertEquals(0, eval.exit(), eval.err());

        // --overwrite of the folder removes the copies with the run, and leaves no empty folders behind.
        CliRunner.Result over = train("--out", moved.toString(), "--overwrite");
        assertEquals(0, over.exit(), over.err());
        assertFalse(Files.exists(moved.resolve("blocks")));
        assertFalse(Files.exists(moved.resolve("used")));
        assertFalse(Files.exists(moved.resolve(RunRecord.USED_SCRIPTS)));
    }
}
