package org.neurite.backend;

/**
 * A backend extension ({@link Backend#extension}) that runs one training step as two shards of
 * its batch, each on its own share of the backend's threads (the engine's {@code Predictor} runs
 * its calls the same way: inference, with no batch-norm call to combine). The engine splits the batch into
 * {@link #SHARDS} parts fixed by the batch size alone and runs the same compiled graph on each,
 * step by step (a step: one node of the graph, forward or backward); inside {@link #run} every op
 * a shard calls runs on that shard's share, with no fork and join of the whole backend per op.
 *
 * <p>The only ops whose result depends on the other shard's samples are batch norm's in training:
 * a shard's {@code batchNormForward} (training) combines its per-channel sums with the other
 * shard's call of the same rank (the statistics of the whole batch; shard 0 alone updates the
 * running statistics), and its {@code batchNormBackward} combines the two sums dx needs. The
 * parameter gradients are each shard's own: batch norm's {@code dgamma} and {@code dbeta} are the
 * whole batch's in shard 0 and zero in shard 1, so that adding shard 1's gradients to shard 0's
 * gives the batch's. Both shards must therefore call batch norm in the same steps, at most once a
 * step, and nothing in that step may read what the call wrote: a backend may finish shard 0's call
 * during shard 1's step of the same index (with one thread, below).
 *
 * <p>Every value a shard computes is a function of the two shards' inputs, not of the thread
 * count: with two threads or more the shards run at once; with one they take turns on the
 * calling thread, shard 0's steps up to a batch-norm call, then shard 1's up to the same step
 * (where shard 0's call finishes), and so on.
 */
public interface BatchShards {
    /** Shards a step is split into, whatever the thread count (a function of the batch alone keeps the bits). */
    int SHARDS = 2;

    /** Step {@code step} of shard {@code shard}'s pass; a shard's steps are called in order. */
    @FunctionalInterface
    interface Steps {
        void run(int shard, int step);
    }

    /**
     * Runs steps {@code [0, steps)} of shard 0 and of shard 1 ({@code body.run(s, i)}) as two
     * shards of one step and returns when both have run them all. The first exception thrown by
     * either is rethrown (the other shard stops at its next exchange, or before its next step);
     * calls do not nest.
     */
    void run(int steps, Steps body);

    /**
     * Nanoseconds the shards have spent waiting for each other at their batch-norm exchanges
     * since the backend was created, both shards' waits added (take two readings and subtract
     * them for one stretch of steps); 0 where a backend does not count them. Shards that take
     * turns on one thread never wait. Two shards do the same work, so on an idle machine this
     * stays a small share of a step: more is one core's time taken by something else (another
     * process, a JIT compiler thread, a virtual machine's host), which stalls both shards.
     */
    default long waitNanos() {
        return 0L;
    }

    /**
     * The part of {@link #waitNanos} that shard {@code shard} (0 or 1) spent waiting for the
     * other. Over a stretch of steps the shard that waited less is the one whose core ran slower:
     * a share that stays on one side is a core slowed for the whole stretch, which the other can
     * do nothing about but wait; 0 where a backend does not count them.
     */
    default long waitNanos(int shard) {
        return 0L;
    }
}
