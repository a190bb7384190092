package org.neurite.cli;

/** The exit statuses of {@code nn}, documented in the README. */
public final class ExitCodes {
    private ExitCodes() {}

    public static final int OK = 0;
    /** Something failed while running (an I/O error writing results, a numerical fault). */
    public static final int RUNTIME_FAILURE = 1;
    /** Bad input: script, configuration, data or weight file, command-line usage. */
    public static final int BAD_INPUT = 2;
    /** Interrupted by SIGINT. */
    public static final int INTERRUPTED = 130;
}
