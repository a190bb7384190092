package org.neurite.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.config.DeploymentConfig;

/**
 * The v2 protocol as a client sees it: health, metadata, infer with JSON (flat and nested data)
 * and with the binary-data extension, the image endpoint and the metrics, against LeNet-5 with
 * seeded weights; every answer equals the in-process {@code Predictor} on the same sample.
 */
class InferenceServerTest {
    private static final int[] SAMPLE = {1, 28, 28};
    @TempDir static Path dir;
    private static ModelFixture lenet;
    private static InferenceServer server;
    private static V2Client client;

    @BeforeAll static void start() throws Exception {
        lenet = new ModelFixture("lenet5", 7, dir);
        Path yaml = lenet.deployment(dir, "lenet5", 8, 2, 64);
        DeploymentConfig deployment = DeploymentConfig.load(yaml);
        server = InferenceServer.start(ServeConfig.from(deployment.serve()), deployment, dir, w -> { });
        client = new V2Client(server.port());
    }

    @AfterAll static void stop() {
        if (server != null) server.stop();
        if (lenet != null) lenet.close();
    }

    @Test void healthAndServerMetadata() throws Exception {
        assertEquals(new V2Client.Reply(200, "{\"live\":true}", null).body(), client.get("/v2/health/live").body());
        V2Client.Reply ready = client.get("/v2/health/ready");
        assertEquals(200, ready.status());
        assertEquals("{\"ready\":true}", ready.body());
        assertEquals("{\"name\":\"neurite\",\"version\":\"0.1.0\",\"extensions\":[\"binary_tensor_data\"]}", client.get("/v2").body());
        assertEquals(200, client.get("/v2/models/lenet5/ready").status());
    }

    @Test void modelMetadataNamesTheInputAndOutputWithTheirShapes() throws Exception {
        V2Client.Reply r = client.get("/v2/models/lenet5");
        assertEquals(200, r.status());
        assertEquals("{\"name\":\"lenet5\",\"versions\":[\"1\"],\"platform\":\"neurite\","
                + "\"inputs\":[{\"name\":\"image\",\"datatype\":\"FP32\",\"shape\":[-1,1,28,28]}],"
                + "\"outputs\":[{\"name\":\"logits\",\"datatype\":\"FP32\",\"shape\":[-1,10]}]}", r.body());
    }

    @Test void theAdvertisedVersionHasItsOwnEndpointsAndNoOtherDoes() throws Exception {
        assertEquals(client.get("/v2/models/lenet5").body(), client.get("/v2/models/lenet5/versions/1").body());
        assertEquals(200, client.get("/v2/models/lenet5/versions/1/ready").status());
        float[] x = lenet.samples(1, 13);
        V2Client.Reply r = client.post("/v2/models/lenet5/versions/1/infer", V2Client.inferRequest("image", SAMPLE, x, 1));
        assertEquals(200, r.status(), r.body());
        assertEquals("1", r.json().path("model_version").asText());
        assertArrayEquals(lenet.predict(x), V2Client.outputData(r.json()), 1e-5f);
        for (V2Client.Reply unknown : new V2Client.Reply[] {client.get("/v2/models/lenet5/versions/2"),
                client.get("/v2/models/lenet5/versions/2/ready"),
                client.post("/v2/models/lenet5/versions/2/infer", V2Client.inferRequest("image", SAMPLE, x, 1))}) {
            assertEquals(404, unknown.status(), unknown.body());
            assertEquals("model 'lenet5' has no version '2'; it has version 1", unknown.error());
        }
    }

    @Test void theAddressPutsAnIpv6HostInBrackets() {
        assertEquals("127.0.0.1:" + server.port(), server.address());
        assertEquals("[::1]:18094", InferenceServer.address("::1", 18094));
        assertEquals("[::1]:18094", InferenceServer.address("[::1]", 18094));
        assertEquals("localhost:80", InferenceServer.address("localhost", 80));
    }

    @Test void inferAnswersEverySampleAsThePredictorDoes() throws Exception {
        float[] x = lenet.samples(3, 11);
        V2Client.Reply r = client.post("/v2/models/lenet5/infer", V2Client.inferRequest("image", SAMPLE, x, 3));
        assertEquals(200, r.status(), r.body());
        JsonNode out = r.json();
        assertEquals("lenet5", out.path("model_name").asText());
        assertEquals("logits", out.path("outputs").path(0).path("name").asText());
        assertEquals("[3,10]", out.path("outputs").path(0).path("shape").toString());
        assertEquals("FP32", out.path("outputs").path(0).path("datatype").asText());
        float[] y = V2Client.outputData(out);
        for (int i = 0; i < 3; i++) {
            float[] expected = lenet.predict(Arrays.copyOfRange(x, i * 784, (i + 1) * 784));
            assertArrayEquals(expected, Arrays.copyOfRange(y, i * 10, (i + 1) * 10), 1e-5f, "sample " + i);
        }
    }

    @Test void nestedDataAndTheRequestIdAreAccepted() throws Exception {
        float[] x = lenet.samples(1, 12);
        StringBuilder nested = new StringBuilder("[[[");
        for (int i = 0; i < 28; i++) {
            nested.append(i == 0 ? "[" : ",[");
            for (int j = 0; j < 28; j++) nested.append(j == 0 ? "" : ",").append(x[i * 28 + j]);
            nested.append("]");
        }
        nested.append("]]]");
        String body = "{\"id\":\"req-42\",\"inputs\":[{\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":"
                + nested + "}],\"outputs\":[{\"name\":\"logits\"}]}";
        V2Client.Reply r = client.post("/v2/models/lenet5/infer", body);
        assertEquals(200, r.status(), r.body());
        assertEquals("req-42", r.json().path("id").asText());
        assertArrayEquals(lenet.predict(x), V2Client.outputData(r.json()), 1e-5f);
    }

    @Test void binaryDataExtensionCarriesRawFloatsBothWays() throws Exception {
        float[] x = lenet.samples(2, 13);
        String header = "{\"inputs\":[{\"name\":\"image\",\"shape\":[2,1,28,28],\"datatype\":\"FP32\","
                + "\"parameters\":{\"binary_data_size\":" + x.length * 4 + "}}],"
                + "\"outputs\":[{\"name\":\"logits\",\"parameters\":{\"binary_data\":true}}]}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer body = ByteBuffer.allocate(json.length + x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        body.put(json);
        for (float v : x) body.putFloat(v);
        HttpResponse<byte[]> r = client.postForBytes("/v2/models/lenet5/infer", body.array(),
                Map.of("Inference-Header-Content-Length", Integer.toString(json.length), "Content-Type", "application/octet-stream"));
        assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        int jsonLength = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        JsonNode head = V2Client.JSON.readTree(Arrays.copyOf(r.body(), jsonLength));
        assertEquals(80, head.path("outputs").path(0).path("parameters").path("binary_data_size").asInt());
        assertEquals(jsonLength + 80, r.body().length);
        ByteBuffer raw = ByteBuffer.wrap(r.body(), jsonLength, 80).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 2; i++) {
            float[] expected = lenet.predict(Arrays.copyOfRange(x, i * 784, (i + 1) * 784));
            float[] got = new float[10];
            for (int c = 0; c < 10; c++) got[c] = raw.getFloat();
            assertArrayEquals(expected, got, 1e-5f, "sample " + i);
        }
    }

    @Test void classifyTakesAnImageAndAnswersTheTopClassesWithLabels() throws Exception {
        BufferedImage image = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        for (int i = 0; i < 28; i++) for (int j = 0; j < 28; j++) image.getRaster().setSample(j, i, 0, (i * 9 + j * 5) % 256);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(image, "png", png);
        V2Client.Reply r = client.post("/v2/models/lenet5/classify?top_k=3", png.toByteArray(), Map.of("Content-Type", "image/png"));
        assertEquals(200, r.status(), r.body());
        float[] probabilities = ImageInput.softmax(lenet.predict(ImageInput.decode(png.toByteArray(), lenet.graph.shape("image"))));
        Integer[] order = new Integer[10];
        for (int i = 0; i < 10; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Float.compare(probabilities[b], probabilities[a]));
        JsonNode predictions = r.json().path("predictions");
        assertEquals(3, predictions.size());
        String[] fashion = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
        for (int k = 0; k < 3; k++) {
            JsonNode p = predictions.get(k);
            assertEquals(order[k], p.path("class").asInt());
            assertEquals(fashion[order[k]], p.path("label").asText());
            assertEquals(probabilities[order[k]], p.path("probability").floatValue(), 1e-6f);
        }
    }

    /**
     * Every format training and {@code nn predict} read ({@code ImageFiles.FORMATS}) is taken here
     * too: the same picture as BMP, GIF and TIFF answers as its PNG does (all lossless).
     */
    @Test void classifyTakesThePictureFormatsTrainingReads() throws Exception {
        BufferedImage image = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        for (int i = 0; i < 28; i++) for (int j = 0; j < 28; j++) image.getRaster().setSample(j, i, 0, (i * 7 + j * 3) % 256);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(image, "png", png);
        String expected = client.post("/v2/models/lenet5/classify?top_k=2", png.toByteArray(), Map.of("Content-Type", "image/png"))
                .json().path("predictions").toString();
        for (String format : new String[] {"bmp", "gif", "tiff"}) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            assertTrue(ImageIO.write(image, format, body), "ImageIO writes " + format);
            V2Client.Reply r = client.post("/v2/models/lenet5/classify?top_k=2", body.toByteArray(), Map.of("Content-Type", "image/" + format));
            assertEquals(200, r.status(), format + ": " + r.body());
            assertEquals(expected, r.json().path("predictions").toString(), format);
        }
    }

    @Test void classifyAlsoTakesAMultipartUpload() throws Exception {
        BufferedImage image = new BufferedImage(56, 56, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < 56; i++) for (int j = 0; j < 56; j++) image.setRGB(j, i, (i * 4) << 16 | (j * 4) << 8 | ((i + j) * 2));
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(image, "png", png);
        String boundary = "----neurite-test-boundary";
        ByteArrayOutputStream form = new ByteArrayOutputStream();
        form.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x.png\"\r\n"
                + "Content-Type: image/png\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        form.writeBytes(png.toByteArray());
        form.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        V2Client.Reply r = client.post("/v2/models/lenet5/classify?top_k=1", form.toByteArray(),
                Map.of("Content-Type", "multipart/form-data; boundary=" + boundary));
        assertEquals(200, r.status(), r.body());
        // An RGB image of another size: converted to grey and resized to 28 x 28, as nn predict does.
        float[] p = ImageInput.softmax(lenet.predict(ImageInput.decode(png.toByteArray(), lenet.graph.shape("image"))));
        int best = 0;
        for (int c = 1; c < 10; c++) if (p[c] > p[best]) best = c;
        assertEquals(best, r.json().path("predictions").get(0).path("class").asInt());
        assertEquals(p[best], r.json().path("predictions").get(0).path("probability").floatValue(), 1e-6f);
    }

    @Test void metricsCountRequestsLatencyAndBatchSizes() throws Exception {
        client.post("/v2/models/lenet5/infer", V2Client.inferRequest("image", SAMPLE, lenet.samples(1, 14), 1));
        client.post("/v2/models/nope/infer", "{}");
        String text = client.get("/metrics").body();
        assertTrue(text.contains("neurite_requests_total{model=\"lenet5\",status=\"200\"}"), text);
        assertTrue(text.contains("neurite_errors_total{model=\"\",status=\"404\"}"), text);
        assertTrue(text.contains("neurite_request_duration_seconds_bucket{model=\"lenet5\""), text);
        assertTrue(text.contains("neurite_batch_size_bucket{model=\"lenet5\",le=\"8.0\"}"), text);
        assertTrue(text.contains("neurite_queue_depth{model=\"lenet5\"} 0"), text);
    }
}
