package org.neurite.engine;

/** Progress callbacks from a {@link Trainer}; every method has an empty default. */
public interface TrainingListener {
    /**
     * Before each step (or Spark averaging round) is handed to the {@link StepExecutor}: its
     * first step's number (counted from 1 over the run) and the samples of the epoch done before
     * it. On an asynchronous device the step is only queued then; {@link #batchDone} follows when
     * its results are read.
     */
    default void batchStart(int epoch, int step, long done) {}

    /** After each batch: samples done so far in this pass out of {@code total}, running means. */
    default void batchDone(int epoch, long done, long total, double meanLoss, double accuracy) {}

    TrainingListener NONE = new TrainingListener() {};
}
