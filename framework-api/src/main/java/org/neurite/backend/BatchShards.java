package org.neurite.backend;

import java.util.function.IntConsumer;

/**
 * A backend extension ({@link Backend#extension}) that runs one training step as two shards of
 * its batch at once, each on its own share of the backend's threads. The engine splits the batch
 * into {@link #SHARDS} parts fixed by the batch size alone and runs the same compiled graph on
 * each; inside {@link #run} every op a shard calls runs on that shard's share, with no fork and
 * join of the whole backend per op.
 *
 * <p>The only ops whose result depends on the other shard's samples are batch norm's in training:
 * a shard's {@code batchNormForward} (training) combines its per-channel sums with the other
 * shard's call of the same rank (the statistics of the whole batch; shard 0 alone updates the
 * running statistics), and its {@code batchNormBackward} combines the two sums dx needs. The
 * parameter gradients are each shard's own: batch norm's {@code dgamma} and {@code dbeta} are the
 * whole batch's in shard 0 and zero in shard 1, so that adding shard 1's gradients to shard 0's
 * gives the batch's. Both shards must therefore call batch norm the same number of times, in the
 * same order, on the same channels.
 *
 * <p>Every value a shard computes is a function of the two shards' inputs, not of the thread
 * count: with one thread the shards take turns, switching at the batch-norm exchanges.
 */
public interface BatchShards {
    /** Shards a step is split into, whatever the thread count (a function of the batch alone keeps the bits). */
    int SHARDS = 2;

    /**
     * Runs {@code shard.accept(0)} and {@code shard.accept(1)} as two shards of one step and
     * returns when both have returned. The first exception thrown by either is rethrown (the other
     * shard stops at its next exchange); calls do not nest.
     */
    void run(IntConsumer shard);
}
