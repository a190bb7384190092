package org.neurite.backend.cpu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Which pages the Java heap, and so every tensor of the CPU backend, lies on, for
 * {@code nn backends}. A training step streams the whole batch's activations through each layer,
 * megabytes that 4 KiB pages spread over more address translations than the TLB holds; on 2 MiB
 * pages the small ResNet trained 9% faster at two threads (a median) and fashion_cnn 5-8%
 * ({@code BENCHMARKS.md}, "huge pages"). HotSpot asks the kernel for transparent huge pages only
 * with {@code -XX:+UseTransparentHugePages}, which {@code ./nn} passes wherever the kernel gives
 * them on request ({@code madvise}, the usual setting); with {@code always} the kernel gives them
 * unasked. A JVM that could have them and did not ask (an application embedding Neurite) is told
 * so there, not on standard error: it is speed, not a fault. (The backend's description, which
 * error messages quote, leaves it out.)
 */
final class CpuHugePages {
    /** The kernel's transparent huge page setting: {@code always [madvise] never}, the bracketed one in force. */
    static final Path THP_SETTING = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
    /** The flag that makes HotSpot advise huge pages for its heap. */
    static final String FLAG = "-XX:+UseTransparentHugePages";

    /** This JVM's heap pages, worked out once ({@link #heapPages(Optional, Optional)}). */
    private static final String HEAP_PAGES = heapPages(kernelMode(), jvmAsks());

    private CpuHugePages() {}

    /** Which pages this JVM's heap is on and, where it could ask for huge pages and does not, the flag; empty where unknown. */
    static String heapPages() {
        return HEAP_PAGES;
    }

    /**
     * The heap's pages for a kernel in {@code mode} ({@code always}, {@code madvise},
     * {@code never}, or empty where it does not say) and a JVM that does or does not pass
     * {@link #FLAG} (empty where the JVM does not say), with the flag to pass where the kernel
     * would give huge pages on request and the JVM does not ask; empty where either is unknown.
     */
    static String heapPages(Optional<String> mode, Optional<Boolean> jvmAsks) {
        if (mode.isEmpty()) return "";
        return switch (mode.get()) {
            case "always" -> "2 MiB pages (transparent huge pages: always)";
            case "madvise" -> jvmAsks.isEmpty() ? ""
                    : jvmAsks.get() ? "2 MiB pages (" + FLAG + ")"
                    : "4 KiB pages: start the JVM with " + FLAG + " for 2 MiB pages (faster training)";
            default -> "4 KiB pages (transparent huge pages: " + mode.get() + ")";
        };
    }

    /** The bracketed word of {@code text} ({@code "always [madvise] never"} gives madvise), or empty. */
    static Optional<String> bracketed(String text) {
        int open = text.indexOf('['), close = text.indexOf(']');
        return open >= 0 && close > open + 1 ? Optional.of(text.substring(open + 1, close)) : Optional.empty();
    }

    private static Optional<String> kernelMode() {
        try {
            return bracketed(Files.readString(THP_SETTING, StandardCharsets.US_ASCII));
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // not Linux, or no transparent huge pages in this kernel
        }
    }

    private static Optional<Boolean> jvmAsks() {
        return CpuJitSettings.vmOption("UseTransparentHugePages").map(Boolean::parseBoolean);
    }
}
