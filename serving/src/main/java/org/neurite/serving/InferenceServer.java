package org.neurite.serving;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.UploadedFile;
import io.javalin.util.JavalinLogger;
import java.io.IOException;
import java.io.InputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.neurite.config.DeploymentConfig;
import org.neurite.plugin.NeuriteRuntime;

/**
 * The HTTP face of {@code nn serve}: the Open Inference Protocol's REST endpoints (KServe v2,
 * Triton) on Javalin/Jetty for every model of a {@link ServeConfig}, an image classification
 * endpoint, and Prometheus metrics.
 * <pre>
 * GET  /v2/health/live, /v2/health/ready     200, or 503 on ready while shutting down
 * GET  /v2                                   server metadata
 * GET  /v2/models/{name}[/ready]             model metadata (inputs, outputs, shapes, datatype)
 * POST /v2/models/{name}/infer               JSON tensors, or the binary-data extension
 * ...  /v2/models/{name}/versions/1/...      the same three, for the one version each model has
 * POST /v2/models/{name}/classify?top_k=5    a PNG/JPEG (raw body or multipart field "image") → labels
 * GET  /metrics                              Prometheus text
 * </pre>
 * Every refusal is {@code {"error": "..."}} with 400 (malformed), 404 (unknown model or path), 405,
 * 413 (body over {@code max_body_bytes}), 429 (queue full) or 503 (shutting down); an input the
 * model refuses is a 400 for its request alone (the rest of its batch is answered), any other
 * failure of a forward pass a 500 with the reason, and the worker goes on. {@link #stop} is
 * graceful: readiness turns 503, new requests are refused, every queued request is answered, then
 * Jetty stops accepting and waits for the responses in flight.
 */
public final class InferenceServer implements AutoCloseable {
    private static final long DRAIN_MS = 30_000;
    /** Threads Jetty keeps for itself (acceptors, selectors, reserved) and for requests other than infer. */
    private static final int JETTY_OWN_THREADS = 32;
    /** How much of a refused (too large) body is still read, so its client sees the 413 (Tomcat's maxSwallowSize is 2 MiB). */
    private static final int SWALLOW_BYTES = 4 << 20;
    /** The request attribute that marks a response this server wrote (so Javalin's error pages leave it alone). */
    private static final String ANSWERED = "neurite.answered";

    private final ServeConfig config;
    private final Map<String, ServedModel> models;
    private final ServerMetrics metrics;
    private final V2Codec codec = new V2Codec();
    private final NeuriteRuntime runtime;
    private final Javalin app;
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong answered = new AtomicLong();
    private volatile boolean draining;
    private boolean stopped;

    private InferenceServer(ServeConfig config, Map<String, ServedModel> models, ServerMetrics metrics, NeuriteRuntime runtime) {
        this.config = config;
        this.models = models;
        this.metrics = metrics;
        this.runtime = runtime;
        this.app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            cfg.http.prefer405over404 = true;
            cfg.http.maxRequestSize = config.maxBodyBytes();
            cfg.jetty.host = config.host();
            cfg.jetty.port = config.port();
            cfg.jetty.threadPool = threadPool(config);
            cfg.jetty.modifyServer(server -> {
                // Jetty's graceful stop: connectors stop accepting, requests in flight get their answers.
                server.insertHandler(new GracefulHandler());
                server.setStopTimeout(DRAIN_MS);
            });
            cfg.routes.get("/v2/health/live", ctx -> json(ctx, 200, codec.mapper().createObjectNode().put("live", true)));
            cfg.routes.get("/v2/health/ready", ctx -> json(ctx, draining ? 503 : 200,
                    codec.mapper().createObjectNode().put("ready", !draining)));
            cfg.routes.get("/v2", this::serverMetadata);
            // The model's endpoints, and the same under the version its metadata advertises (KServe v2 has both).
            for (String modelPath : List.of("/v2/models/{name}", "/v2/models/{name}/versions/{version}")) {
                cfg.routes.get(modelPath, ctx -> json(ctx, 200, metadata(model(ctx))));
                cfg.routes.get(modelPath + "/ready", ctx -> {
                    model(ctx);
                    json(ctx, draining ? 503 : 200, codec.mapper().createObjectNode().put("ready", !draining));
                });
                cfg.routes.post(modelPath + "/infer", this::infer);
            }
            cfg.routes.post("/v2/models/{name}/classify", this::classify);
            cfg.routes.get("/metrics", ctx -> ctx.contentType(metrics.contentType()).result(metrics.scrape()));
            cfg.routes.exception(InferenceError.class, (e, ctx) -> error(ctx, e.status(), e.getMessage()));
            cfg.routes.exception(Exception.class, (e, ctx) -> error(ctx, 500, internalError(e)));
            cfg.routes.error(404, ctx -> {
                // An unknown model was answered already; anything else is a path the protocol does not have.
                if (ctx.attribute(ANSWERED) == null) {
                    error(ctx, 404, "no such endpoint: " + ctx.method() + " " + InferenceError.echo(ctx.path()));
                }
            });
            cfg.routes.error(405, ctx -> error(ctx, 405, "method " + ctx.method() + " is not allowed on "
                    + InferenceError.echo(ctx.path())));
        });
    }

    /**
     * Loads every model of {@code config} (scripts, weights, one backend per worker) and starts
     * listening.
     *
     * @param folder the folder the models' relative paths are resolved against (the deployment file's)
     * @param warnings hears of backend fallbacks
     */
    public static InferenceServer start(ServeConfig config, DeploymentConfig deployment, Path folder, Consumer<String> warnings)
            throws IOException {
        // Before the models load (seconds): Jetty would report a host it cannot resolve as a port in use.
        try {
            InetAddress.getByName(config.host());
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve host '" + config.host() + "' (serve.host, or --host)", e);
        }
        NeuriteRuntime runtime = NeuriteRuntime.discover(deployment.plugins());
        ServerMetrics metrics = new ServerMetrics();
        Map<String, ServedModel> models = new LinkedHashMap<>();
        try {
            for (ServeConfig.ModelSpec spec : config.models()) {
                ServedModel m = ServedModel.load(spec, deployment, runtime, folder, warnings, (n, nanos) -> metrics.batch(spec.name(), n, nanos));
                models.put(spec.name(), m);
                metrics.register(m);
            }
            InferenceServer server = new InferenceServer(config, models, metrics, runtime);
            // Javalin logs "Failed to start Javalin" before it throws; the exception is reported
            // below, once, so its logger is off while it starts (it logs nothing else then that
            // shows at the default WARN level).
            boolean javalinLogs = JavalinLogger.enabled;
            JavalinLogger.enabled = false;
            try {
                server.app.start();
            } catch (RuntimeException e) {
                for (Throwable t = e; t != null; t = t.getCause()) {
                    if (t instanceof BindException) {
                        throw new IllegalArgumentException("cannot listen on " + config.host() + ":" + config.port() + ": " + t.getMessage()
                                + " (serve.host and serve.port, or --host and --port)", e);
                    }
                }
                throw e;
            } finally {
                JavalinLogger.enabled = javalinLogs;
            }
            return server;
        } catch (IOException | RuntimeException e) {
            models.values().forEach(ServedModel::close);
            runtime.close();
            throw e;
        }
    }

    /**
     * Jetty's threads. An infer request holds its thread while it waits for its batch, so the pool
     * holds every request the models' queues admit plus the batches being computed, and a few
     * threads for Jetty itself and the other endpoints: a request past a full queue is then answered
     * 429 by the model rather than left waiting in Jetty's queue for a thread.
     */
    private static QueuedThreadPool threadPool(ServeConfig config) {
        int waiting = 0;
        for (ServeConfig.ModelSpec m : config.models()) waiting += m.queueLimit() + m.maxBatch() * m.workers();
        QueuedThreadPool pool = new QueuedThreadPool(Math.max(250, waiting + JETTY_OWN_THREADS), 8, 60_000);
        pool.setName("JettyServerThreadPool");
        return pool;
    }

    /** The port listened on (the one chosen when the configuration asked for 0). */
    public int port() { return app.port(); }

    /** HOST:PORT listened on, as a URL writes it ({@code 127.0.0.1:8080}, {@code [::1]:8080}). */
    public String address() { return address(config.host(), port()); }

    /** {@code host:port}, an IPv6 address in brackets: its own colons would run into the port's. */
    static String address(String host, int port) {
        return (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
    }

    /** The models served, in configuration order, with the backend each runs on. */
    public Map<String, String> backends() {
        Map<String, String> b = new LinkedHashMap<>();
        models.forEach((name, m) -> b.put(name, m.backendName()));
        return b;
    }

    /** Infer requests queued for a model so far. */
    public long accepted() { return accepted.get(); }

    /** Queued infer requests whose answer has been handed to Jetty. */
    public long answered() { return answered.get(); }

    /**
     * Waits for SIGTERM or SIGINT (Ctrl-C), then {@link #stop}s; returns once every accepted
     * request has its answer. The signals are taken from the JVM's default handling so that the
     * process can exit 0 after a graceful stop.
     */
    public void runUntilSignalled() throws InterruptedException {
        CountDownLatch signalled = new CountDownLatch(1);
        try {
            for (String name : List.of("TERM", "INT")) {
                sun.misc.Signal.handle(new sun.misc.Signal(name), s -> signalled.countDown());
            }
        } catch (LinkageError | IllegalArgumentException | UnsupportedOperationException e) {
            // No sun.misc.Signal here, or the JVM keeps the signals (-Xrs): stop gracefully from a
            // shutdown hook instead; the exit status is then the JVM's (143 for SIGTERM).
            Runtime.getRuntime().addShutdownHook(new Thread(this::stop, "nn-serve-shutdown"));
        }
        signalled.await();
        stop();
    }

    /** Graceful stop: readiness 503, no new requests, queued ones answered, Jetty stopped after the responses in flight. */
    public synchronized void stop() {
        if (stopped) return;
        draining = true;
        long deadline = System.currentTimeMillis() + DRAIN_MS;
        models.values().forEach(m -> m.drain(Math.max(1, deadline - System.currentTimeMillis())));
        while (answered.get() < accepted.get() && System.currentTimeMillis() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        app.stop();
        models.values().forEach(ServedModel::close);
        runtime.close();
        stopped = true;
    }

    @Override public void close() { stop(); }

    // ---- endpoints ------------------------------------------------------------------------

    private void infer(Context ctx) {
        long start = System.nanoTime();
        String name = ctx.pathParam("name");
        ServedModel model = models.get(name);
        try {
            if (model == null) throw unknownModel(name);
            checkVersion(ctx, model);
            if (draining) throw new InferenceError(503, "the server is shutting down; no new requests");
            V2Codec.Request request;
            CompletableFuture<float[]> result;
            // Open while the body is read and decoded: a worker with a part-filled batch may wait for it.
            try (DynamicBatcher.Arrival arrival = model.arrive()) {
                byte[] body = body(ctx);
                int jsonLength = headerLength(ctx);
                request = codec.read(body, jsonLength, model);
                result = arrival.submit(request.input(), request.count());
            }
            answerWhenDone(ctx, name, start, result, y -> {
                V2Codec.Response r = codec.write(model, request.id(), y, request.count(), request.binaryOutput());
                if (r.jsonLength() >= 0) {
                    ctx.header(V2Codec.HEADER_LENGTH, Integer.toString(r.jsonLength()));
                    ctx.contentType("application/octet-stream");
                } else {
                    ctx.contentType("application/json");
                }
                ctx.status(200).result(r.body());
            });
        } catch (RuntimeException e) {
            refuse(ctx, model == null ? "" : name, start, e);
        }
    }

    /**
     * Counts the request as accepted, waits for its batch on this request's own Jetty thread and
     * answers: {@code success} writes the 200 answer from the outputs, a failure {@link #refuse
     * its status}; either way the metrics and the answered count (what a graceful stop waits for)
     * follow. Waiting here instead of suspending the request (an async servlet answer finished on
     * another pool) saves two thread hand-offs per request: the worker's completion wakes the one
     * thread that writes the answer. {@link #threadPool} has a thread for every request the queues admit.
     */
    private void answerWhenDone(Context ctx, String name, long start, CompletableFuture<float[]> result, Consumer<float[]> success) {
        accepted.incrementAndGet();
        try {
            float[] y;
            try {
                y = result.join();
                success.accept(y);
            } catch (RuntimeException failure) {
                refuse(ctx, name, start, failure);
                return;
            }
            metrics.request(name, 200, System.nanoTime() - start);
        } finally {
            answered.incrementAndGet();
        }
    }

    /**
     * A request refused or failed, before its batch or in it: its InferenceError's status (500 with
     * the exception for anything unforeseen) and reason, counted in the metrics under {@code name}
     * ("" for an unknown model), so that every answer of infer and classify is counted.
     */
    private void refuse(Context ctx, String name, long start, Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        int status;
        String message;
        if (cause instanceof InferenceError e) {
            status = e.status();
            message = e.getMessage();
        } else if (cause instanceof HttpResponseException e) {
            status = e.getStatus();   // Javalin's own refusals, such as a multipart part over its limit
            message = e.getMessage();
        } else {
            status = 500;
            message = internalError(cause);
        }
        error(ctx, status, message);
        metrics.request(name, status, System.nanoTime() - start);
    }

    private static String internalError(Throwable e) {
        return "internal error: " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }

    /** The top-k classes of one uploaded image: {@code {"model_name", "predictions": [{class, label, probability}]}}. */
    private void classify(Context ctx) {
        long start = System.nanoTime();
        String name = ctx.pathParam("name");
        ServedModel model = models.get(name);
        try {
            if (model == null) throw unknownModel(name);
            if (draining) throw new InferenceError(503, "the server is shutting down; no new requests");
            int topK = topK(ctx, model);
            CompletableFuture<float[]> result;
            try (DynamicBatcher.Arrival arrival = model.arrive()) {
                byte[] image;
                String type = ctx.contentType() == null ? "" : ctx.contentType();
                if (type.startsWith("multipart/form-data")) {
                    UploadedFile file = ctx.uploadedFile("image");
                    if (file == null) throw InferenceError.badRequest("the multipart form has no file field 'image'");
                    if (file.size() > config.maxBodyBytes()) throw tooLarge(file.size());
                    try (InputStream in = file.content()) {
                        image = in.readAllBytes();
                    } catch (IOException e) {
                        throw InferenceError.badRequest("the uploaded image could not be read: " + e.getMessage());
                    }
                } else {
                    image = body(ctx);
                }
                float[] x = ImageInput.decode(image, model.inputShape());
                result = arrival.submit(x, 1);
            }
            answerWhenDone(ctx, name, start, result, y -> json(ctx, 200, predictions(model, y, topK)));
        } catch (RuntimeException e) {
            refuse(ctx, model == null ? "" : name, start, e);
        }
    }

    private ObjectNode predictions(ServedModel model, float[] logits, int topK) {
        float[] p = ImageInput.softmax(logits);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < p.length; i++) order.add(i);
        order.sort((a, b) -> Float.compare(p[b], p[a]));
        ObjectNode out = codec.mapper().createObjectNode();
        out.put("model_name", model.name());
        ArrayNode list = out.putArray("predictions");
        for (int i = 0; i < Math.min(topK, p.length); i++) {
            int c = order.get(i);
            ObjectNode row = list.addObject();
            row.put("class", c);
            if (c < model.labels().size()) row.put("label", model.labels().get(c));
            row.put("probability", p[c]);
        }
        return out;
    }

    private int topK(Context ctx, ServedModel model) {
        if (model.outputShape().rank() != 1 || model.outputShape().size() < 2) {
            throw InferenceError.badRequest("model '" + model.name() + "' is not a classifier (its output is " + model.outputShape()
                    + "); use /v2/models/" + model.name() + "/infer");
        }
        String k = ctx.queryParam("top_k");
        if (k == null) return Math.min(5, model.outputShape().size());
        try {
            int v = Integer.parseInt(k);
            if (v >= 1) return v;
        } catch (NumberFormatException e) {
            // answered below
        }
        throw InferenceError.badRequest("top_k must be an integer >= 1, found \"" + InferenceError.echo(k) + "\"");
    }

    private void serverMetadata(Context ctx) {
        ObjectNode m = codec.mapper().createObjectNode();
        m.put("name", "neurite");
        m.put("version", "0.1.0");
        m.putArray("extensions").add("binary_tensor_data");
        json(ctx, 200, m);
    }

    private ObjectNode metadata(ServedModel model) {
        ObjectNode m = codec.mapper().createObjectNode();
        m.put("name", model.name());
        m.putArray("versions").add(V2Codec.MODEL_VERSION);
        m.put("platform", "neurite");
        ObjectNode in = m.putArray("inputs").addObject();
        in.put("name", model.inputName());
        in.put("datatype", "FP32");
        ArrayNode inShape = in.putArray("shape").add(-1);
        for (int d : model.inputShape().dims()) inShape.add(d);
        ObjectNode out = m.putArray("outputs").addObject();
        out.put("name", model.outputName());
        out.put("datatype", "FP32");
        ArrayNode outShape = out.putArray("shape").add(-1);
        for (int d : model.outputShape().dims()) outShape.add(d);
        return m;
    }

    // ---- helpers --------------------------------------------------------------------------

    /** The model a path names, and the version it names (when it does) checked. */
    private ServedModel model(Context ctx) {
        ServedModel m = models.get(ctx.pathParam("name"));
        if (m == null) throw unknownModel(ctx.pathParam("name"));
        checkVersion(ctx, m);
        return m;
    }

    /** A path with {@code /versions/{version}} must name the one version every model has. */
    private static void checkVersion(Context ctx, ServedModel model) {
        String version = ctx.pathParamMap().get("version");
        if (version != null && !version.equals(V2Codec.MODEL_VERSION)) {
            throw InferenceError.notFound("model '" + model.name() + "' has no version '" + InferenceError.echo(version)
                    + "'; it has version " + V2Codec.MODEL_VERSION);
        }
    }

    private InferenceError unknownModel(String name) {
        return InferenceError.notFound("unknown model '" + InferenceError.echo(name) + "'; this server serves "
                + String.join(", ", models.keySet()));
    }

    /**
     * The request body, refused with 413 past {@code max_body_bytes} whether or not a Content-Length
     * announced it. A refused body is still read and dropped up to {@link #SWALLOW_BYTES}, so that a
     * client still sending it gets the 413 instead of a reset connection; a larger one is not read.
     */
    private byte[] body(Context ctx) {
        long announced = ctx.contentLength();
        try (InputStream in = ctx.bodyInputStream()) {
            if (announced > config.maxBodyBytes()) {
                if (announced <= SWALLOW_BYTES) drop(in, announced);
                throw tooLarge(announced);
            }
            if (announced >= 0) {
                // One array of the announced size, filled in place (readNBytes(max) gathers 8 KiB pieces and copies them).
                byte[] body = new byte[(int) announced];
                int n = in.readNBytes(body, 0, body.length);
                if (n < body.length) throw InferenceError.badRequest("the request body ended after " + n + " of its " + announced + " bytes");
                return body;
            }
            byte[] body = in.readNBytes(config.maxBodyBytes() + 1);
            if (body.length > config.maxBodyBytes()) {
                drop(in, SWALLOW_BYTES);   // the rest of a chunked body, as far as it is worth reading
                throw tooLarge(-1);
            }
            return body;
        } catch (IOException e) {
            throw InferenceError.badRequest("the request body could not be read: " + e.getMessage());
        }
    }

    /** Reads and forgets up to {@code max} bytes, stopping at the end of the stream. */
    private static void drop(InputStream in, long max) throws IOException {
        byte[] sink = new byte[8192];
        for (long left = max; left > 0; ) {
            int n = in.read(sink, 0, (int) Math.min(sink.length, left));
            if (n < 0) return;
            left -= n;
        }
    }

    private InferenceError tooLarge(long size) {
        return new InferenceError(413, size >= 0
                ? "the request body is " + size + " bytes; this server takes at most " + config.maxBodyBytes() + " bytes (serve.max_body_bytes)"
                : "the request body is longer than " + config.maxBodyBytes() + " bytes, the most this server takes (serve.max_body_bytes)");
    }

    private static int headerLength(Context ctx) {
        String h = ctx.header(V2Codec.HEADER_LENGTH);
        if (h == null) return -1;
        try {
            int n = Integer.parseInt(h.strip());
            if (n >= 0) return n;
        } catch (NumberFormatException e) {
            // answered below
        }
        throw InferenceError.badRequest(V2Codec.HEADER_LENGTH + " must be an integer >= 0, found \"" + InferenceError.echo(h) + "\"");
    }

    private void json(Context ctx, int status, ObjectNode body) {
        try {
            ctx.attribute(ANSWERED, true);
            ctx.status(status).contentType("application/json").result(codec.mapper().writeValueAsBytes(body));
        } catch (IOException e) {
            throw new IllegalStateException("cannot write a JSON response", e);
        }
    }

    private void error(Context ctx, int status, String message) {
        ctx.attribute(ANSWERED, true);
        ctx.status(status).contentType("application/json").result(codec.error(message));
    }
}
