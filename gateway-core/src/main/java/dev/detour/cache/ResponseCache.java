package dev.detour.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.detour.time.NanoClock;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;

/**
 * The response cache's store: answers by {@link CacheKey} in a Caffeine cache bounded by bytes (each entry
 * weighs its body plus a fixed overhead) and expiring each entry at its own ttl plus its route's stale
 * window; the identical requests in flight ({@link SingleFlight}); and the counters behind
 * {@link #stats()}.
 *
 * <p>Lifecycle: one per server, not per config version, so a reload keeps the entries; {@link #resize}
 * applies a new {@code cache.max-size}. Entries of routes a reload changed are not served: the route's
 * targets are part of the key.
 *
 * <p>Thread-safe: every event loop reads and writes it.
 */
public final class ResponseCache {

    private final NanoClock clock;
    private final Cache<CacheKey, CachedAnswer> entries;
    private final SingleFlight flights = new SingleFlight();
    private final LongAdder hits = new LongAdder();
    private final LongAdder coalesced = new LongAdder();
    private final LongAdder staleHits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder bypasses = new LongAdder();
    private final LongAdder stores = new LongAdder();
    private final LongAdder tooLarge = new LongAdder();
    private final LongAdder evictions = new LongAdder();
    private final LongAdder expirations = new LongAdder();
    private volatile long maxBytes;

    private ResponseCache(long maxBytes, NanoClock clock, Executor maintenance) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.maxBytes = checkMax(maxBytes);
        Caffeine<Object, Object> builder = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .ticker(clock::nanoTime);
        if (maintenance != null) {
            builder.executor(maintenance);
        }
        this.entries = builder
                .<CacheKey, CachedAnswer>weigher((key, answer) -> answer.weight())
                .expireAfter(new Expiry<CacheKey, CachedAnswer>() {
                    @Override
                    public long expireAfterCreate(CacheKey key, CachedAnswer answer, long currentTime) {
                        return answer.lifetimeNanos();
                    }

                    @Override
                    public long expireAfterUpdate(CacheKey key, CachedAnswer answer, long currentTime,
                                                  long currentDuration) {
                        return answer.lifetimeNanos(); // a refreshed answer starts its own life
                    }

                    @Override
                    public long expireAfterRead(CacheKey key, CachedAnswer answer, long currentTime,
                                                long currentDuration) {
                        return currentDuration; // reading does not prolong: ttl counts from the store
                    }
                })
                .evictionListener((CacheKey key, CachedAnswer answer, RemovalCause cause) -> {
                    if (cause == RemovalCause.SIZE) {
                        evictions.increment();
                    } else if (cause == RemovalCause.EXPIRED) {
                        expirations.increment();
                    }
                })
                .build();
    }

    /** Returns a cache of at most {@code maxBytes}, timed by {@code clock}. */
    public static ResponseCache newCache(long maxBytes, NanoClock clock) {
        return new ResponseCache(maxBytes, clock, null);
    }

    /**
     * Returns a cache whose upkeep (evictions, expiry) runs on {@code maintenance}; tests pass
     * {@code Runnable::run} so that it happens at once.
     */
    static ResponseCache newCache(long maxBytes, NanoClock clock, Executor maintenance) {
        return new ResponseCache(maxBytes, clock, Objects.requireNonNull(maintenance, "maintenance"));
    }

    /** Applies a new byte bound, evicting at once what no longer fits. */
    public void resize(long newMaxBytes) {
        maxBytes = checkMax(newMaxBytes);
        entries.policy().eviction().ifPresent(e -> e.setMaximum(newMaxBytes));
    }

    /** Removes every entry. */
    public void clear() {
        entries.invalidateAll();
        entries.cleanUp();
    }

    /** Returns the counters and the current size. */
    public CacheStats stats() {
        long bytes = entries.policy().eviction().flatMap(e -> {
            java.util.OptionalLong w = e.weightedSize();
            return w.isPresent() ? java.util.Optional.of(w.getAsLong()) : java.util.Optional.empty();
        }).orElse(0L);
        return new CacheStats(hits.sum(), coalesced.sum(), staleHits.sum(), misses.sum(), bypasses.sum(),
                              stores.sum(), tooLarge.sum(), evictions.sum(), expirations.sum(),
                              entries.estimatedSize(), bytes, maxBytes);
    }

    /** Returns the clock entries are timed by. */
    NanoClock clock() {
        return clock;
    }

    /** Returns the answer under {@code key}, fresh or not, or {@code null}. */
    CachedAnswer get(CacheKey key) {
        return entries.getIfPresent(key);
    }

    /** Stores {@code answer} under {@code key}, replacing what was there. */
    void put(CacheKey key, CachedAnswer answer) {
        entries.put(key, answer);
        stores.increment();
    }

    /** Runs pending upkeep (evictions, expiry) now; for tests. */
    void cleanUp() {
        entries.cleanUp();
    }

    SingleFlight flights() {
        return flights;
    }

    void countHit(boolean follower) {
        hits.increment();
        if (follower) {
            coalesced.increment();
        }
    }

    void countStale() {
        staleHits.increment();
    }

    void countMiss() {
        misses.increment();
    }

    void countBypass() {
        bypasses.increment();
    }

    void countTooLarge() {
        tooLarge.increment();
    }

    private static long checkMax(long maxBytes) {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: > 0)");
        }
        return maxBytes;
    }
}
