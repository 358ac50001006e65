package dev.detour.metrics;

/**
 * Counts and size of a response cache at one moment, for metrics.
 *
 * @param hits      lookups answered from the cache since it was created
 * @param misses    lookups not found since it was created
 * @param evictions entries removed for size or age since it was created
 * @param entries   entries held now
 * @param bytes     bytes held now, as the cache weighs its entries
 */
public record CacheStats(long hits, long misses, long evictions, long entries, long bytes) {

    public CacheStats {
        if (hits < 0 || misses < 0 || evictions < 0 || entries < 0 || bytes < 0) {
            throw new IllegalArgumentException("cache stats: " + hits + "/" + misses + "/" + evictions + "/"
                                               + entries + "/" + bytes + " (expected: all >= 0)");
        }
    }
}
