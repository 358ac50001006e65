package dev.detour.cache;

import dev.detour.api.Endpoint;
import java.util.Objects;

/**
 * One stored answer: the complete OpenAI JSON ({@code chat.completion} or an embeddings list), whether
 * it reports token usage, and when it was stored and for how long it is served.
 *
 * <p>A streamed answer is stored assembled into the same {@code chat.completion} a non-streamed request
 * gets, so one entry serves both shapes. Immutable and thread-safe; the body array is never changed after
 * construction and never handed out to code that could change it.
 */
final class CachedAnswer {

    /** Bytes an entry costs beyond its body: key, entry object, array header and the cache's node. */
    static final int OVERHEAD = 160;

    private final Endpoint endpoint;
    private final byte[] body;
    private final boolean hasUsage;
    private final long storedNanos;
    private final long ttlNanos;
    private final long staleNanos;

    /**
     * Creates an answer.
     *
     * @param endpoint    the endpoint it answers
     * @param body        the answer's JSON; not copied
     * @param hasUsage    whether the JSON carries {@code usage}
     * @param storedNanos when it was stored, on the cache's clock
     * @param ttlNanos    how long it is served as fresh
     * @param staleNanos  how much longer it is kept for stale-on-exhaustion, or 0
     */
    CachedAnswer(Endpoint endpoint, byte[] body, boolean hasUsage, long storedNanos, long ttlNanos,
                 long staleNanos) {
        this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
        this.body = Objects.requireNonNull(body, "body");
        this.hasUsage = hasUsage;
        this.storedNanos = storedNanos;
        if (ttlNanos <= 0) {
            throw new IllegalArgumentException("ttlNanos: " + ttlNanos + " (expected: > 0)");
        }
        if (staleNanos < 0) {
            throw new IllegalArgumentException("staleNanos: " + staleNanos + " (expected: >= 0)");
        }
        this.ttlNanos = ttlNanos;
        this.staleNanos = staleNanos;
    }

    Endpoint endpoint() {
        return endpoint;
    }

    /** Returns the JSON body; callers must not change it. */
    byte[] body() {
        return body;
    }

    boolean hasUsage() {
        return hasUsage;
    }

    long storedNanos() {
        return storedNanos;
    }

    long ttlNanos() {
        return ttlNanos;
    }

    long staleNanos() {
        return staleNanos;
    }

    /** Returns how long the cache keeps it: its ttl plus its stale window, saturating. */
    long lifetimeNanos() {
        long sum = ttlNanos + staleNanos;
        return sum < 0 ? Long.MAX_VALUE : sum;
    }

    /** Returns its age at {@code nowNanos}. */
    long ageNanos(long nowNanos) {
        return Math.max(0, nowNanos - storedNanos);
    }

    /** Returns what it weighs in the cache's byte bound. */
    int weight() {
        return (int) Math.min(Integer.MAX_VALUE, (long) body.length + OVERHEAD);
    }
}
