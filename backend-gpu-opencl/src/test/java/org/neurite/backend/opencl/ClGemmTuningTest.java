package org.neurite.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-device SGEMM tuning: the search picks one of each shape's candidates, its result is
 * written and read back, a cached result is used without searching (shown with a pair the search
 * could never produce, and no device handles to search with), and an unreadable file counts as
 * none, so the search runs again.
 */
class ClGemmTuningTest {
    @TempDir Path dir;

    @Test void theSearchPicksACandidateForEachShapeAndCachesIt() throws IOException {
        ClBackend cl = OpenClTests.backend();
        ClGemm.Choice found = cl.gemmKernels().choice();
        assertTrue(ClGemmTuning.LARGE_CANDIDATES.contains(found.large()), found.toString());
        assertTrue(ClGemmTuning.THIN_CANDIDATES.contains(found.thin()), found.toString());
        assertTrue(cl.description().endsWith("sgemm: " + found), cl.description());

        Path file = dir.resolve("device.gemm");
        ClGemmTuning.write(file, found);
        assertEquals(found, ClGemmTuning.read(file));
        assertTrue(Files.readString(file).contains("large=" + found.large().name()), Files.readString(file));
    }

    @Test void aCachedChoiceIsUsedWithoutSearching() {
        Path file = dir.resolve("device.gemm");
        ClGemm.Choice impossible = new ClGemm.Choice(ClGemm.Variant.TILED_16, ClGemm.Variant.TILED_64);
        ClGemmTuning.write(file, impossible);
        assertEquals(impossible, ClGemmTuning.choose(null, null, null, file), "read from the file, no kernel launched");
    }

    @Test void anUnreadableOrMissingFileMeansSearchingAgain() throws IOException {
        assertNull(ClGemmTuning.read(Files.writeString(dir.resolve("old.gemm"), "large=SOMETHING_OLD\nthin=DIRECT\n")));
        assertNull(ClGemmTuning.read(Files.writeString(dir.resolve("half.gemm"), "candidates=" + ClGemmTuning.candidates() + "\nlarge=DIRECT\n")));
        // A choice made before a candidate was added: search again, so the new kernel gets timed.
        assertNull(ClGemmTuning.read(Files.writeString(dir.resolve("older.gemm"), "large=DIRECT\nthin=DIRECT\n")));
        assertNull(ClGemmTuning.read(dir.resolve("missing.gemm")));
    }
}
