package org.neurite.engine;

/** Progress callbacks from a {@link Trainer}; every method has an empty default. */
public interface TrainingListener {
    /** After each batch: samples done so far in this pass out of {@code total}, running means. */
    default void batchDone(int epoch, long done, long total, double meanLoss, double accuracy) {}

    TrainingListener NONE = new TrainingListener() {};
}
