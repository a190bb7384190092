package org.neurite.serving;

import java.util.concurrent.TimeUnit;

/**
 * When a free batching worker runs what is queued for its model (up to {@code maxBatch} samples),
 * and when it holds a part-filled batch open a little longer.
 * <p>
 * Continuous batching: a worker that has just finished a batch runs whatever queued meanwhile, at
 * once and of whatever size; so does a worker that was idle when nothing more is arriving (no
 * request for the model is being received or decoded by the HTTP layer), or the batch is full. Only
 * an idle worker that has requests arriving, and only with {@code maxDelayMs > 0}, waits for them,
 * at most until the oldest queued request has waited {@code maxDelayMs}.
 * <p>
 * Why: a batch closed only by size or delay idles the worker while the HTTP threads parse, makes a
 * lone client pay the delay on every request, and makes closed-loop clients move in cohorts of
 * {@code maxBatch} whose parsing never overlaps the forward pass. Running what is there keeps the
 * worker busy whenever there is work, never runs fewer samples per forward pass than running
 * requests one at a time, and lets the batch size follow the load: requests queue while the worker
 * computes, so a compute-bound model still gets full batches. Measured on 2 cores, holding a batch
 * for arriving requests made the LeNet-5 server slower, hence the default {@code max_delay_ms: 0}
 * (BENCHMARKS.md, "Serving"). The rule is a pure function of the queue's state and elapsed time, so
 * it is tested without clocks.
 */
final class BatchDispatchRule {
    private final int maxBatch;
    private final long maxDelayNanos;

    /**
     * @param maxBatch samples per forward pass, {@code >= 1}
     * @param maxDelayMs the longest a queued request is held for arriving ones to join it, {@code >= 0}
     */
    BatchDispatchRule(int maxBatch, long maxDelayMs) {
        if (maxBatch < 1) throw new IllegalArgumentException("max_batch must be >= 1, got " + maxBatch);
        if (maxDelayMs < 0) throw new IllegalArgumentException("max_delay_ms must be >= 0, got " + maxDelayMs);
        this.maxBatch = maxBatch;
        this.maxDelayNanos = TimeUnit.MILLISECONDS.toNanos(maxDelayMs);
    }

    int maxBatch() { return maxBatch; }

    /**
     * How long a free worker should wait before running the queue.
     *
     * @param queuedSamples samples in the queue, {@code >= 1}
     * @param arriving requests for the model being received or decoded, not yet queued
     * @param oldestWaitedNanos how long the oldest queued request has been queued
     * @param wasIdle whether the worker found the queue empty since its last batch (false: it has
     *                just finished a batch and these requests queued while it computed)
     * @return 0 to run a batch now, or the most nanoseconds to wait (less if the queue or the
     *         arrivals change first, after which the worker asks again)
     */
    long waitNanos(int queuedSamples, int arriving, long oldestWaitedNanos, boolean wasIdle) {
        if (!wasIdle || queuedSamples >= maxBatch || arriving <= 0) return 0;
        return Math.max(0, maxDelayNanos - oldestWaitedNanos);
    }
}
