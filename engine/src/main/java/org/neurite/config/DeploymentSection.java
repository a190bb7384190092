package org.neurite.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;

/**
 * A section of a deployment file that an optional module serves ({@code spark:} is read by
 * {@code distributed-spark}), kept as the YAML said it: its value as a Jackson tree and where each
 * key and value of it was written. The engine checks only what holds for every part of a
 * deployment file (no duplicate keys, anchors or aliases); the module that serves the section
 * reads the tree and points its complaints at the place {@link #written()} gives, so they read
 * like those about the engine's own keys ({@code deploy.yaml:2:3: error: unknown key 'spark.partition'; ...}).
 *
 * <p>Parts are named by JSON Pointer: {@code ""} is the section's value itself, {@code "/master"}
 * the value of its {@code master} key, {@code "/hosts/0"} the first entry of a list. Two sections
 * are equal when their names and values are, wherever they were written.
 *
 * @param name the section's key in the deployment file, e.g. {@code spark}
 * @param value the section's value, any YAML value (the module decides which it accepts)
 * @param written where each part of {@code value} was written, by JSON Pointer; empty for a
 *                section built in code
 */
public record DeploymentSection(String name, JsonNode value, Map<String, Written> written) {
    /**
     * Where one part of a section was written.
     *
     * @param key the span of its key (for the section's value, the section's own key), or null for a list entry
     * @param value the span of its value (a scalar's whole text; the first character of a list or mapping)
     * @param text a scalar as written ({@code 0x10}, {@code yes}), for messages; null for a list or mapping
     */
    public record Written(SourceSpan key, SourceSpan value, String text) { }

    public DeploymentSection {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
        value = value.deepCopy();   // a Jackson tree is mutable; the record's must not change under its reader
        written = Map.copyOf(written);
    }

    /** A section built in code, with nothing to point at: {@code SparkConfig}'s defaults, a test's settings. */
    public static DeploymentSection of(String name, ObjectNode value) {
        return new DeploymentSection(name, value, Map.of());
    }

    /** The same section with another value (a module's resolved settings), keeping where the written parts were. */
    public DeploymentSection withValue(JsonNode resolved) {
        return new DeploymentSection(name, resolved, written);
    }

    /** The JSON Pointer of {@code key} in the section's mapping: {@code "/" + key}, with {@code ~} and {@code /} escaped. */
    public static String pointer(String key) {
        return "/" + key.replace("~", "~0").replace("/", "~1");
    }

    /**
     * A complaint about the key of the part at {@code pointer}, positioned on that key
     * ({@link SourceSpan#UNKNOWN} for a part that was not written in a file).
     */
    public ModelException errorAtKey(String pointer, String message) {
        Written w = written.get(pointer);
        return new ModelException(w == null || w.key() == null ? SourceSpan.UNKNOWN : w.key(), message);
    }

    /** A complaint about the value at {@code pointer}, positioned on that value. */
    public ModelException errorAtValue(String pointer, String message) {
        Written w = written.get(pointer);
        return new ModelException(w == null ? SourceSpan.UNKNOWN : w.value(), message);
    }

    /** The scalar at {@code pointer} as written ({@code 4000000000}, {@code 2.50}), or its value's text when not known. */
    public String text(String pointer) {
        Written w = written.get(pointer);
        if (w != null && w.text() != null) return w.text();
        JsonNode node = value.at(pointer);
        return node.isValueNode() ? node.asText() : node.toString();
    }

    /**
     * Refuses {@code key:} with nothing after it (YAML reads an empty scalar or {@code ~}) at
     * {@code pointer}: a missing value, for a key that needs {@code expected}.
     */
    public void requireValue(String pointer, String key, String expected) {
        JsonNode node = value.at(pointer);
        if (node.isNull() || (node.isTextual() && node.textValue().isEmpty())) {
            throw errorAtValue(pointer, "missing value for '" + key + "'; expected " + expected);
        }
    }

    /** The complaint that {@code key}'s value at {@code pointer} is not {@code expected}, saying what it is. */
    public ModelException wrongType(String pointer, String key, String expected) {
        return errorAtValue(pointer, "'" + key + "' must be " + expected + ", found " + describe(pointer));
    }

    /** The non-blank string at {@code pointer}, or the positioned refusal of anything else. */
    public String string(String pointer, String key, String expected) {
        requireValue(pointer, key, expected);
        JsonNode node = value.at(pointer);
        if (!node.isTextual()) throw wrongType(pointer, key, expected);
        if (node.textValue().isBlank()) throw errorAtValue(pointer, "'" + key + "' must be " + expected + ", found an empty string");
        return node.textValue();
    }

    /**
     * What the user wrote at {@code pointer}, briefly, in the words every deployment message
     * uses: {@code a string ("four")}, {@code an integer (3)}, {@code a list}, {@code an empty value}.
     */
    public String describe(String pointer) {
        JsonNode node = value.at(pointer);
        if (node.isTextual()) return "a string (\"" + abbreviate(node.textValue()) + "\")";
        if (node.isIntegralNumber()) return "an integer (" + abbreviate(text(pointer)) + ")";
        if (node.isNumber()) return "a number (" + abbreviate(text(pointer)) + ")";
        if (node.isBoolean()) return "a boolean (" + text(pointer) + ")";
        if (node.isNull() || node.isMissingNode()) return "an empty value";
        if (node.isArray()) return "a list";
        if (node.isObject()) return "a mapping";
        if (node.isBinary()) return "binary data";
        return node.getNodeType().toString().toLowerCase(Locale.ROOT);
    }

    static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    @Override public boolean equals(Object o) {
        return o instanceof DeploymentSection s && name.equals(s.name) && value.equals(s.value);
    }

    @Override public int hashCode() { return Objects.hash(name, value); }
}
