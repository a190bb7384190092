package org.neurite.train;

/**
 * A figure measured over a whole split after every epoch, besides the loss: the run records it
 * as {@code val_<name>} and {@code test_<name>} in {@code metrics.jsonl}, and a train section can
 * watch {@code val_<name>} ({@code early_stopping = patience(3, metric="val_<name>")},
 * {@code keep = best(metric="val_<name>")}). A plugin contributes one with
 * {@code PluginModule.metric}; the core's {@code accuracy} ({@link Metrics}) is contributed the same way.
 *
 * <p>Computed on the host from the copy of each evaluation batch's outputs the evaluator already
 * makes, one {@link Tally} per pass, so a metric needs no backend code.
 */
public interface Metric {
    /** The name, e.g. {@code accuracy}: a lower-case identifier, not {@code loss} (always recorded). */
    String name();

    /**
     * Whether it measures a classifier (targets are class indices, each output row a score per
     * class) rather than a regression (targets are real values, one per output element). A run
     * records only the metrics of its loss's kind.
     */
    boolean classification();

    /** Whether a larger value is better (accuracy) rather than a smaller one (an error). */
    boolean higherIsBetter();

    /** A fresh tally for one pass over a split. */
    Tally start();

    /** What one pass has seen so far. */
    interface Tally {
        /**
         * Adds one batch.
         *
         * @param outputs {@code rows * width} floats: row {@code r}'s outputs at {@code [r * width, (r + 1) * width)}
         * @param targets {@code rows} floats: a class index (as a float) per row for a classifier, a real value per row otherwise
         * @param rows target rows in this batch
         * @param width outputs per row: the classes for a classifier, 1 for a regression
         */
        void add(float[] outputs, float[] targets, int rows, int width);

        /** The value over every row added; NaN when it is undefined (e.g. no rows). */
        double value();
    }
}
