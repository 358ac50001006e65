package dev.detour.cache;

import dev.detour.api.Endpoint;
import dev.detour.config.CacheConfig;
import dev.detour.config.GatewayConfig;
import dev.detour.config.RouteCacheConfig;
import dev.detour.config.RouteConfig;
import dev.detour.config.TargetConfig;
import dev.detour.error.ErrorKind;
import dev.detour.error.ErrorResponses;
import dev.detour.filter.AttributeKey;
import dev.detour.filter.FilterChain;
import dev.detour.filter.FilterOrder;
import dev.detour.filter.GatewayFilter;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import dev.detour.routing.DispatchFilter;
import dev.detour.time.NanoClock;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The response cache in the filter chain: answers a repeated request from a {@link ResponseCache}
 * without calling the upstream, and stores complete successful answers on their way to the client.
 *
 * <p>Per request, on a route whose cache is enabled (other routes pass through untouched, without a header):
 * <ol>
 *   <li>The key: SHA-256 of the endpoint, the scope value (the caller's team by default), the route and the
 *       canonical body ({@link CacheKeys}). Legacy completions, and bodies that are not a JSON object, are
 *       passed on with {@code x-detour-cache: BYPASS}.</li>
 *   <li>Unless {@code Cache-Control: no-cache}: an entry younger than its ttl (and than the request's
 *       {@code max-age}) is served as JSON, or replayed as an event stream to a streaming request
 *       ({@code HIT}, with {@code Age}).</li>
 *   <li>Otherwise the request goes on ({@code MISS}); if an identical request is already on its way, it
 *       waits for that one's answer instead ({@link SingleFlight}), and is answered as a {@code HIT}.</li>
 *   <li>A {@code 200} answer is stored (unless {@code no-store}): a body in memory at once, a relayed one
 *       as it passes ({@link AnswerCapture}) once it has ended normally, never one over the entry size
 *       limit.</li>
 *   <li>When the dispatcher gave up (every key exhausted, every target failing) with a 429 or 5xx, a route
 *       with {@code stale-if-exhausted} serves an entry up to that much past its ttl ({@code STALE}).</li>
 * </ol>
 *
 * <p>Threading: stateless per request and thread-safe; state lives in the {@link ResponseCache}, which
 * outlives config versions. Work that resumes on another thread (a leader's answer landing) moves back to
 * the request's executor first.
 */
public final class CacheFilter implements GatewayFilter {

    /** The response header saying what the cache did: {@code HIT}, {@code MISS}, {@code BYPASS}, {@code STALE}. */
    public static final String HEADER = "x-detour-cache";

    /** What the cache did with the request, for the access log and metrics; absent when the route does not cache. */
    public static final AttributeKey<CacheOutcome> OUTCOME = AttributeKey.newKey("cache-outcome");

    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final ResponseCache cache;
    private final NanoClock clock;
    private final Map<String, RoutePolicy> policies;
    private final long maxTtlNanos;
    private final long singleFlightNanos;
    private final int order;

    private CacheFilter(CacheConfig global, Map<String, RoutePolicy> policies, ResponseCache cache) {
        this.cache = Objects.requireNonNull(cache, "cache");
        this.clock = cache.clock();
        this.policies = Map.copyOf(policies);
        this.maxTtlNanos = saturatedNanos(global.maxTtl());
        this.singleFlightNanos = saturatedNanos(global.singleFlightTimeout());
        this.order = global.countHitsTowardLimits() ? FilterOrder.CACHE : FilterOrder.CACHE_BEFORE_LIMITS;
    }

    /**
     * Returns the filter for {@code config}, storing in {@code cache}, or empty when no route enables caching
     * (then the chain has no cache filter at all).
     */
    public static Optional<CacheFilter> of(GatewayConfig config, ResponseCache cache) {
        CacheConfig global = config.cache();
        Map<String, RoutePolicy> policies = new HashMap<>();
        for (RouteConfig route : config.routes()) {
            RouteCacheConfig rc = route.cache();
            if (rc.enabled()) {
                policies.put(route.model(), new RoutePolicy(
                        saturatedNanos(rc.ttl().orElse(global.ttl())),
                        saturatedNanos(rc.staleIfExhausted().orElse(java.time.Duration.ZERO)),
                        rc.scope().orElse(global.scope()),
                        (int) Math.min(Integer.MAX_VALUE, rc.maxEntrySize().orElse(global.maxEntrySize())),
                        fingerprint(route)));
            }
        }
        return policies.isEmpty() ? Optional.empty() : Optional.of(new CacheFilter(global, policies, cache));
    }

    @Override
    public int order() {
        return order;
    }

    @Override
    public String name() {
        return "cache";
    }

    @Override
    public CompletionStage<GatewayResponse> filter(RequestContext ctx, FilterChain next) {
        RoutePolicy policy = policies.get(ctx.route().model());
        if (policy == null) {
            return next.proceed(ctx); // caching is off for the route: no key, no header
        }
        if (ctx.endpoint() == Endpoint.COMPLETIONS) {
            return bypass(ctx, next); // legacy completions are not cached
        }
        CacheControl control;
        try {
            control = CacheControl.of(ctx.headers(), maxTtlNanos);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(ErrorResponses.of(ErrorKind.INVALID_REQUEST, e.getMessage(),
                                                                       "invalid_cache_header", null));
        }
        CacheKey key = keyOf(ctx, policy);
        if (key == null) {
            return bypass(ctx, next); // not a JSON object: the provider will say what is wrong with it
        }
        if (control.noCache()) {
            return fetch(ctx, next, key, policy, control, null, CacheOutcome.BYPASS);
        }
        long now = clock.nanoTime();
        CachedAnswer found = cache.get(key);
        if (found != null && usable(found, ctx, control, now, found.ttlNanos())) {
            GatewayResponse.Full hit = serve(ctx, found, CacheOutcome.HIT, now, false);
            if (hit != null) {
                return CompletableFuture.completedFuture(hit);
            }
        }
        if (control.noStore() || singleFlightNanos <= 0) {
            return fetch(ctx, next, key, policy, control, null, CacheOutcome.MISS);
        }
        SingleFlight.Seat seat = cache.flights().join(key);
        if (seat.leader()) {
            return fetch(ctx, next, key, policy, control, seat.flight(), CacheOutcome.MISS);
        }
        return follow(ctx, next, key, policy, control, seat.flight());
    }

    private CompletionStage<GatewayResponse> bypass(RequestContext ctx, FilterChain next) {
        ctx.attr(OUTCOME, CacheOutcome.BYPASS);
        cache.countBypass();
        return next.proceed(ctx).thenApply(response -> withOutcome(response, CacheOutcome.BYPASS));
    }

    /** Sends the request on; stores the answer unless {@code no-store}, and lands {@code flight} in every case. */
    private CompletionStage<GatewayResponse> fetch(RequestContext ctx, FilterChain next, CacheKey key,
                                                   RoutePolicy policy, CacheControl control,
                                                   SingleFlight.Flight flight, CacheOutcome outcome) {
        ctx.attr(OUTCOME, outcome);
        if (outcome == CacheOutcome.BYPASS) {
            cache.countBypass();
        } else {
            cache.countMiss();
        }
        if (flight != null) {
            // Whatever happens (an error, a client gone mid-stream), followers must not wait for nothing.
            ctx.onComplete(() -> cache.flights().land(key, flight, null));
        }
        if (!control.noStore() && ctx.stream()) {
            // A stored stream should carry its usage, so that it can serve JSON requests and usage chunks.
            ctx.needsUsage(true);
        }
        return next.proceed(ctx)
                .thenApply(response -> answered(ctx, key, policy, control, flight, outcome, response));
    }

    private GatewayResponse answered(RequestContext ctx, CacheKey key, RoutePolicy policy, CacheControl control,
                                     SingleFlight.Flight flight, CacheOutcome outcome, GatewayResponse response) {
        int status = response.status();
        if (status == 200 && !control.noStore()) {
            store(ctx, key, policy, control, flight, response);
        } else {
            land(key, flight, null);
            GatewayResponse stale = staleAnswer(ctx, key, policy, control, status);
            if (stale != null) {
                if (response instanceof GatewayResponse.Relayed relayed) {
                    relayed.body().abort();
                }
                return stale;
            }
        }
        return withOutcome(response, outcome);
    }

    /** Returns a stale entry when the route may serve one instead of {@code status}, or {@code null}. */
    private GatewayResponse staleAnswer(RequestContext ctx, CacheKey key, RoutePolicy policy, CacheControl control,
                                        int status) {
        if (policy.staleNanos <= 0 || status != 429 && status < 500 || ctx.attr(DispatchFilter.GAVE_UP) == null
            || control.noCache() || control.maxAgeNanos() >= 0) {
            return null; // a client that asked for fresh answers, or a failure the route did not give up on
        }
        CachedAnswer old = cache.get(key);
        long now = clock.nanoTime();
        long limit = old == null ? 0 : old.ttlNanos() + policy.staleNanos;
        if (old == null || !usable(old, ctx, control, now, limit < 0 ? Long.MAX_VALUE : limit)) {
            return null;
        }
        return serve(ctx, old, CacheOutcome.STALE, now, false);
    }

    private void store(RequestContext ctx, CacheKey key, RoutePolicy policy, CacheControl control,
                       SingleFlight.Flight flight, GatewayResponse response) {
        if (response instanceof GatewayResponse.Full full) {
            land(key, flight, storeNow(ctx, key, policy, control, full.body()));
            return;
        }
        GatewayResponse.Relayed relayed = (GatewayResponse.Relayed) response;
        boolean eventStream = relayed.body().isEventStream();
        if (relayed.headers().get("content-encoding") != null || eventStream != ctx.stream()) {
            land(key, flight, null); // compressed, or not the shape asked for: nothing Detour can replay
            return;
        }
        AnswerCapture.Result result = (json, tooLarge) -> {
            CachedAnswer stored = null;
            if (tooLarge) {
                cache.countTooLarge();
            } else if (json != null) {
                stored = storeNow(ctx, key, policy, control, json);
            }
            land(key, flight, stored);
        };
        AnswerCapture capture = eventStream ? AnswerCapture.ofStream(policy.maxEntrySize, ctx.usage(), result)
                                            : AnswerCapture.ofBody(policy.maxEntrySize, result);
        if (!relayed.body().observe(capture)) {
            land(key, flight, null);
        }
    }

    /** Stores a complete answer; returns it, or {@code null} when it is too large or incomplete. */
    private CachedAnswer storeNow(RequestContext ctx, CacheKey key, RoutePolicy policy, CacheControl control,
                                  byte[] body) {
        if (body.length > policy.maxEntrySize) {
            cache.countTooLarge();
            return null;
        }
        int check = AnswerCheck.check(ctx.endpoint(), body);
        if (check == AnswerCheck.NOT_STORABLE) {
            return null;
        }
        long ttl = control.ttlNanos() > 0 ? control.ttlNanos() : policy.ttlNanos;
        CachedAnswer answer = new CachedAnswer(ctx.endpoint(), body, check == AnswerCheck.WITH_USAGE,
                                               clock.nanoTime(), ttl, policy.staleNanos);
        cache.put(key, answer);
        return answer;
    }

    private void land(CacheKey key, SingleFlight.Flight flight, CachedAnswer answer) {
        if (flight != null) {
            cache.flights().land(key, flight, answer);
        }
    }

    /** Waits for the leader's answer; without one (none stored, or too late), goes upstream itself. */
    private CompletionStage<GatewayResponse> follow(RequestContext ctx, FilterChain next, CacheKey key,
                                                    RoutePolicy policy, CacheControl control,
                                                    SingleFlight.Flight flight) {
        CompletableFuture<CachedAnswer> waited = cache.flights().await(flight, ctx.executor(), singleFlightNanos);
        CompletableFuture<GatewayResponse> result = new CompletableFuture<>();
        waited.whenComplete((answer, error) -> {
            Runnable resume = () -> {
                try {
                    long now = clock.nanoTime();
                    if (answer != null && usable(answer, ctx, control, now, answer.ttlNanos())) {
                        GatewayResponse.Full hit = serve(ctx, answer, CacheOutcome.HIT, now, true);
                        if (hit != null) {
                            result.complete(hit);
                            return;
                        }
                    }
                    fetch(ctx, next, key, policy, control, null, CacheOutcome.MISS).whenComplete((r, e) -> {
                        if (e != null) {
                            result.completeExceptionally(e);
                        } else {
                            result.complete(r);
                        }
                    });
                } catch (RuntimeException e) {
                    result.completeExceptionally(e);
                }
            };
            // The leader's landing runs on the leader's thread; this request belongs to its own executor.
            if (ctx.executor().inExecutor()) {
                resume.run();
            } else {
                ctx.executor().execute(resume);
            }
        });
        return result;
    }

    /**
     * Returns whether {@code answer} may answer {@code ctx} at {@code now}: at most {@code limitNanos} old
     * and within the request's {@code max-age}, and, for an answer stored without usage, only to a stream
     * that did not ask for a usage chunk.
     */
    private static boolean usable(CachedAnswer answer, RequestContext ctx, CacheControl control, long now,
                                  long limitNanos) {
        long age = answer.ageNanos(now);
        if (age > limitNanos || control.maxAgeNanos() >= 0 && age > control.maxAgeNanos()) {
            return false;
        }
        return answer.hasUsage() || ctx.stream() && !ctx.sniffed().includeUsage();
    }

    /** Returns the response for a hit or a stale answer, or {@code null} when it cannot be replayed. */
    private GatewayResponse.Full serve(RequestContext ctx, CachedAnswer answer, CacheOutcome outcome, long now,
                                       boolean follower) {
        byte[] body;
        Headers.Builder headers = Headers.builder();
        if (ctx.stream()) {
            try {
                body = SseReplay.render(answer.body(), ctx.sniffed().includeUsage());
            } catch (IOException e) {
                return null;
            }
            headers.add("content-type", "text/event-stream").add("cache-control", "no-cache");
        } else {
            body = answer.body();
            headers.add("content-type", "application/json");
        }
        headers.add(HEADER, outcome.name()).add("age", Long.toString(answer.ageNanos(now) / NANOS_PER_SECOND));
        if (ctx.needsUsage()) {
            // Token limits settle on the usage the answer reports, even when the replay carries no usage chunk.
            ctx.usage().scan(answer.body(), 0, answer.body().length);
        }
        ctx.attr(OUTCOME, outcome);
        if (outcome == CacheOutcome.STALE) {
            cache.countStale();
        } else {
            cache.countHit(follower);
        }
        return new GatewayResponse.Full(200, headers.build(), body);
    }

    private static GatewayResponse withOutcome(GatewayResponse response, CacheOutcome outcome) {
        Headers h = response.headers().with(HEADER, outcome.name());
        if (response instanceof GatewayResponse.Full full) {
            return new GatewayResponse.Full(full.status(), h, full.body());
        }
        GatewayResponse.Relayed relayed = (GatewayResponse.Relayed) response;
        return new GatewayResponse.Relayed(relayed.status(), h, relayed.body());
    }

    private static CacheKey keyOf(RequestContext ctx, RoutePolicy policy) {
        String scope = switch (policy.scope) {
            case CLIENT -> "client:" + ctx.caller().client();
            case TEAM -> "team:" + ctx.caller().team();
            case GLOBAL -> "";
        };
        try (InputStream body = ctx.clientBody().newInputStream()) {
            return CacheKeys.of(ctx.endpoint(), scope, policy.fingerprint, body);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Returns what identifies a route's answers: its name and its targets (provider, upstream model,
     * parameter overrides), so that entries of a route a reload changed are not served.
     */
    private static byte[] fingerprint(RouteConfig route) {
        StringBuilder sb = new StringBuilder(route.model());
        for (TargetConfig t : route.targets()) {
            sb.append('\n').append(t.provider()).append('/').append(t.model()).append(' ').append(t.params());
        }
        route.contextFallback().ifPresent(t -> sb.append("\ncontext ").append(t.provider()).append('/')
                .append(t.model()).append(' ').append(t.params()));
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static long saturatedNanos(java.time.Duration d) {
        return d.compareTo(java.time.Duration.ofNanos(Long.MAX_VALUE)) >= 0 ? Long.MAX_VALUE : d.toNanos();
    }

    /** A route's effective cache settings, resolved once per config version. */
    private static final class RoutePolicy {
        final long ttlNanos;
        final long staleNanos;
        final CacheConfig.Scope scope;
        final int maxEntrySize;
        final byte[] fingerprint;

        RoutePolicy(long ttlNanos, long staleNanos, CacheConfig.Scope scope, int maxEntrySize, byte[] fingerprint) {
            this.ttlNanos = ttlNanos;
            this.staleNanos = staleNanos;
            this.scope = scope;
            this.maxEntrySize = maxEntrySize;
            this.fingerprint = fingerprint;
        }
    }
}
