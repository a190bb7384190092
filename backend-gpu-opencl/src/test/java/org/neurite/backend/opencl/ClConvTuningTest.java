package org.neurite.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The per-device choice between im2col + GEMM and implicit GEMM for convolutions: the property
 * that forces a path, the cached file (written, read back, searched again when made with other
 * kernels or another SGEMM choice), the description naming the choice, and what the implicit path
 * is for: a forward pass and data gradient that allocate no column workspace.
 */
class ClConvTuningTest {
    @TempDir Path dir;

    @Test void thePropertyForcesAPathOrLeavesItToTheSearch() {
        assertEquals(ClConv2d.Choice.IMPLICIT, ClConvTuning.forced("implicit"));
        assertEquals(ClConv2d.Choice.IM2COL, ClConvTuning.forced(" IM2COL "));
        assertNull(ClConvTuning.forced("tuned"));
        assertNull(ClConvTuning.forced(null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClConvTuning.forced("winograd"));
        assertEquals("-Dneurite.opencl.conv=winograd: expected im2col, implicit or tuned", e.getMessage());
    }

    @Test void aChoiceIsCachedWithWhatItWasMeasuredWith() throws IOException {
        ClGemm.Choice gemm = new ClGemm.Choice(ClGemm.Variant.BLOCKED, ClGemm.Variant.DIRECT);
        ClConv2d.Choice mixed = new ClConv2d.Choice(ClConv2d.Path.IMPLICIT, ClConv2d.Path.IM2COL, ClConv2d.Path.IMPLICIT);
        Path file = dir.resolve("device.conv");
        ClConvTuning.write(file, ClConvTuning.candidates(gemm), mixed);
        assertEquals(mixed, ClConvTuning.read(file, ClConvTuning.candidates(gemm)));
        // Measured with another SGEMM choice (the im2col path's speed): search again.
        assertNull(ClConvTuning.read(file, ClConvTuning.candidates(new ClGemm.Choice(ClGemm.Variant.TILED_64, ClGemm.Variant.DIRECT))));
        assertNull(ClConvTuning.read(Files.writeString(dir.resolve("half.conv"),
                "candidates=" + ClConvTuning.candidates(gemm) + "\nforward=IMPLICIT\n"), ClConvTuning.candidates(gemm)));
        assertNull(ClConvTuning.read(dir.resolve("missing.conv"), ClConvTuning.candidates(gemm)));
    }

    @Test void theDescriptionNamesTheConvolutionPaths() {
        ClBackend cl = OpenClTests.backend();
        assertTrue(cl.description().contains("; conv: " + cl.convolutions().choice() + "; sgemm: "), cl.description());
    }

    /** LeNet-5's second convolution at batch 16: the implicit path's forward and data gradient use no workspace. */
    @Test void theImplicitPathAllocatesNoColumnMatrix() {
        Conv2dGeometry g = new Conv2dGeometry(16, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, 1);
        for (ClConv2d.Choice paths : new ClConv2d.Choice[] {ClConv2d.Choice.IMPLICIT, ClConv2d.Choice.IM2COL}) {
            try (ClBackend cl = new ClBackend(OpenClTests.device(), ClProgramCache.standard())) {
                cl.convolutions().use(paths);
                Tensor x = cl.allocate(Shape.of(16, 6, 14, 14)), w = cl.allocate(Shape.of(16, 6, 5, 5));
                Tensor b = cl.allocate(Shape.of(16)), y = cl.allocate(Shape.of(16, 16, 10, 10));
                Tensor dx = cl.allocate(Shape.of(16, 6, 14, 14));
                long before = cl.workspaceBytes();
                cl.conv2dForward(g, x, w, b, y);
                cl.conv2dBackwardData(g, y, w, dx);
                cl.synchronize();
                long columns = 16L * 6 * 25 * 100 * Float.BYTES;
                if (paths == ClConv2d.Choice.IMPLICIT) assertEquals(before, cl.workspaceBytes(), "implicit GEMM: no column matrix");
                else assertTrue(cl.workspaceBytes() >= columns, "im2col: " + cl.workspaceBytes() + " bytes of columns");
            }
        }
    }
}
