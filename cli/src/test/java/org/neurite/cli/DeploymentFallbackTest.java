package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A deployment's {@code fallback:} is checked whole, as {@code nn config check} checks it: a
 * misspelt backend in it used to pass unnoticed wherever the backend before it was available
 * (here, the CPU), and fail only on the machine that needed the fallback.
 */
class DeploymentFallbackTest {
    @TempDir Path dir;

    @Test void anUnknownFallbackBackendIsRefusedEvenWhenTheFirstIsAvailable() throws Exception {
        Path weights = dir.resolve("w.safetensors");
        OnnxCommandsTest.writeRandomWeights(Path.of("../examples/lenet5.nn"), weights);
        Path yaml = Files.writeString(dir.resolve("deploy.yaml"), "backend: cpu\nfallback: [cpux]\n");
        Path onnx = dir.resolve("m.onnx");
        CliRunner.Result r = CliRunner.run("export", "../examples/lenet5.nn", "--weights", weights.toString(), "--deploy", yaml.toString(),
                "-o", onnx.toString());
        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.err());
        assertEquals("nn: unknown backend 'cpux' in the fallback; available: cpu, opencl\n", r.err());
        assertFalse(Files.exists(onnx));
    }
}
