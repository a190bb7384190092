package org.neurite.engine;

import java.util.List;
import java.util.Map;
import org.neurite.io.NamedTensor;

/**
 * Which epoch's weights a {@link TrainingRun} keeps in {@code model.safetensors}: every epoch's
 * in turn ({@code keep = last}), or with {@code keep = best(metric)} an epoch whose metric beats
 * every earlier epoch's (Keras's {@code ModelCheckpoint(save_best_only=True)}). For the latter a
 * host copy of the best weights is held, so that the run can end with them in its store, where
 * evaluation and prediction after {@code fit} find them.
 */
final class KeptWeights {
    /** The metric compared, or null to keep the last epoch. */
    private final String metric;
    private final boolean lower;
    private double best;
    private int bestEpoch;
    /** The best epoch's weights when this process saw that epoch; null otherwise (it was before a resume). */
    private List<NamedTensor> bestWeights;
    /** The kept epoch's record when it came from a replay (the epoch was before a resume); null otherwise. */
    private Map<String, Object> replayedRecord;

    /**
     * @param metric a key of the epochs' records, or null to keep the last epoch
     * @param lowerIsBetter whether {@code metric} improves by going down (a loss, an error)
     */
    KeptWeights(String metric, boolean lowerIsBetter) {
        this.metric = metric;
        this.lower = metric != null && lowerIsBetter;
        this.best = lower ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
    }

    boolean keepsBest() { return metric != null; }

    /** The epoch whose weights are kept so far (0 before any). */
    int epoch() { return bestEpoch; }

    /** Replays the records of the epochs a resumed run already finished. */
    void replay(List<Map<String, Object>> records) {
        for (Map<String, Object> r : records) {
            if (!(r.get("epoch") instanceof Number epoch)) continue;
            if (metric == null) bestEpoch = epoch.intValue();
            if (metric == null || improves(epoch.intValue(), r.get(metric))) replayedRecord = r;
        }
    }

    /** The record of the kept epoch when it came before a resume, else null (this process saw it). */
    Map<String, Object> replayedRecord() { return replayedRecord; }

    /**
     * Whether {@code epoch}, whose record is {@code record}, is now the epoch kept; if so and
     * this keeps the best, copies the store's weights.
     *
     * @throws IllegalArgumentException when the record lacks the metric
     */
    boolean offer(int epoch, Map<String, Object> record, ParameterStore store) {
        if (metric == null) {
            bestEpoch = epoch;
            replayedRecord = null;
            return true;
        }
        if (!(record.get(metric) instanceof Number)) {
            throw new IllegalArgumentException("keep = best compares '" + metric + "', which the epoch's record does not have; it has "
                    + record.keySet());
        }
        if (!improves(epoch, record.get(metric))) return false;
        bestWeights = store.export();
        replayedRecord = null;
        return true;
    }

    private boolean improves(int epoch, Object value) {
        if (metric == null || !(value instanceof Number n)) return false;
        double v = n.doubleValue();
        if (lower ? v < best : v > best) {
            best = v;
            bestEpoch = epoch;
            return true;
        }
        return false;
    }

    /** The kept weights as copied, or null when the best epoch came before this process resumed the run. */
    List<NamedTensor> bestWeights() { return bestWeights; }
}
