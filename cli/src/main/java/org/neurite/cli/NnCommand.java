package org.neurite.cli;

import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.Callable;
import org.neurite.diag.ModelException;
import org.neurite.io.FileErrors;
import org.neurite.io.FileFormatException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code nn} command: define, inspect, train, evaluate and run {@code .nn} models. Every
 * subcommand reports bad input as positioned messages with exit status 2 and never prints a
 * stack trace (set {@code NEURITE_DEBUG=1} to see one for an internal error). {@code --verbose},
 * accepted before or after any command's name, logs what an operator checks on standard error
 * ({@link CommandLogging}).
 */
@Command(name = "nn", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT, versionProvider = BuildVersion.class,
        description = "Neurite: define, train and run neural networks written in the .nn language.",
        subcommands = {SummaryCommand.class, TrainCommand.class, EvalCommand.class, SampleCommand.class, PredictCommand.class, ConfigCommand.class, LayersCommand.class,
                FmtCommand.class, GraphCommand.class, ReportCommand.class, VizCommand.class, ExportCommand.class, ImportCommand.class,
                ServeCommand.class, BackendsCommand.class, CompletionCommand.class, CommandLine.HelpCommand.class})
public final class NnCommand implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    /** Read from the parse result by {@link CommandLogging}; declared here so every command accepts it. */
    @CommandLine.Option(names = {"-v", "--verbose"}, scope = CommandLine.ScopeType.INHERIT,
            description = "log on standard error what happens: plugins loaded, backend and device chosen, data read")
    boolean verbose;

    /** {@code nn} alone: every command with its one-line description, on stderr, exit 2 (a command is missing). */
    @Override public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        err.println("nn: missing command; one of:");
        for (var entry : spec.subcommands().entrySet()) err.printf("  %-10s %s%n", entry.getKey(), summary(entry.getValue().getCommandSpec()));
        err.println("Try 'nn COMMAND --help' for a command's options.");
        return ExitCodes.BAD_INPUT;
    }

    /** A command's one line: its header when it has one (picocli's help command does), else its description's first line. */
    static String summary(CommandLine.Model.CommandSpec command) {
        String[] header = command.usageMessage().header(), description = command.usageMessage().description();
        String line = header.length > 0 ? header[0] : description.length > 0 ? description[0] : "";
        return line.replace("%n", " ").strip();
    }

    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new NnCommand());
        // Logging is configured once the arguments are parsed and before the command runs: before any logger exists.
        cli.setExecutionStrategy(parsed -> {
            CommandLogging.configure(parsed);
            return new CommandLine.RunLast().execute(parsed);
        });
        cli.setExecutionExceptionHandler(NnCommand::handle);
        cli.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("nn: " + ex.getMessage());
            if (!CommandLine.UnmatchedArgumentException.printSuggestions(ex, err)) {
                err.println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help' for usage.");
            }
            return ExitCodes.BAD_INPUT;
        });
        return cli;
    }

    /** Maps exceptions to messages and exit codes; never prints a stack trace unless NEURITE_DEBUG is set. */
    static int handle(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
        PrintWriter err = cli.getErr();
        OutOfMemoryError oom = Main.outOfMemoryCause(e);
        if (oom != null) return Main.outOfMemory(oom, err);
        if (e instanceof ModelException me) {
            err.print(Sources.printer().render(me.diagnostics()));
            err.flush();
            return ExitCodes.BAD_INPUT;
        }
        if (e instanceof NoSuchFileException nf) {
            err.println("nn: no such file: " + nf.getFile());
            return ExitCodes.BAD_INPUT;
        }
        if (e instanceof org.neurite.engine.NumericalFaultException) {
            err.println("nn: training stopped: " + e.getMessage()
                    + ". The weights and checkpoint of the last finished epoch are kept; try a lower learning rate or clip = 1.0.");
            return ExitCodes.RUNTIME_FAILURE;
        }
        if (e instanceof FileFormatException || e instanceof BadInputException || e instanceof IllegalArgumentException) {
            err.println("nn: " + e.getMessage());
            return ExitCodes.BAD_INPUT;
        }
        if (e instanceof java.io.IOException io && FileErrors.isAboutThePath(io)) {
            // "noread.nn: permission denied", "weights: a folder, not a file": the path and the reason, which java.nio's
            // exceptions leave to their class name
            err.println("nn: " + FileErrors.describe(io));
            return ExitCodes.BAD_INPUT;
        }
        if (e instanceof java.io.IOException io && !(io instanceof java.nio.file.FileSystemException)
                && io.getCause() instanceof java.io.IOException cause && FileErrors.isAboutThePath(cause)) {
            // AtomicFiles' "could not write out/x.dot: permission denied (out)": a place the user
            // chose that cannot be written (read only, a folder or a file in the way) is bad input
            err.println("nn: " + io.getMessage());
            return ExitCodes.BAD_INPUT;
        }
        if (e instanceof java.io.IOException io) {
            err.println("nn: I/O error: " + FileErrors.describe(io));
            return ExitCodes.RUNTIME_FAILURE;
        }
        err.println("nn: internal error: " + e);
        if (System.getenv("NEURITE_DEBUG") != null) e.printStackTrace(err);
        else err.println("(set NEURITE_DEBUG=1 to see the stack trace, and please report it)");
        return ExitCodes.RUNTIME_FAILURE;
    }
}
