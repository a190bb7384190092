package org.neurite.train;

import java.util.List;
import java.util.Locale;

/**
 * The most bytes a streaming data source may hold in memory at once, as a script writes it:
 * {@code memory="256m"}. The text is a whole number of bytes ({@code "1048576"}) or a whole
 * number with a binary unit, case-insensitive: {@code k} or {@code KiB} (1,024 bytes), {@code m}
 * or {@code MiB} (1,024²), {@code g} or {@code GiB} (1,024³). Binary because the bound is compared
 * with heap sizes, which the JVM ({@code -Xmx256m}) and operating system tools count in those units.
 *
 * @param bytes at least 1
 */
public record MemoryBound(long bytes) {
    private static final List<String> UNITS = List.of("", "k", "m", "g");

    public MemoryBound {
        if (bytes < 1) throw new IllegalArgumentException("a memory bound is at least 1 byte, got " + bytes);
    }

    /**
     * Reads {@code "256m"}, {@code "64MiB"}, {@code "1g"}, {@code "4096"}.
     *
     * @throws IllegalArgumentException naming the text and the accepted forms when it is not one
     */
    public static MemoryBound parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        int digits = 0;
        while (digits < t.length() && Character.isDigit(t.charAt(digits))) digits++;
        String unit = t.substring(digits).strip();
        if (unit.endsWith("ib")) unit = unit.substring(0, unit.length() - 2);
        int power = UNITS.indexOf(unit);
        if (digits == 0 || power < 0) {
            throw new IllegalArgumentException("memory \"" + text + "\" is not a size; write a whole number of bytes, or one with "
                    + "k, m or g (binary multiples: 1m = 1,048,576 bytes), e.g. memory=\"256m\"");
        }
        long value;
        try {
            value = Long.parseLong(t.substring(0, digits));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("memory \"" + text + "\" is larger than any machine's memory");
        }
        if (value == 0) throw new IllegalArgumentException("memory \"" + text + "\" is zero; a streaming source needs room for its samples");
        if (value > Long.MAX_VALUE >> (10 * power)) {
            throw new IllegalArgumentException("memory \"" + text + "\" is larger than any machine's memory");
        }
        return new MemoryBound(value << (10 * power));
    }

    /** The bound in the largest binary unit that divides it: {@code 256 MiB}, {@code 1536 KiB}, {@code 1000 bytes}. */
    @Override public String toString() {
        for (int power = 3; power >= 1; power--) {
            long unit = 1L << (10 * power);
            if (bytes % unit == 0) return (bytes / unit) + " " + UNITS.get(power).toUpperCase(Locale.ROOT) + "iB";
        }
        return bytes + (bytes == 1 ? " byte" : " bytes");
    }
}
