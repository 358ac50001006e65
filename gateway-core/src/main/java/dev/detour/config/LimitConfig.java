package dev.detour.config;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * A rate limit: token buckets for requests and for LLM tokens, kept per scope.
 *
 * @param name     a name shown in errors, headers and metrics
 * @param scope    what the buckets are kept per: each client, team, route, end user, or one for all
 * @param requests the request bucket, or empty
 * @param tokens   the LLM-token bucket (prompt estimate plus max tokens, settled to actual usage), or empty
 * @param shadow   whether the limit only counts and reports what it would refuse, without refusing
 * @param match    which requests it applies to
 */
public record LimitConfig(String name, Scope scope, Optional<Bucket> requests, Optional<Bucket> tokens,
                          boolean shadow, Match match) {

    public LimitConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(requests, "requests");
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(match, "match");
        if (requests.isEmpty() && tokens.isEmpty()) {
            throw new IllegalArgumentException("limit '" + name + "': neither requests nor tokens");
        }
    }

    /** What a limit's buckets are kept per. */
    public enum Scope {
        /** One bucket per client key. */
        CLIENT,
        /** One bucket per team. */
        TEAM,
        /** One bucket per route (requested model). */
        ROUTE,
        /** One bucket per end user (OpenAI {@code user}, or {@code x-detour-user}). */
        USER,
        /** One bucket for everything. */
        GLOBAL;

        /** Returns the YAML spelling. */
        public String yamlName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
