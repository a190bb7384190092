package org.neurite.hostile;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.List;

/**
 * How far the Java heap rose above its starting point while something ran: the heap is
 * collected first, every heap pool's peak is reset, and afterwards the sum of the pools' peaks
 * is compared with the sum of their usage at the start. Summing per-pool peaks over-estimates
 * the true peak (the pools may peak at different moments), which is the safe side for a bound.
 */
final class HeapPeak {
    private HeapPeak() {}

    /** What {@code action} threw, if anything, and the heap's rise in bytes. */
    record Measured(Throwable thrown, long riseBytes) {}

    static Measured during(ThrowingAction action) {
        List<MemoryPoolMXBean> pools = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getType() == MemoryType.HEAP && p.isValid())
                .toList();
        System.gc();
        long before = 0;
        for (MemoryPoolMXBean p : pools) {
            p.resetPeakUsage();
            before += p.getUsage().getUsed();
        }
        Throwable thrown = null;
        try {
            action.run();
        } catch (Throwable t) {
            thrown = t;
        }
        long peak = 0;
        for (MemoryPoolMXBean p : pools) peak += p.getPeakUsage().getUsed();
        return new Measured(thrown, Math.max(0, peak - before));
    }

    @FunctionalInterface
    interface ThrowingAction {
        void run() throws Exception;
    }
}
