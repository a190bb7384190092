package org.neurite.train;

import java.util.Collection;
import java.util.List;

/**
 * The core's {@link Metric}s: {@code accuracy}, the fraction of rows whose arg-max output is the
 * label (ties go to the lower class index), recorded as {@code val_accuracy} and
 * {@code test_accuracy}. The engine contributes them to the runtime's metric registry, where
 * plugins add theirs.
 */
public final class Metrics {
    private Metrics() {}

    /** The core's metrics. */
    public static final List<Metric> CORE = List.of(new Accuracy());

    /**
     * Whether the record key {@code key} ({@code val_loss}, {@code val_accuracy}, {@code test_mae})
     * improves by going down: a loss does; a metric of {@code metrics} as it declares; any other
     * key is taken to improve upwards.
     */
    public static boolean lowerIsBetter(String key, Collection<Metric> metrics) {
        if (key.equals("loss") || key.endsWith("_loss")) return true;
        for (Metric m : metrics) {
            if (key.equals(m.name()) || key.endsWith("_" + m.name())) return !m.higherIsBetter();
        }
        return false;
    }

    /** Fraction of rows whose arg-max output is the label, as {@code Evaluation.accuracy} counts it. */
    private static final class Accuracy implements Metric {
        @Override public String name() { return "accuracy"; }

        @Override public boolean classification() { return true; }

        @Override public boolean higherIsBetter() { return true; }

        @Override public Tally start() {
            return new Tally() {
                private long correct;
                private long rows;

                @Override public void add(float[] outputs, float[] targets, int count, int width) {
                    for (int r = 0; r < count; r++) {
                        int base = r * width, best = 0;
                        for (int c = 1; c < width; c++) if (outputs[base + c] > outputs[base + best]) best = c;
                        if (best == (int) targets[r]) correct++;
                    }
                    rows += count;
                }

                @Override public double value() { return rows == 0 ? Double.NaN : (double) correct / rows; }
            };
        }
    }
}
