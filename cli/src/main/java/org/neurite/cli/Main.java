package org.neurite.cli;

import java.io.PrintWriter;
import org.neurite.plugin.BackendOptions;
import picocli.CommandLine;

/**
 * Entry point of the {@code nn} command. An {@link OutOfMemoryError} that gets past the memory
 * planner's check ({@link MemoryCheck}), on this thread or any other, ends the command with one
 * line saying what ran out and what to do (give Java more heap; for a thread the system refused,
 * use fewer threads), exit status 1, and no stack trace.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        LauncherStandardError.adopt();
        Thread.setDefaultUncaughtExceptionHandler(Main::uncaught);
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit status (0 ok, 1 runtime failure, 2 bad input, 130 interrupted). */
    public static int run(String... args) {
        CommandLine cli = NnCommand.commandLine();
        try {
            return cli.execute(args);
        } catch (OutOfMemoryError e) {
            // picocli hands only Exceptions to the execution exception handler; Errors come through here.
            return outOfMemory(e, cli.getErr());
        }
    }

    /** Prints {@link #outOfMemoryMessage} and returns the exit status of a runtime failure. */
    static int outOfMemory(OutOfMemoryError e, PrintWriter err) {
        err.println(outOfMemoryMessage(e));
        err.flush();
        return ExitCodes.RUNTIME_FAILURE;
    }

    /**
     * One line: what ran out (the error's own words: "Java heap space", "GC overhead limit
     * exceeded"...), the heap it had, and what to do.
     */
    static String outOfMemoryMessage(OutOfMemoryError e) {
        String what = e.getMessage() == null ? "memory" : e.getMessage();
        if (what.startsWith("Requested array size exceeds VM limit")) {
            return "nn: out of memory (" + what + "): one tensor or array is larger than Java allows; use a smaller batch or model";
        }
        if (what.startsWith("unable to create native thread")) {
            // Not the heap: the operating system refused a thread (process limit, or memory outside the heap).
            return "nn: out of memory (" + what + "): the system refused another thread; use fewer threads (--threads, at most "
                    + BackendOptions.MAX_THREADS + ", or the deployment's threads:) or raise the limit on processes (ulimit -u)";
        }
        long max = Runtime.getRuntime().maxMemory();
        long twice = Math.max(1, (2 * max + (1L << 30) - 1) >> 30);
        return "nn: out of memory (" + what + ") with a Java heap of at most " + MemoryEstimate.bytes(max)
                + "; give Java more heap, e.g. NEURITE_JAVA_OPTS=-Xmx" + twice + "g, or use a smaller batch or model";
    }

    /** Another thread's OutOfMemoryError ends the command as this thread's would; anything else is reported as Java does. */
    private static void uncaught(Thread thread, Throwable e) {
        if (e instanceof OutOfMemoryError oom) {
            System.err.println(outOfMemoryMessage(oom));
            System.exit(ExitCodes.RUNTIME_FAILURE);
        }
        // What ThreadGroup.uncaughtException prints when no handler is set (it would call this handler again).
        System.err.print("Exception in thread \"" + thread.getName() + "\" ");
        e.printStackTrace(System.err);
    }

    /** The OutOfMemoryError that caused {@code e} (a worker thread's, rethrown wrapped), or null. */
    static OutOfMemoryError outOfMemoryCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof OutOfMemoryError oom) return oom;
        }
        return null;
    }
}
