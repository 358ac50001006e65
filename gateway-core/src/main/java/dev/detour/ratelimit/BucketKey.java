package dev.detour.ratelimit;

import dev.detour.config.Bucket;
import java.util.Objects;

/**
 * Names one token bucket: a limit, what it counts, the bucket's shape, and the scope value it is kept for.
 *
 * <p>The shape is part of the key so that a config reload keeps the buckets of unchanged limits (equal keys)
 * and starts afresh those whose capacity or interval changed.
 *
 * @param limit    the limit's name (unique across the config)
 * @param kind     what the bucket counts
 * @param bucket   its capacity and refill interval
 * @param scopeKey the client, team, route or end user it is kept for; empty for a global limit
 */
public record BucketKey(String limit, Kind kind, Bucket bucket, String scopeKey) {

    public BucketKey {
        Objects.requireNonNull(limit, "limit");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(bucket, "bucket");
        Objects.requireNonNull(scopeKey, "scopeKey");
    }

    /** What a bucket counts. */
    public enum Kind {
        /** Requests: one unit per request. */
        REQUESTS,
        /** LLM tokens: the prompt estimate plus the completion allowance, settled to actual usage. */
        TOKENS
    }
}
