package org.neurite.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * Ends a {@link TrainingRun} when a metric has not improved for {@code patience} epochs in a row,
 * as Keras's {@code EarlyStopping(monitor, patience)}: the run stops after the epoch that used up
 * the patience ({@link TrainingRun#stopAfterEpoch()}), with that epoch's checkpoint written. The
 * metric is a key of the epoch's {@code metrics.jsonl} record ({@code test_loss},
 * {@code test_accuracy}, {@code train_loss}, …); a name ending in {@code loss} improves by going
 * down, any other by going up.
 */
public final class EarlyStopping implements TrainingCallback {
    private final String metric;
    private final int patience;
    private final boolean lower;
    private final List<Double> seen = new ArrayList<>();
    private TrainingRun run;
    private double best;
    private int bestEpoch;
    private int stoppedAfter;

    /**
     * @param metric the record key watched
     * @param patience epochs without improvement tolerated (at least 1)
     */
    public EarlyStopping(String metric, int patience) {
        if (patience < 1) throw new IllegalArgumentException("patience is at least 1 epoch, got " + patience);
        this.metric = metric;
        this.patience = patience;
        this.lower = metric.endsWith("loss");
        this.best = lower ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
    }

    @Override public void runStart(TrainingRun run, int firstEpoch, int epochs) {
        this.run = run;
    }

    @Override public void epochEnd(TrainingRun.EpochEnd e) {
        if (!(e.record().get(metric) instanceof Number n)) {
            throw new IllegalArgumentException("early stopping watches '" + metric + "', which the epoch's record does not have; it has "
                    + e.record().keySet());
        }
        double value = n.doubleValue();
        seen.add(value);
        if (lower ? value < best : value > best) {
            best = value;
            bestEpoch = e.epoch();
        } else if (e.epoch() - bestEpoch >= patience) {
            stoppedAfter = e.epoch();
            run.stopAfterEpoch();
        }
    }

    /** The epoch with the best value so far (0 before the first). */
    public int bestEpoch() { return bestEpoch; }

    /** The best value so far. */
    public double best() { return best; }

    /** The epoch after which this stopped the run, or 0 when it did not. */
    public int stoppedAfter() { return stoppedAfter; }

    /** Every value seen, one per epoch of this run. */
    public List<Double> values() { return List.copyOf(seen); }
}
