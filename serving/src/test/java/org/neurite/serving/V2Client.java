package org.neurite.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * A plain HTTP client speaking the Open Inference Protocol's JSON, as an existing v2 client does:
 * {@link java.net.http.HttpClient} on the loopback address, nothing of the server's code.
 */
final class V2Client {
    static final ObjectMapper JSON = new ObjectMapper();

    /** A response: status, body text and headers. */
    record Reply(int status, String body, java.net.http.HttpHeaders headers) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (" + status + "): " + body, e);
            }
        }

        /** The {@code error} of an error body. */
        String error() { return json().path("error").asText(null); }
    }

    private final HttpClient http;
    private final String base;

    V2Client(int port) {
        this.base = "http://127.0.0.1:" + port;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }

    Reply get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET().timeout(Duration.ofSeconds(30)).build());
    }

    Reply post(String path, String body) throws IOException, InterruptedException {
        return post(path, body.getBytes(java.nio.charset.StandardCharsets.UTF_8), Map.of("Content-Type", "application/json"));
    }

    Reply post(String path, byte[] body, Map<String, String> headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .timeout(Duration.ofSeconds(60));
        headers.forEach(b::header);
        return send(b.build());
    }

    HttpResponse<byte[]> postForBytes(String path, byte[] body, Map<String, String> headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .timeout(Duration.ofSeconds(60));
        headers.forEach(b::header);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private Reply send(HttpRequest request) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body(), r.headers());
    }

    /** A v2 infer request: one FP32 input {@code name} of {@code count} samples, data flat. */
    static String inferRequest(String name, int[] sampleShape, float[] x, int count) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode in = root.putArray("inputs").addObject();
        in.put("name", name);
        ArrayNode shape = in.putArray("shape").add(count);
        for (int d : sampleShape) shape.add(d);
        in.put("datatype", "FP32");
        ArrayNode data = in.putArray("data");
        for (float v : x) data.add(v);
        return root.toString();
    }

    /** The floats of the first output of an infer response. */
    static float[] outputData(JsonNode response) {
        JsonNode data = response.path("outputs").path(0).path("data");
        float[] y = new float[data.size()];
        for (int i = 0; i < y.length; i++) y[i] = data.get(i).floatValue();
        return y;
    }
}
