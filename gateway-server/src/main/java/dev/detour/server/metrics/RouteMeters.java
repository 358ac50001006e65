package dev.detour.server.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/**
 * The meters of one route: its request duration and Detour's overhead, and its targets' meters.
 *
 * <p>Thread-safe; built once per route name and kept for the registry's lifetime.
 */
final class RouteMeters {

    /** Request and upstream durations, 5 ms to 60 s: answers take milliseconds (embeddings) to minutes (streams). */
    static final Duration[] DURATION_BUCKETS = {
        Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
        Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
        Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30),
        Duration.ofSeconds(60),
    };
    /** Detour's own time per request: tens of microseconds normally, milliseconds when something is wrong. */
    private static final Duration[] OVERHEAD_BUCKETS = {
        Duration.ofNanos(50_000), Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000),
        Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
        Duration.ofSeconds(1),
    };
    private static final int MAX_PROVIDERS = 100;
    private static final int MAX_MODELS = 200;

    final Timer duration;
    final Timer overhead;
    private final MeterCache<MeterCache<TargetMeters>> targets;

    RouteMeters(MeterRegistry registry, String route) {
        Tags tags = Tags.of(GatewayMetrics.ROUTE, route);
        this.duration = histogram("detour.request.duration", "Time from a request's arrival to its last byte "
                                  + "written (or the exchange ending otherwise).", tags, DURATION_BUCKETS, registry);
        this.overhead = histogram("detour.overhead", "Detour's own time per request: from arrival to the response "
                                  + "head handed to the client, minus upstream attempts and waits for cooling keys.",
                                  tags, OVERHEAD_BUCKETS, registry);
        this.targets = new MeterCache<>(MAX_PROVIDERS, provider -> new MeterCache<>(MAX_MODELS,
                model -> new TargetMeters(registry, route, provider, model)));
    }

    /** Returns the meters of {@code provider}'s {@code model} on this route. */
    TargetMeters target(String provider, String model) {
        return targets.get(provider).get(model);
    }

    /** Returns a Prometheus histogram with fixed {@code buckets}, so that its series count is bounded. */
    static Timer histogram(String name, String help, Tags tags, Duration[] buckets, MeterRegistry registry) {
        return Timer.builder(name)
                .description(help)
                .tags(tags)
                .publishPercentileHistogram(false)
                .serviceLevelObjectives(buckets)
                .register(registry);
    }
}
