package dev.detour.config;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** The outcomes that move a request on to another key or target. */
public enum RetryTrigger {
    /** 429 rate limit: the next key, then the next target. */
    RATE_LIMIT,
    /** Quota, billing or credit exhausted: the next key, then the next target. */
    QUOTA,
    /** The provider rejected the key: the next key. */
    INVALID_KEY,
    /** The provider or model is overloaded (503, 529): the next target. */
    OVERLOADED,
    /** Other 5xx: the next target. */
    SERVER_ERROR,
    /** No answer in time: the next target. */
    TIMEOUT,
    /** No connection: the next target. */
    CONNECT,
    /** The model does not exist for this provider or deployment: the next target. */
    MODEL_NOT_FOUND,
    /** The prompt is too long for the model: the route's {@code context-fallback} target. */
    CONTEXT_LENGTH;

    /** Every trigger: the default. */
    public static Set<RetryTrigger> all() {
        return EnumSet.allOf(RetryTrigger.class);
    }

    /** Returns the YAML spelling, e.g. {@code rate-limit}. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
