package org.neurite.serving;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;

/**
 * The server's Prometheus metrics, kept by Micrometer and scraped at {@code /metrics}:
 * {@code neurite_requests_total{model,status}}, the latency histogram
 * {@code neurite_request_duration_seconds{model}}, the batch-size histogram
 * {@code neurite_batch_size{model}}, the forward-pass time {@code neurite_batch_duration_seconds{model}}, the gauge {@code neurite_queue_depth{model}} and
 * {@code neurite_errors_total{model,status}} for every refused or failed request.
 */
final class ServerMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    /** Registers the gauges of {@code model}, read when scraped. */
    void register(ServedModel model) {
        Gauge.builder("neurite.queue.depth", model, ServedModel::queueDepth)
                .description("requests waiting for a batching worker").tag("model", model.name()).register(registry);
    }

    /** One request answered with {@code status} after {@code nanos}; {@code model} is "" when none was found. */
    void request(String model, int status, long nanos) {
        Counter.builder("neurite.requests").description("infer requests answered").tag("model", model)
                .tag("status", Integer.toString(status)).register(registry).increment();
        Timer.builder("neurite.request.duration").description("time from a request's arrival to its answer")
                .tag("model", model).publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(30)).register(registry).record(Duration.ofNanos(nanos));
        if (status >= 400) {
            Counter.builder("neurite.errors").description("infer requests refused or failed").tag("model", model)
                    .tag("status", Integer.toString(status)).register(registry).increment();
        }
    }

    /** A forward pass over {@code samples} samples of {@code model} that took {@code nanos}. */
    void batch(String model, int samples, long nanos) {
        DistributionSummary.builder("neurite.batch.size").description("samples per forward pass").tag("model", model)
                .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256).register(registry).record(samples);
        Timer.builder("neurite.batch.duration").description("time of one forward pass").tag("model", model)
                .register(registry).record(Duration.ofNanos(nanos));
    }

    /** The Prometheus text exposition of every metric. */
    String scrape() { return registry.scrape(); }

    String contentType() { return "text/plain; version=0.0.4; charset=utf-8"; }
}
