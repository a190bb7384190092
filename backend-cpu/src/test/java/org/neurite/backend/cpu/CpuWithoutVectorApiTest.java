package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;

/**
 * A JVM started without {@code --add-modules jdk.incubator.vector} still gets the CPU backend:
 * found as a plugin, available, on the plain-Java kernels, saying how to get the Vector API path
 * in its description and, once per JVM, on standard error. Runs in this module's second test
 * execution, whose JVM lacks the flag (with the flag it is skipped); that execution also runs the
 * contract, PyTorch-parity and gradient tests on the plain path.
 */
class CpuWithoutVectorApiTest {
    @BeforeAll static void needsAJvmWithoutTheModule() {
        assumeFalse(CpuKernels.VECTOR_API_PRESENT, "runs in the test execution without --add-modules jdk.incubator.vector");
    }

    @Test void theRuntimeFindsAnAvailableCpuBackendOnThePlainPath() {
        try (NeuriteRuntime runtime = NeuriteRuntime.discover()) {
            assertNull(runtime.backends().get("cpu").availability());
            try (Backend cpu = runtime.createBackend("cpu", new BackendOptions(2, null), List.of(), w -> fail("fell back: " + w))) {
                assertEquals("CPU, 2 threads, plain Java: start the JVM with --add-modules jdk.incubator.vector for the Vector API path",
                        cpu.description());
            }
        }
    }

    @Test void theKernelsWorkOnGroupsOfSixteenFloats() {
        assertEquals(16, CpuKernels.LANES);
        assertEquals(32, CpuGemm.NR);
        assertEquals(64, CpuDirectConv2d.CHUNK);
    }

    /** The first plain backend of the JVM prints the notice (whichever test made it); later ones print nothing. */
    @Test void theNoticeIsPrintedOncePerJvm() {
        boolean printedBefore = CpuKernels.NOTICE_PRINTED.get();
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream err = System.err;
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            assertSame(CpuKernels.Path.PLAIN_JAVA, CpuKernels.Path.select());
            new CpuBackend(1).close();
        } finally {
            System.setErr(err);
        }
        assertTrue(CpuKernels.NOTICE_PRINTED.get());
        String expected = printedBefore ? "" : "neurite: the cpu backend runs plain Java loops; start the JVM with "
                + "--add-modules jdk.incubator.vector for the Vector API path (same results, faster)" + System.lineSeparator();
        assertEquals(expected, captured.toString(StandardCharsets.UTF_8));
    }
}
