package org.neurite.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.management.OperatingSystemMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
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
 * connections, batching on ({@code max_batch} 32, {@code max_delay_ms} 0: continuous) and off
 * ({@code max_batch} 1): requests per second and client-side p50/p99 latency of one-sample v2
 * requests, the mean batch, the worker's share of time in forward passes, and CPU time per request
 * split by thread group (the clients; the server's HTTP threads, Jetty's pool; its batching worker;
 * the rest of the JVM: GC, JIT and threads that ended during the run). Against it, the in-process {@link Predictor} on
 * the same inputs at batch 1, at the server's mean batch and at 32, once on the worker's own thread
 * count ({@code threads: 1}) and once on both cores. Clients and server share this JVM and machine.
 * <pre>
 * mvn -B -q verify -pl serving -Dgroups=load -Dneurite.bench.requests=20000 -Dneurite.bench.seconds=15
 *     # table in serving/target/serving-benchmark.md; narrower runs: -Dneurite.bench.models=lenet5
 *     # -Dneurite.bench.clients=64 -Dneurite.bench.batching=on -Dneurite.bench.delay=2 (max_delay_ms)
 *     # -Dneurite.bench.threads=0 (server backend threads) -Dneurite.bench.binary=true (binary-data extension)
 * </pre>
 * Every answer is checked against the predictor (exact floats): the first answer for each of the
 * 256 inputs is parsed and compared, every later one must be byte-identical to that checked answer,
 * so a fast wrong server cannot pass and the clients spend no CPU parsing JSON.
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
    private static final int DELAY_MS = Integer.getInteger("neurite.bench.delay", 0);
    private static final String CLIENT_THREAD = "bench-client-";
    private static final long WARM_UP_SECONDS = 5;
    @TempDir Path dir;

    /** CPU ms per answered request by thread group. */
    private record Cpu(double clients, double http, double worker, double otherJvm) { }

    private record Run(double perSecond, double p50, double p99, double meanBatch, double busy, Cpu cpu, int requests) { }

    /** Predictor samples/s at batch 1, at the server's mean batch and at 32, on one thread count. */
    private record PredictorRates(double at1, double atMean, double at32) { }

    @Test void lenet5AndFashionCnn() throws Exception {
        StringBuilder table = new StringBuilder();
        table.append("| model | clients | batching | req/s | p50 ms | p99 ms | mean batch | worker busy | CPU ms/request: clients / server HTTP / worker / other JVM"
                + " | predictor samples/s, 1 thread: batch 1 / mean / 32 | server ÷ predictor (1 thread, mean batch) | predictor, 2 threads: batch 1 / mean / 32 |\n");
        table.append("|---|---|---|---:|---:|---:|---:|---:|---|---|---:|---|\n");
        for (String model : MODELS) {
            try (ModelFixture fixture = new ModelFixture(model, 1, dir)) {
                if (model.equals(MODELS.get(0))) {
                    // Unreported first rows: the JIT compiles the server's paths under the heaviest load and
                    // for a lone client (batches of many, then of one: without the second the first reported
                    // row, one client, carried seconds of C2 recompilation in "other JVM").
                    serve(fixture, model, 64, true);
                    serve(fixture, model, 1, true);
                }
                for (int clients : CLIENTS) {
                    for (String mode : BATCHING) {
                        boolean batching = mode.equals("on");
                        Run run = serve(fixture, model, clients, batching);
                        int mean = Math.max(1, (int) Math.round(run.meanBatch()));
                        PredictorRates one = predictorRates(fixture, 1, mean);
                        PredictorRates both = predictorRates(fixture, 0, mean);
                        Cpu c = run.cpu();
                        table.append(String.format(Locale.ROOT,
                                "| %s | %d | %s | %.0f | %.2f | %.2f | %.1f | %.0f%% | %.3f / %.3f / %.3f / %.3f | %.0f / %.0f / %.0f | %.2f× | %.0f / %.0f / %.0f |%n",
                                model + (BINARY ? " (binary)" : ""), clients, batching ? "on (32, " + DELAY_MS + " ms)" : "off", run.perSecond(),
                                run.p50(), run.p99(), run.meanBatch(), 100 * run.busy(), c.clients(), c.http(), c.worker(), c.otherJvm(),
                                one.at1(), one.atMean(), one.at32(), run.perSecond() / one.atMean(), both.at1(), both.atMean(), both.at32()));
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
        AtomicInteger made = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(clients, r -> new Thread(r, CLIENT_THREAD + made.incrementAndGet()));
        try {
            // The requests (head and body) and their expected answers, made before the clock starts.
            int distinct = 256;
            String path = "/v2/models/" + model + "/infer";
            byte[][] requests = new byte[distinct][];
            float[][] expected = new float[distinct][];
            for (int i = 0; i < distinct; i++) {
                float[] x = fixture.samples(1, i);
                if (BINARY) {
                    byte[] header = ("{\"inputs\":[{\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"parameters\":"
                            + "{\"binary_data_size\":" + x.length * 4 + "}}],\"parameters\":{\"binary_data_output\":true}}")
                            .getBytes(StandardCharsets.UTF_8);
                    ByteBuffer b = ByteBuffer.allocate(header.length + x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                    b.put(header);
                    for (float v : x) b.putFloat(v);
                    requests[i] = KeepAliveClient.request(path, b.array(), header.length);
                } else {
                    byte[] body = V2Client.inferRequest("image", new int[] {1, 28, 28}, x, 1).getBytes(StandardCharsets.UTF_8);
                    requests[i] = KeepAliveClient.request(path, body, -1);
                }
                expected[i] = fixture.predict(x);
            }
            AtomicReferenceArray<byte[]> checked = new AtomicReferenceArray<>(distinct);
            // Warm-up, 5 s: the JIT's compilations of the HTTP and JSON paths (slow on a loaded machine:
            // a 500-request warm-up left them compiling into the measured part), and checked answers.
            run(server.port(), pool, clients, REQUESTS, requests, expected, checked, WARM_UP_SECONDS, new long[1]);
            String before = new V2Client(server.port()).get("/metrics").body();
            OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            Map<Long, long[]> threads0 = threadCpu();
            long cpu0 = os.getProcessCpuTime();
            long[] startedAt = new long[1];
            long[] latencies = run(server.port(), pool, clients, REQUESTS, requests, expected, checked, MAX_SECONDS, startedAt);
            double seconds = (System.nanoTime() - startedAt[0]) / 1e9;
            long process = os.getProcessCpuTime() - cpu0;
            Cpu cpu = cpuByGroup(threads0, threadCpu(), process, latencies.length);
            String after = new V2Client(server.port()).get("/metrics").body();
            double batches = metric(after, "neurite_batch_size_count") - metric(before, "neurite_batch_size_count");
            double samples = metric(after, "neurite_batch_size_sum") - metric(before, "neurite_batch_size_sum");
            double computing = metric(after, "neurite_batch_duration_seconds_sum") - metric(before, "neurite_batch_duration_seconds_sum");
            Arrays.sort(latencies);
            return new Run(latencies.length / seconds, latencies[latencies.length / 2] / 1e6,
                    latencies[(int) Math.min(latencies.length - 1, Math.ceil(latencies.length * 0.99) - 1)] / 1e6, samples / batches,
                    computing / seconds, cpu, latencies.length);
        } finally {
            pool.shutdownNow();
            server.stop();
        }
    }

    /**
     * Sends up to {@code total} requests from {@code clients} threads, stopping after {@code seconds};
     * the latencies (ns). The clock starts ({@code startedAt[0]}) once every client is connected.
     */
    private static long[] run(int port, ExecutorService pool, int clients, int total, byte[][] requests, float[][] expected,
                              AtomicReferenceArray<byte[]> checked, long seconds, long[] startedAt) throws Exception {
        AtomicInteger next = new AtomicInteger();
        long[] deadline = new long[1];
        CyclicBarrier connected = new CyclicBarrier(clients, () -> {
            startedAt[0] = System.nanoTime();
            deadline[0] = startedAt[0] + TimeUnit.SECONDS.toNanos(seconds);
        });
        List<Future<long[]>> parts = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            parts.add(pool.submit(() -> {
                long[] mine = new long[total];
                int done = 0;
                try (KeepAliveClient http = new KeepAliveClient(port)) {
                    connected.await(60, TimeUnit.SECONDS);
                    for (int i; (i = next.getAndIncrement()) < total && System.nanoTime() < deadline[0]; ) {
                        int k = i % requests.length;
                        long t0 = System.nanoTime();
                        int status = http.exchange(requests[k]);
                        mine[done++] = System.nanoTime() - t0;
                        assertEquals(200, status, () -> new String(http.body(), StandardCharsets.UTF_8));
                        byte[] known = checked.get(k);
                        if (known == null || !http.bodyEquals(known)) check(http.body(), expected[k], k, checked);
                    }
                }
                return Arrays.copyOf(mine, done);
            }));
        }
        List<long[]> all = new ArrayList<>();
        for (Future<long[]> f : parts) all.add(f.get(MAX_SECONDS + 120, TimeUnit.SECONDS));
        return all.stream().flatMapToLong(Arrays::stream).toArray();
    }

    /** Parses an answer, compares its floats with the predictor's and keeps it as input {@code k}'s checked answer. */
    private static void check(byte[] body, float[] expected, int k, AtomicReferenceArray<byte[]> checked) {
        float[] y = BINARY ? binaryOutput(body, expected.length)
                : V2Client.outputData(new V2Client.Reply(200, new String(body, StandardCharsets.UTF_8), null).json());
        if (!Arrays.equals(expected, y)) throw new AssertionError("wrong answer for input " + k + ": " + Arrays.toString(y));
        checked.set(k, body);
    }

    /** The last {@code n} floats of a binary-data response. */
    private static float[] binaryOutput(byte[] body, int n) {
        ByteBuffer b = ByteBuffer.wrap(body, body.length - 4 * n, 4 * n).order(ByteOrder.LITTLE_ENDIAN);
        float[] y = new float[n];
        for (int i = 0; i < n; i++) y[i] = b.getFloat();
        return y;
    }

    /** CPU time (ns) of every live thread, by id: {cpu, group}. */
    private static Map<Long, long[]> threadCpu() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<Long, long[]> cpu = new HashMap<>();
        for (var info : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (info == null) continue;
            long t = mx.getThreadCpuTime(info.getThreadId());
            if (t >= 0) cpu.put(info.getThreadId(), new long[] {t, group(info.getThreadName())});
        }
        return cpu;
    }

    /** 0 clients, 1 the server's HTTP threads (Jetty's pool), 2 its batching worker and backend threads, 3 other. */
    private static int group(String thread) {
        if (thread.startsWith(CLIENT_THREAD)) return 0;
        if (thread.startsWith("JettyServerThreadPool")) return 1;
        if (thread.startsWith("batcher-") || thread.startsWith("neurite-cpu")) return 2;
        return 3;
    }

    /** Thread CPU between two snapshots by group, per request; what no live thread accounts for (GC, JIT, ended threads) is "other". */
    private static Cpu cpuByGroup(Map<Long, long[]> before, Map<Long, long[]> after, long processNanos, int requests) {
        long[] sum = new long[4];
        after.forEach((id, now) -> {
            long[] then = before.get(id);
            sum[(int) now[1]] += now[0] - (then == null ? 0 : then[0]);
        });
        long other = processNanos - sum[0] - sum[1] - sum[2];
        double perRequest = 1e6 * requests;
        return new Cpu(sum[0] / perRequest, sum[1] / perRequest, sum[2] / perRequest, Math.max(0, other) / perRequest);
    }

    private static double metric(String text, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{[^}]*} ([0-9.eE+-]+)$").matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    /** The in-process predictor's samples/s on {@code threads} backend threads (0 = all cores) at batch 1, {@code mean} and 32. */
    private static PredictorRates predictorRates(ModelFixture fixture, int threads, int mean) throws IOException {
        double at1 = predictorRate(fixture, threads, 1);
        double at32 = predictorRate(fixture, threads, 32);
        double atMean = mean == 1 ? at1 : mean == 32 ? at32 : predictorRate(fixture, threads, mean);
        return new PredictorRates(at1, atMean, at32);
    }

    /** Samples per second of the in-process predictor over the same kind of inputs at {@code batch}, for 2 s after 0.5 s of warm-up. */
    private static double predictorRate(ModelFixture fixture, int threads, int batch) throws IOException {
        try (NeuriteRuntime runtime = NeuriteRuntime.discover();
             Backend backend = runtime.createBackend("cpu", new BackendOptions(threads, null), List.of(), w -> { });
             ParameterStore store = new ParameterStore(fixture.graph, backend, 0);
             Predictor p = new Predictor(fixture.graph, store, batch)) {
            Checkpoints.loadWeights(fixture.weights, store);
            float[] x = fixture.samples(batch, 99);
            // Warm-up by time, not by count: right after a server row the JIT may still be compiling.
            for (long warm = System.nanoTime(); System.nanoTime() - warm < 500_000_000L; ) p.predict(x, batch);
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
