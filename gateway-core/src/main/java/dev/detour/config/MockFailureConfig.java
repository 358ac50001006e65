package dev.detour.config;

import java.time.Duration;
import java.util.Objects;

/**
 * A scripted failure of the mock provider.
 *
 * @param key        id of the key this applies to, or {@code *} for every key
 * @param kind       what the mock answers instead of a success
 * @param retryAfter the {@code Retry-After} sent with {@code rate-limit}; zero sends none
 * @param times      how many requests fail before the key recovers; {@code 0} means always
 */
public record MockFailureConfig(String key, Kind kind, Duration retryAfter, int times) {

    public MockFailureConfig {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(retryAfter, "retryAfter");
        if (times < 0) {
            throw new IllegalArgumentException("times: " + times + " (expected: >= 0)");
        }
    }

    /** Returns whether this failure applies to the key with {@code keyId}. */
    public boolean appliesTo(String keyId) {
        return "*".equals(key) || key.equals(keyId);
    }

    /** What a scripted failure answers. */
    public enum Kind {
        /** 429 {@code rate_limit_exceeded}, with {@code Retry-After} when configured. */
        RATE_LIMIT("rate-limit"),
        /** 429 {@code insufficient_quota}. */
        INSUFFICIENT_QUOTA("insufficient-quota"),
        /** 401 {@code invalid_api_key}. */
        INVALID_KEY("invalid-key"),
        /** 500 {@code server_error}. */
        SERVER_ERROR("server-error"),
        /** 529-style overload, sent as 503 {@code server_is_overloaded}. */
        OVERLOADED("overloaded"),
        /** Never answers; the gateway's first-byte timeout fires. */
        TIMEOUT("timeout");

        private final String yamlName;

        Kind(String yamlName) {
            this.yamlName = yamlName;
        }

        /** Returns the YAML spelling, e.g. {@code rate-limit}. */
        public String yamlName() {
            return yamlName;
        }
    }
}
