package dev.detour.metrics;

import dev.detour.cache.CacheStats;
import java.util.Optional;

/**
 * Where metrics read the response cache's {@link CacheStats}, once per scrape.
 *
 * <p>Implementations are called from any thread and must be thread-safe and quick (a scrape reads them while
 * building its answer). Empty means there is no cache now (none configured, or not built yet): the cache
 * metrics are then left out of the scrape rather than reported as zero.
 */
@FunctionalInterface
public interface CacheStatsSource {

    /** No cache. */
    CacheStatsSource NONE = Optional::empty;

    /** Returns the cache's stats now, or empty when there is no cache. */
    Optional<CacheStats> cacheStats();
}
