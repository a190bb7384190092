package org.neurite.serving;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The server's Prometheus metrics, kept by Micrometer and scraped at {@code /metrics}:
 * {@code neurite_requests_total{model,status}}, the latency histogram
 * {@code neurite_request_duration_seconds{model}}, the batch-size histogram
 * {@code neurite_batch_size{model}}, the forward-pass time {@code neurite_batch_duration_seconds{model}}, the gauge {@code neurite_queue_depth{model}} and
 * {@code neurite_errors_total{model,status}} for every refused or failed request.
 */
final class ServerMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, RequestMeters> requestMeters = new ConcurrentHashMap<>();
    private final Map<String, BatchMeters> batchMeters = new ConcurrentHashMap<>();

    /** Registers the gauges of {@code model}, read when scraped. */
    void register(ServedModel model) {
        Gauge.builder("neurite.queue.depth", model, ServedModel::queueDepth)
                .description("requests waiting for a batching worker").tag("model", model.name()).register(registry);
    }

    /** One request answered with {@code status} after {@code nanos}; {@code model} is "" when none was found. */
    void request(String model, int status, long nanos) {
        RequestMeters m = requestMeters.get(model);
        if (m == null) m = requestMeters.computeIfAbsent(model, RequestMeters::new);
        m.answered(status).increment();
        m.latency.record(nanos, TimeUnit.NANOSECONDS);
        if (status >= 400) m.errors(status).increment();
    }

    /** A forward pass over {@code samples} samples of {@code model} that took {@code nanos}. */
    void batch(String model, int samples, long nanos) {
        BatchMeters m = batchMeters.get(model);
        if (m == null) m = batchMeters.computeIfAbsent(model, BatchMeters::new);
        m.size.record(samples);
        m.duration.record(nanos, TimeUnit.NANOSECONDS);
    }

    // One model's meters are registered once, at its first request or batch, and then found by the
    // model's name alone, instead of building each meter's id (tags, sorted) and looking it up in
    // the registry on every request.

    /** A model's request meters: the latency histogram and the counters by status. */
    private final class RequestMeters {
        private final String model;
        private final Timer latency;
        private final Map<Integer, Counter> answered = new ConcurrentHashMap<>();
        private final Map<Integer, Counter> errors = new ConcurrentHashMap<>();

        RequestMeters(String model) {
            this.model = model;
            latency = Timer.builder("neurite.request.duration").description("time from a request's arrival to its answer")
                    .tag("model", model).publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                    .maximumExpectedValue(Duration.ofSeconds(30)).register(registry);
        }

        Counter answered(int status) {
            return answered.computeIfAbsent(status, s -> Counter.builder("neurite.requests").description("infer requests answered")
                    .tag("model", model).tag("status", Integer.toString(s)).register(registry));
        }

        Counter errors(int status) {
            return errors.computeIfAbsent(status, s -> Counter.builder("neurite.errors").description("infer requests refused or failed")
                    .tag("model", model).tag("status", Integer.toString(s)).register(registry));
        }
    }

    /** A model's batch meters: the batch-size histogram and the forward-pass time. */
    private final class BatchMeters {
        private final DistributionSummary size;
        private final Timer duration;

        BatchMeters(String model) {
            size = DistributionSummary.builder("neurite.batch.size").description("samples per forward pass").tag("model", model)
                    .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256).register(registry);
            duration = Timer.builder("neurite.batch.duration").description("time of one forward pass").tag("model", model)
                    .register(registry);
        }
    }

    /** The Prometheus text exposition of every metric. */
    String scrape() { return registry.scrape(); }

    String contentType() { return "text/plain; version=0.0.4; charset=utf-8"; }
}
