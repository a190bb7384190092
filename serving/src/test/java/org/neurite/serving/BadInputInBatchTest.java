package org.neurite.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.config.DeploymentConfig;

/**
 * Concurrent clients of an embedding model, one in four sending an index past the table: the
 * requests are batched together, yet each bad one is answered 400 with the model's reason and
 * every good one gets exactly the predictor's answer, as if it had come alone.
 */
class BadInputInBatchTest {
    private static final int CLIENTS = 8;
    private static final int REQUESTS_EACH = 8;
    @TempDir Path dir;

    @Test @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aBadIndexFailsOnlyItsOwnRequest() throws Exception {
        try (ModelFixture lookup = ModelFixture.lookup(3, dir)) {
            // A worker holding its batch for arriving requests puts good and bad ones together.
            DeploymentConfig deployment = DeploymentConfig.load(lookup.deployment(dir, "lookup", 8, 20, 64));
            InferenceServer server = InferenceServer.start(ServeConfig.from(deployment.serve()), deployment, dir, w -> { });
            ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
            try {
                List<Future<Integer>> done = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    int client = c;
                    done.add(clients.submit(() -> {
                        V2Client http = new V2Client(server.port());
                        int refused = 0;
                        for (int r = 0; r < REQUESTS_EACH; r++) {
                            boolean bad = (client + r) % 4 == 0;
                            float[] ids = {client % 10, r % 10, bad ? 10 + r : (client + r) % 10, 9};
                            V2Client.Reply reply = http.post("/v2/models/lookup/infer", V2Client.inferRequest("ids", new int[] {4}, ids, 1));
                            if (bad) {
                                assertEquals(400, reply.status(), reply.body());
                                assertEquals("model 'lookup' cannot take this input: index " + (10f + r)
                                        + " of row 2 is not a row of the table [0, 10)", reply.error());
                                refused++;
                            } else {
                                assertEquals(200, reply.status(), reply.body());
                                assertArrayEquals(lookup.predict(ids), V2Client.outputData(reply.json()), "client " + client + " request " + r);
                            }
                        }
                        return refused;
                    }));
                }
                int refused = 0;
                for (Future<Integer> f : done) refused += f.get(100, TimeUnit.SECONDS);
                assertEquals(CLIENTS * REQUESTS_EACH / 4, refused);
                String metrics = new V2Client(server.port()).get("/metrics").body();
                assertTrue(metrics.contains("neurite_errors_total{model=\"lookup\",status=\"400\"} " + refused + ".0"), metrics);
                assertTrue(metrics.contains("neurite_requests_total{model=\"lookup\",status=\"200\"} " + (CLIENTS * REQUESTS_EACH - refused) + ".0"),
                        metrics);
            } finally {
                clients.shutdownNow();
                server.stop();
            }
        }
    }
}
