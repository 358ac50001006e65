package dev.detour.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.config.Bucket;
import dev.detour.ratelimit.BucketStore.Claim;
import dev.detour.ratelimit.BucketStore.Outcome;
import dev.detour.testing.FakeClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LocalBucketStoreTest {

    private static final Bucket FIVE_PER_MINUTE = new Bucket(5, Duration.ofMinutes(1));
    private static final BucketKey A = new BucketKey("a", BucketKey.Kind.REQUESTS, FIVE_PER_MINUTE, "x");

    private final FakeClock clock = new FakeClock();
    private final LocalBucketStore store = new LocalBucketStore(clock, 1000, Runnable::run);

    @Test
    void createsFullBucketsAndReportsWhatIsLeft() {
        Outcome outcome = take(new Claim(A, 2, false));

        assertEquals(-1, outcome.refused());
        assertTrue(outcome.taken(0));
        assertEquals(3, outcome.remaining(0));
        assertEquals(0, outcome.nanosToWait(0));
        assertEquals(TimeUnit.SECONDS.toNanos(24), outcome.nanosToFull(0));
    }

    @Test
    void refillsGreedilyOneUnitAtATime() {
        take(new Claim(A, 5, false));

        clock.advanceNanos(TimeUnit.SECONDS.toNanos(12) - 1);
        Outcome early = take(new Claim(A, 1, false));
        clock.advanceNanos(1);
        Outcome onTime = take(new Claim(A, 1, false));

        assertEquals(0, early.refused());
        assertEquals(1, early.nanosToWait(0));
        assertEquals(-1, onTime.refused());
    }

    @Test
    void peekReadsALevelWithoutTakingOrCreatingABucket() {
        BucketKey tokens = new BucketKey("t", BucketKey.Kind.TOKENS, new Bucket(1000, Duration.ofMinutes(1)), "x");

        long fresh = store.peek(tokens);
        long created = store.size();
        take(new Claim(tokens, 400, false));
        long afterTake = store.peek(tokens);
        clock.advanceMillis(6_000);
        long refilled = store.peek(tokens);
        long again = store.peek(tokens);
        store.adjust(tokens, -1000);
        long inDebt = store.peek(tokens);

        assertEquals(1000, fresh, "a bucket not yet made would start full");
        assertEquals(0, created, "peeking makes no bucket");
        assertEquals(600, afterTake);
        assertEquals(700, refilled, "100 tokens refill in 6 s");
        assertEquals(700, again, "peeking takes nothing");
        assertEquals(-300, inDebt);
    }

    @Test
    void takesAllOrNothing() {
        BucketKey b = new BucketKey("b", BucketKey.Kind.TOKENS, new Bucket(100, Duration.ofMinutes(1)), "x");
        BucketKey c = new BucketKey("c", BucketKey.Kind.REQUESTS, new Bucket(1, Duration.ofMinutes(1)), "x");
        take(new Claim(c, 1, false));

        Outcome outcome = take(new Claim(A, 1, false), new Claim(b, 40, false), new Claim(c, 1, false),
                               new Claim(A, 1, false));

        assertEquals(2, outcome.refused());
        assertFalse(outcome.taken(0));
        assertFalse(outcome.taken(1));
        assertTrue(outcome.checked(2));
        assertFalse(outcome.checked(3), "claims after the refusal are not checked");
        assertEquals(5, outcome.remaining(0), "reported as after the give-back");
        assertEquals(5, store.available(A));
        assertEquals(100, store.available(b));
    }

    @Test
    void aShadowClaimThatFailsDoesNotStopTheOthers() {
        BucketKey tiny = new BucketKey("tiny", BucketKey.Kind.REQUESTS, new Bucket(1, Duration.ofMinutes(1)), "x");
        take(new Claim(tiny, 1, true));

        Outcome outcome = take(new Claim(tiny, 1, true), new Claim(A, 1, false));

        assertEquals(-1, outcome.refused());
        assertFalse(outcome.taken(0));
        assertEquals(TimeUnit.SECONDS.toNanos(60), outcome.nanosToWait(0));
        assertTrue(outcome.taken(1));
    }

    @Test
    void anAmountAboveCapacityNeverFits() {
        Outcome outcome = take(new Claim(A, 6, false));

        assertEquals(0, outcome.refused());
        assertEquals(Long.MAX_VALUE, outcome.nanosToWait(0));
        assertEquals(5, store.available(A));
    }

    @Test
    void adjustGivesBackAndChargesIntoDebt() {
        take(new Claim(A, 3, false));

        store.adjust(A, 1);
        long afterRefund = store.available(A);
        store.adjust(A, 10);
        long capped = store.available(A);
        store.adjust(A, -7);
        long inDebt = store.available(A);
        store.adjust(new BucketKey("unknown", BucketKey.Kind.TOKENS, FIVE_PER_MINUTE, "x"), -3);

        assertEquals(3, afterRefund);
        assertEquals(5, capped, "never above capacity");
        assertEquals(-2, inDebt);
        assertEquals(1, store.size(), "adjusting a bucket that does not exist creates none");
    }

    @Test
    void idleBucketsExpireAfterTheirInterval() {
        BucketKey hourly = new BucketKey("h", BucketKey.Kind.REQUESTS, new Bucket(5, Duration.ofHours(1)), "x");
        take(new Claim(A, 1, false), new Claim(hourly, 1, false));

        clock.advanceMillis(59_000);
        take(new Claim(A, 1, false));
        clock.advanceMillis(59_000);
        long afterTouch = store.size();
        clock.advanceMillis(1_000);
        long afterIdleMinute = store.size();
        clock.advanceMillis(3_600_000);

        assertEquals(2, afterTouch, "access keeps a bucket alive");
        assertEquals(1, afterIdleMinute, "the minute bucket idled for a minute");
        assertEquals(0, store.size());
    }

    @Test
    void keepsAtMostTheConfiguredNumberOfBuckets() {
        LocalBucketStore small = new LocalBucketStore(clock, 10, Runnable::run);

        for (int i = 0; i < 100; i++) {
            small.take(List.of(new Claim(new BucketKey("u", BucketKey.Kind.REQUESTS, FIVE_PER_MINUTE, "user-" + i), 1,
                                         false)));
        }

        assertTrue(small.size() <= 10, "size " + small.size());
    }

    @Test
    void rejectsEmptyClaimsAndBadAmounts() {
        assertThrows(IllegalArgumentException.class, () -> store.take(List.of()));
        assertThrows(IllegalArgumentException.class, () -> new Claim(A, 0, false));
        assertThrows(IllegalArgumentException.class, () -> new LocalBucketStore(clock, 0, null));
    }

    @Test
    void threadsHammeringOneBucketNeverGetMoreThanItsCapacity() {
        int capacity = 1_000;
        int threads = 8;
        int perThread = 2_000;
        BucketKey shared = new BucketKey("shared", BucketKey.Kind.REQUESTS,
                                         new Bucket(capacity, Duration.ofHours(1)), "");
        BucketKey wide = new BucketKey("wide", BucketKey.Kind.TOKENS, new Bucket(1_000_000, Duration.ofHours(1)), "");
        // Time stands still: no refill, so exactly `capacity` takes may succeed.
        LocalBucketStore concurrent = new LocalBucketStore(clock, 1000, null);

        int admitted = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<Integer>> results = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    results.add(pool.submit(() -> {
                        start.await();
                        int ok = 0;
                        for (int i = 0; i < perThread; i++) {
                            Outcome o = concurrent.take(List.of(new Claim(wide, 3, false), new Claim(shared, 1, false)))
                                    .toCompletableFuture().join();
                            ok += o.refused() < 0 ? 1 : 0;
                        }
                        return ok;
                    }));
                }
                start.countDown();
                int sum = 0;
                for (Future<Integer> f : results) {
                    sum += f.get(60, TimeUnit.SECONDS);
                }
                return sum;
            } finally {
                pool.shutdownNow();
            }
        });

        assertEquals(capacity, admitted);
        assertEquals(0, concurrent.available(shared));
        assertEquals(1_000_000 - 3L * capacity, concurrent.available(wide),
                     "refused requests gave back what they took from the other bucket");
    }

    private Outcome take(Claim... claims) {
        return store.take(List.of(claims)).toCompletableFuture().join();
    }
}
