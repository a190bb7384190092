package org.neurite.backend.cpu;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The JIT setting the Vector API kernels need, checked once per JVM when the first backend on the
 * Vector API path is created: C2 inlines a method it has already compiled on its own only if that
 * code is under {@code -XX:InlineSmallCode} bytes (2500 by default on x86-64), and below
 * {@value #RECOMMENDED_INLINE_SMALL_CODE} JVMs compile kernels with their vector calls left as
 * calls, every vector boxed, for their whole life: on JDK 17.0.15 6 of 60 small-ResNet JVMs
 * (10-45% slower), on JDK 25.0.3 every one (batch norm's passes and the small ResNet's step,
 * 3.3 MB allocated a step; {@code BENCHMARKS.md}, "the JIT lottery"). {@code ./nn} and the
 * harnesses pass the flag; a JVM started without it (an application embedding Neurite) gets
 * {@link #notice} on standard error, once, and the backend's description says it too.
 */
final class CpuJitSettings {
    /** The {@code -XX:InlineSmallCode} the launcher passes and the measurements were made with. */
    static final long RECOMMENDED_INLINE_SMALL_CODE = 10_000;
    /** This JVM's {@code InlineSmallCode}, read once; empty where the JVM does not say (not HotSpot, no jdk.management). */
    static final OptionalLong INLINE_SMALL_CODE = readInlineSmallCode();
    /** Whether {@link #notice} has been printed in this JVM. */
    private static final AtomicBoolean NOTICE_PRINTED = new AtomicBoolean();

    private CpuJitSettings() {}

    /** The line for a JVM whose {@code InlineSmallCode} is {@code value}, or null where that value is enough. */
    static String notice(long value) {
        if (value >= RECOMMENDED_INLINE_SMALL_CODE) return null;
        return "neurite: this JVM's -XX:InlineSmallCode=" + value + " lets C2 compile some of the cpu backend's Vector API kernels"
                + " with their vectors boxed (slower, for the JVM's life); start it with -XX:InlineSmallCode="
                + RECOMMENDED_INLINE_SMALL_CODE + " as ./nn does";
    }

    /** {@link #notice} for this JVM, or null where its setting is enough or unknown. */
    static String noticeForThisJvm() {
        return INLINE_SMALL_CODE.isPresent() ? notice(INLINE_SMALL_CODE.getAsLong()) : null;
    }

    /**
     * What the backend's description adds for this JVM: {@code ": start the JVM with
     * -XX:InlineSmallCode=10000 (it has 2500)"} where {@link #noticeForThisJvm} has a line, else nothing.
     */
    static String descriptionSuffix() {
        return noticeForThisJvm() == null ? ""
                : ": start the JVM with -XX:InlineSmallCode=" + RECOMMENDED_INLINE_SMALL_CODE + " (it has " + INLINE_SMALL_CODE.getAsLong() + ")";
    }

    /** Prints {@link #noticeForThisJvm} on standard error the first time it is asked, if there is one. */
    static void checkOnce() {
        String line = noticeForThisJvm();
        if (line != null && NOTICE_PRINTED.compareAndSet(false, true)) System.err.println(line);
    }

    private static OptionalLong readInlineSmallCode() {
        try {
            return vmOption("InlineSmallCode").map(v -> OptionalLong.of(Long.parseLong(v))).orElse(OptionalLong.empty());
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /** This JVM's value of the HotSpot option {@code name}; empty where the JVM does not say (not HotSpot, no jdk.management). */
    static Optional<String> vmOption(String name) {
        try {
            HotSpotDiagnosticMXBean bean = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            return bean == null ? Optional.empty() : Optional.of(bean.getVMOption(name).getValue());
        } catch (RuntimeException | LinkageError e) {
            return Optional.empty(); // another JVM, or a runtime image without jdk.management
        }
    }
}
