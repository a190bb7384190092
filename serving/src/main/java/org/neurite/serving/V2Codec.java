package org.neurite.serving;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.neurite.tensor.Shape;

/**
 * The Open Inference Protocol's (KServe v2) REST tensors, read and written: an infer request's
 * {@code inputs} ({@code name}, {@code shape} [N, ...sample], {@code datatype} FP32, {@code data}
 * flat or nested row-major, or raw little-endian bytes after the JSON header under the binary-data
 * extension) become one float array of N samples, checked against the model with a sentence that
 * says what was wrong; outputs become the response's {@code outputs}. Only FP32 is served, the
 * datatype every Neurite model computes in.
 */
final class V2Codec {
    /** The binary-data extension's header: the length of the JSON part of the body. */
    static final String HEADER_LENGTH = "Inference-Header-Content-Length";

    /** The one version of every served model: the weights the server loaded (no model repository). */
    static final String MODEL_VERSION = "1";

    /** A checked request: the samples, how many, the request id and whether outputs go back as binary. */
    record Request(String id, float[] input, int count, boolean binaryOutput) { }

    /** A response body and, under the binary-data extension, the length of its JSON header (or -1). */
    record Response(byte[] body, int jsonLength) { }

    private static final int MAX_NESTING = 64;
    private final ObjectMapper json;
    /** Reads the common, well-formed JSON request without a tree; the tree reading below answers everything else. */
    private final V2RequestScanner scanner;

    V2Codec() {
        // NaN and Infinity are parsed (not refused as a syntax error) so the answer can say which element is not finite.
        JsonFactory factory = JsonFactory.builder()
                .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
                // A request is mostly numbers; the JDK's decimal parser was the largest CPU item in a load profile.
                .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
                .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING).build())
                .build();
        json = new ObjectMapper(factory);
        scanner = new V2RequestScanner(json);
    }

    /**
     * Reads and checks an infer request for {@code model}.
     *
     * @param jsonLength the binary-data extension's header length, or -1 when the whole body is JSON
     * @throws InferenceError 400 with what was wrong
     */
    Request read(byte[] body, int jsonLength, ServedModel model) {
        if (jsonLength < 0) {
            Request plain = scanner.read(body, body.length, model);
            if (plain != null) return plain;
        }
        return readTree(body, jsonLength, model);
    }

    /** {@link #read} through a JSON tree: every request, with the sentence that says what is wrong with a bad one. */
    Request readTree(byte[] body, int jsonLength, ServedModel model) {
        if (jsonLength > body.length) {
            throw InferenceError.badRequest(HEADER_LENGTH + " is " + jsonLength + " but the body has only " + body.length + " bytes");
        }
        int headerLength = jsonLength < 0 ? body.length : jsonLength;
        JsonNode root;
        try (JsonParser parser = json.createParser(body, 0, headerLength)) {
            root = json.readTree(parser);
            if (root != null) checkNothingFollows(parser);
        } catch (JsonProcessingException e) {
            throw notValidJson(syntaxProblem(e.getOriginalMessage()), e.getLocation());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (root == null || root.isMissingNode()) throw InferenceError.badRequest("the request body is empty; expected a JSON object with 'inputs'");
        if (!root.isObject()) throw InferenceError.badRequest("the request body must be a JSON object with 'inputs', found " + kind(root));
        String id = null;
        if (root.has("id")) {
            if (!root.get("id").isTextual()) throw InferenceError.badRequest("'id' must be a string, found " + kind(root.get("id")));
            id = root.get("id").textValue();
        }
        checkRequestedOutputs(root, model);
        JsonNode inputs = root.get("inputs");
        if (inputs == null) throw InferenceError.badRequest("the request has no 'inputs'; expected a list with one tensor named '"
                + model.inputName() + "'");
        if (!inputs.isArray()) throw InferenceError.badRequest("'inputs' must be a list of tensors, found " + kind(inputs));
        if (inputs.size() != 1) {
            throw InferenceError.badRequest("model '" + model.name() + "' takes 1 input ('" + model.inputName() + "'), the request has "
                    + inputs.size());
        }
        JsonNode input = inputs.get(0);
        if (!input.isObject()) throw InferenceError.badRequest("inputs[0] must be a tensor object, found " + kind(input));
        String name = text(input, "name", "inputs[0]");
        if (!name.equals(model.inputName())) {
            throw InferenceError.badRequest("model '" + model.name() + "' has no input '" + InferenceError.echo(name) + "'; its input is '"
                    + model.inputName() + "'");
        }
        String datatype = text(input, "datatype", "input '" + name + "'");
        if (!datatype.equals("FP32")) {
            throw InferenceError.badRequest("input '" + name + "' has datatype " + InferenceError.echo(datatype) + "; model '" + model.name()
                    + "' takes FP32");
        }
        int[] shape = shape(input, name, model.inputShape());
        int count = shape[0];
        long values = (long) count * model.inputShape().size();
        float[] x;
        long binarySize = binaryDataSize(input, name);
        if (binarySize >= 0) {
            if (jsonLength < 0) {
                throw InferenceError.badRequest("input '" + name + "' has binary_data_size but the request has no " + HEADER_LENGTH + " header");
            }
            if (input.has("data")) throw InferenceError.badRequest("input '" + name + "' has both 'data' and binary_data_size");
            if (binarySize != values * Float.BYTES || body.length - jsonLength != binarySize) {
                throw InferenceError.badRequest("input '" + name + "' of shape " + Arrays.toString(shape) + " needs " + values * Float.BYTES
                        + " bytes of FP32; binary_data_size is " + binarySize + " and the body holds " + (body.length - jsonLength)
                        + " bytes after the JSON");
            }
            x = new float[(int) values];
            ByteBuffer.wrap(body, jsonLength, (int) binarySize).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(x);
            for (int i = 0; i < x.length; i++) {
                if (!Float.isFinite(x[i])) throw InferenceError.badRequest("input '" + name + "' element " + i + " is " + x[i] + "; values must be finite");
            }
        } else {
            JsonNode data = input.get("data");
            if (data == null) throw InferenceError.badRequest("input '" + name + "' has no 'data'");
            x = new float[(int) values];
            int filled = flatten(data, x, 0, name, values);
            if (filled != values) {
                throw InferenceError.badRequest("input '" + name + "' has shape " + Arrays.toString(shape) + " (" + values
                        + " values) but its data holds " + filled);
            }
        }
        return new Request(id, x, count, binaryOutputs(root));
    }

    /**
     * Refuses anything after the request's JSON value (a second object, stray brackets): the value
     * alone would be answered, so a client that sent something else by mistake would not hear of it.
     */
    private static void checkNothingFollows(JsonParser parser) throws IOException {
        JsonLocation at;
        try {
            if (parser.nextToken() == null) return;
            at = parser.currentTokenLocation();
        } catch (JsonProcessingException e) {
            at = e.getLocation();
        }
        throw notValidJson("trailing content after the request", at);
    }

    /** The 400 for a body that is not one JSON value: the problem, and where when Jackson says (a broken limit, such as nesting depth, has no location). */
    private static InferenceError notValidJson(String problem, JsonLocation at) {
        return InferenceError.badRequest("the request body is not valid JSON: " + problem
                + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"));
    }

    /** The response for {@code count} samples of {@code output}, as JSON or with the output's bytes after a JSON header. */
    Response write(ServedModel model, String id, float[] output, int count, boolean binary) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(binary ? 256 : 64 + output.length * 12);
        try (JsonGenerator g = json.getFactory().createGenerator(bytes, JsonEncoding.UTF8)) {
            g.writeStartObject();
            g.writeStringField("model_name", model.name());
            g.writeStringField("model_version", MODEL_VERSION);
            if (id != null) g.writeStringField("id", id);
            g.writeArrayFieldStart("outputs");
            g.writeStartObject();
            g.writeStringField("name", model.outputName());
            g.writeStringField("datatype", "FP32");
            g.writeArrayFieldStart("shape");
            g.writeNumber(count);
            for (int d : model.outputShape().dims()) g.writeNumber(d);
            g.writeEndArray();
            if (binary) {
                g.writeObjectFieldStart("parameters");
                g.writeNumberField("binary_data_size", (long) output.length * Float.BYTES);
                g.writeEndObject();
            } else {
                g.writeArrayFieldStart("data");
                for (float v : output) g.writeNumber(v);
                g.writeEndArray();
            }
            g.writeEndObject();
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!binary) return new Response(bytes.toByteArray(), -1);
        int jsonLength = bytes.size();
        ByteBuffer raw = ByteBuffer.allocate(output.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(output);
        bytes.writeBytes(raw.array());
        return new Response(bytes.toByteArray(), jsonLength);
    }

    /**
     * Jackson's sentence without the parser-internal source description it appends to some, and
     * without the name of the Java setting behind a broken limit (a client cannot change it).
     */
    private static String syntaxProblem(String message) {
        int cut = message.indexOf(" (start marker at");
        if (cut < 0) cut = message.indexOf('\n');
        String sentence = cut < 0 ? message : message.substring(0, cut);
        return sentence.replaceAll(", from `StreamReadConstraints\\.[A-Za-z]+\\(\\)`\\)", ")");
    }

    /** {@code {"error": message}}, the protocol's error body. */
    byte[] error(String message) {
        try {
            return json.writeValueAsBytes(json.createObjectNode().put("error", message));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    ObjectMapper mapper() { return json; }

    private static String text(JsonNode tensor, String key, String where) {
        JsonNode v = tensor.get(key);
        if (v == null) throw InferenceError.badRequest(where + " has no '" + key + "'");
        if (!v.isTextual()) throw InferenceError.badRequest("'" + key + "' of " + where + " must be a string, found " + kind(v));
        return v.textValue();
    }

    /** [N, ...sample]: N >= 1 samples of exactly the model's input shape. */
    private static int[] shape(JsonNode input, String name, Shape sample) {
        JsonNode s = input.get("shape");
        String expected = "[N, " + sample.toString().substring(1);
        if (s == null) throw InferenceError.badRequest("input '" + name + "' has no 'shape'; expected " + expected);
        if (!s.isArray()) throw InferenceError.badRequest("'shape' of input '" + name + "' must be a list of integers, found " + kind(s));
        int[] dims = new int[s.size()];
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = s.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToInt() || d.intValue() < 0) {
                throw InferenceError.badRequest("'shape' of input '" + name + "' must hold integers >= 0, found " + InferenceError.echo(d.toString()));
            }
            dims[i] = d.intValue();
        }
        String problem = shapeProblem(dims, name, sample);
        if (problem != null) throw InferenceError.badRequest(problem);
        return dims;
    }

    /** What is wrong with {@code dims} (integers >= 0) as the shape of input {@code name}, or null when it is [N >= 1, ...sample]. */
    static String shapeProblem(int[] dims, String name, Shape sample) {
        boolean matches = dims.length == sample.rank() + 1;
        for (int i = 0; matches && i < sample.rank(); i++) matches = dims[i + 1] == sample.dim(i);
        if (!matches) {
            return "input '" + name + "' has shape " + InferenceError.echo(Arrays.toString(dims)) + "; the model takes [N, "
                    + sample.toString().substring(1);
        }
        if (dims[0] < 1) return "input '" + name + "' has a batch of 0 samples; send at least one";
        if ((long) dims[0] * sample.size() > Integer.MAX_VALUE / 2) {
            return "input '" + name + "' has " + dims[0] + " samples, more than one request may carry";
        }
        return null;
    }

    /** Copies numbers from {@code data} (flat or nested lists) into {@code x} from {@code at}; returns the new end. */
    private static int flatten(JsonNode data, float[] x, int at, String name, long expected) {
        if (!data.isArray()) throw InferenceError.badRequest("'data' of input '" + name + "' must be a list of numbers, found " + kind(data));
        for (JsonNode v : data) {
            if (v.isArray()) {
                at = flatten(v, x, at, name, expected);
                continue;
            }
            if (!v.isNumber()) {
                throw InferenceError.badRequest("'data' of input '" + name + "' must hold FP32 numbers; element " + at + " is " + kind(v));
            }
            if (at >= expected) {
                throw InferenceError.badRequest("input '" + name + "' has more data than its shape holds (" + expected + " values)");
            }
            float f = v.floatValue();
            if (!Float.isFinite(f)) {
                throw InferenceError.badRequest("'data' of input '" + name + "' element " + at + " is " + InferenceError.echo(v.asText())
                        + ", which is not a finite FP32 number");
            }
            x[at++] = f;
        }
        return at;
    }

    private static long binaryDataSize(JsonNode input, String name) {
        JsonNode p = input.get("parameters");
        if (p == null || !p.has("binary_data_size")) return -1;
        JsonNode size = p.get("binary_data_size");
        if (!size.isIntegralNumber() || size.longValue() < 0) {
            throw InferenceError.badRequest("binary_data_size of input '" + name + "' must be an integer >= 0, found "
                    + InferenceError.echo(size.toString()));
        }
        return size.longValue();
    }

    /** Outputs go back as binary when the request's parameters or its one requested output ask for it. */
    static boolean binaryOutputs(JsonNode root) {
        JsonNode p = root.get("parameters");
        if (p != null && p.path("binary_data_output").asBoolean(false)) return true;
        JsonNode outputs = root.get("outputs");
        if (outputs == null || !outputs.isArray()) return false;
        for (JsonNode o : outputs) if (o.path("parameters").path("binary_data").asBoolean(false)) return true;
        return false;
    }

    /** What a JSON value is, for messages: {@code a string ("x")}, {@code a list}, {@code a number (3)}. */
    static String kind(JsonNode v) {
        if (v.isTextual()) {
            String t = v.textValue();
            return "a string (\"" + (t.length() > 20 ? t.substring(0, 20) + "..." : t) + "\")";
        }
        if (v.isNumber()) return "a number (" + v.asText() + ")";
        if (v.isBoolean()) return "a boolean (" + v.asText() + ")";
        if (v.isNull()) return "null";
        if (v.isArray()) return "a list";
        if (v.isObject()) return "an object";
        return v.getNodeType().toString().toLowerCase(Locale.ROOT);
    }

    /** The requested outputs' names, which must be the model's output. */
    static void checkRequestedOutputs(JsonNode root, ServedModel model) {
        JsonNode outputs = root.get("outputs");
        if (outputs == null) return;
        if (!outputs.isArray()) throw InferenceError.badRequest("'outputs' must be a list, found " + kind(outputs));
        List<String> unknown = new ArrayList<>();
        for (JsonNode o : outputs) {
            String n = o.path("name").asText("");
            if (!n.equals(model.outputName())) unknown.add(n);
        }
        if (!unknown.isEmpty()) {
            throw InferenceError.badRequest("model '" + model.name() + "' has no output " + InferenceError.echo(unknown.toString())
                    + "; its output is '" + model.outputName() + "'");
        }
    }
}
