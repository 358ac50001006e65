package dev.detour.ratelimit;

import dev.detour.time.NanoClock;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionStage;

/**
 * Where token buckets live: in this process ({@link #newLocal(NanoClock)}), or, later, in a store shared by
 * several gateways.
 *
 * <p>A request's claims on all the buckets that apply to it are made in one {@link #take(List)} call, all or
 * nothing, and answered as a {@link CompletionStage}: the local store answers with a completed stage (the
 * filter then continues inline, on the event loop), while a networked store can answer later without
 * blocking anyone. A networked store can also make the whole take atomic in one round trip (e.g. one
 * script), which the local store approximates by giving back what it took when a later claim fails.
 *
 * <p>Implementations are thread-safe.
 */
public interface BucketStore {

    /** How many buckets a local store keeps at most unless told otherwise. */
    long DEFAULT_MAXIMUM_BUCKETS = 100_000;

    /** What {@link #peek(BucketKey)} answers when the store cannot tell without a round trip. */
    long UNKNOWN = Long.MIN_VALUE;

    /** Returns a new in-memory store timed by {@code clock}, keeping at most {@link #DEFAULT_MAXIMUM_BUCKETS}. */
    static BucketStore newLocal(NanoClock clock) {
        return new LocalBucketStore(clock, DEFAULT_MAXIMUM_BUCKETS, null);
    }

    /** Returns a new in-memory store timed by {@code clock}, keeping at most {@code maximumBuckets}. */
    static BucketStore newLocal(NanoClock clock, long maximumBuckets) {
        return new LocalBucketStore(clock, maximumBuckets, null);
    }

    /**
     * Takes {@link Claim#amount()} units from each claim's bucket, creating full buckets on first use. If an
     * enforcing (non-shadow) claim cannot be met, nothing is taken from any bucket and the outcome names that
     * claim; a shadow claim that cannot be met takes nothing and does not stop the others.
     *
     * @param claims the claims, in the order they are checked; not empty
     */
    CompletionStage<Outcome> take(List<Claim> claims);

    /**
     * Returns how many units {@code key}'s bucket holds now, without taking any and without creating it: its
     * capacity when it does not exist yet (a new bucket starts full), a negative number while it pays off a
     * debt, or {@link #UNKNOWN} when the store cannot tell cheaply, which is the default (a networked store).
     *
     * <p>Not atomic with {@link #take(List)}: by the time of a take the level may have changed. The rate limiter
     * uses it only to choose how exactly to estimate a request's tokens, never to admit or refuse one.
     */
    default long peek(BucketKey key) {
        return UNKNOWN;
    }

    /**
     * Gives back ({@code delta > 0}) or charges ({@code delta < 0}) units to an existing bucket, without
     * limit: a charge may leave the bucket in debt, which refill pays off first. Used to settle a token
     * reservation against actual usage. Returns at once; a networked store applies it asynchronously.
     */
    void adjust(BucketKey key, long delta);

    /**
     * Returns the levels of the buckets this store holds now, for admin views: at most {@code maxPerLimit} buckets
     * per limit name, in no particular order. Reading a level neither takes from a bucket nor keeps it alive. A
     * store that cannot list its buckets cheaply (a networked one) returns none.
     */
    default List<Level> levels(int maxPerLimit) {
        return List.of();
    }

    /**
     * How full one bucket is.
     *
     * @param key       the bucket
     * @param available the units it holds now; negative while a charge beyond its content is being paid off
     */
    record Level(BucketKey key, long available) {

        public Level {
            Objects.requireNonNull(key, "key");
        }
    }

    /**
     * A claim on one bucket.
     *
     * @param key    the bucket
     * @param amount how many units to take, at least 1
     * @param shadow whether failing this claim only counts as a would-be refusal
     */
    record Claim(BucketKey key, long amount, boolean shadow) {

        public Claim {
            Objects.requireNonNull(key, "key");
            if (amount < 1) {
                throw new IllegalArgumentException("amount: " + amount + " (expected: >= 1)");
            }
        }
    }

    /**
     * What a {@link #take(List)} found, claim by claim. Immutable.
     */
    final class Outcome {

        private final boolean[] taken;
        private final long[] remaining;
        private final long[] nanosToWait;
        private final long[] nanosToFull;
        private final int refused;

        private Outcome(boolean[] taken, long[] remaining, long[] nanosToWait, long[] nanosToFull, int refused) {
            this.taken = taken;
            this.remaining = remaining;
            this.nanosToWait = nanosToWait;
            this.nanosToFull = nanosToFull;
            this.refused = refused;
        }

        /**
         * Returns an outcome of {@code n} claims; the arrays are owned by the outcome from then on.
         *
         * @param taken       whether each claim's units were taken (all false when refused)
         * @param remaining   units left in each bucket afterwards, never negative
         * @param nanosToWait for a claim not met, how long until its amount is available
         *                    ({@link Long#MAX_VALUE}: never, the amount exceeds the capacity); else 0
         * @param nanosToFull how long until each bucket is full again
         * @param refused     the index of the enforcing claim that was not met, or -1; claims after it were
         *                    not checked
         */
        public static Outcome of(boolean[] taken, long[] remaining, long[] nanosToWait, long[] nanosToFull,
                                 int refused) {
            int n = taken.length;
            if (remaining.length != n || nanosToWait.length != n || nanosToFull.length != n) {
                throw new IllegalArgumentException("arrays of different lengths");
            }
            if (refused < -1 || refused >= n) {
                throw new IllegalArgumentException("refused: " + refused + " (expected: -1 to " + (n - 1) + ")");
            }
            return new Outcome(taken, remaining, nanosToWait, nanosToFull, refused);
        }

        /** Returns the index of the enforcing claim that was not met, or -1 when the request may pass. */
        public int refused() {
            return refused;
        }

        /** Returns whether claim {@code i} was checked (every claim, unless one before it refused). */
        public boolean checked(int i) {
            return refused < 0 || i <= refused;
        }

        /** Returns whether claim {@code i}'s units were taken. */
        public boolean taken(int i) {
            return taken[i];
        }

        /** Returns the units left in claim {@code i}'s bucket. */
        public long remaining(int i) {
            return remaining[i];
        }

        /** Returns how long until claim {@code i}'s amount is available, if it was not met; else 0. */
        public long nanosToWait(int i) {
            return nanosToWait[i];
        }

        /** Returns how long until claim {@code i}'s bucket is full again. */
        public long nanosToFull(int i) {
            return nanosToFull[i];
        }
    }
}
