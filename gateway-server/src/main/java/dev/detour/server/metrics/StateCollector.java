package dev.detour.server.metrics;

import dev.detour.keys.KeyPool;
import dev.detour.keys.KeyState;
import dev.detour.cache.CacheStats;
import dev.detour.metrics.CacheStatsSource;
import dev.detour.routing.CircuitBreaker;
import dev.detour.routing.Route;
import dev.detour.routing.RouteTable;
import dev.detour.routing.Target;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Reads, when scraped, the state that lives in the configuration in force: each key's state and time until it
 * can serve, each route target's circuit breaker, and the response cache's counts.
 *
 * <p>Computed per scrape from the route table current at that moment rather than kept in registered gauges:
 * keys, targets and routes come and go with reloads, and a gauge holding an old route table would keep it alive
 * and report it forever. The work is proportional to the configuration (keys plus targets), not to traffic.
 *
 * <p>Thread-safe: reads only thread-safe state (key pools, breakers) and allocates only the scrape's answer.
 */
final class StateCollector implements MultiCollector {

    private static final KeyState[] KEY_STATES = KeyState.values();
    private static final CircuitBreaker.State[] BREAKER_STATES = CircuitBreaker.State.values();

    private final Supplier<RouteTable> routes;
    private final Supplier<CacheStatsSource> cache;

    StateCollector(Supplier<RouteTable> routes, Supplier<CacheStatsSource> cache) {
        this.routes = routes;
        this.cache = cache;
    }

    @Override
    public MetricSnapshots collect() {
        RouteTable table = routes.get();
        long now = System.nanoTime();
        List<MetricSnapshot> out = new ArrayList<>(8);
        keys(table, out);
        breakers(table, now, out);
        cache(out);
        return new MetricSnapshots(out);
    }

    private static void keys(RouteTable table, List<MetricSnapshot> out) {
        GaugeSnapshot.Builder state = GaugeSnapshot.builder()
                .name("detour_key_state")
                .help("State of each upstream key, by provider (its key pool) and key id: 1 for the state the key "
                      + "is in (available, cooling, exhausted, disabled), 0 for the others.");
        GaugeSnapshot.Builder availableIn = GaugeSnapshot.builder()
                .name("detour_key_available_in_seconds")
                .unit(Unit.SECONDS)
                .help("Seconds until each key can serve again; 0 when available. Disabled keys have no value: "
                      + "they return only when an operator enables them.");
        boolean any = false;
        for (Map.Entry<String, KeyPool> e : table.pools().entrySet()) {
            String provider = e.getKey();
            for (KeyPool.KeySnapshot k : e.getValue().snapshot()) {
                any = true;
                for (KeyState s : KEY_STATES) {
                    state.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                            .labels(Labels.of("provider", provider, "key", k.id(), "state", TargetMeters.label(s)))
                            .value(k.state() == s ? 1 : 0)
                            .build());
                }
                if (k.state() != KeyState.DISABLED && k.unavailableNanos() >= 0) {
                    availableIn.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                            .labels(Labels.of("provider", provider, "key", k.id()))
                            .value(Unit.nanosToSeconds(k.unavailableNanos()))
                            .build());
                }
            }
        }
        if (any) {
            out.add(state.build());
            out.add(availableIn.build());
        }
    }

    private static void breakers(RouteTable table, long now, List<MetricSnapshot> out) {
        GaugeSnapshot.Builder state = GaugeSnapshot.builder()
                .name("detour_circuit_breaker_state")
                .help("State of each route target's circuit breaker: 1 for the state it is in (closed, open, "
                      + "half_open), 0 for the others.");
        // A route may list the same provider and model twice (with other params): one series for both.
        Set<String> seen = new HashSet<>();
        boolean any = false;
        for (String model : table.modelNames()) {
            Route route = table.route(model);
            for (Target t : route.targets()) {
                any |= breaker(route, t, now, seen, state);
            }
            if (route.contextFallback() != null) {
                any |= breaker(route, route.contextFallback(), now, seen, state);
            }
        }
        if (any) {
            out.add(state.build());
        }
    }

    private static boolean breaker(Route route, Target t, long now, Set<String> seen, GaugeSnapshot.Builder state) {
        if (!seen.add(route.model() + '\n' + t.provider().name() + '\n' + t.model())) {
            return false;
        }
        CircuitBreaker.State current = t.breaker().state(now);
        for (CircuitBreaker.State s : BREAKER_STATES) {
            state.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                    .labels(Labels.of("route", route.model(), "provider", t.provider().name(), "model", t.model(),
                                      "state", TargetMeters.label(s)))
                    .value(current == s ? 1 : 0)
                    .build());
        }
        return true;
    }

    private void cache(List<MetricSnapshot> out) {
        Optional<CacheStats> read = cache.get().cacheStats();
        if (read.isEmpty()) {
            return;
        }
        CacheStats stats = read.get();
        out.add(counter("detour_cache_hits", "Requests answered from the response cache (single-flight followers "
                        + "included).", stats.hits()));
        out.add(counter("detour_cache_stale_hits", "Requests answered with a stale entry because every target of "
                        + "the route was exhausted or failing.", stats.staleHits()));
        out.add(counter("detour_cache_misses", "Lookups the response cache could not answer.", stats.misses()));
        out.add(counter("detour_cache_evictions", "Entries the response cache removed for size or age.",
                        stats.evictions() + stats.expirations()));
        out.add(gauge("detour_cache_entries", null, "Entries in the response cache now.", stats.entries()));
        out.add(gauge("detour_cache_size_bytes", Unit.BYTES, "Bytes the response cache holds now, as it weighs its "
                      + "entries.", stats.bytes()));
    }

    private static MetricSnapshot counter(String name, String help, long value) {
        return CounterSnapshot.builder()
                .name(name)
                .help(help)
                .dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().value(value).build())
                .build();
    }

    private static MetricSnapshot gauge(String name, Unit unit, String help, long value) {
        GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(help);
        if (unit != null) {
            b.unit(unit);
        }
        return b.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(value).build()).build();
    }
}
