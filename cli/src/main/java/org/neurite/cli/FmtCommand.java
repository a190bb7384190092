package org.neurite.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.neurite.dsl.ScriptFormatter;
import org.neurite.io.AtomicFiles;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code nn fmt FILE... [--check | --write]}: the canonical form of .nn scripts (the dsl's
 * {@link ScriptFormatter}). Without a flag it prints the canonical text; {@code --check} prints
 * nothing for canonical files and names the others, exiting with 1 if there are any (for CI);
 * {@code --write} replaces each file that changes, atomically, keeping its permissions. A file
 * the formatter cannot parse is reported like any script error (exit 2) and never touched.
 */
@Command(name = "fmt", description = {"Print .nn scripts in canonical form, check that they are, or rewrite them.",
        "Exit status with --check: 0 when every file is canonical, 1 when one is not."})
final class FmtCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "FILE", description = "the scripts to format")
    List<Path> files;

    @Option(names = "--check", description = "print nothing; name the files that are not in canonical form and exit 1 if any")
    boolean check;

    @Option(names = "--write", description = "rewrite the files that are not in canonical form (atomically)")
    boolean write;

    @Spec CommandSpec spec;

    @Override public Integer call() throws Exception {
        if (check && write) throw new CommandLine.ParameterException(spec.commandLine(), "--check and --write exclude each other");
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int notCanonical = 0;
        for (Path file : files) {
            String canonical = ScriptFormatter.format(file);
            boolean same = canonical.equals(new String(Files.readAllBytes(file), StandardCharsets.UTF_8));
            if (check) {
                if (!same) {
                    err.println("nn fmt: " + file + " is not in canonical form");
                    notCanonical++;
                }
            } else if (write) {
                if (!same) {
                    rewrite(file, canonical);
                    err.println("nn fmt: reformatted " + file);
                }
            } else {
                out.print(canonical);
            }
        }
        out.flush();
        err.flush();
        return notCanonical > 0 ? ExitCodes.RUNTIME_FAILURE : ExitCodes.OK;
    }

    /**
     * Replaces the file's text atomically. The replacement is a new file, created private, so
     * the old file's permissions are put back on it: formatting must not hide a script from
     * the people who could read it.
     */
    private static void rewrite(Path file, String text) throws IOException {
        Set<PosixFilePermission> permissions = null;
        try {
            permissions = Files.getPosixFilePermissions(file);
        } catch (UnsupportedOperationException e) {
            // Not a POSIX file system: the replacement gets that system's defaults.
        }
        AtomicFiles.writeString(file, text);
        if (permissions != null) Files.setPosixFilePermissions(file, permissions);
    }
}
