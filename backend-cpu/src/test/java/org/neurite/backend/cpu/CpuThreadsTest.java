package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The worker pool: exact coverage of the task range, part-to-worker mapping, claimed tasks, failures and nesting. */
class CpuThreadsTest {

    @Test
    void everyTaskRunsExactlyOnceOnTheWorkerOfItsPart() {
        try (CpuThreads pool = new CpuThreads(4)) {
            for (int tasks : new int[] {1, 3, 4, 10, 1001}) {
                AtomicIntegerArray runs = new AtomicIntegerArray(tasks);
                int[] workerOf = new int[tasks];
                pool.run(tasks, (worker, begin, end) -> {
                    for (int t = begin; t < end; t++) {
                        runs.incrementAndGet(t);
                        workerOf[t] = worker;
                    }
                });
                for (int t = 0; t < tasks; t++) assertEquals(1, runs.get(t), "task " + t + " of " + tasks);
                // Parts are contiguous and in worker order: task t belongs to part floor(t * parts / tasks).
                int parts = Math.min(4, tasks);
                for (int t = 0; t < tasks; t++) {
                    int expectedPart = 0;
                    while ((long) tasks * (expectedPart + 1) / parts <= t) expectedPart++;
                    assertEquals(expectedPart, workerOf[t], "worker of task " + t + " of " + tasks);
                }
            }
        }
    }

    @Test
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // without the take-back, the caller waits for the never-started workers forever
    void partsNoWorkerTakesRunOnTheCallerAsTheirOwnWorker() {
        // Workers that never start stand for workers that do not wake: the caller must take back
        // their parts and run each with its own worker number (its scratch), in static and claimed regions.
        try (CpuThreads pool = new CpuThreads(3, false)) {
            for (int tasks : new int[] {1, 2, 3, 10, 1001}) {
                AtomicIntegerArray runs = new AtomicIntegerArray(tasks);
                int[] workerOf = new int[tasks];
                Thread[] threadOf = new Thread[tasks];
                pool.run(tasks, (worker, begin, end) -> {
                    for (int t = begin; t < end; t++) {
                        runs.incrementAndGet(t);
                        workerOf[t] = worker;
                        threadOf[t] = Thread.currentThread();
                    }
                });
                int parts = Math.min(3, tasks);
                for (int t = 0; t < tasks; t++) {
                    assertEquals(1, runs.get(t), "task " + t + " of " + tasks);
                    assertEquals((int) ((long) (t + 1) * parts - 1) / tasks, workerOf[t], "worker of task " + t + " of " + tasks);
                    assertSame(Thread.currentThread(), threadOf[t], "task " + t + " ran on the caller");
                }
                AtomicIntegerArray claims = new AtomicIntegerArray(tasks);
                pool.runClaimed(tasks, 3, (worker, begin, end) -> {
                    for (int t = begin; t < end; t++) claims.incrementAndGet(t);
                });
                for (int t = 0; t < tasks; t++) assertEquals(1, claims.get(t), "claimed task " + t + " of " + tasks);
            }
            // A failure in a part the caller took back still reaches the caller, and the pool stays usable.
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.run(3, (worker, begin, end) -> {
                if (worker == 2) throw new IllegalStateException("part 2 failed");
            }));
            assertEquals("part 2 failed", e.getMessage());
            AtomicIntegerArray again = new AtomicIntegerArray(5);
            pool.run(5, (worker, begin, end) -> {
                for (int t = begin; t < end; t++) again.incrementAndGet(t);
            });
            for (int t = 0; t < 5; t++) assertEquals(1, again.get(t));
        }
    }

    @Test
    void claimedTasksRunExactlyOnceEachAsSingleTasksOnTheAllowedWorkers() {
        try (CpuThreads pool = new CpuThreads(4)) {
            for (int tasks : new int[] {1, 2, 7, 500}) {
                AtomicIntegerArray runs = new AtomicIntegerArray(tasks);
                int[] workerOf = new int[tasks];
                pool.runClaimed(tasks, 3, (worker, begin, end) -> {
                    if (tasks > 1) assertEquals(begin + 1, end, "a claim is one task");
                    runs.incrementAndGet(begin);
                    workerOf[begin] = worker;
                });
                for (int t = 0; t < tasks; t++) {
                    assertEquals(1, runs.get(t), "task " + t + " of " + tasks);
                    assertTrue(workerOf[t] >= 0 && workerOf[t] < 3, "task " + t + " ran on worker " + workerOf[t] + " of at most 3");
                }
            }
            // One part: nothing to share, the caller runs the whole range in one call.
            StringBuilder calls = new StringBuilder();
            pool.runClaimed(5, 1, (worker, begin, end) -> calls.append(worker).append(':').append(begin).append('-').append(end));
            assertEquals("0:0-5", calls.toString());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.runClaimed(20, 4, (worker, begin, end) -> {
                if (begin == 13) throw new IllegalStateException("task 13 failed");
            }));
            assertEquals("task 13 failed", e.getMessage());
        }
    }

    /** Regions back to back, as a GEMM's packing and multiply phases run: workers then pick up the next part while still spinning. */
    @Test
    void backToBackRegionsEachRunEveryTaskOnce() {
        try (CpuThreads pool = new CpuThreads(3)) {
            int[] perTask = new int[7];
            for (int region = 0; region < 3000; region++) {
                RangeTaskCounter counter = new RangeTaskCounter(perTask);
                if (region % 2 == 0) pool.run(perTask.length, counter);
                else pool.runClaimed(perTask.length, 3, counter);
            }
            for (int t = 0; t < perTask.length; t++) assertEquals(3000, perTask[t], "runs of task " + t);
        }
    }

    /**
     * Regions after which the workers watch longer ({@link CpuThreads#runThenLinger}), mixed with
     * ordinary ones and with pauses past the watch (the workers parked, to be woken): every task
     * runs once each time, whether a worker picks its part up spinning or woken.
     */
    @Test
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void lingeringRegionsEachRunEveryTaskOnce() throws InterruptedException {
        try (CpuThreads pool = new CpuThreads(3)) {
            int[] perTask = new int[5];
            for (int region = 0; region < 300; region++) {
                RangeTaskCounter counter = new RangeTaskCounter(perTask);
                if (region % 3 == 0) pool.runThenLinger(perTask.length, 3, counter, 200_000);
                else pool.run(perTask.length, counter);
                if (region % 10 == 9) Thread.sleep(2);   // past the watch: the workers park
            }
            for (int t = 0; t < perTask.length; t++) assertEquals(300, perTask[t], "runs of task " + t);
        }
    }

    /** Counts the runs of each task; parts never overlap, so plain increments suffice. */
    private record RangeTaskCounter(int[] perTask) implements CpuThreads.RangeTask {
        @Override
        public void run(int worker, int begin, int end) {
            for (int t = begin; t < end; t++) perTask[t]++;
        }
    }

    @Test
    void maxPartsOneRunsOnTheCaller() {
        try (CpuThreads pool = new CpuThreads(3)) {
            Thread[] ranOn = new Thread[1];
            pool.run(50, 1, (worker, begin, end) -> {
                assertEquals(0, worker);
                assertEquals(0, begin);
                assertEquals(50, end);
                ranOn[0] = Thread.currentThread();
            });
            assertSame(Thread.currentThread(), ranOn[0]);
        }
    }

    @Test
    void aFailureInAWorkerReachesTheCallerAndThePoolStaysUsable() {
        try (CpuThreads pool = new CpuThreads(3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pool.run(3, (worker, begin, end) -> {
                if (worker == 2) throw new IllegalArgumentException("bad input in part 2");
            }));
            assertEquals("bad input in part 2", e.getMessage());
            int[] sum = new int[3];
            pool.run(3, (worker, begin, end) -> sum[worker] = worker + 1);
            assertEquals(6, sum[0] + sum[1] + sum[2]);
        }
    }

    @Test
    void nestedRegionsAreRefused() {
        try (CpuThreads pool = new CpuThreads(2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> pool.run(2, (worker, begin, end) -> pool.run(2, (w, b, en) -> { })));
            assertTrue(e.getMessage().contains("nested parallel region"), e.getMessage());
        }
    }
}
