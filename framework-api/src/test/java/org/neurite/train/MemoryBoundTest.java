package org.neurite.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.neurite.layer.ArgumentException;

/** {@code memory="..."} as a table of texts and the bytes or the message each gives. */
class MemoryBoundTest {
    @Test void sizesAreBytesOrWholeNumbersOfBinaryUnits() {
        Map<String, Long> sizes = Map.of(
                "4096", 4096L, "512k", 512L << 10, "512KiB", 512L << 10, "64m", 64L << 20, "64 MiB", 64L << 20,
                "1G", 1L << 30, " 3gib ", 3L << 30, "8388607g", 8388607L << 30);
        sizes.forEach((text, bytes) -> assertEquals(bytes, MemoryBound.parse(text).bytes(), text));
    }

    @Test void whatIsNotASizeIsRefusedSayingWhatIs() {
        String forms = " is not a size; write a whole number of bytes, or one with k, m or g (binary multiples: 1m = 1,048,576 bytes), "
                + "e.g. memory=\"256m\"";
        for (String bad : List.of("", "lots", "1.5g", "-1m", "64mb", "m", "10t")) {
            assertEquals("memory \"" + bad + "\"" + forms, assertThrows(IllegalArgumentException.class, () -> MemoryBound.parse(bad)).getMessage());
        }
        assertEquals("memory \"0k\" is zero; a streaming source needs room for its samples",
                assertThrows(IllegalArgumentException.class, () -> MemoryBound.parse("0k")).getMessage());
        assertEquals("memory \"8589934592g\" is larger than any machine's memory",
                assertThrows(IllegalArgumentException.class, () -> MemoryBound.parse("8589934592g")).getMessage());
        assertEquals("memory \"99999999999999999999\" is larger than any machine's memory",
                assertThrows(IllegalArgumentException.class, () -> MemoryBound.parse("99999999999999999999")).getMessage());
    }

    @Test void theBoundPrintsInTheLargestUnitThatDividesIt() {
        assertEquals("256 MiB", new MemoryBound(256L << 20).toString());
        assertEquals("1536 KiB", new MemoryBound(1536L << 10).toString());
        assertEquals("1000 bytes", new MemoryBound(1000).toString());
        assertEquals("1 byte", new MemoryBound(1).toString());
    }

    @Test void dataSourcesStreamOnlyWithAMemoryArgument() {
        assertNull(DataSources.memory(DataSources.schema("images").bind(List.of(), Map.of("folder", "f", "size", new int[] {1, 2, 2}))));
        assertEquals(new MemoryBound(64L << 20), DataSources.memory(DataSources.schema("idx").bind(List.of(), Map.of("folder", "f", "memory", "64m"))));
        ArgumentException e = assertThrows(ArgumentException.class,
                () -> DataSources.check("idx", DataSources.schema("idx").bind(List.of(), Map.of("folder", "f", "memory", ""))));
        assertEquals("memory", e.argument());
        assertEquals("memory is the most bytes of images held while they stream, e.g. memory=\"64m\"; to read IDX files into memory, "
                + "name their folder instead: data = \"folder\"", e.getMessage());
    }
}
