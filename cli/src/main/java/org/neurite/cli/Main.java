package org.neurite.cli;

import picocli.CommandLine;

/** Entry point of the {@code nn} command. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit status (0 ok, 1 runtime failure, 2 bad input, 130 interrupted). */
    public static int run(String... args) {
        CommandLine cli = NnCommand.commandLine();
        return cli.execute(args);
    }
}
