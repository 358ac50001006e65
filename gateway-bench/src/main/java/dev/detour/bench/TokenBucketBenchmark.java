package dev.detour.bench;

import dev.detour.config.Bucket;
import dev.detour.ratelimit.BucketKey;
import dev.detour.ratelimit.BucketStore;
import dev.detour.time.NanoClock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The rate limiter's claim on the local bucket store ({@link BucketStore#take}): what the
 * {@code rate-limit} filter pays per request and limit, on one hot bucket (every client of a team, say)
 * and spread over many buckets (one per client), from one thread and from two at once.
 *
 * <p>The buckets are sized never to refuse, so every call is the admit path: a store lookup plus
 * Bucket4j's lock-free consume with lazy refill. With two threads on one bucket both contend for its
 * CAS; on a proxy pinned to one CPU that contention cannot happen, so the one-thread figure is the one
 * that matters there.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TokenBucketBenchmark {

    /** How many distinct buckets the claims go to, round-robin: 1 is one hot bucket. */
    @Param({"1", "1000"})
    public int buckets;

    private BucketStore store;
    private List<List<BucketStore.Claim>> claims;

    @Setup
    public void setUp() {
        store = BucketStore.newLocal(NanoClock.SYSTEM);
        // Refills 100 per microsecond, faster than any thread can take: the admit path every time.
        Bucket huge = new Bucket(1_000_000_000L, Duration.ofSeconds(10));
        claims = new java.util.ArrayList<>(buckets);
        for (int i = 0; i < buckets; i++) {
            BucketKey key = new BucketKey("per-client", BucketKey.Kind.REQUESTS, huge, "client-" + i);
            claims.add(List.of(new BucketStore.Claim(key, 1, false)));
        }
    }

    /** A cursor per thread, so that threads walk the buckets independently. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;
    }

    @Benchmark
    public Object take(Cursor cursor) {
        return take0(cursor);
    }

    @Benchmark
    @Threads(2)
    public Object takeContended(Cursor cursor) {
        return take0(cursor);
    }

    private Object take0(Cursor cursor) {
        int i = cursor.next;
        cursor.next = i + 1 == buckets ? 0 : i + 1;
        return store.take(claims.get(i)).toCompletableFuture().join();
    }
}
