package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** The JIT-setting check of {@link CpuJitSettings}: the line for too small a limit, none for the launcher's. */
class CpuJitSettingsTest {
    @Test
    void aSmallerLimitThanTheLaunchersGetsALineSayingWhichFlagToPass() {
        String line = CpuJitSettings.notice(2500);
        assertTrue(line.startsWith("neurite: this JVM's -XX:InlineSmallCode=2500 "), line);
        assertTrue(line.endsWith("start it with -XX:InlineSmallCode=10000 as ./nn does"), line);
        assertTrue(CpuJitSettings.notice(9999).contains("-XX:InlineSmallCode=9999 "));
    }

    @Test
    void theLaunchersLimitOrMoreGetsNone() {
        assertNull(CpuJitSettings.notice(10_000));
        assertNull(CpuJitSettings.notice(20_000));
    }

    @Test
    void thisJvmsLimitIsReadFromTheVm() {
        // HotSpot says its value; the test JVM runs with the pom's neurite.jvmArgs, which pass one.
        assertTrue(CpuJitSettings.INLINE_SMALL_CODE.isPresent(), "HotSpot reports InlineSmallCode");
        String passed = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("-XX:InlineSmallCode=")).reduce((a, b) -> b).orElse(null);
        if (passed != null) assertEquals(Long.parseLong(passed.substring(passed.indexOf('=') + 1)), CpuJitSettings.INLINE_SMALL_CODE.getAsLong());
        // The description's suffix follows the notice: none with the launcher's limit, the flag below it.
        long value = CpuJitSettings.INLINE_SMALL_CODE.getAsLong();
        assertEquals(value >= 10_000 ? "" : ": start the JVM with -XX:InlineSmallCode=10000 (it has " + value + ")",
                CpuJitSettings.descriptionSuffix());
    }
}
