package dev.detour.policy;

import dev.detour.config.ChainConfig;
import dev.detour.config.LimitConfig;
import dev.detour.config.PolicyConfig;
import dev.detour.error.ErrorKind;
import dev.detour.error.ErrorResponses;
import dev.detour.filter.Caller;
import dev.detour.filter.ContextMatcher;
import dev.detour.filter.FilterChain;
import dev.detour.filter.FilterOrder;
import dev.detour.filter.GatewayFilter;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import dev.detour.keys.KeyPool;
import dev.detour.keys.KeyState;
import dev.detour.ratelimit.RateLimitFilter;
import dev.detour.routing.Route;
import dev.detour.routing.RouteTable;
import dev.detour.routing.Target;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Resolves a request's context and applies the first policy that matches it.
 *
 * <p>Context: {@code x-detour-user}, {@code x-detour-session}, {@code x-detour-priority} and
 * {@code x-detour-tier} are honoured only where the client key may override them (headers a client may
 * not set are ignored, so a client cannot promote itself). A policy then matches on client, team, tier,
 * requested model, priority and the client's metadata from config, and may:
 * <ul>
 *   <li>add limits, which the rate-limit filter reads under {@link RateLimitFilter#POLICY_LIMITS};</li>
 *   <li>map the requested model to another route (critical traffic to a reserved pool);</li>
 *   <li>refuse lower-priority traffic with 429 while the route's available key capacity is below a
 *       reserve, so that interactive and critical traffic keeps getting through.</li>
 * </ul>
 * The matched policy is named in the {@code x-detour-policy} response header.
 *
 * <p>Stateless and thread-safe; built once per config.
 */
public final class PolicyFilter implements GatewayFilter {

    private static final List<String> PRIORITIES = List.of("critical", "interactive", "batch");

    private final List<PolicyConfig> policies;
    /** The {@code match} of each policy, in the same order. */
    private final ContextMatcher[] matchers;
    private final RouteTable routes;

    /** Creates a filter for the policies of {@code chain}, remapping within {@code routes}. */
    public PolicyFilter(ChainConfig chain, RouteTable routes) {
        this.policies = List.copyOf(chain.policies());
        this.matchers = new ContextMatcher[policies.size()];
        for (int i = 0; i < matchers.length; i++) {
            matchers[i] = ContextMatcher.of(policies.get(i).match());
        }
        this.routes = Objects.requireNonNull(routes, "routes");
    }

    @Override
    public int order() {
        return FilterOrder.POLICY;
    }

    @Override
    public String name() {
        return "policy";
    }

    @Override
    public CompletionStage<GatewayResponse> filter(RequestContext ctx, FilterChain next) {
        GatewayResponse invalid = resolveContext(ctx);
        if (invalid != null) {
            return CompletableFuture.completedFuture(invalid);
        }
        PolicyConfig policy = match(ctx);
        if (policy == null) {
            return next.proceed(ctx);
        }
        ctx.policy(policy.name());
        if (!policy.limits().isEmpty()) {
            ctx.attr(RateLimitFilter.POLICY_LIMITS, policy.limits());
        }
        String mapped = policy.routes().get(ctx.route().model());
        if (mapped != null) {
            Route target = routes.route(mapped);
            if (target != null) {
                ctx.route(target);
            }
        }
        PolicyConfig.Admission admission = policy.admission();
        if (admission.reserve() > 0 && admission.refuse().contains(ctx.priority())) {
            GatewayResponse refused = admit(ctx, policy);
            if (refused != null) {
                return CompletableFuture.completedFuture(withPolicy(refused, policy.name()));
            }
        }
        String name = policy.name();
        return next.proceed(ctx).thenApply(response -> withPolicy(response, name));
    }

    /** Reads the context headers the caller may set; returns an error for a malformed priority. */
    private static GatewayResponse resolveContext(RequestContext ctx) {
        Caller caller = ctx.caller();
        if (caller.canOverride().contains("user")) {
            String user = header(ctx, "x-detour-user");
            if (user != null) {
                ctx.endUser(user);
            }
        }
        if (caller.canOverride().contains("session")) {
            ctx.session(header(ctx, "x-detour-session"));
        }
        if (caller.canOverride().contains("tier")) {
            String tier = header(ctx, "x-detour-tier");
            if (tier != null) {
                ctx.tier(tier);
            }
        }
        if (caller.canOverride().contains("priority")) {
            String priority = header(ctx, "x-detour-priority");
            if (priority != null) {
                if (!PRIORITIES.contains(priority)) {
                    return ErrorResponses.of(ErrorKind.INVALID_REQUEST, "x-detour-priority '" + priority
                            + "' is not a priority (expected: critical, interactive or batch).", "invalid_priority",
                            null);
                }
                ctx.priority(priority);
            }
        }
        return null;
    }

    private static String header(RequestContext ctx, String name) {
        String value = ctx.headers().get(name);
        if (value == null || value.isEmpty() || value.length() > 256) {
            return null;
        }
        return value;
    }

    /** Returns the first policy matching {@code ctx}, or {@code null}. */
    PolicyConfig match(RequestContext ctx) {
        for (int i = 0; i < matchers.length; i++) {
            if (matchers[i].matches(ctx)) {
                return policies.get(i);
            }
        }
        return null;
    }

    /**
     * Refuses the request when the share of the route's keys that can take a request now is below the
     * policy's reserve. Counts each key pool once, across the route's targets.
     */
    private GatewayResponse admit(RequestContext ctx, PolicyConfig policy) {
        Map<KeyPool, Boolean> seen = new IdentityHashMap<>();
        int total = 0;
        int available = 0;
        long soonest = Long.MAX_VALUE;
        for (Target t : ctx.route().targets()) {
            if (seen.put(t.keys(), Boolean.TRUE) != null) {
                continue;
            }
            for (KeyPool.KeySnapshot k : t.keys().snapshot()) {
                total++;
                if (k.state() == KeyState.AVAILABLE) {
                    available++;
                } else if (k.unavailableNanos() > 0 && (soonest == Long.MAX_VALUE || k.unavailableNanos() < soonest)) {
                    soonest = k.unavailableNanos(); // capacity grows again when the first key returns
                }
            }
        }
        double share = total == 0 ? 1 : (double) available / total;
        if (share >= policy.admission().reserve()) {
            return null;
        }
        long retryNanos = soonest == Long.MAX_VALUE ? 1_000_000_000L : soonest;
        long seconds = Math.max(1, (retryNanos + 999_999_999L) / 1_000_000_000L);
        GatewayResponse.Full error = ErrorResponses.of(ErrorKind.RATE_LIMITED, "Capacity for model '"
                + ctx.route().model() + "' is reserved for higher-priority traffic: " + available + " of " + total
                + " keys are available, below the reserve of policy '" + policy.name() + "' ("
                + Math.round(policy.admission().reserve() * 100) + "%), and this request's priority is '"
                + ctx.priority() + "'. Retry after " + seconds + " s.", "capacity_reserved", null);
        return new GatewayResponse.Full(error.status(), error.headers().with("retry-after", Long.toString(seconds))
                .with("retry-after-ms", Long.toString(Math.max(1, retryNanos / 1_000_000))), error.body());
    }

    private static GatewayResponse withPolicy(GatewayResponse response, String policy) {
        Headers headers = response.headers().with("x-detour-policy", policy);
        if (response instanceof GatewayResponse.Full full) {
            return new GatewayResponse.Full(full.status(), headers, full.body());
        }
        GatewayResponse.Relayed relayed = (GatewayResponse.Relayed) response;
        return new GatewayResponse.Relayed(relayed.status(), headers, relayed.body());
    }
}
