package org.neurite.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.neurite.io.FileErrors;
import org.neurite.io.FileFormatException;

/**
 * Reads a run's {@code metrics.jsonl} back (written by the engine's {@code TrainingRun}): the
 * records in file order, for {@code nn report}.
 */
final class MetricsHistory {
    private static final ObjectMapper JSON = new ObjectMapper();

    private MetricsHistory() {}

    /** Every record of the file, one per epoch; empty when the file does not exist. */
    static List<JsonNode> records(Path file) throws IOException {
        List<JsonNode> records = new ArrayList<>();
        if (!Files.exists(file)) return records;
        int line = 0;
        for (String text : FileErrors.readUtf8Lines(file)) {
            line++;
            if (text.isBlank()) continue;
            JsonNode record;
            try {
                record = JSON.readTree(text);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new FileFormatException(file + ":" + line + ": not a JSON object (" + e.getOriginalMessage() + ")");
            }
            // an epoch's record; a list or a number would give a report of empty epochs
            if (!record.isObject()) throw new FileFormatException(file + ":" + line + ": not a JSON object");
            records.add(record);
        }
        return records;
    }

    /** The field as a double, NaN when absent (accuracy of a regression model). */
    static double number(JsonNode r, String field) {
        JsonNode v = r.get(field);
        return v != null && v.isNumber() ? v.asDouble() : Double.NaN;
    }
}
