package org.neurite.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Runs {@code nn} in-process and captures what it prints, as a user would see it. */
final class CliRunner {
    record Result(int exit, String out, String err) {}

    private CliRunner() {}

    static Result run(String... args) {
        CommandLine cli = NnCommand.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }
}
