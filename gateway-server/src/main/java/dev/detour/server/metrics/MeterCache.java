package dev.detour.server.metrics;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Meters by one label value, built on first use and kept: a lookup by a value already seen allocates nothing.
 *
 * <p>Label values come from the configuration (route, provider, model, client and team names), which is
 * bounded but can grow across reloads. As a last guard against a series explosion, once {@code max} values are
 * held every new one shares the {@link #OTHER} entry.
 *
 * <p>Thread-safe.
 */
final class MeterCache<V> {

    /** The label value that unknown and surplus values collapse into. */
    static final String OTHER = "other";

    private final ConcurrentHashMap<String, V> byValue = new ConcurrentHashMap<>();
    private final int max;
    private final Function<String, V> factory;

    MeterCache(int max, Function<String, V> factory) {
        this.max = max;
        this.factory = factory;
    }

    /** Returns the entry for {@code value}, or the {@link #OTHER} entry once the cache is full. */
    V get(String value) {
        V v = byValue.get(value);
        if (v != null) {
            return v;
        }
        // Two threads may both pass the size check at the limit: the bound is approximate by a few entries.
        return byValue.computeIfAbsent(byValue.size() < max ? value : OTHER, factory);
    }
}
