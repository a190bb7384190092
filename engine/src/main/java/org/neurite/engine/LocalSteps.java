package org.neurite.engine;

import java.util.List;
import org.neurite.data.Dataset;

/**
 * The steps on this process's backend, a {@link Trainer}'s default {@link StepExecutor}: each step
 * is submitted to the {@link TrainStep} without reading anything back, and the results of up to
 * {@link TrainStep#readEvery()} steps are read together (every step on the CPU, every 32 on an
 * asynchronous device).
 */
final class LocalSteps implements StepExecutor {
    private final TrainStep trainStep;
    private final int batch;

    LocalSteps(TrainStep trainStep, int batch) {
        this.trainStep = trainStep;
        this.batch = batch;
    }

    @Override public int readEvery() { return trainStep.readEvery(); }

    @Override public void take(Dataset data, int[] order, int epoch, int from, int steps, int firstStep) {
        if (steps != 1) throw new IllegalArgumentException("local steps are taken one at a time, not " + steps);
        trainStep.submit(data, order, from, Math.min(batch, data.size() - from), firstStep, epoch);
    }

    @Override public List<TrainStep.Result> collect() { return trainStep.collect(); }

    @Override public int pending() { return trainStep.pending(); }
}
