package org.neurite.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM during load, against a server in its own process ({@link ServeMain}): the process exits
 * 0, and every request the server accepted reached its client as a correct 200 — the count the
 * server prints when it stops equals the clients' count of answers. Requests sent after the
 * signal may be refused (503, or the connection), never half-answered.
 */
class GracefulShutdownTest {
    private static final int CLIENTS = 16;
    @TempDir Path dir;

    private String log() {
        try {
            return java.nio.file.Files.readString(dir.resolve("server.log"));
        } catch (IOException e) {
            return "(no server log: " + e.getMessage() + ")";
        }
    }

    @Test @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void sigtermDuringLoadAnswersEveryAcceptedRequestAndExitsZero() throws Exception {
        try (ModelFixture lenet = new ModelFixture("lenet5", 5, dir)) {
            Path yaml = lenet.deployment(dir, "lenet5", 16, 20, 1024);
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process server = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                    ServeMain.class.getName(), yaml.toString()).redirectError(dir.resolve("server.log").toFile()).start();
            ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
            try {
                BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
                String first = out.readLine();
                Matcher listening = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+) .*").matcher(String.valueOf(first));
                assertTrue(listening.matches(), () -> "first line: " + first + "\n" + log());
                int port = Integer.parseInt(listening.group(1));

                AtomicBoolean stop = new AtomicBoolean();
                AtomicInteger answered = new AtomicInteger();
                AtomicInteger refused = new AtomicInteger();
                List<Future<?>> running = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    int client = c;
                    running.add(clients.submit(() -> {
                        V2Client http = new V2Client(port);
                        for (int r = 0; !stop.get() && r < 10_000; r++) {
                            float[] x = lenet.samples(1, client * 100_000L + r);
                            V2Client.Reply reply;
                            try {
                                reply = http.post("/v2/models/lenet5/infer", V2Client.inferRequest("image", new int[] {1, 28, 28}, x, 1));
                            } catch (IOException e) {
                                refused.incrementAndGet();   // connection refused or closed: never accepted
                                continue;
                            }
                            if (reply.status() == 503) {
                                refused.incrementAndGet();
                                continue;
                            }
                            assertEquals(200, reply.status(), reply.body());
                            assertArrayEquals(lenet.predict(x), V2Client.outputData(reply.json()));
                            answered.incrementAndGet();
                        }
                        return null;
                    }));
                }
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (answered.get() < 200 && System.nanoTime() < until) Thread.sleep(10);
                assertTrue(answered.get() >= 200, "load reached the server: " + answered.get() + " answers");
                server.toHandle().destroy();   // SIGTERM (Process.destroy would also close its output)
                assertTrue(server.waitFor(60, TimeUnit.SECONDS), "the server stopped");
                stop.set(true);
                for (Future<?> f : running) f.get(60, TimeUnit.SECONDS);
                assertEquals(0, server.exitValue(), this::log);
                String last = null;
                for (String line; (line = out.readLine()) != null; ) last = line;
                Matcher stopped = Pattern.compile("stopped: answered (\\d+) of (\\d+) accepted requests").matcher(String.valueOf(last));
                assertTrue(stopped.matches(), "last line: " + last);
                assertEquals(stopped.group(2), stopped.group(1), "every accepted request was answered");
                assertEquals(Integer.parseInt(stopped.group(2)), answered.get(), "every answer reached its client");
            } finally {
                clients.shutdownNow();
                server.destroyForcibly();
            }
        }
    }
}
