package org.neurite.engine;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.neurite.io.AtomicFiles;
import org.neurite.io.FileErrors;
import org.neurite.io.FileFormatException;

/**
 * The per-epoch metrics of a {@link TrainingRun} as JSON lines ({@code metrics.jsonl}). The whole
 * file is rewritten atomically on every append (it holds one short line per epoch), so a crash
 * never leaves a torn line.
 */
final class MetricsLog {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path file;
    private final List<String> lines = new ArrayList<>();
    private final List<Map<String, Object>> records = new ArrayList<>();

    MetricsLog(Path file) { this.file = file; }

    /** Continues an existing log, keeping its records up to and including {@code lastEpoch}. */
    static MetricsLog resume(Path file, int lastEpoch) throws IOException {
        MetricsLog log = new MetricsLog(file);
        if (Files.exists(file)) {
            int number = 0;
            for (String line : FileErrors.readUtf8Lines(file)) {
                number++;
                if (line.isBlank()) continue;
                Map<String, Object> record;
                try {
                    record = JSON.readValue(line, new TypeReference<LinkedHashMap<String, Object>>() { });
                } catch (IOException e) {
                    throw new FileFormatException(file + ":" + number + ": not a JSON object (" + e.getMessage() + ")");
                }
                if (record.get("epoch") instanceof Number epoch && epoch.intValue() <= lastEpoch) {
                    log.lines.add(line);
                    log.records.add(record);
                }
            }
        }
        return log;
    }

    /** The records kept so far, one per epoch, in order. */
    List<Map<String, Object>> records() { return List.copyOf(records); }

    void append(Map<String, Object> record) throws IOException {
        lines.add(JSON.writeValueAsString(record));
        records.add(record);
        AtomicFiles.writeString(file, String.join("\n", lines) + "\n");
    }
}
