package dev.detour.cache;

/**
 * A snapshot of the response cache's counters and size, for metrics and admin views. Counters are totals
 * since the server started; they survive config reloads.
 *
 * @param hits       requests answered from the cache ({@code x-detour-cache: HIT}), followers included
 * @param coalesced  of those, requests that waited for an identical request in flight (single-flight)
 * @param staleHits  requests answered with a stale entry because the route was exhausted ({@code STALE})
 * @param misses     cacheable requests that found no usable entry ({@code MISS})
 * @param bypasses   requests on caching routes that skipped the lookup ({@code BYPASS}: {@code no-cache},
 *                   an endpoint or body that cannot be cached)
 * @param stores     answers stored
 * @param tooLarge   answers not stored because they were larger than the entry size limit
 * @param evictions  entries removed to keep the cache within its byte bound
 * @param expirations entries removed because they outlived their ttl (and stale window)
 * @param entries    entries now held (an estimate while removals are pending)
 * @param bytes      bytes now held, by the same weights the bound uses
 * @param maxBytes   the byte bound ({@code cache.max-size})
 */
public record CacheStats(long hits, long coalesced, long staleHits, long misses, long bypasses, long stores,
                         long tooLarge, long evictions, long expirations, long entries, long bytes, long maxBytes) {
}
