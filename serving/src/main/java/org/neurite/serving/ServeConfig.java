package org.neurite.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.neurite.config.DeploymentConfig;
import org.neurite.config.DeploymentSection;
import org.neurite.diag.ModelException;
import org.neurite.graph.LayerRegistry;

/**
 * The {@code serve:} section of a deployment: what {@code nn serve --deploy} listens on and serves.
 * <pre>
 * backend: cpu                  # the deployment's backend, the default of every model
 * serve:
 *   host: 0.0.0.0               # default 127.0.0.1
 *   port: 8080                  # 0 picks a free port
 *   max_body_bytes: 16777216    # larger request bodies are answered 413
 *   models:
 *     - name: lenet5            # the name in /v2/models/{name}
 *       script: lenet5.nn       # relative to the deployment file's folder
 *       model: LeNet5           # optional: a model of the script other than its main one
 *       weights: runs/LeNet5/model.safetensors
 *       backend: opencl         # optional, default: the deployment's backend
 *       fallback: [cpu]         # optional, default: the deployment's fallback
 *       max_batch: 32           # samples coalesced into one forward pass (1 = no batching)
 *       max_delay_ms: 0         # how long an idle worker holds a batch for arriving requests
 *       workers: 1              # batching workers, each with its own backend and weights
 *       queue_limit: 256        # requests waiting beyond this are answered 429
 * </pre>
 * {@link #from} reads the section as strictly as the engine reads its own keys, each complaint
 * positioned at the key or value at fault ({@code serve.yaml:4:7: error: unknown key
 * 'serve.models[0].max_bach'; did you mean 'max_batch'?}).
 *
 * @param host the address to bind
 * @param port the TCP port, 0 for any free one
 * @param maxBodyBytes the largest request body accepted
 * @param models the models served, at least one, with distinct names
 */
public record ServeConfig(String host, int port, int maxBodyBytes, List<ModelSpec> models) {
    /** The deployment key of the section. */
    public static final String SECTION = "serve";

    /** The keys of the section, in the order {@link #section()} prints them. */
    public static final List<String> KEYS = List.of("host", "port", "max_body_bytes", "models");

    /** The keys of one model entry, in the order {@link #section()} prints them. */
    public static final List<String> MODEL_KEYS = List.of("name", "script", "model", "weights", "backend", "fallback",
            "max_batch", "max_delay_ms", "workers", "queue_limit");

    /** Defaults of the section: loopback only, port 8080, 16 MiB bodies. */
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8080;
    public static final int DEFAULT_MAX_BODY_BYTES = 16 << 20;

    /** What a model name may hold: it is a segment of the URL path {@code /v2/models/{name}}, so no '/', space or '%'. */
    public static final String NAME_RULE = "may hold only letters, digits, '_', '.' and '-'";

    /** Whether {@code name} is a model name clients can put in {@code /v2/models/{name}} as it is. */
    public static boolean isModelName(String name) {
        return name.matches("[A-Za-z0-9_.-]+");
    }

    /**
     * One served model.
     *
     * @param name the name clients use ({@code /v2/models/{name}}): letters, digits, {@code _ . -}
     * @param script the {@code .nn} script, as written (relative paths resolve against the deployment's folder)
     * @param model the model of the script to serve, or null for its main model
     * @param weights the weights ({@code .safetensors}), as written
     * @param backend the backend, or null for the deployment's
     * @param fallback backends tried in order when {@code backend} is unavailable, or null for the deployment's
     * @param maxBatch the most samples one forward pass takes, {@code >= 1}; 1 turns batching off
     * @param maxDelayMs how long an idle worker holds a part-filled batch for requests being received, {@code >= 0}
     * @param workers batching workers, each owning a backend, weights and a predictor, {@code >= 1}
     * @param queueLimit requests that may wait; one more is refused with 429, {@code >= 1}
     */
    /**
     * Most batching workers of one model: each owns a backend (its threads), a copy of the weights
     * and a model compiled per batch size, so an unbounded count only ends in the JVM running out
     * of threads or memory minutes into loading.
     */
    public static final int MAX_WORKERS = 256;

    public record ModelSpec(String name, String script, String model, String weights, String backend, List<String> fallback,
                            int maxBatch, int maxDelayMs, int workers, int queueLimit) {
        public ModelSpec {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(script, "script");
            Objects.requireNonNull(weights, "weights");
            if (!isModelName(name)) throw new IllegalArgumentException("a model name " + NAME_RULE + ", found \"" + name + "\"");
            if (fallback != null) fallback = List.copyOf(fallback);
            if (maxBatch < 1) throw new IllegalArgumentException("max_batch must be >= 1, got " + maxBatch);
            if (maxDelayMs < 0) throw new IllegalArgumentException("max_delay_ms must be >= 0, got " + maxDelayMs);
            if (workers < 1 || workers > MAX_WORKERS) {
                throw new IllegalArgumentException("workers must be 1 to " + MAX_WORKERS + " (each holds its own backend and weights), got " + workers);
            }
            if (queueLimit < 1) throw new IllegalArgumentException("queue_limit must be >= 1, got " + queueLimit);
        }

        /** The backend this model runs on under {@code deployment}. */
        public String backendIn(DeploymentConfig deployment) { return backend != null ? backend : deployment.backend(); }

        /** The fallback chain of this model under {@code deployment}. */
        public List<String> fallbackIn(DeploymentConfig deployment) { return fallback != null ? fallback : deployment.fallback(); }
    }

    public ServeConfig {
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be 0..65535, got " + port);
        if (maxBodyBytes < 1) throw new IllegalArgumentException("max_body_bytes must be >= 1, got " + maxBodyBytes);
        models = List.copyOf(models);
        if (models.isEmpty()) throw new IllegalArgumentException("a server needs at least one model");
        Set<String> names = new HashSet<>();
        for (ModelSpec m : models) {
            if (!names.add(m.name())) throw new IllegalArgumentException("two models are named '" + m.name() + "'");
        }
    }

    /**
     * The settings of a deployment's {@code serve:} section.
     *
     * @throws ModelException for a value that is not a mapping, an unknown key (with the closest
     *     known one), a missing model setting or a bad value, positioned where it was written
     */
    public static ServeConfig from(DeploymentSection section) {
        return new SectionParser(section).read();
    }

    /** {@code path} as a model's script or weights names it, resolved against the deployment file's folder. */
    public static Path resolve(String path, Path folder) {
        Path p = Path.of(path);
        return (folder == null ? p : folder.resolve(p)).toAbsolutePath().normalize();
    }

    /** This configuration as a deployment's {@code serve:} section, every key spelled out. */
    public DeploymentSection section() {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode s = f.objectNode();
        s.put("host", host);
        s.put("port", port);
        s.put("max_body_bytes", maxBodyBytes);
        ArrayNode list = s.putArray("models");
        for (ModelSpec m : models) {
            ObjectNode e = list.addObject();
            e.put("name", m.name());
            e.put("script", m.script());
            if (m.model() != null) e.put("model", m.model());
            e.put("weights", m.weights());
            if (m.backend() != null) e.put("backend", m.backend());
            if (m.fallback() != null) m.fallback().forEach(e.putArray("fallback")::add);
            e.put("max_batch", m.maxBatch());
            e.put("max_delay_ms", m.maxDelayMs());
            e.put("workers", m.workers());
            e.put("queue_limit", m.queueLimit());
        }
        return DeploymentSection.of(SECTION, s);
    }

    /** Reads one section key by key, in the order they were written, so the first fault is the one reported. */
    private record SectionParser(DeploymentSection section) {
        ServeConfig read() {
            String expected = "a mapping of server settings (port, models, ...)";
            section.requireValue("", SECTION, expected);
            if (!section.value().isObject()) throw section.wrongType("", SECTION, expected);
            String host = DEFAULT_HOST;
            int port = DEFAULT_PORT;
            int maxBody = DEFAULT_MAX_BODY_BYTES;
            List<ModelSpec> models = null;
            for (Map.Entry<String, JsonNode> entry : section.value().properties()) {
                String key = entry.getKey();
                String at = DeploymentSection.pointer(key);
                checkKey(at, "serve", key, KEYS);
                switch (key) {
                    case "host" -> host = section.string(at, "serve.host", "a host name or address to listen on");
                    case "port" -> port = between(at, "serve.port", 0, 65535, "an integer 0..65535 (0: any free port)");
                    case "max_body_bytes" -> maxBody = between(at, "serve.max_body_bytes", 1, Integer.MAX_VALUE,
                            "an integer >= 1 (bytes)");
                    case "models" -> models = models(at);
                    default -> throw new IllegalStateException("key 'serve." + key + "' is in ServeConfig.KEYS but not read");
                }
            }
            if (models == null) throw section.errorAtKey("", "the serve section needs 'models': a list of models to serve");
            return new ServeConfig(host, port, maxBody, models);
        }

        private List<ModelSpec> models(String at) {
            String expected = "a list of models (name, script, weights, ...)";
            section.requireValue(at, "serve.models", expected);
            JsonNode list = section.value().at(at);
            if (!list.isArray()) throw section.wrongType(at, "serve.models", expected);
            if (list.isEmpty()) throw section.errorAtValue(at, "'serve.models' must name at least one model");
            List<ModelSpec> models = new ArrayList<>();
            Map<String, Integer> names = new java.util.HashMap<>();
            for (int i = 0; i < list.size(); i++) {
                ModelSpec m = model(at + "/" + i, "serve.models[" + i + "]");
                Integer earlier = names.putIfAbsent(m.name(), i);
                if (earlier != null) {
                    throw section.errorAtValue(at + "/" + i + "/name", "model name '" + m.name() + "' is used twice (also serve.models["
                            + earlier + "])");
                }
                models.add(m);
            }
            return models;
        }

        private ModelSpec model(String at, String path) {
            if (!section.value().at(at).isObject()) throw section.wrongType(at, path, "a mapping (name, script, weights, ...)");
            String name = null;
            String script = null;
            String model = null;
            String weights = null;
            String backend = null;
            List<String> fallback = null;
            int maxBatch = 32;
            int maxDelay = 0;
            int workers = 1;
            int queueLimit = 256;
            for (Iterator<String> it = section.value().at(at).fieldNames(); it.hasNext(); ) {
                String key = it.next();
                String k = at + DeploymentSection.pointer(key);
                String full = path + "." + key;
                checkKey(k, path, key, MODEL_KEYS);
                switch (key) {
                    case "name" -> {
                        name = section.string(k, full, "a model name");
                        if (!isModelName(name)) throw section.errorAtValue(k, "'" + full + "' " + NAME_RULE + ", found \"" + name + "\"");
                    }
                    case "script" -> script = section.string(k, full, "a .nn script file");
                    case "model" -> model = section.string(k, full, "the name of a model in the script");
                    case "weights" -> weights = section.string(k, full, "a .safetensors weights file");
                    case "backend" -> backend = section.string(k, full, "a backend name");
                    case "fallback" -> fallback = stringList(k, full);
                    case "max_batch" -> maxBatch = between(k, full, 1, 65536, "an integer 1..65536 (1: no batching)");
                    case "max_delay_ms" -> maxDelay = between(k, full, 0, 60_000, "an integer 0..60000 (milliseconds)");
                    case "workers" -> workers = between(k, full, 1, 256, "an integer 1..256");
                    case "queue_limit" -> queueLimit = between(k, full, 1, 1 << 20, "an integer >= 1 (waiting requests)");
                    default -> throw new IllegalStateException("key '" + key + "' is in MODEL_KEYS but not read");
                }
            }
            for (String required : List.of("name", "script", "weights")) {
                if (!section.value().at(at).has(required)) {
                    throw section.errorAtValue(at, "'" + path + "' needs '" + required + "'");
                }
            }
            return new ModelSpec(name, script, model, weights, backend, fallback, maxBatch, maxDelay, workers, queueLimit);
        }

        private void checkKey(String at, String path, String key, List<String> known) {
            if (known.contains(key)) return;
            List<String> close = LayerRegistry.closest(key, known);
            throw section.errorAtKey(at, "unknown key '" + path + "." + key + "'; " + (close.isEmpty()
                    ? "known keys are " + String.join(", ", known)
                    : "did you mean '" + close.get(0) + "'?"));
        }

        private int between(String at, String key, int min, int max, String expected) {
            section.requireValue(at, key, expected);
            JsonNode node = section.value().at(at);
            if (!node.isIntegralNumber()) throw section.wrongType(at, key, expected);
            if (!node.canConvertToInt() || node.intValue() < min || node.intValue() > max) {
                throw section.errorAtValue(at, "'" + key + "' must be " + expected + ", found " + section.text(at));
            }
            return node.intValue();
        }


        private List<String> stringList(String at, String key) {
            String expected = "a list of backend names";
            section.requireValue(at, key, expected);
            JsonNode node = section.value().at(at);
            if (!node.isArray()) throw section.wrongType(at, key, expected);
            List<String> values = new ArrayList<>();
            for (int i = 0; i < node.size(); i++) values.add(section.string(at + "/" + i, key + "[" + i + "]", "a backend name"));
            return values;
        }


    }
}
