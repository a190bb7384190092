package org.neurite.engine;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.neurite.train.Metric;

/**
 * What one pass over a dataset in evaluation mode measured: the mean loss and, for a classifier,
 * accuracy, top-5 accuracy and per-class counts from which precision, recall and F1 follow (as
 * scikit-learn's {@code precision_recall_fscore_support}, 0 where a denominator is 0). Rows are
 * target rows: one per sample, or one per time step for sequence labelling.
 *
 * @param epoch the epoch evaluated after (counted from 1), or 0 outside a run
 * @param loss mean loss per row
 * @param accuracy fraction of rows whose arg-max output is the label; NaN for regression
 * @param top5 fraction of rows whose label is among the five largest outputs (ties broken as the
 *     arg-max breaks them, by lower class index); NaN for regression or with five classes or fewer,
 *     where it is always 1
 * @param truePositives per class, rows of that class predicted as it; empty for regression
 * @param predicted per class, rows predicted as it
 * @param actual per class, rows of that class (its support)
 * @param samples samples evaluated
 * @param metrics every registered {@link Metric} of the loss's kind by name, the core's {@code accuracy}
 *     included; NaN where undefined
 */
public record Evaluation(int epoch, double loss, double accuracy, double top5, long[] truePositives, long[] predicted, long[] actual,
                         long samples, double seconds, Map<String, Double> metrics) {
    public Evaluation {
        metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
    }

    /** An evaluation that measured no metric beyond its own fields. */
    public Evaluation(int epoch, double loss, double accuracy, double top5, long[] truePositives, long[] predicted, long[] actual,
                      long samples, double seconds) {
        this(epoch, loss, accuracy, top5, truePositives, predicted, actual, samples, seconds, Map.of());
    }

    /** Classes counted: 0 for regression. */
    public int classes() { return actual.length; }

    /** Of the rows predicted as class {@code c}, the fraction that are (0 when none is). */
    public double precision(int c) { return ratio(truePositives[checkClass(c)], predicted[c]); }

    /** Of the rows of class {@code c}, the fraction predicted as it (0 when there are none). */
    public double recall(int c) { return ratio(truePositives[checkClass(c)], actual[c]); }

    /** The harmonic mean of precision and recall of class {@code c} (0 when both are 0). */
    public double f1(int c) { return ratio(2 * truePositives[checkClass(c)], predicted[c] + actual[c]); }

    /** Rows of class {@code c}. */
    public long support(int c) { return actual[checkClass(c)]; }

    private int checkClass(int c) {
        if (c < 0 || c >= actual.length) {
            throw new IllegalArgumentException(actual.length == 0 ? "class " + c + ": this evaluation counts no classes (a regression)"
                    : "class " + c + " is not one of the " + actual.length + " classes counted (0 to " + (actual.length - 1) + ")");
        }
        return c;
    }

    /** The unweighted mean of every class's F1 (scikit-learn's {@code average="macro"}); NaN for regression. */
    public double macroF1() {
        if (classes() == 0) return Double.NaN;
        double sum = 0;
        for (int c = 0; c < classes(); c++) sum += f1(c);
        return sum / classes();
    }

    /** Loss and accuracy as the statistics of an epoch. */
    public EpochStats stats() { return new EpochStats(epoch, loss, accuracy, samples, seconds); }

    private static double ratio(long part, long whole) { return whole == 0 ? 0 : (double) part / whole; }
}
