package dev.detour.ratelimit;

import dev.detour.config.Bucket;
import dev.detour.config.LimitConfig;
import dev.detour.config.Match;
import dev.detour.filter.Caller;
import dev.detour.filter.RequestContext;
import java.util.Map;

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
    private final Match match;
    private final String[] metadataKeys;
    private final String[] metadataGlobs;

    Limit(LimitConfig config, RateLimitStats.Counters counters) {
        this.name = config.name();
        this.scope = config.scope();
        this.shadow = config.shadow();
        this.requests = config.requests().orElse(null);
        this.tokens = config.tokens().orElse(null);
        this.counters = counters != null ? counters : new RateLimitStats.Counters();
        Match m = config.match();
        boolean any = m.clients().isEmpty() && m.teams().isEmpty() && m.tiers().isEmpty() && m.routes().isEmpty()
                      && m.priority().isEmpty() && m.metadata().isEmpty();
        this.match = any ? null : m;
        this.metadataKeys = new String[m.metadata().size()];
        this.metadataGlobs = new String[metadataKeys.length];
        int i = 0;
        for (Map.Entry<String, String> e : m.metadata().entrySet()) {
            metadataKeys[i] = e.getKey();
            metadataGlobs[i++] = e.getValue();
        }
    }

    /** Returns whether the request's context meets every condition of the limit's {@code match}. */
    boolean matches(RequestContext ctx) {
        if (match == null) {
            return true;
        }
        Caller caller = ctx.caller();
        if (!Match.anyGlob(match.clients(), caller.client())
            || !Match.anyGlob(match.teams(), caller.team())
            || !Match.anyGlob(match.tiers(), ctx.tier())
            || !Match.anyGlob(match.routes(), ctx.route().model())
            || !Match.anyGlob(match.priority(), ctx.priority())) {
            return false;
        }
        for (int i = 0; i < metadataKeys.length; i++) {
            String value = caller.metadata().get(metadataKeys[i]);
            if (value == null || !Match.glob(metadataGlobs[i], value)) {
                return false;
            }
        }
        return true;
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
