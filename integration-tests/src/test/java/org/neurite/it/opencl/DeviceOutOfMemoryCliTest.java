package org.neurite.it.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.backend.Backend;
import org.neurite.backend.opencl.ClBackend;
import org.neurite.cli.NnCommand;
import picocli.CommandLine;

/**
 * What a user sees when a model does not fit the OpenCL device: {@code nn train} with the OpenCL
 * deployment on a device capped (as a shared GPU would be) below what LeNet-5 needs is refused by
 * the memory planner before anything is allocated or written: one message naming the model, the
 * batch, the amounts counted, what the device has of its total and a batch that fits, exit 2, no
 * stack trace, no run folder.
 */
class DeviceOutOfMemoryCliTest {
    @TempDir Path dir;

    @Test
    void modelThatDoesNotFitTheDeviceIsNamedWithTheAmounts() throws Exception {
        try (Backend probe = OpenClRuns.opencl()) {
            // Fails (or skips with -Dneurite.opencl.skip=true) here when OpenCL is missing.
        }
        Path out = dir.resolve("run");
        StringWriter err = new StringWriter();
        StringWriter stdout = new StringWriter();
        int exit;
        System.setProperty(ClBackend.MEMORY_LIMIT_PROPERTY, "4m");
        try {
            CommandLine cli = NnCommand.commandLine();
            cli.setOut(new PrintWriter(stdout, true));
            cli.setErr(new PrintWriter(err, true));
            exit = cli.execute("train", "../examples/lenet5.nn", "--deploy", "../examples/deploy/opencl.yaml",
                    "--epochs", "1", "--limit", "256", "--batch", "256", "--out", out.toString());
        } finally {
            System.clearProperty(ClBackend.MEMORY_LIMIT_PROPERTY);
        }
        String message = err.toString();
        assertEquals(2, exit, stdout + message);
        assertTrue(message.startsWith("nn: model LeNet5 does not fit in memory: training at batch 256 needs "), message);
        assertTrue(message.contains(", and backend opencl has 4.00 MiB available (holds 0.0 MiB in 0 tensors of the device's "), message);
        assertTrue(message.contains("limited to 4.0 MiB by -Dneurite.opencl.memoryLimit"), message);
        assertTrue(message.contains("\n  counted: parameters 241 KiB, parameter gradients 241 KiB, sgd state 241 KiB, activations "), message);
        assertTrue(message.matches("(?s).*\n  largest batch that fits: (\\d+) \\(--batch \\1\\)\n"), message);
        assertFalse(message.contains("-Xmx"), "no heap advice for a device: " + message);
        assertFalse(message.contains("\tat "), message);
        assertFalse(Files.exists(out), "nothing written, not even the run folder");
    }
}
