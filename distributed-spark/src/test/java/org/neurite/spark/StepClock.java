package org.neurite.spark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.neurite.engine.TrainingListener;

/**
 * Times between consecutive steps (or averaging rounds), as a {@link TrainingListener} sees them:
 * what the per-step figures of docs/distributed.md are medians of.
 */
final class StepClock implements TrainingListener {
    private final List<Long> times = new ArrayList<>();

    @Override public synchronized void batchDone(int epoch, long done, long total, double meanLoss, double accuracy) {
        times.add(System.nanoTime());
    }

    /** Milliseconds between consecutive steps, sorted, leaving out the first {@code skip} intervals. */
    synchronized double[] sortedStepMillis(int skip) {
        double[] out = new double[times.size() - 1 - skip];
        for (int i = 0; i < out.length; i++) out[i] = (times.get(skip + i + 1) - times.get(skip + i)) / 1e6;
        Arrays.sort(out);
        return out;
    }

    /** The median of {@link #sortedStepMillis}. */
    double medianMillis(int skip) {
        double[] ms = sortedStepMillis(skip);
        return ms.length % 2 == 1 ? ms[ms.length / 2] : (ms[ms.length / 2 - 1] + ms[ms.length / 2]) / 2;
    }
}
