package dev.detour.routing;

import dev.detour.api.InvalidRequestException;
import dev.detour.config.KeyQuotas;
import dev.detour.config.RetryTrigger;
import dev.detour.config.RouteConfig;
import dev.detour.error.ErrorKind;
import dev.detour.error.ErrorResponses;
import dev.detour.filter.AttributeKey;
import dev.detour.filter.FilterChain;
import dev.detour.filter.FilterOrder;
import dev.detour.filter.GatewayFilter;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import dev.detour.keys.KeyPool;
import dev.detour.keys.KeyState;
import dev.detour.keys.PooledKey;
import dev.detour.metrics.GatewayEvents;
import dev.detour.provider.ProviderAdapter;
import dev.detour.provider.UpstreamException;
import dev.detour.provider.UpstreamRequest;
import dev.detour.provider.UpstreamTransport;
import dev.detour.provider.UpstreamVerdict;
import dev.detour.time.NanoClock;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The terminal filter: sends the request upstream, moving to another key or target whenever the
 * {@link FallbackRouter} says an outcome allows it, so that no client sees a 429 while any key or
 * target still has capacity.
 *
 * <p>Each attempt's outcome is reported to the key's pool, the target's circuit breaker and its
 * latency figures. Streams fail over only before their first event reaches the client (the transport
 * commits a stream at that moment). When nothing can serve, the client gets what helps it most: 429
 * with the soonest {@code Retry-After} when keys are exhausted, 503 when targets are failing or no key
 * is usable, otherwise the last upstream error, translated.
 *
 * <p>Stateless and thread-safe; the per-request state is an {@link AttemptLog}.
 */
public final class DispatchFilter implements GatewayFilter {

    /**
     * Set (to {@code TRUE}) when the dispatcher gave up on the route: every key exhausted, every target
     * failing, or no attempt left. Filters that can still answer (the response cache's stale mode) read it
     * instead of guessing from error codes.
     */
    public static final AttributeKey<Boolean> GAVE_UP = AttributeKey.newKey("dispatch-gave-up");

    private static final Logger LOG = LoggerFactory.getLogger(DispatchFilter.class);
    private static final byte[] EMPTY = new byte[0];
    private static final long MAX_JITTER_NANOS = 250_000_000L;

    private final UpstreamTransport transport;
    private final NanoClock clock;
    private final GatewayEvents events;
    private final FallbackRouter router = FallbackRouter.INSTANCE;
    private final AffinityTable affinity;

    /** Creates a dispatcher over {@code transport}, reading time from {@code clock}, with its own session pins. */
    public DispatchFilter(UpstreamTransport transport, NanoClock clock) {
        this(transport, clock, new AffinityTable(), GatewayEvents.NONE);
    }

    /**
     * Creates a dispatcher that pins sessions in {@code affinity} (passing the previous config version's table
     * keeps sessions where they were across a reload) and tells {@code events} of every attempt, retry and
     * fallback.
     */
    public DispatchFilter(UpstreamTransport transport, NanoClock clock, AffinityTable affinity, GatewayEvents events) {
        this.transport = Objects.requireNonNull(transport, "transport");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.affinity = Objects.requireNonNull(affinity, "affinity");
        this.events = Objects.requireNonNull(events, "events");
    }

    @Override
    public int order() {
        return FilterOrder.DISPATCH;
    }

    @Override
    public String name() {
        return "dispatch";
    }

    @Override
    public CompletionStage<GatewayResponse> filter(RequestContext ctx, FilterChain next) {
        Route route = ctx.route();
        List<Target> order = router.order(route);
        String session = session(ctx, route.config().affinity());
        AffinityTable.Pin pin = session == null ? null : affinity.get(route, session);
        Target pinnedTarget = pin == null ? null : pin.find(order);
        if (pinnedTarget != null) {
            // The session's target goes first, whatever the strategy's order: that is where its cache is.
            List<Target> pinned = new java.util.ArrayList<>(order.size());
            pinned.add(pinnedTarget);
            for (Target t : order) {
                if (t != pinnedTarget) {
                    pinned.add(t);
                }
            }
            order = pinned;
        }
        AttemptLog log = new AttemptLog(order, clock.nanoTime() + route.deadline().toNanos());
        if (pinnedTarget != null) {
            log.affinity(pinnedTarget, pin.keyId());
        }
        CompletableFuture<GatewayResponse> result = new CompletableFuture<>();
        step(ctx, route, log, session, result);
        return result;
    }

    private void step(RequestContext ctx, Route route, AttemptLog log, String session,
                      CompletableFuture<GatewayResponse> result) {
        if (ctx.cancelled()) {
            result.completeExceptionally(new UpstreamException(UpstreamException.Kind.CLOSED, "client went away"));
            return;
        }
        FallbackRouter.Decision decision = router.next(route, log, clock.nanoTime());
        if (decision instanceof FallbackRouter.Send send) {
            attempt(ctx, route, log, session, send.target(), send.key(), result);
        } else if (decision instanceof FallbackRouter.Wait wait) {
            // Jitter (up to a tenth, at most 250 ms) keeps requests that waited for the same key from
            // arriving at it in one burst when it comes back.
            long jitter = ThreadLocalRandom.current().nextLong(Math.min(wait.nanos() / 10, MAX_JITTER_NANOS) + 1);
            log.waited(wait.nanos() + jitter);
            ctx.addWaitTime(wait.nanos() + jitter);
            ctx.executor().schedule(() -> step(ctx, route, log, session, result), wait.nanos() + jitter);
        } else {
            result.complete(giveUp(ctx, route, log, (FallbackRouter.GiveUp) decision));
        }
    }

    private void attempt(RequestContext ctx, Route route, AttemptLog log, String session, Target target,
                         PooledKey key, CompletableFuture<GatewayResponse> result) {
        if (log.lastTarget() != null) {
            reportMove(route, log.lastTarget(), target, log.lastVerdict());
        }
        log.sent(target, key);
        KeyQuotas quotas = key.config().quotas();
        ctx.needsUsage(quotas.tokensPerMinute() > 0 || quotas.tokensPerDay() > 0);
        GatewayResponse.Full tooLong = ContextWindowCheck.check(ctx, target);
        if (tooLong != null) {
            refuseTooLong(ctx, route, log, session, target, key, tooLong, result);
            return;
        }
        // Recorded once the attempt is sure to go out: a refusal above sends nothing (x-detour-attempts).
        ctx.recordAttempt(target.provider().name(), target.model(), key.id(), target.price());
        ProviderAdapter adapter = target.adapter();
        UpstreamRequest request;
        try {
            applyParams(ctx, target);
            request = adapter.prepare(ctx, target, key.config());
        } catch (InvalidRequestException e) {
            target.keys().unclaim(key);
            target.breaker().release(clock.nanoTime());
            result.complete(ErrorResponses.of(ErrorKind.INVALID_REQUEST, e.getMessage(), e.code(), e.param()));
            return;
        } catch (RuntimeException e) {
            // An adapter bug: give the key and the breaker probe back before the error surfaces as a 500.
            target.keys().unclaim(key);
            target.breaker().release(clock.nanoTime());
            result.completeExceptionally(e);
            return;
        }
        target.stats().started();
        long sentNanos = clock.nanoTime();
        CompletionStage<GatewayResponse> sent;
        try {
            sent = transport.send(ctx, request);
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        sent.whenComplete((response, error) -> {
            try {
                ctx.addUpstreamTime(clock.nanoTime() - sentNanos);
                onOutcome(ctx, route, log, session, target, key, adapter, response, error, result);
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
    }

    /**
     * Settles an attempt that {@link ContextWindowCheck} ruled out before sending, as the provider's
     * {@code context_length_exceeded} would have been: on to the context-fallback target, or answered.
     */
    private void refuseTooLong(RequestContext ctx, Route route, AttemptLog log, String session, Target target,
                               PooledKey key, GatewayResponse.Full refusal, CompletableFuture<GatewayResponse> result) {
        // Nothing was sent: the key's claim and the breaker's probe go back, and neither learns anything.
        target.keys().unclaim(key);
        target.breaker().release(clock.nanoTime());
        log.outcome(target, key, ContextWindowCheck.VERDICT, refusal, null);
        events.attemptEnded(route.model(), target.provider().name(), target.model(), ContextWindowCheck.VERDICT.kind());
        if (router.moveOn(route, log, target, ContextWindowCheck.VERDICT)) {
            step(ctx, route, log, session, result);
            return;
        }
        result.complete(refusal);
    }

    private void onOutcome(RequestContext ctx, Route route, AttemptLog log, String session, Target target,
                           PooledKey key, ProviderAdapter adapter, GatewayResponse response, Throwable error,
                           CompletableFuture<GatewayResponse> result) {
        long now = clock.nanoTime();
        UpstreamVerdict verdict;
        GatewayResponse.Full errorResponse = null;
        UpstreamException failure = null;
        if (error != null) {
            target.stats().finished();
            Throwable cause = unwrap(error);
            if (!(cause instanceof UpstreamException ue)) {
                target.keys().unclaim(key);
                target.breaker().release(now);
                result.completeExceptionally(cause);
                return;
            }
            failure = ue;
            verdict = ue.verdict();
            if (ctx.cancelled()) {
                target.keys().unclaim(key);
                target.breaker().release(now);
                result.completeExceptionally(ue);
                return;
            }
        } else if (response.status() >= 400 && response instanceof GatewayResponse.Full full) {
            target.stats().finished();
            errorResponse = full;
            verdict = adapter.classify(full.status(), full.headers(), full.body(), clock.instant());
        } else {
            verdict = adapter.classify(response.status(), response.headers(), EMPTY, clock.instant());
            if (verdict.kind() != UpstreamVerdict.Kind.SUCCESS) {
                verdict = UpstreamVerdict.OK; // a 2xx/3xx is served, whatever its headers say
            }
            ctx.onComplete(() -> {
                target.stats().finished();
                // Local token quotas count what the answer reported using.
                long tokens = ctx.usage().totalTokens();
                if (tokens > 0) {
                    target.keys().recordTokens(key, tokens);
                }
            });
        }
        target.keys().report(key, verdict);
        breakerOutcome(target, verdict, now);
        log.outcome(target, key, verdict, errorResponse, failure);
        events.attemptEnded(route.model(), target.provider().name(), target.model(), verdict.kind());
        if (verdict.kind() == UpstreamVerdict.Kind.SUCCESS) {
            if (ctx.upstreamNanos() >= 0) {
                target.stats().recordLatency(ctx.upstreamNanos());
            }
            if (session != null) {
                affinity.put(route, session, target, key.id());
            }
            if (log.attempts() > 1 && LOG.isInfoEnabled()) {
                LOG.info("request {} served by {} after {} attempts: {}", ctx.requestId(), target, log.attempts(),
                         log.outcomes());
            }
            result.complete(response);
            return;
        }
        if (router.moveOn(route, log, target, verdict)) {
            step(ctx, route, log, session, result);
            return;
        }
        result.complete(answer(ctx, target, log, verdict));
    }

    /**
     * Tells {@link #events} why the request moves on from {@code from} to {@code to}: a retry when it stays on
     * the same target (another key, or the same one after a wait), a fallback when it changes target.
     */
    private void reportMove(Route route, Target from, Target to, UpstreamVerdict last) {
        RetryTrigger reason = last == null ? null : FallbackRouter.trigger(last.kind());
        if (reason == null) {
            return;
        }
        if (from == to) {
            events.retried(route.model(), from.provider().name(), from.model(), reason);
        } else {
            events.fellBack(route.model(), from.provider().name(), from.model(), reason);
        }
    }

    private static void breakerOutcome(Target target, UpstreamVerdict verdict, long now) {
        switch (verdict.kind()) {
            case OVERLOADED:
            case SERVER_ERROR:
            case TIMEOUT:
            case CONNECT_FAILED:
                target.breaker().onFailure(now);
                break;
            case SUCCESS:
            case CLIENT_ERROR:
            case CONTEXT_TOO_LONG:
                target.breaker().onSuccess();
                break;
            default:
                // Key signals and unknown models say nothing about the target's health.
                target.breaker().release(now);
                break;
        }
    }

    /** Returns the answer for an outcome the route does not retry. */
    private static GatewayResponse answer(RequestContext ctx, Target target, AttemptLog log, UpstreamVerdict verdict) {
        if (log.lastResponse() != null) {
            GatewayResponse.Full full = log.lastResponse();
            if (full == ctx.attr(ContextWindowCheck.REFUSAL)) {
                return full; // Detour's own refusal, already in OpenAI's envelope
            }
            return target.adapter().clientError(full.status(), full.headers(), full.body(), verdict);
        }
        return failureResponse(ctx, target, log.lastFailure());
    }

    private GatewayResponse giveUp(RequestContext ctx, Route route, AttemptLog log, FallbackRouter.GiveUp giveUp) {
        ctx.attr(GAVE_UP, Boolean.TRUE);
        UpstreamVerdict last = log.lastVerdict();
        // Only rate limits and quotas exhaust keys; a request too large for a pool can never fit, and a
        // rejected key is a different story: both are answered below.
        boolean exhaustion = last != null && (last.kind() == UpstreamVerdict.Kind.RATE_LIMITED
                                              || last.kind() == UpstreamVerdict.Kind.QUOTA_EXHAUSTED);
        boolean keysExhausted = giveUp.reason() == FallbackRouter.Reason.EXHAUSTED
                                || exhaustion && giveUp.reason() != FallbackRouter.Reason.NO_USABLE_KEY;
        if (LOG.isInfoEnabled()) {
            LOG.info("request {} for '{}' not served ({}): {}", ctx.requestId(), route.model(),
                     giveUp.reason().name().toLowerCase(), log.outcomes());
        }
        if (keysExhausted && (last == null || exhaustion)) {
            return exhausted(route, log, giveUp.retryAfterNanos());
        }
        if (giveUp.reason() == FallbackRouter.Reason.NO_USABLE_KEY && last == null) {
            return withRetryAfter(ErrorResponses.of(ErrorKind.UNAVAILABLE, "No usable key for model '" + route.model()
                    + "': " + describePools(route, log) + ". The gateway operator must replace or enable keys.",
                    "no_usable_key", null), -1);
        }
        if (last == null || giveUp.reason() == FallbackRouter.Reason.FAILING && log.lastResponse() == null
                            && log.lastFailure() == null) {
            return withRetryAfter(ErrorResponses.of(ErrorKind.UNAVAILABLE, "Every target of model '" + route.model()
                    + "' is failing and paused (circuit breakers open). Retry after "
                    + seconds(giveUp.retryAfterNanos()) + " s.", "targets_failing", null), giveUp.retryAfterNanos());
        }
        if (FallbackRouter.isKeyLevel(last.kind()) && log.lastResponse() != null
            && last.kind() == UpstreamVerdict.Kind.KEY_INVALID) {
            return withRetryAfter(ErrorResponses.of(ErrorKind.UNAVAILABLE, "No usable key for model '" + route.model()
                    + "': " + describePools(route, log) + ". The gateway operator must replace or enable keys.",
                    "no_usable_key", null), -1);
        }
        return answer(ctx, log.lastTarget(), log, last);
    }

    /** The 429 for a route whose keys are all cooling or out of quota. */
    private static GatewayResponse exhausted(Route route, AttemptLog log, long retryAfterNanos) {
        String message = "All keys that can serve model '" + route.model() + "' are rate-limited or out of quota: "
                         + describePools(route, log) + "."
                         + (retryAfterNanos >= 0 ? " Retry after " + seconds(retryAfterNanos) + " s." : "");
        return withRetryAfter(ErrorResponses.of(ErrorKind.RATE_LIMITED, message, "all_keys_exhausted", null),
                              retryAfterNanos);
    }

    private static GatewayResponse withRetryAfter(GatewayResponse.Full response, long retryAfterNanos) {
        if (retryAfterNanos < 0) {
            return response;
        }
        Headers headers = response.headers()
                .with("retry-after", Long.toString(seconds(retryAfterNanos)))
                .with("retry-after-ms", Long.toString(Math.max(1, TimeUnit.NANOSECONDS.toMillis(retryAfterNanos))));
        return new GatewayResponse.Full(response.status(), headers, response.body());
    }

    /** Names each pool of the route with the state of its keys, e.g. {@code provider 'openai' (k1 cooling 12 s)}. */
    private static String describePools(Route route, AttemptLog log) {
        Map<KeyPool, Boolean> seen = new IdentityHashMap<>();
        StringBuilder sb = new StringBuilder();
        List<Target> targets = log.contextFallback() && route.contextFallback() != null
                               ? List.of(route.contextFallback()) : route.targets();
        for (Target t : targets) {
            if (seen.put(t.keys(), Boolean.TRUE) != null) {
                continue;
            }
            if (sb.length() > 0) {
                sb.append("; ");
            }
            sb.append("provider '").append(t.provider().name()).append("' (");
            List<KeyPool.KeySnapshot> keys = t.keys().snapshot();
            for (int i = 0; i < keys.size(); i++) {
                KeyPool.KeySnapshot k = keys.get(i);
                if (i > 0) {
                    sb.append(", ");
                }
                sb.append("key ").append(k.id()).append(' ').append(k.state().name().toLowerCase());
                if (k.state() != KeyState.AVAILABLE && k.state() != KeyState.DISABLED && k.unavailableNanos() > 0) {
                    sb.append(" for ").append(seconds(k.unavailableNanos())).append(" s");
                }
            }
            sb.append(')');
        }
        return sb.toString();
    }

    private static long seconds(long nanos) {
        return Math.max(1, (nanos + 999_999_999L) / 1_000_000_000L);
    }

    private static GatewayResponse failureResponse(RequestContext ctx, Target target, UpstreamException e) {
        String provider = target.provider().name();
        switch (e.kind()) {
            case CONNECT:
                return ErrorResponses.of(ErrorKind.UPSTREAM,
                        "Could not connect to provider '" + provider + "' (" + e.getMessage()
                        + "). Try again later; if it persists, the gateway operator should check the provider's "
                        + "base-url.", "upstream_unreachable", null);
            case FIRST_BYTE_TIMEOUT:
                return ErrorResponses.of(ErrorKind.TIMEOUT,
                        "Provider '" + provider + "' did not start answering within "
                        + human(ctx.route().timeouts().firstByte().toMillis()) + ". Try again later.",
                        "upstream_timeout", null);
            case IDLE_TIMEOUT:
            case TOTAL_TIMEOUT:
                return ErrorResponses.of(ErrorKind.TIMEOUT,
                        "Provider '" + provider + "' did not finish answering in time. Try again later.",
                        "upstream_timeout", null);
            case STREAM_ERROR:
                return ErrorResponses.of(ErrorKind.UPSTREAM, "Provider '" + provider + "' failed: " + e.getMessage(),
                                         e.verdict().detail(), null);
            default:
                return ErrorResponses.of(ErrorKind.UPSTREAM,
                        "Provider '" + provider + "' failed before answering (" + e.getMessage()
                        + "). Try again later.", "upstream_error", null);
        }
    }

    /**
     * Sets the target's parameter overrides on the attempt's body (and its model name), or goes back
     * to the client's body when the target has none.
     */
    private static void applyParams(RequestContext ctx, Target target) throws InvalidRequestException {
        if (target.params().isEmpty()) {
            ctx.attemptBody(null);
            return;
        }
        ctx.attemptBody(ParamsOverride.apply(ctx.clientBody(), target.params(), target.model()));
    }

    private static String session(RequestContext ctx, RouteConfig.Affinity mode) {
        if (mode == RouteConfig.Affinity.NONE) {
            return null;
        }
        // The policy filter sets the session from x-detour-session where the client may set it.
        if (ctx.session() != null) {
            return ctx.session();
        }
        return mode == RouteConfig.Affinity.USER ? ctx.endUser() : null;
    }

    private static String human(long ms) {
        return ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms";
    }

    private static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while (c instanceof CompletionException && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }
}
