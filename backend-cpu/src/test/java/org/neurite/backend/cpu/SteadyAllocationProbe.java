package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether a steady call allocates on the calling thread, measured in a child JVM. Until C2 has
 * compiled the Vector API code, that code allocates its vectors, and in a module's full test JVM
 * the shared JIT profile was seen to leave kernels boxing them; so the call runs 100 times, then
 * windows of 30 calls are measured and one window under 15 bytes a call passes (a steady
 * allocation shows in every window). The windows go on for at least 40 and up to 10 seconds, as on
 * a loaded machine C2 may take longer than 40 windows.
 *
 * <p>A child that still allocates after that is run once more, in a fresh JVM, and the test fails
 * only if the second allocates too. C2's choices depend on timing: about one child in a hundred
 * to three hundred under load was seen to stay boxing (a transposition helper left out of line in
 * one, since fixed; a batch norm pass in another), and a kernel written so that C2 boxes it fails
 * both times. The child gets this JVM's {@code -XX:InlineSmallCode} ({@link CpuJitSettings}).
 */
final class SteadyAllocationProbe {
    private SteadyAllocationProbe() {}

    /** Runs {@code probe}'s {@code main} (which calls {@link #measure}) in a child JVM of this test's width and asserts it found a clean window. */
    static void assertCleanInChildJvm(Class<?> probe) throws Exception {
        String launcher = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(launcher, "--add-modules", CpuKernels.VECTOR_MODULE, "-Xmx256m"));
        String width = System.getProperty(CpuVectorWidth.PROPERTY);
        if (width != null) command.add("-D" + CpuVectorWidth.PROPERTY + "=" + width);
        // The JIT setting this test JVM runs with (the pom's neurite.jvmArgs, as ./nn): JDK 25's C2
        // boxes batch norm's kernels in every JVM without -XX:InlineSmallCode=10000.
        for (String argument : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (argument.startsWith("-XX:InlineSmallCode=")) command.add(argument);
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), probe.getName()));
        String first = runChild(command);
        if (first.contains("clean")) return;
        String second = runChild(command);
        assertTrue(second.contains("clean"), "first JVM:\n" + first + "\nsecond JVM:\n" + second);
    }

    private static String runChild(List<String> command) throws Exception {
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, child.waitFor(), output);
        return output;
    }

    /** In the child: prints the bytes of each window of {@code call}, then "clean" or "allocates". */
    static void measure(Runnable call) {
        for (int i = 0; i < 100; i++) call.run();
        boolean clean = false;
        long start = System.nanoTime();
        int window = 0;
        for (; !clean && (window < 40 || System.nanoTime() - start < 10_000_000_000L); window++) {
            long probe = allocatedBytes(), before = allocatedBytes(), probeCost = before - probe;
            for (int i = 0; i < 30; i++) call.run();
            long allocated = allocatedBytes() - before - probeCost;
            clean = allocated < 15L * 30;
            if (window < 40 || clean) System.out.print(allocated + " "); // the first 40 and a clean one after them
        }
        System.out.printf("(%d windows in %d ms) %s%n", window, (System.nanoTime() - start) / 1_000_000, clean ? "clean" : "allocates");
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }
}
