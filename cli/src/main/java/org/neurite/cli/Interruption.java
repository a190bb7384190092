package org.neurite.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import org.neurite.engine.Checkpoints;

/**
 * Ctrl-C during {@code nn train}. The first SIGINT asks the run to stop after the step it is
 * running (a step is never cut in half, so weights and optimiser state stay consistent); the
 * run then writes a checkpoint that records the epoch, the step and how many samples of the
 * epoch were trained, prints how to resume, and exits with 130. A second Ctrl-C quits at once,
 * still with 130: files are written atomically, so the previous checkpoint is intact.
 *
 * <p>Signals are caught through {@code sun.misc.Signal} (module jdk.unsupported). A JVM without
 * it, or one started with {@code -Xrs}, gets no handler; SIGINT then keeps its default effect,
 * the JVM exits with 130 and the checkpoint of the last finished epoch is what remains.
 */
final class Interruption implements AutoCloseable {
    private final Runnable restore;

    private Interruption(Runnable restore) {
        this.restore = restore;
    }

    /** Routes SIGINT to {@code stop} until {@link #close()}; tells {@code err} what is happening. */
    static Interruption onSigint(Runnable stop, PrintWriter err) {
        Runnable firstThenQuit = new Runnable() {
            private boolean asked;

            @Override public synchronized void run() {
                if (asked) {
                    err.println("nn: interrupted again; quitting without a new checkpoint");
                    err.flush();
                    Runtime.getRuntime().halt(ExitCodes.INTERRUPTED);
                }
                asked = true;
                err.println("nn: interrupted; finishing this step and writing a checkpoint (Ctrl-C again to quit at once)");
                err.flush();
                stop.run();
            }
        };
        try {
            return new Interruption(SignalHandler.install("INT", firstThenQuit));
        } catch (LinkageError | IllegalArgumentException | UnsupportedOperationException e) {
            // No sun.misc.Signal here, or the JVM keeps SIGINT for itself (-Xrs): the default stays.
            return new Interruption(() -> { });
        }
    }

    /**
     * What ends the command after the run stopped on request; its checkpoint is already written.
     *
     * @param at the last finished epoch, the steps taken and the samples of the next epoch trained
     */
    static Stopped stopped(Path dir, Checkpoints.Position at) {
        Path file = dir.resolve("checkpoint.safetensors");
        return new Stopped(String.format(Locale.ROOT, "nn: stopped at step %d, %,d samples into epoch %d; checkpoint written to %s. "
                + "Continue with: nn train <script> --resume %s", at.step(), at.epochSamples(), at.epoch() + 1, file, dir));
    }

    /** Puts back the SIGINT handler that was there before. */
    @Override public void close() {
        restore.run();
    }

    /** A run ended by Ctrl-C after its checkpoint was written; the message says how to go on. */
    static final class Stopped extends Exception {
        Stopped(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * The only class that names {@code sun.misc}: loaded on first use, so a JVM without
     * jdk.unsupported fails here with a {@link LinkageError} that {@link #onSigint} catches.
     */
    private static final class SignalHandler {
        static Runnable install(String name, Runnable action) {
            sun.misc.Signal signal = new sun.misc.Signal(name);
            sun.misc.SignalHandler previous = sun.misc.Signal.handle(signal, s -> action.run());
            return () -> sun.misc.Signal.handle(signal, previous);
        }
    }
}
