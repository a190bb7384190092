package org.neurite.cli;

import java.util.Locale;

/**
 * How a long-running command reports progress on standard output. {@link #BAR}: a live progress
 * bar per pass, for people at a terminal. {@link #LINES}: one plain line per epoch with no control
 * characters, for logs, CI and pipes (tests parse these lines). {@link #QUIET}: only the final
 * result line. {@link #JSON}: one JSON object per line, for programs.
 */
enum OutputMode {
    BAR, LINES, QUIET, JSON;

    /**
     * The system property that overrides terminal detection: {@code bar} or {@code lines}
     * ({@code -Dneurite.progress=lines} keeps a terminal session plain, e.g. for screen recordings).
     */
    static final String PROPERTY = "neurite.progress";

    /** {@code --quiet} and {@code --json} first; otherwise a bar when standard output is a terminal. */
    static OutputMode choose(boolean quiet, boolean json) {
        if (quiet && json) throw new BadInputException("--quiet and --json do not combine; pick one");
        if (json) return JSON;
        if (quiet) return QUIET;
        return interactive() ? BAR : LINES;
    }

    /** Whether a person is watching: {@code System.console()} exists, unless the property says otherwise. */
    static boolean interactive() {
        String forced = System.getProperty(PROPERTY);
        if (forced != null) {
            switch (forced.toLowerCase(Locale.ROOT)) {
                case "bar": return true;
                case "lines": return false;
                default: throw new BadInputException("-D" + PROPERTY + " must be 'bar' or 'lines', got '" + forced + "'");
            }
        }
        return System.console() != null;
    }
}
