package org.neurite.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Runs Graphviz's {@code dot -Tsvg} on DOT text, for {@code nn graph -o X.svg} and the graph
 * section of {@code nn report}. Each caller decides what a missing or failing Graphviz means
 * for it (an error message, or DOT text instead of a picture).
 */
final class Graphviz {
    /** What became of one run: the SVG bytes, or why there are none. */
    record Svg(byte[] bytes, Failure failure, int exitStatus) {
        boolean ok() { return failure == null; }
    }

    enum Failure {
        /** {@code dot} could not be started: Graphviz is not installed or not on the PATH. */
        NOT_FOUND,
        /** {@code dot} ended with a non-zero exit status. */
        FAILED,
        /** {@code dot} was still running at the time limit and was killed. */
        TIMED_OUT
    }

    private Graphviz() {}

    /**
     * @param stderr where {@code dot}'s own messages go (inherited for a command the user runs,
     *               discarded where the caller falls back quietly)
     * @param timeoutSeconds how long to wait for {@code dot} to finish; 0 waits as long as it takes
     */
    static Svg toSvg(String dot, ProcessBuilder.Redirect stderr, long timeoutSeconds) throws IOException, InterruptedException {
        Process process;
        try {
            process = new ProcessBuilder("dot", "-Tsvg").redirectError(stderr).start();
        } catch (IOException e) {
            return new Svg(null, Failure.NOT_FOUND, -1);
        }
        // dot reads all of its input before it writes, so writing first and then reading cannot block.
        try (OutputStream in = process.getOutputStream()) {
            in.write(dot.getBytes(StandardCharsets.UTF_8));
        }
        ByteArrayOutputStream svg = new ByteArrayOutputStream();
        try (InputStream out = process.getInputStream()) {
            out.transferTo(svg);
        }
        if (timeoutSeconds > 0 && !process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return new Svg(null, Failure.TIMED_OUT, -1);
        }
        int status = process.waitFor();
        return status == 0 ? new Svg(svg.toByteArray(), null, 0) : new Svg(null, Failure.FAILED, status);
    }
}
