package dev.detour.server.metrics;

import dev.detour.config.RetryTrigger;
import dev.detour.cache.CacheOutcome;
import dev.detour.provider.UpstreamVerdict;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The meters of one (route, provider, upstream model): requests by status class and cache result, attempts by
 * outcome, retries and fallbacks by reason, upstream time to first byte, stream chunks, and token usage by
 * client and team. Provider and model {@code none} hold requests that made no upstream attempt.
 *
 * <p>Each meter is registered on first use, so a target shows only the series it has seen. Registration is
 * idempotent (the registry returns the meter it holds for the same name and tags), which makes the benign race
 * of two threads filling the same slot harmless.
 *
 * <p>Thread-safe.
 */
final class TargetMeters {

    private static final String[] STATUS_CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    private static final String[] CACHE_RESULTS = {"none", "hit", "miss", "bypass", "stale"};
    private static final UpstreamVerdict.Kind[] OUTCOMES = UpstreamVerdict.Kind.values();
    private static final RetryTrigger[] REASONS = RetryTrigger.values();
    private static final int MAX_CLIENTS = 1000;
    private static final int MAX_TEAMS_PER_CLIENT = 20;

    private final MeterRegistry registry;
    private final Tags tags;
    private final String route;
    private final String model;
    private final AtomicReferenceArray<Counter> requests =
            new AtomicReferenceArray<>(STATUS_CLASSES.length * CACHE_RESULTS.length);
    private final AtomicReferenceArray<Counter> attempts = new AtomicReferenceArray<>(OUTCOMES.length);
    private final AtomicReferenceArray<Counter> retries = new AtomicReferenceArray<>(REASONS.length);
    private final AtomicReferenceArray<Counter> fallbacks = new AtomicReferenceArray<>(REASONS.length);
    private final MeterCache<MeterCache<UsageMeters>> usage;
    private volatile Timer ttfb;
    private volatile Counter chunks;

    TargetMeters(MeterRegistry registry, String route, String provider, String model) {
        this.registry = registry;
        this.route = route;
        this.model = model;
        this.tags = Tags.of(GatewayMetrics.ROUTE, route, GatewayMetrics.PROVIDER, provider, GatewayMetrics.MODEL,
                            model);
        this.usage = new MeterCache<>(MAX_CLIENTS, client -> new MeterCache<>(MAX_TEAMS_PER_CLIENT,
                team -> new UsageMeters(registry, client, team, route, model)));
    }

    /** Returns the request counter for {@code status} and the cache's result ({@code null}: no cache involved). */
    Counter requests(int status, CacheOutcome cache) {
        int statusClass = Math.min(Math.max(status / 100, 1), 5) - 1;
        int cacheIndex = cache == null ? 0 : cache.ordinal() + 1;
        int i = statusClass * CACHE_RESULTS.length + cacheIndex;
        Counter c = requests.get(i);
        if (c == null) {
            c = Counter.builder("detour.requests")
                    .description("API requests answered, by route, the provider and upstream model of the last "
                                 + "attempt (none without one), status class and cache result.")
                    .tags(tags)
                    .tag("status_class", STATUS_CLASSES[statusClass])
                    .tag("cache", CACHE_RESULTS[cacheIndex])
                    .register(registry);
            requests.set(i, c);
        }
        return c;
    }

    /** Returns the counter of attempts here that ended with {@code outcome}. */
    Counter attempts(UpstreamVerdict.Kind outcome) {
        Counter c = attempts.get(outcome.ordinal());
        if (c == null) {
            c = Counter.builder("detour.upstream.attempts")
                    .description("Upstream attempts by how they ended (success, rate_limited, server_error, ...).")
                    .tags(tags)
                    .tag("outcome", label(outcome))
                    .register(registry);
            attempts.set(outcome.ordinal(), c);
        }
        return c;
    }

    /** Returns the counter of requests that tried another key here after an outcome counted as {@code reason}. */
    Counter retries(RetryTrigger reason) {
        return moves(retries, reason, "detour.retries",
                     "Requests that tried another key of the same target (or the same key after a wait), by reason.");
    }

    /** Returns the counter of requests that left this target for another one after {@code reason}. */
    Counter fallbacks(RetryTrigger reason) {
        return moves(fallbacks, reason, "detour.fallbacks",
                     "Requests that left this target for another target of the route, by reason.");
    }

    /** Returns the upstream time-to-first-byte histogram. */
    Timer ttfb() {
        Timer t = ttfb;
        if (t == null) {
            t = RouteMeters.histogram("detour.upstream.ttfb", "Time from sending a request upstream to the "
                                      + "response head, for the last attempt that got one.", tags,
                                      RouteMeters.DURATION_BUCKETS, registry);
            ttfb = t;
        }
        return t;
    }

    /** Returns the counter of event-stream chunks written to clients. */
    Counter chunks() {
        Counter c = chunks;
        if (c == null) {
            c = Counter.builder("detour.stream.chunks")
                    .description("Body chunks of event streams (SSE) relayed to clients.")
                    .tags(tags)
                    .register(registry);
            chunks = c;
        }
        return c;
    }

    /** Returns the token and cost counters of {@code client} of {@code team} on this route and model. */
    UsageMeters usage(String client, String team) {
        return usage.get(client).get(team);
    }

    @Override
    public String toString() {
        return route + "/" + model;
    }

    private Counter moves(AtomicReferenceArray<Counter> array, RetryTrigger reason, String name, String help) {
        Counter c = array.get(reason.ordinal());
        if (c == null) {
            c = Counter.builder(name)
                    .description(help)
                    .tags(tags)
                    .tag("reason", label(reason))
                    .register(registry);
            array.set(reason.ordinal(), c);
        }
        return c;
    }

    /** Returns an enum constant as a label value: {@code RATE_LIMITED} is {@code rate_limited}. */
    static String label(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }
}
