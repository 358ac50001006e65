package dev.detour.provider;

import java.util.Objects;

/**
 * What an upstream's answer means for routing: whether the key, the target or the request is at fault,
 * and how long to stay away. Adapters classify; key pools and the router act on it.
 *
 * @param kind        the classification
 * @param waitNanos   how long the provider asks to wait (its reset hint), or {@link #NO_HINT}
 * @param detail      a short, secret-free reason for logs and admin views (e.g. {@code rate_limit_exceeded})
 */
public record UpstreamVerdict(Kind kind, long waitNanos, String detail) {

    /** No wait hint was given. */
    public static final long NO_HINT = -1;

    /** A success with no limit in sight. */
    public static final UpstreamVerdict OK = new UpstreamVerdict(Kind.SUCCESS, NO_HINT, "ok");

    public UpstreamVerdict {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(detail, "detail");
    }

    /** Returns a verdict of {@code kind} with no wait hint. */
    public static UpstreamVerdict of(Kind kind, String detail) {
        return new UpstreamVerdict(kind, NO_HINT, detail);
    }

    /** Returns whether a wait hint is known. */
    public boolean hasHint() {
        return waitNanos >= 0;
    }

    /** The outcomes that drive key rotation and fallback. */
    public enum Kind {
        /** Served. A wait hint here means a limit announced {@code remaining: 0}: cool the key proactively. */
        SUCCESS,
        /** A per-minute or per-second window is full: cool the key (or its quota group) for the hint. */
        RATE_LIMITED,
        /** Quota, spend cap or credit is gone: take the key out for a long time, then probe. */
        QUOTA_EXHAUSTED,
        /** The provider or model lacks capacity for everyone: keep the key, try another target. */
        OVERLOADED,
        /** The key is rejected (401/403): disable it until an operator acts. */
        KEY_INVALID,
        /** The prompt exceeds the model's context: only a larger-context target can help. */
        CONTEXT_TOO_LONG,
        /** This one request exceeds the pool's per-minute token limit: no key of this pool can take it. */
        TOO_LARGE_FOR_POOL,
        /** The model does not exist for this key or deployment: try the next target. */
        MODEL_NOT_FOUND,
        /** The client's request is wrong (400, 422): return it, never retry. */
        CLIENT_ERROR,
        /** The provider failed (5xx other than overload): another target may succeed. */
        SERVER_ERROR,
        /** No answer: connection refused or reset before anything was sent. */
        CONNECT_FAILED,
        /** No answer in time. */
        TIMEOUT
    }
}
