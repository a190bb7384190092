package org.neurite.engine;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * What a {@link TrainingRun} tells whoever watches it (a progress bar, a metrics sink, early
 * stopping): the start and end of the run, of every epoch and of every batch. Every method has
 * an empty default. A callback may end the run: {@link TrainingRun#stopAfterEpoch(String)} from
 * {@link #epochEnd} (early stopping), or {@link TrainingRun#requestStop()} after the step in progress.
 */
public interface TrainingCallback {
    /**
     * Before {@link #runStart} of a resumed run: the {@code metrics.jsonl} records of the epochs it
     * had already finished, in order, so that a callback deciding from the history (early
     * stopping, plots) decides as it would have in a run that never stopped.
     */
    default void runResumed(List<Map<String, Object>> earlierEpochs) {}

    /** Before the first epoch; {@code firstEpoch} is past 1 when the run was resumed. */
    default void runStart(TrainingRun run, int firstEpoch, int epochs) {}

    /** Before the first step of {@code epoch} (counted from 1). */
    default void epochStart(int epoch, int epochs, long samples) {}

    /**
     * Before each step (or Spark averaging round) is taken: its first step's number over the run
     * and the samples of the epoch done before it. Called wherever the steps are computed; on an
     * asynchronous device the step is queued then, and its {@link #batchEnd} comes when it is read.
     */
    default void batchStart(int epoch, int step, long done) {}

    /** After each step (or Spark round): samples of the epoch done so far, running means over the epoch. */
    default void batchEnd(int epoch, long done, long total, double meanLoss, double accuracy) {}

    /**
     * The training pass of {@code epoch} is over, before evaluation; also called, with
     * {@code train} null, when a step failed (a NaN), so that whatever a callback opened at
     * {@link #epochStart} can be closed.
     */
    default void epochTrained(int epoch, EpochStats train) {}

    /** The epoch is evaluated and its files (metrics, weights, checkpoint) are written. */
    default void epochEnd(TrainingRun.EpochEnd end) throws IOException {}

    /** After the last epoch, or after a stop request ended the run inside one (its checkpoint written). */
    default void runEnd(TrainingRun.Result result) throws IOException {}
}
