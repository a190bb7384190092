package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SummaryCommandTest {
    @Test
    void lenet5HasTheClassicParameterCountAndShapes() {
        CliRunner.Result r = CliRunner.run("summary", "../examples/lenet5.nn");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("Total parameters: 61,706 (trainable 61,706)"), r.out());
        // conv 6@5x5 pad 2 keeps 28x28; the second conv (no pad) gives 10x10; two 2x2 pools.
        assertTrue(r.out().matches("(?s).*\\bc1 +conv +\\[6, 28, 28] +156 +235,200\\b.*"), r.out());
        assertTrue(r.out().matches("(?s).*\\bc3\\.maxpool +maxpool +\\[16, 5, 5].*"), r.out());
        assertTrue(r.out().contains("logits.weight  [10, 84]"), r.out());
        assertTrue(r.out().contains("Forward FLOPs per sample: 845,852"), r.out());
    }

    /**
     * A command that makes no backend still refuses a backend name no plugin provides, as the
     * commands that make one do: a misspelt {@code --backend} or deployment {@code backend:} is
     * an error everywhere, not only where it is used.
     */
    @Test
    void anUnknownBackendIsRefusedThoughSummaryMakesNone() throws Exception {
        CliRunner.Result r = CliRunner.run("summary", "../examples/lenet5.nn", "--backend", "tpu");
        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.err());
        assertEquals("nn: unknown backend 'tpu'; available: cpu, opencl\n", r.err());
        java.nio.file.Path yaml = java.nio.file.Files.createTempFile("deploy", ".yaml");
        try {
            java.nio.file.Files.writeString(yaml, "backend: cpu\nfallback: [cpux]\n");
            CliRunner.Result g = CliRunner.run("graph", "../examples/lenet5.nn", "--deploy", yaml.toString());
            assertEquals(ExitCodes.BAD_INPUT, g.exit(), g.err());
            assertEquals("nn: unknown backend 'cpux' in the fallback; available: cpu, opencl\n", g.err());
        } finally {
            java.nio.file.Files.deleteIfExists(yaml);
        }
    }
}
