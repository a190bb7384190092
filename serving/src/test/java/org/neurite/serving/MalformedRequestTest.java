package org.neurite.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.neurite.config.DeploymentConfig;

/**
 * Every malformed request and the exact status and {@code {"error": ...}} message it gets (the
 * table docs/serving.md documents), followed by a good request: a refusal never costs a worker.
 */
class MalformedRequestTest {
    @TempDir static Path dir;
    private static ModelFixture lenet;
    private static InferenceServer server;
    private static V2Client client;

    /** 784 copies of 0.5: one LeNet-5 sample. */
    private static final String SAMPLE = "[" + "0.5,".repeat(783) + "0.5]";

    @BeforeAll static void start() throws Exception {
        lenet = new ModelFixture("lenet5", 3, dir);
        Path yaml = lenet.deployment(dir, "lenet5", 8, 1, 16);
        String text = java.nio.file.Files.readString(yaml).replace("  port: 0\n", "  port: 0\n  max_body_bytes: 65536\n");
        java.nio.file.Files.writeString(yaml, text);
        DeploymentConfig deployment = DeploymentConfig.load(yaml);
        server = InferenceServer.start(ServeConfig.from(deployment.serve()), deployment, dir, w -> { });
        client = new V2Client(server.port());
    }

    @AfterAll static void stop() {
        if (server != null) server.stop();
        if (lenet != null) lenet.close();
    }

    private static String input(String fields) {
        return "{\"inputs\":[{" + fields + "}]}";
    }

    private static final String INFER = "/v2/models/lenet5/infer";
    private static final String BINARY_HEADER = Integer.toString(input("\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\","
            + "\"parameters\":{\"binary_data_size\":3136}").length());

    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of("bad JSON", INFER, "{\"inputs\": [", Map.of(), 400,
                        "the request body is not valid JSON: Unexpected end-of-input: expected close marker for Array (line 1, column 13)"),
                Arguments.of("nesting too deep", INFER, "[".repeat(70), Map.of(), 400,
                        "the request body is not valid JSON: Document nesting depth (65) exceeds the maximum allowed (64)"),
                Arguments.of("number too long", INFER, input("\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":["
                        + "1".repeat(5000) + "]"), Map.of(), 400,
                        "the request body is not valid JSON: Number value length (5000) exceeds the maximum allowed (1000)"),
                Arguments.of("trailing garbage", INFER, input("\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":"
                        + SAMPLE) + " garbage]]]", Map.of(), 400,
                        "the request body is not valid JSON: trailing content after the request (line 1, column 3214)"),
                Arguments.of("a second object", INFER, input("\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":"
                        + SAMPLE) + "{\"inputs\":5}", Map.of(), 400,
                        "the request body is not valid JSON: trailing content after the request (line 1, column 3213)"),
                Arguments.of("empty body", INFER, "", Map.of(), 400,
                        "the request body is empty; expected a JSON object with 'inputs'"),
                Arguments.of("not an object", INFER, "[1, 2]", Map.of(), 400,
                        "the request body must be a JSON object with 'inputs', found a list"),
                Arguments.of("no inputs", INFER, "{\"outputs\":[]}", Map.of(), 400,
                        "the request has no 'inputs'; expected a list with one tensor named 'image'"),
                Arguments.of("inputs not a list", INFER, "{\"inputs\":{\"name\":\"image\"}}", Map.of(), 400,
                        "'inputs' must be a list of tensors, found an object"),
                Arguments.of("two inputs", INFER, "{\"inputs\":[{},{}]}", Map.of(), 400,
                        "model 'lenet5' takes 1 input ('image'), the request has 2"),
                Arguments.of("unknown input", INFER, input("\"name\":\"pixels\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":" + SAMPLE),
                        Map.of(), 400, "model 'lenet5' has no input 'pixels'; its input is 'image'"),
                Arguments.of("a long input name", INFER, input("\"name\":\"" + "p".repeat(20_000) + "\",\"shape\":[1,1,28,28],"
                        + "\"datatype\":\"FP32\",\"data\":" + SAMPLE), Map.of(), 400,
                        "model 'lenet5' has no input '" + "p".repeat(100) + "…'; its input is 'image'"),
                Arguments.of("wrong datatype", INFER, input("\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"INT64\",\"data\":" + SAMPLE),
                        Map.of(), 400, "input 'image' has datatype INT64; model 'lenet5' takes FP32"),
                Arguments.of("no datatype", INFER, input("\"name\":\"image\",\"shape\":[1,1,28,28],\"data\":" + SAMPLE), Map.of(), 400,
                        "input 'image' has no 'datatype'"),
                Arguments.of("no shape", INFER, input("\"name\":\"image\",\"datatype\":\"FP32\",\"data\":" + SAMPLE), Map.of(), 400,
                        "input 'image' has no 'shape'; expected [N, 1, 28, 28]"),
                Arguments.of("wrong shape", INFER, input("\"name\":\"image\",\"shape\":[1,3,28,28],\"datatype\":\"FP32\",\"data\":" + SAMPLE),
                        Map.of(), 400, "input 'image' has shape [1, 3, 28, 28]; the model takes [N, 1, 28, 28]"),
                Arguments.of("shape without batch", INFER, input("\"name\":\"image\",\"shape\":[1,28,28],\"datatype\":\"FP32\",\"data\":" + SAMPLE),
                        Map.of(), 400, "input 'image' has shape [1, 28, 28]; the model takes [N, 1, 28, 28]"),
                Arguments.of("negative dimension", INFER, input("\"name\":\"image\",\"shape\":[-1,1,28,28],\"datatype\":\"FP32\",\"data\":" + SAMPLE),
                        Map.of(), 400, "'shape' of input 'image' must hold integers >= 0, found -1"),
                Arguments.of("zero samples", INFER, input("\"name\":\"image\",\"shape\":[0,1,28,28],\"datatype\":\"FP32\",\"data\":[]"),
                        Map.of(), 400, "input 'image' has a batch of 0 samples; send at least one"),
                Arguments.of("too little data", INFER, input("\"name\":\"image\",\"shape\":[2,1,28,28],\"datatype\":\"FP32\",\"data\":" + SAMPLE),
                        Map.of(), 400, "input 'image' has shape [2, 1, 28, 28] (1568 values) but its data holds 784"),
                Arguments.of("too much data", INFER, input("\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":"
                        + SAMPLE.replace("]", ",0.5]")), Map.of(), 400, "input 'image' has more data than its shape holds (784 values)"),
                Arguments.of("NaN payload", INFER, input("\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":"
                        + SAMPLE.replaceFirst("0\\.5", "NaN")), Map.of(), 400,
                        "'data' of input 'image' element 0 is NaN, which is not a finite FP32 number"),
                Arguments.of("FP32 overflow", INFER, input("\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":"
                        + SAMPLE.replaceFirst("0\\.5", "1e39")), Map.of(), 400,
                        "'data' of input 'image' element 0 is 1.0E39, which is not a finite FP32 number"),
                Arguments.of("string in data", INFER, input("\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":"
                        + SAMPLE.replaceFirst("0\\.5", "\"0.5\"")), Map.of(), 400,
                        "'data' of input 'image' must hold FP32 numbers; element 0 is a string (\"0.5\")"),
                Arguments.of("data not a list", INFER, input("\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":0.5"),
                        Map.of(), 400, "'data' of input 'image' must be a list of numbers, found a number (0.5)"),
                Arguments.of("id not a string", INFER, "{\"id\":7,\"inputs\":[]}", Map.of(), 400, "'id' must be a string, found a number (7)"),
                Arguments.of("unknown output", INFER, "{\"inputs\":[],\"outputs\":[{\"name\":\"probs\"}]}", Map.of(), 400,
                        "model 'lenet5' has no output [probs]; its output is 'logits'"),
                Arguments.of("unknown model", "/v2/models/resnet/infer", input(""), Map.of(), 404,
                        "unknown model 'resnet'; this server serves lenet5"),
                Arguments.of("a long model name", "/v2/models/" + "r".repeat(5000) + "/infer", input(""), Map.of(), 404,
                        "unknown model '" + "r".repeat(100) + "…'; this server serves lenet5"),
                Arguments.of("huge body", INFER, "{\"inputs\":[{\"data\":[" + "0.5,".repeat(20_000) + "0.5]}]}", Map.of(), 413,
                        "the request body is 80027 bytes; this server takes at most 65536 bytes (serve.max_body_bytes)"),
                Arguments.of("binary without header", INFER, input("\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\","
                        + "\"parameters\":{\"binary_data_size\":3136}"), Map.of(), 400,
                        "input 'image' has binary_data_size but the request has no Inference-Header-Content-Length header"),
                Arguments.of("binary size mismatch", INFER, input("\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\","
                        + "\"parameters\":{\"binary_data_size\":3136}") + "\0\0\0\0", Map.of("Inference-Header-Content-Length", BINARY_HEADER), 400,
                        "input 'image' of shape [1, 1, 28, 28] needs 3136 bytes of FP32; binary_data_size is 3136 and the body holds 4 bytes after the JSON"),
                Arguments.of("bad header length", INFER, input(""), Map.of("Inference-Header-Content-Length", "ten"), 400,
                        "Inference-Header-Content-Length must be an integer >= 0, found \"ten\""),
                Arguments.of("header longer than body", INFER, input(""), Map.of("Inference-Header-Content-Length", "500"), 400,
                        "Inference-Header-Content-Length is 500 but the body has only 15 bytes"),
                Arguments.of("image that is not one", "/v2/models/lenet5/classify", "not an image", Map.of("Content-Type", "image/png"), 400,
                        "the body is not a PNG, JPEG, BMP, GIF, TIFF or WebP picture"),
                Arguments.of("bad top_k", "/v2/models/lenet5/classify?top_k=0", "x", Map.of("Content-Type", "image/png"), 400,
                        "top_k must be an integer >= 1, found \"0\""),
                Arguments.of("unknown endpoint", "/v2/models/lenet5/explain", "{}", Map.of(), 404,
                        "no such endpoint: POST /v2/models/lenet5/explain"));
    }

    @ParameterizedTest(name = "{0}") @MethodSource("malformed")
    void isRefusedWithItsStatusAndMessage(String what, String path, String body, Map<String, String> headers, int status, String message)
            throws Exception {
        java.util.Map<String, String> h = new java.util.HashMap<>(Map.of("Content-Type", "application/json"));
        h.putAll(headers);
        V2Client.Reply r = client.post(path, body.getBytes(StandardCharsets.UTF_8), h);
        assertEquals(status, r.status(), r.body());
        assertEquals(message, r.error());
        // The server (and the model's worker) still answers a good request.
        float[] x = lenet.samples(1, 5);
        V2Client.Reply ok = client.post(INFER, V2Client.inferRequest("image", new int[] {1, 28, 28}, x, 1));
        assertEquals(200, ok.status(), ok.body());
    }

    @Test void aChunkedBodyOverTheLimitIsRefusedToo() throws Exception {
        // No Content-Length: the server finds out while reading.
        byte[] big = ("{\"inputs\":[{\"data\":[" + "0.5,".repeat(20_000) + "0.5]}]}").getBytes(StandardCharsets.UTF_8);
        var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + server.port() + INFER))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(big)))
                .header("Content-Type", "application/json").build();
        var response = java.net.http.HttpClient.newHttpClient().send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(413, response.statusCode(), response.body());
        assertEquals("{\"error\":\"the request body is longer than 65536 bytes, the most this server takes (serve.max_body_bytes)\"}",
                response.body());
    }

    @Test void aRefusalWithoutALocationIsCountedLikeAnyOther() throws Exception {
        double before = errors400();
        V2Client.Reply r = client.post(INFER, "[".repeat(70));
        assertEquals(400, r.status(), r.body());
        assertEquals(before + 1, errors400());
    }

    /** neurite_errors_total{model="lenet5",status="400"}, 0 before the first. */
    private static double errors400() throws Exception {
        Matcher m = Pattern.compile("neurite_errors_total\\{model=\"lenet5\",status=\"400\"} ([0-9.]+)").matcher(client.get("/metrics").body());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    @Test void aGetOnInferIsMethodNotAllowed() throws Exception {
        V2Client.Reply r = client.get(INFER);
        assertEquals(405, r.status(), r.body());
        assertEquals("method GET is not allowed on /v2/models/lenet5/infer", r.error());
    }

    @Test void metadataOfAnUnknownModelIsNotFound() throws Exception {
        V2Client.Reply r = client.get("/v2/models/vgg");
        assertEquals(404, r.status());
        assertEquals("unknown model 'vgg'; this server serves lenet5", r.error());
    }
}
