package org.neurite.cli;

import java.io.PrintWriter;
import java.text.DecimalFormat;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar for one pass over samples (a training epoch, an evaluation, a prediction run),
 * drawn by the progressbar library on the command's output: done/total, percentage, elapsed time
 * and ETA, samples per second and a caller's message such as the running loss. The line redraws
 * in place with carriage returns and is cleared when the pass ends, so the summary line the
 * command prints next takes its place. A bar that is not {@code live} draws nothing, which is what
 * non-terminal output gets: no carriage returns in logs.
 */
final class LiveBar implements AutoCloseable {
    private final ProgressBar bar;    // null when not live
    private final ClearedLast output; // null when not live

    private LiveBar(ProgressBar bar, ClearedLast output) {
        this.bar = bar;
        this.output = output;
    }

    /** Terminals narrower than this get the compact layout: counts without the unit, so the bar keeps some width. */
    static final int WIDE = 110;

    static LiveBar open(PrintWriter out, boolean live, String task, long total, String unit) {
        if (!live) return new LiveBar(null, null);
        // The library asks the terminal for its width (80 when it cannot tell) and trims lines to it.
        var consumer = new ClearedLast(line -> {
            out.print('\r' + line);
            out.flush();
        });
        boolean wide = consumer.getMaxRenderedLength() >= WIDE;
        ProgressBar bar = new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(total)
                .setStyle(ProgressBarStyle.UNICODE_BLOCK)    // no ANSI colour codes
                .setUnit(wide ? " " + unit : "", 1)           // speed then reads "716 samples/s" or "716/s"
                .showSpeed(new DecimalFormat("#,##0"))
                .setUpdateIntervalMillis(250)
                .clearDisplayOnFinish()
                .setConsumer(consumer)
                .build();
        return new LiveBar(bar, consumer);
    }

    /** Moves to {@code done} samples and shows {@code message} after the bar. */
    void update(long done, String message) {
        if (bar == null) return;
        bar.stepTo(done);
        bar.setExtraMessage(message.isEmpty() ? "" : " " + message);
    }

    /**
     * The bar's output, closed for good by its clear. {@code ProgressBar.close()} cancels the
     * periodic redraw without interrupting one already running, so on a fast pass that redraw
     * could print after the final clear and leave a stale bar in front of the summary line.
     */
    private static final class ClearedLast extends DelegatingProgressBarConsumer {
        private boolean cleared;

        ClearedLast(java.util.function.Consumer<String> print) { super(print); }

        @Override public synchronized void accept(String line) {
            if (!cleared) super.accept(line);
        }

        @Override public synchronized void clear() {
            super.clear();
            cleared = true;
        }

        /** Clears the line unless the library already did. */
        synchronized void clearOnce() {
            if (!cleared) clear();
        }
    }

    /**
     * Ends the pass: the bar is drawn once more, cleared, and the cursor returns to the line start.
     * The library's final update skips the clear when it is also the update's first run (a pass
     * that ended before the periodic redraw ever ran: a small epoch on a busy machine), so the
     * bar is cleared here when that happened.
     */
    @Override public void close() {
        if (bar == null) return;
        bar.close();
        output.clearOnce();
    }
}
