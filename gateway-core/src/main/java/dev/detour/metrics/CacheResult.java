package dev.detour.metrics;

import dev.detour.filter.AttributeKey;
import java.util.Locale;

/**
 * What the response cache did for one request, as the {@code cache} label of request metrics shows it. The
 * cache filter stores it under {@link #KEY}; a request without one (no cache configured, or refused before the
 * cache) is counted as {@code none}.
 */
public enum CacheResult {
    /** Answered from the cache, without an upstream attempt. */
    HIT,
    /** Looked up and not found: sent upstream, and stored if the answer could be. */
    MISS,
    /** Not looked up: the request cannot be cached (a client's {@code Cache-Control: no-store}, a route off). */
    BYPASS;

    /** Where the cache filter records its result in a request's context. */
    public static final AttributeKey<CacheResult> KEY = AttributeKey.newKey("cacheResult");

    /** Returns the label value: the name in lower case. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
