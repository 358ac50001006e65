package dev.detour.ratelimit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import dev.detour.time.NanoClock;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * Buckets in this process: Bucket4j buckets (greedy, smooth refill) in a Caffeine cache.
 *
 * <p>Concurrency: each bucket is a lock-free Bucket4j bucket (one compare-and-set per operation), so event
 * loops never wait on a lock another thread holds. A take over several buckets is not atomic: it takes from
 * each in turn and gives back what it took when a later enforcing claim fails. Meanwhile another request may
 * see those buckets lower than they end up, so the error is towards refusing a request near the edge, never
 * towards admitting more than a bucket holds.
 *
 * <p>Lifecycle: a bucket is created full on first use and dropped once idle for its refill interval (by then
 * it would be full again, so a fresh one is equivalent; a debt left by a charge is forgiven with it). The
 * number of buckets is bounded: past the bound the least recently used go first, which fails open (an evicted
 * busy scope starts again from a full bucket) rather than refusing traffic or growing without bound.
 *
 * <p>Cost, measured on the 2-core dev machine (20 million calls, JIT warm): about 150-200 ns per
 * {@code tryConsumeAndReturnRemaining}, lock-free and synchronized alike, plus one cache lookup per claim:
 * around a microsecond for a request with a few limits, small beside one proxied exchange. Not worth a
 * hand-rolled bucket.
 */
final class LocalBucketStore implements BucketStore {

    private final Cache<BucketKey, Bucket> buckets;
    private final TimeMeter meter;

    /**
     * Creates a store.
     *
     * @param maintenance where Caffeine runs its upkeep, or {@code null} for its default (tests pass
     *                    {@code Runnable::run})
     */
    LocalBucketStore(NanoClock clock, long maximumBuckets, Executor maintenance) {
        Objects.requireNonNull(clock, "clock");
        if (maximumBuckets < 1) {
            throw new IllegalArgumentException("maximumBuckets: " + maximumBuckets + " (expected: >= 1)");
        }
        this.meter = new ClockTimeMeter(clock);
        Caffeine<Object, Object> builder = Caffeine.newBuilder()
                .maximumSize(maximumBuckets)
                .ticker(clock::nanoTime);
        if (maintenance != null) {
            builder.executor(maintenance);
        }
        this.buckets = builder.expireAfter(new IdleForOneInterval()).build();
    }

    @Override
    public CompletionStage<Outcome> take(List<Claim> claims) {
        int n = claims.size();
        if (n == 0) {
            throw new IllegalArgumentException("claims: empty");
        }
        boolean[] taken = new boolean[n];
        long[] remaining = new long[n];
        long[] wait = new long[n];
        long[] full = new long[n];
        Bucket[] held = new Bucket[n];
        int refused = -1;
        for (int i = 0; i < n; i++) {
            Claim claim = claims.get(i);
            Bucket bucket = bucket(claim.key());
            held[i] = bucket;
            ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(claim.amount());
            remaining[i] = probe.getRemainingTokens();
            full[i] = probe.getNanosToWaitForReset();
            if (probe.isConsumed()) {
                taken[i] = true;
            } else {
                wait[i] = probe.getNanosToWaitForRefill();
                if (!claim.shadow()) {
                    refused = i;
                    break;
                }
            }
        }
        if (refused >= 0) {
            for (int j = 0; j < refused; j++) {
                if (taken[j]) {
                    Claim claim = claims.get(j);
                    held[j].addTokens(claim.amount());
                    taken[j] = false;
                    dev.detour.config.Bucket shape = claim.key().bucket();
                    remaining[j] = Math.min(shape.capacity(), remaining[j] + claim.amount());
                    full[j] = nanosToFull(shape, remaining[j]);
                }
            }
        }
        return CompletableFuture.completedFuture(Outcome.of(taken, remaining, wait, full, refused));
    }

    @Override
    public long peek(BucketKey key) {
        Bucket bucket = buckets.getIfPresent(key);
        return bucket == null ? key.bucket().capacity() : bucket.getAvailableTokens();
    }

    @Override
    public void adjust(BucketKey key, long delta) {
        if (delta == 0) {
            return;
        }
        // A bucket that has expired meanwhile is full again: giving back is moot, and a charge against a fresh
        // bucket would bill an idle scope, so both only touch a bucket that still exists.
        Bucket bucket = buckets.getIfPresent(key);
        if (bucket == null) {
            return;
        }
        if (delta > 0) {
            bucket.addTokens(delta);
        } else {
            bucket.consumeIgnoringRateLimits(-delta);
        }
    }

    @Override
    public List<Level> levels(int maxPerLimit) {
        // Iterating the map view reads no entry through the cache, so it neither refreshes expiry nor counts use.
        Map<String, Integer> perLimit = new HashMap<>();
        List<Level> out = new ArrayList<>();
        for (Map.Entry<BucketKey, Bucket> e : buckets.asMap().entrySet()) {
            int n = perLimit.merge(e.getKey().limit(), 1, Integer::sum);
            if (n <= maxPerLimit) {
                out.add(new Level(e.getKey(), e.getValue().getAvailableTokens()));
            }
        }
        return out;
    }

    /** Returns how many buckets are held, after pending upkeep. For tests. */
    long size() {
        buckets.cleanUp();
        return buckets.estimatedSize();
    }

    /** Returns the units available in {@code key}'s bucket, or -1 if it does not exist. For tests. */
    long available(BucketKey key) {
        Bucket bucket = buckets.getIfPresent(key);
        return bucket == null ? -1 : bucket.getAvailableTokens();
    }

    private Bucket bucket(BucketKey key) {
        return buckets.get(key, this::newBucket);
    }

    private Bucket newBucket(BucketKey key) {
        dev.detour.config.Bucket shape = key.bucket();
        Bandwidth bandwidth = Bandwidth.builder()
                .capacity(shape.capacity())
                .refillGreedy(shape.capacity(), shape.per())
                .build();
        return Bucket.builder().addLimit(bandwidth).withCustomTimePrecision(meter).build();
    }

    /** Returns how long a greedy bucket holding {@code remaining} takes to fill. */
    static long nanosToFull(dev.detour.config.Bucket shape, long remaining) {
        long missing = shape.capacity() - remaining;
        if (missing <= 0) {
            return 0;
        }
        double nanos = (double) missing / shape.capacity() * shape.per().toNanos();
        return (long) Math.ceil(nanos);
    }

    /** Bucket4j's time source, read from the injected clock so that tests move time. */
    private static final class ClockTimeMeter implements TimeMeter {
        private final NanoClock clock;

        ClockTimeMeter(NanoClock clock) {
            this.clock = clock;
        }

        @Override
        public long currentTimeNanos() {
            return clock.nanoTime();
        }

        @Override
        public boolean isWallClockBased() {
            return false;
        }
    }

    /** Expires a bucket once idle (neither read nor written) for its refill interval. */
    private static final class IdleForOneInterval implements Expiry<BucketKey, Bucket> {
        @Override
        public long expireAfterCreate(BucketKey key, Bucket value, long currentTime) {
            return key.bucket().per().toNanos();
        }

        @Override
        public long expireAfterUpdate(BucketKey key, Bucket value, long currentTime, long currentDuration) {
            return key.bucket().per().toNanos();
        }

        @Override
        public long expireAfterRead(BucketKey key, Bucket value, long currentTime, long currentDuration) {
            return key.bucket().per().toNanos();
        }
    }
}
