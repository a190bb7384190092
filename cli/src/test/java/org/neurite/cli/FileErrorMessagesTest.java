package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.MalformedInputException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A file that cannot be used is one line naming the path and the reason, exit 2: not
 * "I/O error: PATH" (an AccessDeniedException's whole message), nor "Is a directory" with no
 * path, nor "Input length = 1" (a MalformedInputException's).
 */
class FileErrorMessagesTest {
    @TempDir Path dir;

    /** What the command line prints for an exception that reaches it, and the exit status. */
    private static CliRunner.Result handled(Exception e) {
        CommandLine cli = NnCommand.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err, true));
        int exit = NnCommand.handle(e, cli, null);
        return new CliRunner.Result(exit, "", err.toString());
    }

    private static void assertRefused(String expected, CliRunner.Result r) {
        assertEquals(expected, r.err());
        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.err());
    }

    @Test void javaNioExceptionsBecomeThePathAndTheReason() {
        assertRefused("nn: noread.nn: permission denied\n", handled(new AccessDeniedException("noread.nn")));
        assertRefused("nn: data: not a folder\n", handled(new NotDirectoryException("data")));
        assertRefused("nn: a file is not valid UTF-8 text\n", handled(new MalformedInputException(1)));
        // not about a path the user gave: a runtime failure, still with the path
        CliRunner.Result full = handled(new java.nio.file.FileSystemException("out/model.safetensors", null, "No space left on device"));
        assertEquals("nn: I/O error: out/model.safetensors: No space left on device\n", full.err());
        assertEquals(ExitCodes.RUNTIME_FAILURE, full.exit());
    }

    @Test void anUnreadableScriptSaysPermissionDenied() throws Exception {
        Path script = dir.resolve("noread.nn");
        Files.copy(Path.of("../examples/lenet5.nn"), script);
        assertTrue(script.toFile().setReadable(false, false));
        assumeFalse(Files.isReadable(script), "root reads any file");
        assertRefused("nn: " + script + ": permission denied\n", CliRunner.run("summary", script.toString()));
    }

    @Test void aFolderWhereAFileIsExpectedIsNamed() throws Exception {
        Path weights = Files.createDirectories(dir.resolve("w.safetensors"));
        assertRefused("nn: " + weights + ": a folder, not a file\n",
                CliRunner.run("eval", "../examples/lenet5.nn", "--weights", weights.toString()));
        Path deploy = Files.createDirectories(dir.resolve("deploy.yaml"));
        assertRefused("nn: " + deploy + ": a folder, not a file\n", CliRunner.run("config", "check", deploy.toString()));
    }

    @Test void aFileWhereARunFolderIsExpectedIsNamed() throws Exception {
        Path file = Files.writeString(dir.resolve("afile"), "hi\n");
        assertRefused("nn: " + file + ": a file, not a folder\n",
                CliRunner.run("train", "../examples/lenet5.nn", "--resume", file.toString()));
        assertRefused("nn: " + file + ": a file, not a folder\n",
                CliRunner.run("train", "../examples/lenet5.nn", "--out", file.toString()));
    }

    @Test void textThatIsNotUtf8NamesItsFile() throws Exception {
        Path run = Files.createDirectories(dir.resolve("run"));
        Files.write(run.resolve("metrics.jsonl"), new byte[] {(byte) 0xff, (byte) 0xfe, '\n'});
        assertRefused("nn: " + run.resolve("metrics.jsonl") + ": not valid UTF-8 text\n", CliRunner.run("report", run.toString()));
    }

    /** A deployment saved as Latin-1 used to be read with U+FFFD for the bad bytes: its output folder became "r\uFFFDsultats". */
    @Test void aDeploymentThatIsNotUtf8IsRefused() throws Exception {
        Path deploy = Files.write(dir.resolve("deploy.yaml"), "output: r\u00e9sultats\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertRefused("nn: " + deploy + ": not valid UTF-8 text\n", CliRunner.run("config", "check", deploy.toString()));
        assertRefused("nn: " + deploy + ": not valid UTF-8 text\n", CliRunner.run("summary", "../examples/lenet5.nn", "--deploy", deploy.toString()));
    }

    /**
     * A place the user chose that cannot be written is bad input, exit 2, naming the file: it
     * used to be "I/O error: ... Is a directory (/…/.report.html.123.tmp)", exit 1. A full disk
     * stays a runtime failure.
     */
    @Test void anOutputThatCannotBeWrittenThereIsBadInput() throws Exception {
        Path run = Files.createDirectories(dir.resolve("run"));
        Files.writeString(run.resolve("metrics.jsonl"), "{\"epoch\": 1, \"train_loss\": 0.5}\n");
        Files.createDirectories(run.resolve("report.html"));
        assertRefused("nn: could not write " + run.resolve("report.html") + ": a folder, not a file\n", CliRunner.run("report", run.toString()));

        Path file = Files.writeString(dir.resolve("afile"), "hi\n");
        Path dot = file.resolve("g.dot");
        assertRefused("nn: could not write " + dot + ": " + file.toAbsolutePath() + " is in the way (it exists and is not a folder)\n",
                CliRunner.run("graph", "../examples/lenet5.nn", "-o", dot.toString()));
        assertEquals("hi\n", Files.readString(file));

        // a read-only mount (EROFS) or a folder even root may not write in (EPERM: /sys, an immutable file)
        assertRefused("nn: out: a read-only file system\n", handled(new java.nio.file.FileSystemException("out", null, "Read-only file system")));
        assertRefused("nn: /sys/feat: operation not permitted\n",
                handled(new java.nio.file.FileSystemException("/sys/feat", null, "Operation not permitted")));
        assertRefused("nn: could not write /mnt/ro/g.dot: Read-only file system (/mnt/ro)\n", handled(new java.io.IOException(
                "could not write /mnt/ro/g.dot: Read-only file system (/mnt/ro)", new java.nio.file.FileSystemException("/mnt/ro", null, "Read-only file system"))));
        assertRefused("nn: could not write out/g.dot: permission denied (out)\n",
                handled(new java.io.IOException("could not write out/g.dot: permission denied (out)", new AccessDeniedException("out"))));
        CliRunner.Result full = handled(new java.io.IOException("could not write out/g.dot: No space left on device",
                new java.io.IOException("No space left on device")));
        assertEquals("nn: I/O error: could not write out/g.dot: No space left on device\n", full.err());
        assertEquals(ExitCodes.RUNTIME_FAILURE, full.exit());
    }

    @Test void aReadOnlyFolderIsNamedNotItsTemporaryFile() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("readonly"));
        assertTrue(folder.toFile().setWritable(false, false));
        assumeFalse(Files.isWritable(folder), "root writes anywhere");
        Path dot = folder.resolve("g.dot");
        assertRefused("nn: could not write " + dot + ": permission denied (" + folder.toAbsolutePath() + ")\n",
                CliRunner.run("graph", "../examples/lenet5.nn", "-o", dot.toString()));
    }

    @Test void aGarbledLockIsStillALock() throws Exception {
        Path run = Files.createDirectories(dir.resolve("locked"));
        Files.write(run.resolve(".lock"), new byte[] {'p', 'i', 'd', '=', (byte) 0xff, (byte) 0xfe, '\n'});
        CliRunner.Result r = CliRunner.run("train", "../examples/lenet5.nn", "--out", run.toString());
        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.err());
        assertTrue(r.err().startsWith("nn: " + run + " is in use by another nn train"), r.err());
        assertTrue(r.err().contains("delete " + run.resolve(".lock")), r.err());
    }
}
