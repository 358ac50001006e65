package dev.detour.ratelimit;

import dev.detour.config.Bucket;
import dev.detour.config.LimitConfig;
import dev.detour.filter.ContextMatcher;
import dev.detour.filter.RequestContext;

/**
 * A {@link LimitConfig} prepared for the hot path: its match conditions as arrays, its keys and its counters.
 * Immutable.
 */
final class Limit {

    final String name;
    final LimitConfig.Scope scope;
    final boolean shadow;
    /** The request bucket, or {@code null}. */
    final Bucket requests;
    /** The token bucket, or {@code null}. */
    final Bucket tokens;
    final RateLimitStats.Counters counters;
    /** {@code null} when the limit applies to every request that has its scope. */
    private final ContextMatcher match;

    Limit(LimitConfig config, RateLimitStats.Counters counters) {
        this.name = config.name();
        this.scope = config.scope();
        this.shadow = config.shadow();
        this.requests = config.requests().orElse(null);
        this.tokens = config.tokens().orElse(null);
        this.counters = counters != null ? counters : new RateLimitStats.Counters();
        this.match = ContextMatcher.of(config.match());
    }

    /** Returns whether the request's context meets every condition of the limit's {@code match}. */
    boolean matches(RequestContext ctx) {
        return match.matches(ctx);
    }

    /**
     * Returns what the limit's buckets are kept per for this request: the client, team, route or end user, or
     * the empty string for a global limit; {@code null} when the request has no such value (no end user), in
     * which case the limit does not apply.
     */
    String scopeKey(RequestContext ctx) {
        switch (scope) {
            case CLIENT:
                return ctx.caller().client();
            case TEAM:
                return ctx.caller().team();
            case ROUTE:
                return ctx.route().model();
            case USER:
                String user = ctx.endUser();
                return user == null || user.isBlank() ? null : user;
            case GLOBAL:
            default:
                return "";
        }
    }

    /** Returns the scope for people: {@code team 'growth'}, {@code all traffic}. */
    String describeScope(String scopeKey) {
        switch (scope) {
            case CLIENT:
                return "client " + quote(scopeKey);
            case TEAM:
                return "team " + quote(scopeKey);
            case ROUTE:
                return "route " + quote(scopeKey);
            case USER:
                return "user " + quote(scopeKey);
            case GLOBAL:
            default:
                return "all traffic";
        }
    }

    private static String quote(String value) {
        // Scope values come from config or from the client (end user ids): shorten, never interpret.
        String v = value.length() > 64 ? value.substring(0, 61) + "..." : value;
        return "'" + v + "'";
    }
}
