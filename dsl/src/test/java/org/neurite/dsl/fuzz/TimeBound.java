package org.neurite.dsl.fuzz;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.opentest4j.AssertionFailedError;

/**
 * Runs one fuzz case on a fresh thread with an ordinary 1 MiB stack (the JVM default on 64-bit
 * Linux, not the 8 MiB the test JVM and {@code nn} get), so a case that only survives on a big
 * stack fails here; and bounds its time. The bound is CPU time of that thread (the brief's 2 s),
 * so a busy two-core CI box cannot turn a slow scheduler into a "hang"; a thread blocked without
 * using CPU is caught by a wall-clock backstop ten times longer.
 *
 * <p>Whatever the case throws (an exception, a {@link StackOverflowError}) is rethrown to the
 * caller as is, so the property sees it; a case over the bound is an {@link AssertionFailedError}.
 */
final class TimeBound {
    static final long STACK_BYTES = 1L << 20;

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private TimeBound() {}

    static <T> T call(Duration cpuLimit, String what, Callable<T> work) throws Throwable {
        Object[] result = new Object[1];
        Throwable[] thrown = new Throwable[1];
        Thread worker = new Thread(null, () -> {
            try {
                result[0] = work.call();
            } catch (Throwable t) {
                thrown[0] = t;
            }
        }, "fuzz-case", STACK_BYTES);
        worker.setDaemon(true); // a runaway case must not keep the test JVM alive
        worker.start();
        long wallLimitNanos = cpuLimit.toNanos() * 10;
        long start = System.nanoTime();
        boolean cpuMeasured = THREADS.isThreadCpuTimeSupported() && THREADS.isThreadCpuTimeEnabled();
        while (worker.isAlive()) {
            worker.join(20);
            long cpu = cpuMeasured ? THREADS.getThreadCpuTime(worker.getId()) : System.nanoTime() - start;
            if (worker.isAlive() && (cpu > cpuLimit.toNanos() || System.nanoTime() - start > wallLimitNanos)) {
                worker.interrupt();
                throw new AssertionFailedError(what + " ran longer than " + cpuLimit.toMillis() + " ms of CPU time ("
                        + (System.nanoTime() - start) / 1_000_000 + " ms wall-clock)");
            }
        }
        if (thrown[0] != null) throw thrown[0];
        @SuppressWarnings("unchecked") T value = (T) result[0];
        return value;
    }
}
