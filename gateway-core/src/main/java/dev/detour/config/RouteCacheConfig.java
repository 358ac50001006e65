package dev.detour.config;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A route's response-cache settings ({@code routes[].cache:} in YAML); what is left out comes from
 * {@link CacheConfig}.
 *
 * @param enabled          whether the route's answers are cached; off unless said
 * @param ttl              how long an entry is served, or empty for the global {@code ttl}
 * @param scope            who shares entries, or empty for the global {@code scope}
 * @param maxEntrySize     the largest answer stored, or empty for the global {@code max-entry-size}
 * @param staleIfExhausted how old (past its ttl) an entry may be and still be served when every target of
 *                         the route is exhausted or failing, or empty to never serve stale entries
 */
public record RouteCacheConfig(boolean enabled, Optional<Duration> ttl, Optional<CacheConfig.Scope> scope,
                               OptionalLong maxEntrySize, Optional<Duration> staleIfExhausted) {

    /** Caching off: the default of every route. */
    public static final RouteCacheConfig OFF = new RouteCacheConfig(false, Optional.empty(), Optional.empty(),
                                                                    OptionalLong.empty(), Optional.empty());

    public RouteCacheConfig {
        Objects.requireNonNull(ttl, "ttl");
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(maxEntrySize, "maxEntrySize");
        Objects.requireNonNull(staleIfExhausted, "staleIfExhausted");
        if (ttl.isPresent() && (ttl.get().isNegative() || ttl.get().isZero())) {
            throw new IllegalArgumentException("ttl: " + ttl.get() + " (expected: > 0)");
        }
        long entry = maxEntrySize.orElse(1);
        if (entry < 1 || entry > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("maxEntrySize: " + entry + " (expected: 1 to 2^31-1)");
        }
        if (staleIfExhausted.isPresent() && staleIfExhausted.get().isNegative()) {
            throw new IllegalArgumentException("staleIfExhausted: " + staleIfExhausted.get() + " (expected: >= 0)");
        }
    }
}
