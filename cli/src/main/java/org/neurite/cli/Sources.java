package org.neurite.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.neurite.diag.DiagnosticPrinter;

/**
 * Source texts of the scripts and configuration files a command read, so diagnostics can show
 * the offending line. Files not registered are read from disk on demand (at most 1 MiB).
 */
final class Sources {
    private static final Map<String, String> TEXTS = new ConcurrentHashMap<>();

    private Sources() {}

    static void register(String file, String text) { TEXTS.put(file, text); }

    static DiagnosticPrinter printer() {
        return new DiagnosticPrinter(file -> TEXTS.computeIfAbsent(file, Sources::readQuietly));
    }

    private static String readQuietly(String file) {
        try {
            Path p = Path.of(file);
            if (Files.size(p) > (1 << 20)) return null;
            return Files.readString(p);
        } catch (Exception e) {
            return null;
        }
    }
}
