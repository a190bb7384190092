package org.neurite.engine;

import java.util.List;
import org.neurite.data.Dataset;

/**
 * How the optimisation steps of a {@link Trainer}'s epoch are computed; everything around them
 * (the seeded order, the batches, the listener, reading the results, checkpoints inside an
 * epoch, stop requests) is the trainer's one loop. The trainer hands an executor one group of
 * consecutive steps at a time ({@link #take}) and later asks for what they measured
 * ({@link #collect}). Three executors exist:
 * <ul>
 *   <li>this process's backend (the default): each step submitted to the trainer's
 *       {@link TrainStep}, its results left on the device and read every
 *       {@link TrainStep#readEvery()} steps;</li>
 *   <li>Spark's synchronous mode: the workers compute the gradients of their slices of the
 *       batch, the driver sums them and applies the sum with the trainer's {@link TrainStep#update};</li>
 *   <li>Spark's parameter averaging: every worker takes a round of {@link #stepsPerTake()} whole
 *       steps on its slices, and the driver averages the weights and optimiser state they return.</li>
 * </ul>
 * Either way the epoch statistics, the listener's calls and the step counter come from the
 * trainer, so a run reports, checkpoints and resumes alike wherever its steps were computed.
 */
public interface StepExecutor {
    /**
     * Consecutive steps one {@link #take} covers: 1, or parameter averaging's round, whose steps
     * run together on the workers and are measured (and told to the listener) as one.
     */
    default int stepsPerTake() { return 1; }

    /** Takes whose results may wait before the trainer must {@link #collect} them: 1 reads after every take. */
    default int readEvery() { return 1; }

    /**
     * Takes {@code steps} optimisation steps of {@code epoch} (counted from 1): step k (from 0)
     * trains the batch of samples {@code order[from + k·batch ..]} of {@code data}, the last one
     * cut at the end of the data, and is step {@code firstStep + k} of the run (which seeds its
     * dropout). The results may stay where they were computed until {@link #collect}.
     *
     * @param order the epoch's seeded sample order (an executor whose workers hold the data
     *     derive the same order from the seed and the epoch)
     * @throws NumericalFaultException when a step was not finite and the executor found out at
     *     once; then none of these steps changed the weights or the optimiser state
     */
    void take(Dataset data, int[] order, int epoch, int from, int steps, int firstStep);

    /**
     * What every take since the last call measured, one result per take, in order.
     *
     * @throws NumericalFaultException when a step was not finite, naming it; the weights are
     *     those from before that step ({@link NumericalFaultException#step()}, when known)
     */
    List<TrainStep.Result> collect();

    /** Takes whose results have not been collected. */
    int pending();
}
