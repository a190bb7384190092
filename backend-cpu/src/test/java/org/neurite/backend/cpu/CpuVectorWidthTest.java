package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the vector width is chosen ({@link CpuVectorWidth}): the override property, the CPU's
 * native width, the probe's cached result (written atomically, ignored when it belongs to another
 * key or cannot be read) and the margin a narrower width must win by; and that the JVM running
 * this test uses the width its build pinned (the surefire executions pin {@code features},
 * {@code 256} and {@code 512}). The timed probe itself runs in one test only, on a 512-bit CPU.
 */
class CpuVectorWidthTest {
    private static final String KEY = "Test CPU; amd64, 512-bit native; JDK 17; neurite 0";

    @TempDir Path dir;

    @Test void thisJvmRunsThePinnedWidth() {
        assumeTrue(CpuKernels.VECTOR_API_PRESENT, "needs the Vector API");
        String pinned = CpuVectorWidth.override();
        assumeTrue(pinned != null, "the build pins " + CpuVectorWidth.ENVIRONMENT + " or " + CpuVectorWidth.PROPERTY);
        int expected = pinned.equals("features") ? CpuVectorWidthProbe.nativeBits() : Integer.parseInt(pinned);
        assertEquals(expected, CpuKernels.LANES * Float.SIZE);
        assertEquals(2 * CpuKernels.LANES, CpuGemm.NR);
        CpuKernelChoice choice = CpuKernelChoice.current();
        assertEquals(expected, choice.vectorBits());
        // 8 rows at 512 bits (32 registers), 6 at 256 (16).
        assertEquals((expected == 512 ? "8x" : "6x") + 2 * expected / Float.SIZE, choice.gemmTile());
        assertEquals(pinned.equals("features") ? "features" : "override", choice.source());
        assertTrue(choice.describe().startsWith(expected + "-bit FloatVector, GEMM micro-kernel " + choice.gemmTile() + " "), choice.describe());
        try (CpuBackend backend = new CpuBackend(2)) {
            assertEquals("CPU, 2 threads, Vector API, " + expected + "-bit vectors", backend.description());
        }
    }

    @Test void theOverrideWinsAndSaysWhenItRunsInSoftware() {
        Path cache = dir.resolve("c.properties");
        CpuVectorWidth.write(cache, KEY, new CpuVectorWidth.Rates(50, 100));
        CpuVectorWidth.Decision d = CpuVectorWidth.decide("256", 512, cache, KEY);
        assertEquals(256, d.bits());
        assertEquals("override", d.source());
        d = CpuVectorWidth.decide(" 512 ", 256, cache, KEY);
        assertEquals(512, d.bits());
        assertTrue(d.reason().contains("runs in software"), d.reason());
        d = CpuVectorWidth.decide("FEATURES", 512, cache, KEY);
        assertEquals(512, d.bits());
        assertEquals("features", d.source());
    }

    @Test void theReasonNamesWhereTheOverrideWasSet() {
        Path cache = dir.resolve("c.properties");
        CpuVectorWidth.Decision d = CpuVectorWidth.decide("256", CpuVectorWidth.ENVIRONMENT, 512, cache, KEY);
        assertEquals("set by NEURITE_CPU_VECTOR=256", d.reason());
        d = CpuVectorWidth.decide("features", CpuVectorWidth.ENVIRONMENT, 512, cache, KEY);
        assertTrue(d.reason().contains("(NEURITE_CPU_VECTOR=features: no probe)"), d.reason());
        assertEquals("set by neurite.cpu.vector=512", CpuVectorWidth.decide("512", 512, cache, KEY).reason());
    }

    @Test void aCpuWithoutAvx512HasNothingToProbe() {
        CpuVectorWidth.Decision d = CpuVectorWidth.decide(null, 256, dir.resolve("none.properties"), KEY);
        assertEquals(256, d.bits());
        assertEquals("features", d.source());
        assertEquals(256, CpuVectorWidth.decide("auto", 256, null, KEY).bits());
    }

    @Test void a512BitCpuWithoutACachedResultNeedsTheProbe() {
        assertNull(CpuVectorWidth.decide(null, 512, dir.resolve("none.properties"), KEY));
        // An unknown value is logged and read as auto.
        assertNull(CpuVectorWidth.decide("wide", 512, dir.resolve("none.properties"), KEY));
    }

    @Test void aCachedResultDecidesAndANarrowerWidthMustWinByTheMargin() throws Exception {
        Path cache = dir.resolve("sub").resolve("vector-width.properties");
        CpuVectorWidth.write(cache, KEY, new CpuVectorWidth.Rates(98, 81));
        assertTrue(Files.readString(cache).contains("bits=256"));
        CpuVectorWidth.Decision d = CpuVectorWidth.decide(null, 512, cache, KEY);
        assertEquals(256, d.bits());
        assertEquals("cache", d.source());
        assertTrue(d.reason().startsWith("probe: 98 vs 81 GFLOP/s for 512-bit"), d.reason());

        CpuVectorWidth.write(cache, KEY, new CpuVectorWidth.Rates(84, 81)); // 256 ahead by less than 5%
        assertEquals(512, CpuVectorWidth.decide(null, 512, cache, KEY).bits());
        CpuVectorWidth.write(cache, KEY, new CpuVectorWidth.Rates(81, 98));
        d = CpuVectorWidth.decide(null, 512, cache, KEY);
        assertEquals(512, d.bits());
        assertTrue(d.reason().startsWith("probe: 98 vs 81 GFLOP/s for 256-bit"), d.reason());
        try (var leftovers = Files.list(cache.getParent())) {
            assertEquals(1, leftovers.count(), "the atomic write leaves no temporary file");
        }
    }

    @Test void aCacheOfAnotherKeyOrUnreadableIsIgnored() throws Exception {
        Path cache = dir.resolve("vector-width.properties");
        CpuVectorWidth.write(cache, "Other CPU; JDK 21", new CpuVectorWidth.Rates(98, 81));
        assertNull(CpuVectorWidth.read(cache, KEY));
        for (String text : new String[] {"key=" + KEY + "\ngflops256=fast\ngflops512=81\n", "key=" + KEY + "\ngflops512=81\n",
                "key=" + KEY + "\ngflops256=-1\ngflops512=81\n", "key=" + KEY + "\ngflops256=NaN\ngflops512=81\n", "\u0000\u0001garbage"}) {
            Files.writeString(cache, text);
            assertNull(CpuVectorWidth.read(cache, KEY), text);
            assertNull(CpuVectorWidth.decide(null, 512, cache, KEY), text);
        }
        Files.createDirectories(dir.resolve("adir"));
        assertNull(CpuVectorWidth.read(dir.resolve("adir"), KEY));
    }

    @Test void aCacheThatCannotBeWrittenIsNotAnError() throws Exception {
        Path blocker = dir.resolve("file");
        Files.writeString(blocker, "x");
        CpuVectorWidth.write(blocker.resolve("cpu").resolve("w.properties"), KEY, new CpuVectorWidth.Rates(1, 2));
        assertNull(CpuVectorWidth.read(blocker.resolve("cpu").resolve("w.properties"), KEY));
    }

    @Test void ratesOfUncompiledCodeAreNotBelieved() {
        // 100 vs 1.13 was once measured with the 512-bit side still interpreted.
        assertNull(CpuVectorWidth.plausible(100.16, 1.13));
        assertNull(CpuVectorWidth.plausible(0, 90));
        assertNull(CpuVectorWidth.plausible(90, Double.NaN));
        assertEquals(new CpuVectorWidth.Rates(84, 101), CpuVectorWidth.plausible(84, 101));
    }

    @Test void eachKeyHasItsOwnFileUnderTheCacheRoot() {
        String key = CpuVectorWidth.key(512);
        assertTrue(key.contains("512-bit native") && key.contains("JDK " + Runtime.version()), key);
        assertNotEquals(CpuVectorWidth.cacheFile(key), CpuVectorWidth.cacheFile(CpuVectorWidth.key(256)));
        assertEquals(Path.of("cpu"), CpuVectorWidth.cacheFile(key).getParent().getFileName());
    }

    /** The real probe, asked for explicitly: on a 512-bit CPU, in the build's default (features) run only. */
    @Test void theProbeMeasuresBothWidthsAndCachesTheWinner() {
        assumeTrue(CpuKernels.VECTOR_API_PRESENT && CpuVectorWidthProbe.nativeBits() == 512, "needs a CPU with 512-bit vectors");
        assumeTrue("features".equals(CpuVectorWidth.override()), "run once, in the default execution");
        Path cache = dir.resolve("probe.properties");
        CpuVectorWidth.Rates rates = CpuVectorWidth.probeAndCache(cache, KEY);
        assertNotNull(rates, "the probe's kernels were compiled within its limit");
        assertTrue(rates.at256() >= 1 && rates.at512() >= 1, rates.toString());
        assertEquals(rates.winner(), CpuVectorWidth.decide(null, 512, cache, KEY).bits());
    }
}
