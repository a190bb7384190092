package org.neurite.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.backend.Backend;
import org.neurite.config.DeploymentConfig;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Predictor;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;

/**
 * The measurement behind BENCHMARKS.md's serving section (tag {@code load}: not in the default
 * build). For lenet5 and fashion_cnn at 1, 8 and 64 concurrent closed-loop clients on kept-alive
 * connections, batching on ({@code max_batch} 32, 2 ms) and off ({@code max_batch} 1): requests per
 * second and client-side p50/p99 latency of one-sample v2 requests, the mean batch, the worker's
 * share of time in forward passes and the JVM's CPU time per request, against the in-process
 * {@link Predictor} on all cores at batch 1, at the server's mean batch size and at 32. Clients and
 * server share this JVM and machine.
 * <pre>
 * mvn -B -q verify -pl serving -Dgroups=load -Dneurite.bench.requests=20000 -Dneurite.bench.seconds=15
 *     # table in serving/target/serving-benchmark.md; narrower runs: -Dneurite.bench.models=lenet5
 *     # -Dneurite.bench.clients=64 -Dneurite.bench.batching=on -Dneurite.bench.delay=0
 *     # -Dneurite.bench.threads=0 (server backend threads) -Dneurite.bench.binary=true (binary-data extension)
 * </pre>
 * Every answer is checked against the predictor (exact floats), so a fast wrong server cannot pass.
 */
@Tag("load")
class ServingBenchmarkTest {
    private static final int[] CLIENTS = Arrays.stream(System.getProperty("neurite.bench.clients", "1,8,64").split(","))
            .mapToInt(Integer::parseInt).toArray();
    private static final List<String> MODELS = List.of(System.getProperty("neurite.bench.models", "lenet5,fashion_cnn").split(","));
    private static final List<String> BATCHING = List.of(System.getProperty("neurite.bench.batching", "on,off").split(","));
    private static final int REQUESTS = Integer.getInteger("neurite.bench.requests", 3000);
    private static final long MAX_SECONDS = Long.getLong("neurite.bench.seconds", 20);
    /** CPU threads of the server's backend: 1 leaves the other core to HTTP (0 = all cores). */
    private static final int SERVER_THREADS = Integer.getInteger("neurite.bench.threads", 1);
    /** Requests and answers as the binary-data extension (raw FP32 after a JSON header) instead of JSON numbers. */
    private static final boolean BINARY = Boolean.getBoolean("neurite.bench.binary");
    /** max_delay_ms with batching on. */
    private static final int DELAY_MS = Integer.getInteger("neurite.bench.delay", 2);
    @TempDir Path dir;

    private record Run(double perSecond, double p50, double p99, double meanBatch, double busy, double cpuMsPerRequest, int requests) { }

    @Test void lenet5AndFashionCnn() throws Exception {
        StringBuilder table = new StringBuilder();
        table.append("| model | clients | batching | req/s | p50 ms | p99 ms | mean batch | worker busy | CPU ms/request (clients + server) | in-process predictor samples/s at batch 1 / mean batch / 32 | server ÷ predictor at its mean batch |\n");
        table.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (String model : MODELS) {
            try (ModelFixture fixture = new ModelFixture(model, 1, dir)) {
                for (int clients : CLIENTS) {
                    for (String mode : BATCHING) {
                        boolean batching = mode.equals("on");
                        Run run = serve(fixture, model, clients, batching);
                        int mean = Math.max(1, (int) Math.round(run.meanBatch()));
                        double at1 = predictorRate(fixture, 1);
                        double atMean = predictorRate(fixture, mean);
                        double at32 = predictorRate(fixture, 32);
                        table.append(String.format(Locale.ROOT, "| %s | %d | %s | %.0f | %.2f | %.2f | %.1f | %.0f%% | %.2f | %.0f / %.0f / %.0f | %.2f× |%n",
                                model + (BINARY ? " (binary)" : ""), clients, batching ? "on (32, " + DELAY_MS + " ms)" : "off", run.perSecond(), run.p50(), run.p99(), run.meanBatch(),
                                100 * run.busy(), run.cpuMsPerRequest(),
                                at1, atMean, at32, run.perSecond() / atMean));
                        System.out.print(table.substring(table.lastIndexOf("| " + model)));
                    }
                }
            }
        }
        Path out = Path.of("target", "serving-benchmark.md");
        Files.writeString(out, table.toString());
        System.out.println(table);
    }

    /** {@code REQUESTS} one-sample requests (or {@code MAX_SECONDS}) from {@code clients} threads against a fresh server. */
    private Run serve(ModelFixture fixture, String model, int clients, boolean batching) throws Exception {
        Path yaml = fixture.deployment(dir, model, batching ? 32 : 1, batching ? DELAY_MS : 0, 4096);
        Files.writeString(yaml, Files.readString(yaml).replace("threads: 1", "threads: " + SERVER_THREADS));
        DeploymentConfig deployment = DeploymentConfig.load(yaml);
        InferenceServer server = InferenceServer.start(ServeConfig.from(deployment.serve()), deployment, dir, w -> { });
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            // The inputs and their expected answers, made before the clock starts.
            int distinct = 256;
            byte[][] bodies = new byte[distinct][];
            int[] jsonLengths = new int[distinct];
            float[][] expected = new float[distinct][];
            for (int i = 0; i < distinct; i++) {
                float[] x = fixture.samples(1, i);
                if (BINARY) {
                    byte[] header = ("{\"inputs\":[{\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"parameters\":"
                            + "{\"binary_data_size\":" + x.length * 4 + "}}],\"parameters\":{\"binary_data_output\":true}}")
                            .getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(header.length + x.length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    b.put(header);
                    for (float v : x) b.putFloat(v);
                    bodies[i] = b.array();
                    jsonLengths[i] = header.length;
                } else {
                    bodies[i] = V2Client.inferRequest("image", new int[] {1, 28, 28}, x, 1).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    jsonLengths[i] = -1;
                }
                expected[i] = fixture.predict(x);
            }
            run(server.port(), model, pool, clients, Math.min(REQUESTS / 5, 500), bodies, jsonLengths, expected, 10, new long[1]);   // warm-up: JIT, compiled batch sizes
            String before = new V2Client(server.port()).get("/metrics").body();
            var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            long cpu0 = os.getProcessCpuTime();
            long[] startedAt = new long[1];
            long[] latencies = run(server.port(), model, pool, clients, REQUESTS, bodies, jsonLengths, expected, MAX_SECONDS, startedAt);
            double seconds = (System.nanoTime() - startedAt[0]) / 1e9;
            double cpuMs = (os.getProcessCpuTime() - cpu0) / 1e6;
            String after = new V2Client(server.port()).get("/metrics").body();
            double batches = metric(after, "neurite_batch_size_count") - metric(before, "neurite_batch_size_count");
            double samples = metric(after, "neurite_batch_size_sum") - metric(before, "neurite_batch_size_sum");
            double computing = metric(after, "neurite_batch_duration_seconds_sum") - metric(before, "neurite_batch_duration_seconds_sum");
            Arrays.sort(latencies);
            return new Run(latencies.length / seconds, latencies[latencies.length / 2] / 1e6,
                    latencies[(int) Math.min(latencies.length - 1, Math.ceil(latencies.length * 0.99) - 1)] / 1e6, samples / batches,
                    computing / seconds, cpuMs / latencies.length,
                    latencies.length);
        } finally {
            pool.shutdownNow();
            server.stop();
        }
    }

    /**
     * Sends up to {@code total} requests from {@code clients} threads, stopping after {@code seconds};
     * the latencies (ns). The clock starts ({@code startedAt[0]}) once every client is connected.
     */
    private static long[] run(int port, String model, ExecutorService pool, int clients, int total, byte[][] bodies, int[] jsonLengths,
                              float[][] expected, long seconds, long[] startedAt) throws Exception {
        AtomicInteger next = new AtomicInteger();
        long[] deadline = new long[1];
        CyclicBarrier connected = new CyclicBarrier(clients, () -> {
            startedAt[0] = System.nanoTime();
            deadline[0] = startedAt[0] + TimeUnit.SECONDS.toNanos(seconds);
        });
        List<Future<List<Long>>> parts = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            parts.add(pool.submit(() -> {
                List<Long> mine = new ArrayList<>();
                try (KeepAliveClient http = new KeepAliveClient(port)) {
                    connected.await(60, TimeUnit.SECONDS);
                    for (int i; (i = next.getAndIncrement()) < total && System.nanoTime() < deadline[0]; ) {
                        int k = i % bodies.length;
                        long t0 = System.nanoTime();
                        V2Client.Reply r = http.post("/v2/models/" + model + "/infer", bodies[k], jsonLengths[k]);
                        mine.add(System.nanoTime() - t0);
                        assertEquals(200, r.status(), r.body());
                        if (!Arrays.equals(expected[k], jsonLengths[k] < 0 ? V2Client.outputData(r.json()) : binaryOutput(r.body(), expected[k].length))) {
                            throw new AssertionError("wrong answer for input " + k);
                        }
                    }
                }
                return mine;
            }));
        }
        List<Long> all = new ArrayList<>();
        for (Future<List<Long>> f : parts) all.addAll(f.get(MAX_SECONDS + 120, TimeUnit.SECONDS));
        return all.stream().mapToLong(Long::longValue).toArray();
    }

    /** The last {@code n} floats of a binary-data response (its body read as ISO-8859-1 text). */
    private static float[] binaryOutput(String body, int n) {
        byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes, bytes.length - 4 * n, 4 * n).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        float[] y = new float[n];
        for (int i = 0; i < n; i++) y[i] = b.getFloat();
        return y;
    }

    private static double metric(String text, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{[^}]*} ([0-9.eE+-]+)$").matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    /** Samples per second of the in-process predictor (all cores) over the same kind of inputs at {@code batch}. */
    private static double predictorRate(ModelFixture fixture, int batch) throws IOException {
        try (NeuriteRuntime runtime = NeuriteRuntime.discover();
             Backend backend = runtime.createBackend("cpu", new BackendOptions(0, null), List.of(), w -> { });
             ParameterStore store = new ParameterStore(fixture.graph, backend, 0);
             Predictor p = new Predictor(fixture.graph, store, batch)) {
            Checkpoints.loadWeights(fixture.weights, store);
            float[] x = fixture.samples(batch, 99);
            for (int i = 0; i < 20; i++) p.predict(x, batch);
            int samples = 0;
            long start = System.nanoTime();
            while (System.nanoTime() - start < 2_000_000_000L) {
                p.predict(x, batch);
                samples += batch;
            }
            return samples / ((System.nanoTime() - start) / 1e9);
        }
    }
}
