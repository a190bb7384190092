package org.neurite.serving;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Arrays;
import org.neurite.tensor.Shape;

/**
 * Reads a well-formed JSON infer request in one streaming pass: the numbers of {@code data} go
 * from the parser straight into the request's float array, without the JSON tree {@link V2Codec}
 * builds (one node object per number, about a third of a lenet5 request's HTTP-thread CPU).
 * It accepts exactly the requests the tree reading accepts and gives the same {@link
 * V2Codec.Request}: the same float conversions (a decimal through {@code double}, as Jackson's
 * {@code DoubleNode}; an integer through {@code int}, {@code long} or {@code BigInteger}, as its
 * integer nodes). For anything else, from bad syntax to a wrong shape, a repeated key or the
 * binary-data extension, it answers {@code null} and the caller reads the body again as a tree,
 * whose checks give the exact message; so the refusals stay in one place.
 */
final class V2RequestScanner {
    private final ObjectMapper json;

    V2RequestScanner(ObjectMapper json) {
        this.json = json;
    }

    /** The tensor fields of {@code inputs[0]} as read. */
    private static final class Tensor {
        String name;
        String datatype;
        int[] shape;
        float[] data;
        int filled;
        boolean dataSeen;
    }

    /**
     * The request in {@code body[0, length)} for {@code model}, or {@code null} when it is not a
     * plain well-formed one. May throw what {@link V2Codec}'s checks of {@code outputs} throw, for
     * a request whose input is otherwise good, as the tree reading would.
     */
    V2Codec.Request read(byte[] body, int length, ServedModel model) {
        try (JsonParser p = json.createParser(body, 0, length)) {
            if (p.nextToken() != JsonToken.START_OBJECT) return null;
            String id = null;
            Tensor input = null;
            ObjectNode extras = json.createObjectNode();   // "outputs" and "parameters", small, checked by V2Codec
            for (JsonToken t; (t = p.nextToken()) == JsonToken.FIELD_NAME; ) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "id" -> {
                        if (id != null || value != JsonToken.VALUE_STRING) return null;
                        id = p.getText();
                    }
                    case "inputs" -> {
                        if (input != null || value != JsonToken.START_ARRAY || p.nextToken() != JsonToken.START_OBJECT) return null;
                        input = tensor(p, model.inputShape());
                        if (input == null || p.nextToken() != JsonToken.END_ARRAY) return null;
                    }
                    case "outputs", "parameters" -> {
                        if (extras.has(field)) return null;
                        JsonNode tree = p.readValueAsTree();
                        extras.set(field, tree);
                    }
                    default -> p.skipChildren();
                }
            }
            if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null || input == null) return null;
            if (!model.inputName().equals(input.name) || !"FP32".equals(input.datatype) || input.shape == null
                    || V2Codec.shapeProblem(input.shape, input.name, model.inputShape()) != null || !input.dataSeen) {
                return null;
            }
            int values = input.shape[0] * model.inputShape().size();
            if (input.filled != values) return null;
            float[] x = input.data.length == values ? input.data : Arrays.copyOf(input.data, values);
            V2Codec.checkRequestedOutputs(extras, model);
            return new V2Codec.Request(id, x, input.shape[0], V2Codec.binaryOutputs(extras));
        } catch (IOException | RuntimeException e) {
            if (e instanceof InferenceError) throw (InferenceError) e;
            return null;   // bad syntax and the like: the tree reading says what
        }
    }

    /** The fields of one tensor object, the parser on its START_OBJECT; null when one is not as a plain request has it. */
    private static Tensor tensor(JsonParser p, Shape sample) throws IOException {
        Tensor t = new Tensor();
        for (JsonToken token; (token = p.nextToken()) == JsonToken.FIELD_NAME; ) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            switch (field) {
                case "name" -> {
                    if (t.name != null || value != JsonToken.VALUE_STRING) return null;
                    t.name = p.getText();
                }
                case "datatype" -> {
                    if (t.datatype != null || value != JsonToken.VALUE_STRING) return null;
                    t.datatype = p.getText();
                }
                case "shape" -> {
                    if (t.shape != null || value != JsonToken.START_ARRAY) return null;
                    t.shape = shape(p);
                    if (t.shape == null) return null;
                }
                case "data" -> {
                    if (t.dataSeen || value != JsonToken.START_ARRAY) return null;
                    t.dataSeen = true;
                    // With the shape known, the array is sized once; otherwise it grows as numbers come.
                    long expected = t.shape != null && t.shape.length > 0 ? (long) t.shape[0] * sample.size() : -1;
                    if (expected > Integer.MAX_VALUE / 2) return null;
                    t.data = new float[expected >= 0 ? (int) expected : Math.max(16, sample.size())];
                    if (!data(p, t, expected >= 0)) return null;
                }
                case "parameters" -> {
                    // The binary-data extension (binary_data_size) goes through the tree reading.
                    if (value != JsonToken.START_OBJECT) return null;
                    JsonNode parameters = p.readValueAsTree();
                    if (parameters.has("binary_data_size")) return null;
                }
                default -> p.skipChildren();
            }
        }
        return t;
    }

    /** Integers >= 0 up to the closing bracket; null at anything else. */
    private static int[] shape(JsonParser p) throws IOException {
        int[] dims = new int[8];
        int n = 0;
        for (JsonToken t; (t = p.nextToken()) != JsonToken.END_ARRAY; ) {
            if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT || p.getIntValue() < 0) return null;
            if (n == dims.length) dims = Arrays.copyOf(dims, 2 * n);
            dims[n++] = p.getIntValue();
        }
        return Arrays.copyOf(dims, n);
    }

    /**
     * The finite numbers of a (possibly nested) list into {@code t.data}, the parser on its first
     * START_ARRAY; false at anything else, or past {@code t.data}'s length when it is exact.
     */
    private static boolean data(JsonParser p, Tensor t, boolean exact) throws IOException {
        float[] x = t.data;
        int at = 0;
        for (int depth = 1; depth > 0; ) {
            JsonToken token = p.nextToken();
            if (token == JsonToken.START_ARRAY) {
                depth++;
                continue;
            }
            if (token == JsonToken.END_ARRAY) {
                depth--;
                continue;
            }
            float f;
            if (token == JsonToken.VALUE_NUMBER_FLOAT) {
                f = (float) p.getDoubleValue();
            } else if (token == JsonToken.VALUE_NUMBER_INT) {
                f = switch (p.getNumberType()) {
                    case INT -> (float) p.getIntValue();
                    case LONG -> (float) p.getLongValue();
                    default -> p.getBigIntegerValue().floatValue();
                };
            } else {
                return false;
            }
            if (!Float.isFinite(f)) return false;
            if (at == x.length) {
                if (exact || x.length >= Integer.MAX_VALUE / 4) return false;
                x = Arrays.copyOf(x, 2 * x.length);
            }
            x[at++] = f;
        }
        t.data = x;
        t.filled = at;
        return true;
    }
}
