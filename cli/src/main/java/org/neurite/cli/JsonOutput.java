package org.neurite.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import org.neurite.tensor.Shape;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * {@code --json} on the commands that print one result ({@code summary}, {@code predict},
 * {@code layers}, {@code backends}, {@code config check}): instead of the text, exactly one JSON
 * object on standard output, on one line, with the field names {@code docs/cli.md} lists. The
 * document is printed only once the command has succeeded, so a failure is the same with and
 * without {@code --json}: nothing on standard output, the usual one-line message on standard error
 * and a non-zero exit status (2 bad input, 1 runtime failure). A program checks the exit status,
 * then parses standard output. ({@code nn train --json} streams events instead: {@link OutputMode}.)
 */
final class JsonOutput {
    /** Shared by every command: {@link ObjectMapper}s are thread-safe once configured, and this one is never reconfigured. */
    static final ObjectMapper MAPPER = new ObjectMapper();

    @Option(names = "--json", description = "print the result as one JSON object on standard output (fields: docs/cli.md)")
    boolean enabled;

    /** Whether {@code --json} was given. */
    boolean enabled() { return enabled; }

    /** An empty document to fill. */
    static ObjectNode object() { return MAPPER.createObjectNode(); }

    /** A shape as the array of its dimensions: {@code [1, 28, 28]}. */
    static ArrayNode shape(Shape shape) {
        ArrayNode dims = MAPPER.createArrayNode();
        for (int d : shape.dims()) dims.add(d);
        return dims;
    }

    /** Prints the command's one document on its standard output, followed by a newline. */
    static void print(CommandSpec command, JsonNode document) {
        PrintWriter out = command.commandLine().getOut();
        try {
            out.println(MAPPER.writeValueAsString(document));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the JSON result: " + e.getMessage(), e);
        }
        out.flush();
    }
}
