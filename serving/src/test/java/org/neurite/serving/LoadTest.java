package org.neurite.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.config.DeploymentConfig;

/**
 * Many concurrent v2 clients for a fixed number of requests: no errors, every answer equal to the
 * in-process predictor ({@code nn predict}) on the same input, and the batches really were
 * coalesced. Bounded: 32 clients x 12 requests, loopback only.
 */
class LoadTest {
    private static final int CLIENTS = 32;
    private static final int REQUESTS_EACH = 12;
    @TempDir Path dir;

    @Test @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void concurrentClientsGetExactlyThePredictorsAnswers() throws Exception {
        try (ModelFixture lenet = new ModelFixture("lenet5", 17, dir)) {
            DeploymentConfig deployment = DeploymentConfig.load(lenet.deployment(dir, "lenet5", 16, 5, 256));
            InferenceServer server = InferenceServer.start(ServeConfig.from(deployment.serve()), deployment, dir, w -> { });
            ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
            try {
                List<Future<Integer>> done = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    int client = c;
                    done.add(clients.submit(() -> {
                        V2Client http = new V2Client(server.port());
                        for (int r = 0; r < REQUESTS_EACH; r++) {
                            float[] x = lenet.samples(1, client * 1000L + r);
                            V2Client.Reply reply = http.post("/v2/models/lenet5/infer", V2Client.inferRequest("image", new int[] {1, 28, 28}, x, 1));
                            assertEquals(200, reply.status(), reply.body());
                            assertArrayEquals(lenet.predict(x), V2Client.outputData(reply.json()), "client " + client + " request " + r);
                        }
                        return REQUESTS_EACH;
                    }));
                }
                int answered = 0;
                for (Future<Integer> f : done) answered += f.get(100, TimeUnit.SECONDS);
                assertEquals(CLIENTS * REQUESTS_EACH, answered);
                String metrics = new V2Client(server.port()).get("/metrics").body();
                assertTrue(metrics.contains("neurite_requests_total{model=\"lenet5\",status=\"200\"} " + (CLIENTS * REQUESTS_EACH) + ".0"), metrics);
                Matcher max = Pattern.compile("neurite_batch_size_max\\{model=\"lenet5\"} ([0-9.]+)").matcher(metrics);
                assertTrue(max.find(), metrics);
                assertTrue(Double.parseDouble(max.group(1)) > 1, "requests were coalesced: largest batch " + max.group(1));
            } finally {
                clients.shutdownNow();
                server.stop();
            }
        }
    }
}
