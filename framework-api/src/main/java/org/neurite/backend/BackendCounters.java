package org.neurite.backend;

/**
 * How much work a backend was handed and how often the host waited for it, counted since the
 * backend was created ({@link Backend#counters()}). Take two readings and subtract them
 * ({@link #minus}) to count one stretch of work, a training step or an epoch.
 *
 * @param launches ops started on the backend: on a device, every kernel, fill and copy enqueued
 *     (a fused op may be one launch, a composed one several); on the CPU, every op
 * @param syncs host synchronisations: every call that returned only once the backend's queued
 *     work (or part of it) was done, such as a blocking read ({@link Backend#download}, an op that
 *     returns a value to Java, a backend's own read-back of a status word) or {@link Backend#synchronize}.
 *     On a device each one drains the queue, and the device idles until the host queues more.
 */
public record BackendCounters(long launches, long syncs) {
    /** Nothing counted. */
    public static final BackendCounters ZERO = new BackendCounters(0, 0);

    /** What was counted between {@code earlier} and this reading. */
    public BackendCounters minus(BackendCounters earlier) {
        return new BackendCounters(launches - earlier.launches, syncs - earlier.syncs);
    }

    /** Launches per step over {@code steps} steps (0 when there were none). */
    public double launchesPer(long steps) { return steps > 0 ? (double) launches / steps : 0; }

    /** Host synchronisations per step over {@code steps} steps (0 when there were none). */
    public double syncsPer(long steps) { return steps > 0 ? (double) syncs / steps : 0; }
}
