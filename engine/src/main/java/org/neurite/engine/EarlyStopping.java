package org.neurite.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.neurite.train.ValidationSpec;

/**
 * Ends a {@link TrainingRun} when a metric has not improved for {@code patience} epochs in a row,
 * as Keras's {@code EarlyStopping(monitor, patience, min_delta)}: the run stops after the epoch
 * that used up the patience ({@link TrainingRun#stopAfterEpoch(String)}), with that epoch's
 * checkpoint written. The metric is a key of the epoch's {@code metrics.jsonl} record
 * ({@code val_loss}, {@code val_accuracy}, …); a name ending in {@code loss} improves by going
 * down, any other by going up, and only by more than {@code minDelta}. A train section's
 * {@code early_stopping = patience(3, metric="val_loss")} is this callback, which the run adds
 * itself; a resumed run replays the earlier epochs' records first, so it stops where the run that
 * never stopped would have.
 */
public final class EarlyStopping implements TrainingCallback {
    private final String metric;
    private final int patience;
    private final double minDelta;
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
        this(metric, patience, 0);
    }

    /**
     * @param minDelta a change of at most this much (at least 0) is no improvement; a metric
     *     ending in {@code loss} improves by going down, any other by going up
     */
    public EarlyStopping(String metric, int patience, double minDelta) {
        this(metric, patience, minDelta, ValidationSpec.lowerIsBetter(metric));
    }

    /** @param lowerIsBetter whether {@code metric} improves by going down (a loss, an error) */
    public EarlyStopping(String metric, int patience, double minDelta, boolean lowerIsBetter) {
        if (patience < 1) throw new IllegalArgumentException("patience is at least 1 epoch, got " + patience);
        if (!(minDelta >= 0)) throw new IllegalArgumentException("min_delta is at least 0, got " + minDelta);
        this.metric = metric;
        this.patience = patience;
        this.minDelta = minDelta;
        this.lower = lowerIsBetter;
        this.best = lower ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
    }

    @Override public void runResumed(List<Map<String, Object>> earlierEpochs) {
        for (Map<String, Object> record : earlierEpochs) {
            if (record.get("epoch") instanceof Number epoch && record.get(metric) instanceof Number value) {
                observe(epoch.intValue(), value.doubleValue());
            }
        }
    }

    @Override public void runStart(TrainingRun run, int firstEpoch, int epochs) {
        this.run = run;
    }

    @Override public void epochEnd(TrainingRun.EpochEnd e) {
        if (!(e.record().get(metric) instanceof Number n)) {
            throw new IllegalArgumentException("early stopping watches '" + metric + "', which the epoch's record does not have; it has "
                    + e.record().keySet());
        }
        if (observe(e.epoch(), n.doubleValue())) {
            stoppedAfter = e.epoch();
            run.stopAfterEpoch(reason());
        }
    }

    /**
     * Why the run whose records (one per finished epoch, in order) are {@code earlierEpochs}
     * stopped after its last one, or null when this rule lets it go on: what a run resumed after
     * those epochs would have to ignore. A run that stopped early has nothing left to resume.
     */
    public String stopReasonAfter(List<Map<String, Object>> earlierEpochs) {
        EarlyStopping replay = new EarlyStopping(metric, patience, minDelta, lower);
        boolean stop = false;
        for (Map<String, Object> record : earlierEpochs) {
            if (record.get("epoch") instanceof Number epoch && record.get(metric) instanceof Number value) {
                stop = replay.observe(epoch.intValue(), value.doubleValue());
            }
        }
        return stop ? replay.reason() : null;
    }

    private String reason() {
        return String.format(Locale.ROOT, "%s has not improved%s for %d epoch%s (best %.4f after epoch %d)", metric,
                minDelta > 0 ? " by more than " + minDelta : "", patience, patience == 1 ? "" : "s", best, bestEpoch);
    }

    /** Records {@code epoch}'s value; true when it used up the patience. */
    private boolean observe(int epoch, double value) {
        seen.add(value);
        if (lower ? value < best - minDelta : value > best + minDelta) {
            best = value;
            bestEpoch = epoch;
            return false;
        }
        return epoch - bestEpoch >= patience;
    }

    /** The record key watched. */
    public String metric() { return metric; }

    /** The epoch with the best value so far (0 before the first). */
    public int bestEpoch() { return bestEpoch; }

    /** The best value so far. */
    public double best() { return best; }

    /** The epoch after which this stopped the run, or 0 when it did not. */
    public int stoppedAfter() { return stoppedAfter; }

    /** Every value seen, one per epoch (those a resumed run replayed first). */
    public List<Double> values() { return List.copyOf(seen); }
}
