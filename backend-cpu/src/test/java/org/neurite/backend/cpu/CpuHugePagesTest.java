package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The heap-pages words {@code nn backends} prints for the CPU backend ({@link CpuHugePages}). */
class CpuHugePagesTest {
    @Test
    void theKernelsSettingIsTheBracketedWord() {
        assertEquals(Optional.of("madvise"), CpuHugePages.bracketed("always [madvise] never\n"));
        assertEquals(Optional.of("always"), CpuHugePages.bracketed("[always] madvise never\n"));
        assertEquals(Optional.of("never"), CpuHugePages.bracketed("always madvise [never]\n"));
        assertEquals(Optional.empty(), CpuHugePages.bracketed("always madvise never\n"));
        assertEquals(Optional.empty(), CpuHugePages.bracketed("[]"));
    }

    @Test
    void aJvmThatCouldAskAndDoesNotIsToldTheFlag() {
        assertEquals("4 KiB pages: start the JVM with -XX:+UseTransparentHugePages for 2 MiB pages (faster training)",
                CpuHugePages.heapPages(Optional.of("madvise"), Optional.of(false)));
        assertEquals("2 MiB pages (-XX:+UseTransparentHugePages)", CpuHugePages.heapPages(Optional.of("madvise"), Optional.of(true)));
    }

    @Test
    void aKernelThatGivesThemUnaskedOrNeverSaysSoWithoutAFlag() {
        assertEquals("2 MiB pages (transparent huge pages: always)", CpuHugePages.heapPages(Optional.of("always"), Optional.of(false)));
        assertEquals("4 KiB pages (transparent huge pages: never)", CpuHugePages.heapPages(Optional.of("never"), Optional.of(true)));
    }

    @Test
    void whatIsNotKnownAddsNothing() {
        assertEquals("", CpuHugePages.heapPages(Optional.empty(), Optional.of(true)));
        assertEquals("", CpuHugePages.heapPages(Optional.of("madvise"), Optional.empty()));
    }

    @Test
    void thisJvmsSuffixFollowsItsFlagAndTheKernel() throws Exception {
        boolean asks = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.endsWith("UseTransparentHugePages")).reduce((a, b) -> b).map(a -> a.startsWith("-XX:+")).orElse(false);
        Optional<String> mode = Files.isReadable(CpuHugePages.THP_SETTING)
                ? CpuHugePages.bracketed(Files.readString(CpuHugePages.THP_SETTING)) : Optional.empty();
        assertEquals(CpuHugePages.heapPages(mode, Optional.of(asks)), CpuHugePages.heapPages());
        assertEquals(CpuHugePages.heapPages(), new CpuBackendProvider().heapPages());
        // Where the kernel says its setting, the words name the pages the heap is on.
        if (mode.isPresent()) assertTrue(CpuHugePages.heapPages().matches("(2 MiB|4 KiB) pages.*"), CpuHugePages.heapPages());
    }
}
