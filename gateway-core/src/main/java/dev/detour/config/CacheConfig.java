package dev.detour.config;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * The response cache's global settings ({@code cache:} in YAML). Whether a route caches at all, and its
 * own overrides, are in {@link RouteCacheConfig}.
 *
 * @param maxSize                most bytes all entries may hold together; the least valuable go first
 * @param ttl                    how long an entry is served, unless its route or the request says otherwise
 * @param maxTtl                 the longest {@code x-detour-cache-ttl} a request may ask for
 * @param maxEntrySize           the largest answer stored, in bytes; a larger one is relayed and not kept
 * @param scope                  who shares entries, unless a route says otherwise
 * @param countHitsTowardLimits  whether a cache hit counts toward the client's rate limits
 * @param singleFlightTimeout    how long identical requests wait for the one already on its way upstream
 */
public record CacheConfig(long maxSize, Duration ttl, Duration maxTtl, long maxEntrySize, Scope scope,
                          boolean countHitsTowardLimits, Duration singleFlightTimeout) {

    /** The default {@code max-size}: 256 MiB. */
    public static final long DEFAULT_MAX_SIZE = 256L * 1024 * 1024;
    /** The default {@code max-entry-size}: 1 MiB. */
    public static final long DEFAULT_MAX_ENTRY_SIZE = 1024L * 1024;

    public CacheConfig {
        Objects.requireNonNull(ttl, "ttl");
        Objects.requireNonNull(maxTtl, "maxTtl");
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(singleFlightTimeout, "singleFlightTimeout");
        if (maxSize < 1) {
            throw new IllegalArgumentException("maxSize: " + maxSize + " (expected: > 0)");
        }
        if (maxEntrySize < 1 || maxEntrySize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("maxEntrySize: " + maxEntrySize + " (expected: 1 to 2^31-1)");
        }
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("ttl: " + ttl + " (expected: > 0)");
        }
        if (maxTtl.isNegative() || maxTtl.isZero()) {
            throw new IllegalArgumentException("maxTtl: " + maxTtl + " (expected: > 0)");
        }
        if (singleFlightTimeout.isNegative()) {
            throw new IllegalArgumentException("singleFlightTimeout: " + singleFlightTimeout + " (expected: >= 0)");
        }
    }

    /** Returns the defaults: 256 MiB, 1 h, at most 24 h per request, 1 MiB entries, per team, hits counted, 30 s. */
    public static CacheConfig ofDefault() {
        return new CacheConfig(DEFAULT_MAX_SIZE, Duration.ofHours(1), Duration.ofHours(24), DEFAULT_MAX_ENTRY_SIZE,
                               Scope.TEAM, true, Duration.ofSeconds(30));
    }

    /** Who shares cache entries. */
    public enum Scope {
        /** Each client key has its own entries. */
        CLIENT,
        /** The clients of one team share entries (the default). */
        TEAM,
        /** Everyone shares entries. */
        GLOBAL;

        /** Returns the YAML spelling. */
        public String yamlName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
