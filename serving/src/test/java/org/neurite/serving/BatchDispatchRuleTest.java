package org.neurite.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** When a free worker runs its queue: the rule as a function of queue state and elapsed time (no clocks). */
class BatchDispatchRuleTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    @Test void aWorkerComingOffABatchRunsWhatQueuedAtOnceWhateverIsArriving() {
        BatchDispatchRule rule = new BatchDispatchRule(32, 5);
        assertEquals(0, rule.waitNanos(1, 0, 0, false));
        assertEquals(0, rule.waitNanos(7, 40, 0, false), "continuous batching: 7 queued while it computed, 40 arriving");
    }

    @Test void anIdleWorkerWithNothingArrivingRunsAtOnce() {
        // A lone client never pays the delay.
        assertEquals(0, new BatchDispatchRule(32, 5).waitNanos(1, 0, 0, true));
    }

    @Test void anIdleWorkerWaitsForArrivingRequestsUntilTheOldestHasWaitedMaxDelay() {
        BatchDispatchRule rule = new BatchDispatchRule(32, 5);
        assertEquals(5 * MS, rule.waitNanos(1, 3, 0, true));
        assertEquals(3 * MS, rule.waitNanos(4, 1, 2 * MS, true));
        assertEquals(1, rule.waitNanos(4, 1, 5 * MS - 1, true));
        assertEquals(0, rule.waitNanos(4, 1, 5 * MS, true), "the oldest has waited max_delay_ms");
        assertEquals(0, rule.waitNanos(4, 1, 9 * MS, true));
    }

    @Test void aFullBatchRunsAtOnce() {
        BatchDispatchRule rule = new BatchDispatchRule(8, 5);
        assertEquals(0, rule.waitNanos(8, 3, 0, true));
        assertEquals(0, rule.waitNanos(12, 3, 0, true));
        assertEquals(5 * MS, rule.waitNanos(7, 3, 0, true));
    }

    @Test void noDelayMeansNoWaiting() {
        BatchDispatchRule rule = new BatchDispatchRule(32, 0);
        assertEquals(0, rule.waitNanos(1, 63, 0, true));
    }

    @Test void refusesImpossibleSettings() {
        assertEquals("max_batch must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> new BatchDispatchRule(0, 2)).getMessage());
        assertEquals("max_delay_ms must be >= 0, got -1",
                assertThrows(IllegalArgumentException.class, () -> new BatchDispatchRule(4, -1)).getMessage());
    }
}
