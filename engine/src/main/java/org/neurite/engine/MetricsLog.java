package org.neurite.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.neurite.io.AtomicFiles;

/**
 * The per-epoch metrics of a {@link TrainingRun} as JSON lines ({@code metrics.jsonl}). The whole
 * file is rewritten atomically on every append (it holds one short line per epoch), so a crash
 * never leaves a torn line.
 */
final class MetricsLog {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path file;
    private final List<String> lines = new ArrayList<>();

    MetricsLog(Path file) { this.file = file; }

    /** Continues an existing log, keeping its records up to and including {@code lastEpoch}. */
    static MetricsLog resume(Path file, int lastEpoch) throws IOException {
        MetricsLog log = new MetricsLog(file);
        if (java.nio.file.Files.exists(file)) {
            for (String line : java.nio.file.Files.readAllLines(file)) {
                if (line.isBlank()) continue;
                if (JSON.readTree(line).path("epoch").asInt(Integer.MAX_VALUE) <= lastEpoch) log.lines.add(line);
            }
        }
        return log;
    }

    void append(Map<String, Object> record) throws IOException {
        lines.add(JSON.writeValueAsString(record));
        AtomicFiles.writeString(file, String.join("\n", lines) + "\n");
    }
}
