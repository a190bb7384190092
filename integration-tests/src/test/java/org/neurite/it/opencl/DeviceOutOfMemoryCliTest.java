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
 * deployment on a device capped (as a shared GPU would be) below what LeNet-5 needs prints one
 * line naming the model, the batch, the amounts, what the device holds and a batch that fits, and exits 2 — no stack
 * trace, no weights written.
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
        assertTrue(message.contains("model LeNet5 at batch 256"), message);
        // The planner refuses before anything big is allocated: what the model needs, what the
        // device holds of its total and its cap, and a batch that fits.
        assertTrue(message.contains("needs at least 30 MiB"), message);
        assertTrue(message.contains("backend opencl has 3 MiB available"), message);
        assertTrue(message.contains("limited to 4.0 MiB by -Dneurite.opencl.memoryLimit"), message);
        assertTrue(message.contains("use a batch of at most"), message);
        assertFalse(message.contains("\tat "), message);
        assertFalse(Files.exists(out.resolve("model.safetensors")), "nothing trained, nothing written");
    }
}
