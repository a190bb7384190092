package org.neurite.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.neurite.config.DeploymentConfig.LogLevel;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;
import org.neurite.graph.LayerRegistry;
import org.neurite.plugin.BackendOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.scanner.ScannerException;

/**
 * Walks the YAML token stream of a deployment file key by key, so every complaint can point at
 * the exact key or value (a data-binding pass would lose the positions of values that are
 * well-typed but out of range). Aliases and anchors are refused outright: a deployment file has
 * no use for them, and refusing them rules out "billion laughs" expansion whatever the parser's
 * alias limits are. SnakeYAML's own limits (code points, nesting) stay in force underneath. A
 * section an optional module serves ({@code spark:}) is read the same way into a positioned tree
 * ({@link DeploymentSection}) that the module's {@link SectionReader} checks.
 */
final class DeploymentConfigReader {
    private static final String LOG_LEVELS = "error, warn, info or debug";

    private final String file;
    private final Path folder;

    DeploymentConfigReader(String file, Path folder) {
        this.file = file;
        this.folder = folder;
    }

    DeploymentConfig read(String yaml) {
        LoaderOptions limits = new LoaderOptions();
        limits.setCodePointLimit(DeploymentConfig.MAX_FILE_BYTES);
        limits.setMaxAliasesForCollections(10);
        limits.setNestingDepthLimit(20);
        YAMLFactory factory = YAMLFactory.builder().loaderOptions(limits).build();
        try (YAMLParser p = factory.createParser(yaml)) {
            return readDocument(p);
        } catch (JsonProcessingException e) {
            throw new ModelException(syntaxErrorAt(e), "invalid YAML: " + problem(e.getOriginalMessage()));
        } catch (IOException e) {
            throw new IllegalStateException("reading YAML from a string failed", e);
        }
    }

    /**
     * Where a YAML syntax error is: SnakeYAML's problem mark, the token it could not take.
     * Jackson's own location is the end of the last token it read, which is the line before
     * when the fault starts a line ({@code fallback} with no colon was shown at the {@code seed: 3}
     * above it). A token the scanner could not finish ({@code fallback}, an unclosed quote) is
     * noticed on a later line, or at the end of the file: it is shown where it began, SnakeYAML's
     * context mark.
     */
    private SourceSpan syntaxErrorAt(JsonProcessingException e) {
        if (e.getCause() instanceof MarkedYAMLException yaml && yaml.getProblemMark() != null) {
            Mark at = yaml.getProblemMark();
            Mark began = yaml.getContextMark();
            if (yaml instanceof ScannerException && began != null && began.getLine() < at.getLine()) at = began;
            return SourceSpan.at(file, at.getLine() + 1, at.getColumn() + 1);
        }
        JsonLocation at = e.getLocation();
        return at == null ? SourceSpan.at(file, 1, 1) : SourceSpan.at(file, Math.max(1, at.getLineNr()), Math.max(1, at.getColumnNr()));
    }

    private DeploymentConfig readDocument(YAMLParser p) throws IOException {
        JsonToken t = next(p);
        if (t == null) return DeploymentConfig.defaults();
        if (t != JsonToken.START_OBJECT) {
            throw error(p, "a deployment file is a mapping of settings (key: value); found " + describe(p));
        }
        DeploymentConfig d = DeploymentConfig.defaults();
        String backend = d.backend();
        List<String> fallback = d.fallback();
        int threads = d.threads();
        String device = d.device();
        List<Path> plugins = d.plugins();
        Path data = d.data();
        Path output = d.output();
        Long seed = d.seed();
        LogLevel logLevel = d.logLevel();
        DeploymentSection spark = d.spark();
        DeploymentSection serve = d.serve();

        Map<String, Integer> firstLine = new HashMap<>();
        while ((t = next(p)) == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            SourceSpan keySpan = span(p, key.length());
            Integer earlier = firstLine.putIfAbsent(key, keySpan.line());
            if (earlier != null) throw new ModelException(keySpan, "duplicate key '" + key + "' (first set on line " + earlier + ")");
            if (!DeploymentConfig.KEYS.contains(key)) throw new ModelException(keySpan, unknownKey(key));
            next(p);
            switch (key) {
                case "backend" -> backend = string(p, key, "a backend name");
                case "fallback" -> fallback = stringList(p, key, "a list of backend names", "backend names");
                case "threads" -> threads = threads(p);
                case "device" -> device = device(p);
                case "plugins" -> plugins = stringList(p, key, "a list of plugin folders", "folders").stream()
                        .map(this::resolve).toList();
                case "data" -> data = resolve(string(p, key, "a folder"));
                case "output" -> output = resolve(string(p, key, "a folder"));
                case "seed" -> seed = seed(p);
                case "log_level" -> logLevel = logLevel(p);
                case "spark" -> spark = section(p, key, keySpan);
                case "serve" -> serve = section(p, key, keySpan);
                default -> throw new IllegalStateException("key '" + key + "' is in KEYS but not read");
            }
        }
        if (next(p) != null) throw error(p, "a deployment file holds one YAML document; found a second one");
        return new DeploymentConfig(backend, fallback, threads, device, plugins, data, output, seed, logLevel, spark, serve);
    }

    /**
     * A section an optional module serves, as a Jackson tree with the place of every key and
     * value, checked by that module's {@link SectionReader} when one is on the class path (here,
     * so that its complaints come in file order with the engine's) and kept as written otherwise.
     * The parser stands on the section's value and is left on its last token.
     */
    private DeploymentSection section(YAMLParser p, String name, SourceSpan keySpan) throws IOException {
        Map<String, DeploymentSection.Written> written = new HashMap<>();
        DeploymentSection section = new DeploymentSection(name, node(p, name, "", keySpan, written), written);
        return SectionReader.find(name).map(r -> section.withValue(r.resolve(section))).orElse(section);
    }

    /**
     * The YAML value the parser stands on, read to its end, with where it and each of its parts
     * were written (by JSON Pointer). Nesting is bounded by SnakeYAML's limit.
     *
     * @param path the dotted name duplicate keys are reported with ({@code spark.mode})
     */
    private JsonNode node(YAMLParser p, String path, String pointer, SourceSpan keySpan,
                          Map<String, DeploymentSection.Written> written) throws IOException {
        JsonToken t = p.currentToken();
        written.put(pointer, new DeploymentSection.Written(keySpan, valueSpan(p), t.isScalarValue() ? p.getText() : null));
        JsonNodeFactory nodes = JsonNodeFactory.instance;
        return switch (t) {
            case START_OBJECT -> mapping(p, path, pointer, written);
            case START_ARRAY -> list(p, path, pointer, written);
            case VALUE_STRING -> nodes.textNode(p.getText());
            case VALUE_NUMBER_INT -> switch (p.getNumberType()) {
                case INT -> nodes.numberNode(p.getIntValue());
                case LONG -> nodes.numberNode(p.getLongValue());
                default -> nodes.numberNode(p.getBigIntegerValue());
            };
            case VALUE_NUMBER_FLOAT -> p.getNumberType() == JsonParser.NumberType.BIG_DECIMAL
                    ? nodes.numberNode(p.getDecimalValue()) : nodes.numberNode(p.getDoubleValue());
            case VALUE_TRUE, VALUE_FALSE -> nodes.booleanNode(t == JsonToken.VALUE_TRUE);
            case VALUE_NULL -> nodes.nullNode();
            case VALUE_EMBEDDED_OBJECT -> nodes.binaryNode(p.getBinaryValue());   // !!binary, the only embedded value YAML has
            default -> throw error(p, "'" + path + "' cannot hold " + describe(p));
        };
    }

    private ObjectNode mapping(YAMLParser p, String path, String pointer, Map<String, DeploymentSection.Written> written)
            throws IOException {
        ObjectNode mapping = JsonNodeFactory.instance.objectNode();
        Map<String, Integer> firstLine = new HashMap<>();
        while (next(p) == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            SourceSpan keySpan = span(p, key.length());
            Integer earlier = firstLine.putIfAbsent(key, keySpan.line());
            if (earlier != null) {
                throw new ModelException(keySpan, "duplicate key '" + path + "." + key + "' (first set on line " + earlier + ")");
            }
            next(p);
            mapping.set(key, node(p, path + "." + key, pointer + DeploymentSection.pointer(key), keySpan, written));
        }
        return mapping;
    }

    private ArrayNode list(YAMLParser p, String path, String pointer, Map<String, DeploymentSection.Written> written)
            throws IOException {
        ArrayNode list = JsonNodeFactory.instance.arrayNode();
        while (next(p) != JsonToken.END_ARRAY) {
            int i = list.size();
            list.add(node(p, path + "[" + i + "]", pointer + "/" + i, null, written));
        }
        return list;
    }

    /** The next token, refusing anchors ({@code &name}) and aliases ({@code *name}). */
    private JsonToken next(YAMLParser p) throws IOException {
        JsonToken t = p.nextToken();
        if (t == null) return null;
        if (p.isCurrentAlias()) {
            throw error(p, "YAML aliases (*" + p.getText() + ") are not allowed in a deployment file; write the value out");
        }
        String anchor = p.getObjectId(); // YAML anchors are what Jackson calls object ids
        if (anchor != null) throw error(p, "YAML anchors (&" + anchor + ") are not allowed in a deployment file");
        return t;
    }

    private String unknownKey(String key) {
        List<String> close = LayerRegistry.closest(key, DeploymentConfig.KEYS);
        return "unknown key '" + key + "'; " + (close.isEmpty()
                ? "known keys are " + String.join(", ", DeploymentConfig.KEYS)
                : "did you mean '" + close.get(0) + "'?");
    }

    // ---- typed values; the parser stands on the value token --------------------------------

    private String string(YAMLParser p, String key, String expected) throws IOException {
        requireValue(p, key, expected);
        if (p.currentToken() != JsonToken.VALUE_STRING) throw wrongType(p, key, expected);
        String value = p.getText();
        if (value.isBlank()) throw error(p, "'" + key + "' must be " + expected + ", found an empty string");
        return value;
    }

    private List<String> stringList(YAMLParser p, String key, String expected, String elements) throws IOException {
        requireValue(p, key, expected);
        if (p.currentToken() != JsonToken.START_ARRAY) throw wrongType(p, key, expected);
        List<String> values = new ArrayList<>();
        while (next(p) != JsonToken.END_ARRAY) {
            if (p.currentToken() != JsonToken.VALUE_STRING || p.getText().isBlank()) {
                throw error(p, "entries of '" + key + "' must be " + elements + ", found " + describe(p));
            }
            values.add(p.getText());
        }
        return values;
    }

    private int threads(YAMLParser p) throws IOException {
        String expected = "an integer " + BackendOptions.THREADS_RANGE;
        requireValue(p, "threads", expected);
        if (p.currentToken() != JsonToken.VALUE_NUMBER_INT) throw wrongType(p, "threads", expected);
        if (p.getNumberType() != JsonParser.NumberType.INT || !BackendOptions.validThreads(p.getIntValue())) {
            throw error(p, "'threads' must be " + BackendOptions.THREADS_RANGE + ", found " + p.getText());
        }
        return p.getIntValue();
    }

    /** A device may be an index ({@code 0}) as well as a name or type; both become text. */
    private String device(YAMLParser p) throws IOException {
        String expected = "a device index, type or name";
        requireValue(p, "device", expected);
        if (p.currentToken() == JsonToken.VALUE_NUMBER_INT && p.getNumberType() == JsonParser.NumberType.INT
                && p.getIntValue() >= 0) {
            return Integer.toString(p.getIntValue());
        }
        return string(p, "device", expected);
    }

    private Long seed(YAMLParser p) throws IOException {
        requireValue(p, "seed", "an integer");
        if (p.currentToken() != JsonToken.VALUE_NUMBER_INT) throw wrongType(p, "seed", "an integer");
        if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
            throw error(p, "'seed' must fit in 64 bits, found " + p.getText());
        }
        return p.getLongValue();
    }

    private LogLevel logLevel(YAMLParser p) throws IOException {
        String text = string(p, "log_level", "one of " + LOG_LEVELS);
        List<String> names = Arrays.stream(LogLevel.values()).map(LogLevel::yamlName).toList();
        if (names.contains(text)) return LogLevel.valueOf(text.toUpperCase(Locale.ROOT));
        List<String> close = LayerRegistry.closest(text, names);
        throw error(p, "unknown log_level '" + text + "'; "
                + (close.isEmpty() ? "expected " + LOG_LEVELS : "did you mean '" + close.get(0) + "'?"));
    }

    /** {@code key:} with nothing after it (YAML reads an empty scalar or {@code ~}) is a missing value. */
    private void requireValue(YAMLParser p, String key, String expected) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NULL || (t == JsonToken.VALUE_STRING && p.getText().isEmpty())) {
            throw error(p, "missing value for '" + key + "'; expected " + expected);
        }
    }

    private ModelException wrongType(YAMLParser p, String key, String expected) throws IOException {
        return error(p, "'" + key + "' must be " + expected + ", found " + describe(p));
    }

    /** "a string (\"four\")", "an integer (3)", "a list" — what the user wrote, briefly. */
    private static String describe(YAMLParser p) throws IOException {
        return switch (p.currentToken()) {
            case VALUE_STRING -> "a string (\"" + DeploymentSection.abbreviate(p.getText()) + "\")";
            case VALUE_NUMBER_INT -> "an integer (" + DeploymentSection.abbreviate(p.getText()) + ")";
            case VALUE_NUMBER_FLOAT -> "a number (" + DeploymentSection.abbreviate(p.getText()) + ")";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean (" + p.getText() + ")";
            case VALUE_NULL -> "an empty value";
            case START_ARRAY -> "a list";
            case START_OBJECT -> "a mapping";
            case VALUE_EMBEDDED_OBJECT -> "binary data";
            default -> p.currentToken().toString();
        };
    }

    private Path resolve(String path) {
        Path p = Path.of(path);
        return (folder == null ? p : folder.resolve(p)).toAbsolutePath().normalize();
    }

    private ModelException error(YAMLParser p, String message) {
        return new ModelException(valueSpan(p), message);
    }

    /** The current token's position: a scalar's whole text, or the first character of anything else. */
    private SourceSpan valueSpan(YAMLParser p) {
        int width = 1;
        JsonToken t = p.currentToken();
        if (t != null && t.isScalarValue()) {
            try {
                width = Math.max(1, p.getText().length());
            } catch (IOException e) {
                width = 1;
            }
        }
        return span(p, width);
    }

    /** The current token's position, {@code width} characters wide on its line. */
    private SourceSpan span(YAMLParser p, int width) {
        JsonLocation at = p.currentTokenLocation();
        int line = Math.max(1, at.getLineNr());
        int column = Math.max(1, at.getColumnNr());
        return new SourceSpan(file, line, column, line, column + width);
    }

    /**
     * SnakeYAML's messages interleave what went wrong with indented excerpts and positions
     * ({@code " in 'reader', line 1, column 10:"}); the diagnostic shows its own position and
     * excerpt, so only the unindented sentences are kept.
     */
    private static String problem(String message) {
        if (message == null) return "unreadable";
        List<String> sentences = message.lines().filter(l -> !l.isBlank() && !Character.isWhitespace(l.charAt(0))).toList();
        return sentences.isEmpty() ? message.strip() : String.join("; ", sentences);
    }
}
