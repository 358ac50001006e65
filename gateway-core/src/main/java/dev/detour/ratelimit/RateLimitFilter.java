package dev.detour.ratelimit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import dev.detour.api.UsageScanner;
import dev.detour.config.Bucket;
import dev.detour.config.ChainConfig;
import dev.detour.config.ClientConfig;
import dev.detour.config.LimitConfig;
import dev.detour.config.PolicyConfig;
import dev.detour.error.ErrorKind;
import dev.detour.error.ErrorResponses;
import dev.detour.filter.AttributeKey;
import dev.detour.filter.FilterChain;
import dev.detour.filter.FilterOrder;
import dev.detour.filter.GatewayFilter;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import dev.detour.metrics.GatewayEvents;
import dev.detour.ratelimit.BucketStore.Claim;
import dev.detour.ratelimit.BucketStore.Outcome;
import dev.detour.time.NanoClock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Token-bucket rate limiting of requests and LLM tokens, at every scope that applies to a request at once.
 *
 * <p>What applies to a request: each global limit ({@code limits:}) whose {@code match} fits the request's
 * context (client, team, tier, route, priority, client metadata), the calling client's own limits, and the
 * limits of the policy that matched, which the policy filter puts under {@link #POLICY_LIMITS}. Buckets are
 * kept per scope: per client, team, route (the requested model), end user (a {@code user}-scoped limit does
 * not apply to a request without an end user), or one global bucket. A request passes only if every
 * enforcing bucket has room; then it takes one request from each request bucket and its token estimate
 * from each token bucket. A request without any applicable limit costs a few array reads and nothing else
 * (the body is not parsed).
 *
 * <p>LLM tokens are reserved before dispatch (a {@link PromptTokenEstimator} estimate: prompt plus
 * {@code max_tokens}, or 256 when absent) and settled once the response is written. The estimate has two
 * tiers ({@link TokenEstimate}): when every token bucket the request claims from holds at least the
 * estimate's upper bound ({@link BucketStore#peek}), the exact count could not change the decision, so the
 * cheap figure is claimed and the prompt is never tokenized; otherwise the exact count is claimed, so that a
 * refusal near the limit is decided, and quoted, by it. Settlement: the reservation minus the
 * {@code usage.total_tokens} the upstream reported is given back, or the excess charged (a bucket may go into
 * debt). For a stream whose client did not ask for {@code stream_options.include_usage}, adapters that can
 * ask the provider for it do so (and keep that chunk from the client). Without a usage figure a successful
 * response keeps its reservation. A response that failed without a usage figure (an error, nothing served)
 * gives the whole token reservation back; its request still counts.
 *
 * <p>Every response carries OpenAI's {@code x-ratelimit-limit-requests}, {@code x-ratelimit-remaining-requests},
 * {@code x-ratelimit-reset-requests} and the {@code -tokens} variants for the tightest enforcing bucket of
 * each kind (the least remaining share of its capacity); the reset is the time until that bucket is full
 * again, in Go's duration format. A refusal is a 429 {@code rate_limit_error} with code
 * {@code rate_limit_exceeded}, {@code Retry-After} (seconds, rounded up), {@code retry-after-ms}, and a
 * message naming the limit, its scope and value, what was used and when it resets.
 *
 * <p>A {@code shadow} limit is counted like the others but never refuses: a request it would have refused
 * passes with {@code x-detour-ratelimit-shadow: <limit name>}, adds to {@link RateLimitStats#shadowRefused},
 * and is logged at WARN at most once per refill interval per scope.
 *
 * <p>Threading: thread-safe and stateless per request; buckets live in a {@link BucketStore}. With the local
 * store everything runs inline on the request's executor. A store that answers later is continued on the
 * request's executor. Pass the same store to the filter built for the next config version and the buckets
 * of unchanged limits carry over.
 */
public final class RateLimitFilter implements GatewayFilter {

    /**
     * The limits of the policy that matched the request; set by the policy filter, which runs before this
     * one ({@link FilterOrder#POLICY}).
     */
    public static final AttributeKey<List<LimitConfig>> POLICY_LIMITS = AttributeKey.newKey("policy-limits");

    /** The header naming the shadow limits that would have refused the request. */
    public static final String SHADOW_HEADER = "x-detour-ratelimit-shadow";

    private static final Logger LOG = LoggerFactory.getLogger(RateLimitFilter.class);
    private static final Limit[] NONE = new Limit[0];
    private static final long STORE_WARNING_INTERVAL_NANOS = 10_000_000_000L;
    private static final int SHADOW_WARNINGS_KEPT = 10_000;

    private final Limit[] global;
    private final Map<String, Limit[]> byClient;
    private final Map<LimitConfig, Limit> byPolicyLimit;
    private final Map<LimitConfig, Limit> byPolicyLimitValue;
    private final BucketStore store;
    private final NanoClock clock;
    private final TokenEstimator estimator;
    private final RateLimitStats stats;
    private final GatewayEvents events;
    /** One entry per (limit, scope) whose would-be refusal was logged within its refill interval. */
    private final Cache<BucketKey, Boolean> shadowWarned;
    private final AtomicLong lastStoreWarning;
    private final LongAdder shadowWarnings = new LongAdder();

    /** Creates the filter for {@code chain}'s limits, with buckets in this process timed by {@code clock}. */
    public RateLimitFilter(ChainConfig chain, NanoClock clock) {
        this(chain, BucketStore.newLocal(clock), clock);
    }

    /**
     * Creates the filter for {@code chain}'s limits with buckets in {@code store}; passing the previous
     * version's store keeps the buckets of limits a reload did not change.
     */
    public RateLimitFilter(ChainConfig chain, BucketStore store, NanoClock clock) {
        this(chain, store, clock, GatewayEvents.NONE, null);
    }

    /** Creates the filter with buckets in {@code store}, telling {@code events} of every refusal. */
    public RateLimitFilter(ChainConfig chain, BucketStore store, NanoClock clock, GatewayEvents events) {
        this(chain, store, clock, events, null);
    }

    /** Creates the filter with its own prompt-token estimator (tests). */
    RateLimitFilter(ChainConfig chain, BucketStore store, NanoClock clock, TokenEstimator estimator) {
        this(chain, store, clock, GatewayEvents.NONE, estimator);
    }

    /** Creates the filter; {@code estimator} is {@code null} for the tokenizer-based default. */
    RateLimitFilter(ChainConfig chain, BucketStore store, NanoClock clock, GatewayEvents events,
                    TokenEstimator estimator) {
        Objects.requireNonNull(chain, "chain");
        this.store = Objects.requireNonNull(store, "store");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.events = Objects.requireNonNull(events, "events");
        Set<String> names = new LinkedHashSet<>();
        boolean tokenLimits = false;
        for (LimitConfig l : chain.limits()) {
            names.add(l.name());
            tokenLimits |= l.tokens().isPresent();
        }
        for (ClientConfig c : chain.clients()) {
            for (LimitConfig l : c.limits()) {
                names.add(l.name());
                tokenLimits |= l.tokens().isPresent();
            }
        }
        for (PolicyConfig p : chain.policies()) {
            for (LimitConfig l : p.limits()) {
                names.add(l.name());
                tokenLimits |= l.tokens().isPresent();
            }
        }
        this.stats = new RateLimitStats(names);
        this.global = compile(chain.limits());
        this.byClient = new HashMap<>();
        for (ClientConfig c : chain.clients()) {
            if (!c.limits().isEmpty()) {
                byClient.put(c.name(), compile(c.limits()));
            }
        }
        this.byPolicyLimit = new IdentityHashMap<>();
        this.byPolicyLimitValue = new HashMap<>();
        for (PolicyConfig p : chain.policies()) {
            for (LimitConfig l : p.limits()) {
                Limit limit = new Limit(l, stats.counters(l.name()));
                byPolicyLimit.put(l, limit);
                byPolicyLimitValue.put(l, limit);
            }
        }
        if (estimator == null) {
            if (tokenLimits) {
                PromptTokenEstimator.preload();
            }
            estimator = new PromptTokenEstimator();
        }
        this.estimator = estimator;
        this.shadowWarned = Caffeine.newBuilder()
                .maximumSize(SHADOW_WARNINGS_KEPT)
                .ticker(clock::nanoTime)
                .expireAfter(new Expiry<BucketKey, Boolean>() {
                    @Override
                    public long expireAfterCreate(BucketKey key, Boolean value, long currentTime) {
                        return key.bucket().per().toNanos();
                    }

                    @Override
                    public long expireAfterUpdate(BucketKey key, Boolean value, long currentTime,
                                                  long currentDuration) {
                        return currentDuration;
                    }

                    @Override
                    public long expireAfterRead(BucketKey key, Boolean value, long currentTime,
                                                long currentDuration) {
                        return currentDuration;
                    }
                })
                .build();
        this.lastStoreWarning = new AtomicLong(clock.nanoTime() - STORE_WARNING_INTERVAL_NANOS);
    }

    @Override
    public int order() {
        return FilterOrder.RATE_LIMIT;
    }

    @Override
    public String name() {
        return "rate-limit";
    }

    /** Returns the counts of refusals and of shadow would-be refusals. */
    public RateLimitStats stats() {
        return stats;
    }

    /** Returns how many shadow warnings were logged. For tests. */
    long shadowWarnings() {
        return shadowWarnings.sum();
    }

    @Override
    public CompletionStage<GatewayResponse> filter(RequestContext ctx, FilterChain next) {
        Admission admission = collect(ctx);
        if (admission == null) {
            return next.proceed(ctx);
        }
        admission.claim(admission.estimate == null ? 0 : tokensToClaim(admission));
        return take(ctx, next, admission);
    }

    /**
     * Returns how many tokens to claim from each of the request's token buckets: the cheap estimate when each
     * holds at least the estimate's bound (whatever the exact count, it fits, so it cannot change the decision),
     * else the exact count. The levels are read apart from the take: if a bucket drains in between, the take
     * refuses and {@link #decide} tries again with the exact count.
     */
    private long tokensToClaim(Admission admission) {
        TokenEstimate estimate = admission.estimate;
        if (estimate.exactKnown()) {
            return estimate.exact();
        }
        long bound = estimate.bound();
        for (int i = 0; i < admission.count; i++) {
            BucketKey key = admission.keys[i];
            if (key.kind() != BucketKey.Kind.TOKENS) {
                continue;
            }
            long level;
            try {
                level = store.peek(key);
            } catch (RuntimeException e) {
                level = BucketStore.UNKNOWN; // the take will meet the store's trouble and fail open there
            }
            if (level < bound) {
                return estimate.exact();
            }
        }
        return estimate.cheap();
    }

    /** Takes the admission's claims from the store and decides on its outcome. */
    private CompletionStage<GatewayResponse> take(RequestContext ctx, FilterChain next, Admission admission) {
        CompletableFuture<Outcome> taken;
        try {
            taken = store.take(admission.claimList()).toCompletableFuture();
        } catch (RuntimeException e) {
            taken = CompletableFuture.failedFuture(e);
        }
        if (taken.isDone()) {
            Outcome outcome = null;
            Throwable error = null;
            try {
                outcome = taken.join();
            } catch (CompletionException | CancellationException e) {
                error = e.getCause() != null ? e.getCause() : e;
            }
            return decide(ctx, next, admission, outcome, error);
        }
        // A store that answers later: continue on the request's executor, to which the context is confined.
        return taken.handleAsync((outcome, error) -> decide(ctx, next, admission, outcome, error), ctx.executor())
                .thenCompose(Function.identity());
    }

    private CompletionStage<GatewayResponse> decide(RequestContext ctx, FilterChain next, Admission admission,
                                                    Outcome outcome, Throwable error) {
        if (error != null) {
            // Fail open: a bucket store that cannot answer must not take the API down with it. Limits apply
            // again as soon as it answers; the warning says that they were not enforced meanwhile.
            warnStoreFailure(error);
            return next.proceed(ctx);
        }
        int refused = outcome.refused();
        if (refused >= 0 && admission.keys[refused].kind() == BucketKey.Kind.TOKENS
            && admission.reserved != admission.estimate.exact()) {
            // The cheap estimate was claimed because the buckets looked full enough, but one drained before the
            // take. A refused take took nothing: claim again with the exact count, which decides a refusal near
            // the limit and is the number its message quotes. Happens at most once: now reserved == exact.
            admission.claim(admission.estimate.exact());
            return take(ctx, next, admission);
        }
        admission.outcome = outcome;
        if (refused >= 0) {
            Limit limit = admission.limits[refused];
            limit.counters.refused.increment();
            events.rateLimited(limit.name, limit.scope, false);
            return CompletableFuture.completedFuture(refusal(admission, refused));
        }
        String shadowNames = null;
        Limit counted = null;
        for (int i = 0; i < admission.count; i++) {
            Limit limit = admission.limits[i];
            if (admission.claims[i].shadow() && !outcome.taken(i) && limit != counted) {
                // A limit's two buckets sit side by side: one count and one name per limit and request.
                counted = limit;
                shadowNames = shadowNames == null ? limit.name : shadowNames + ", " + limit.name;
                limit.counters.shadowRefused.increment();
                events.rateLimited(limit.name, limit.scope, true);
                warnShadow(admission, i);
            }
        }
        boolean settle = admission.tokensTaken();
        if (settle) {
            admission.ctx = ctx;
            ctx.onComplete(admission);
        }
        Headers extra = successHeaders(admission, shadowNames);
        if (extra == null && !settle) {
            return next.proceed(ctx);
        }
        return next.proceed(ctx).thenApply(response -> {
            admission.status = response.status();
            return extra == null ? response : withHeaders(response, extra);
        });
    }

    /** Returns the claims that apply to {@code ctx}, or {@code null} when no limit applies. */
    private Admission collect(RequestContext ctx) {
        Admission admission = null;
        for (Limit limit : global) {
            if (limit.matches(ctx)) {
                admission = add(admission, limit, ctx);
            }
        }
        if (!byClient.isEmpty()) {
            Limit[] own = byClient.getOrDefault(ctx.caller().client(), NONE);
            for (Limit limit : own) {
                admission = add(admission, limit, ctx);
            }
        }
        List<LimitConfig> policy = ctx.attr(POLICY_LIMITS);
        if (policy != null) {
            for (int i = 0; i < policy.size(); i++) {
                Limit limit = policyLimit(policy.get(i));
                if (limit.matches(ctx)) {
                    admission = add(admission, limit, ctx);
                }
            }
        }
        return admission;
    }

    private Admission add(Admission admission, Limit limit, RequestContext ctx) {
        String scopeKey = limit.scopeKey(ctx);
        if (scopeKey == null) {
            return admission;
        }
        Admission a = admission != null ? admission : new Admission();
        if (limit.requests != null) {
            a.add(limit, scopeKey, new BucketKey(limit.name, BucketKey.Kind.REQUESTS, limit.requests, scopeKey));
        }
        if (limit.tokens != null) {
            if (a.estimate == null) {
                a.estimate = estimator.estimate(ctx);
                ctx.needsUsage(true); // settling needs the actual usage, streams included
            }
            a.add(limit, scopeKey, new BucketKey(limit.name, BucketKey.Kind.TOKENS, limit.tokens, scopeKey));
        }
        return a;
    }

    private Limit policyLimit(LimitConfig config) {
        Limit limit = byPolicyLimit.get(config);
        if (limit == null) {
            limit = byPolicyLimitValue.get(config);
        }
        if (limit == null) {
            // Not one of the config's policy limits (a policy filter built its own): still enforced, counted
            // under its name when the config knows it.
            limit = new Limit(config, stats.counters(config.name()));
        }
        return limit;
    }

    private GatewayResponse refusal(Admission admission, int refused) {
        Outcome outcome = admission.outcome;
        Limit limit = admission.limits[refused];
        Claim claim = admission.claims[refused];
        Bucket bucket = claim.key().bucket();
        String scope = limit.describeScope(admission.scopeKeys[refused]);
        boolean tokens = claim.key().kind() == BucketKey.Kind.TOKENS;
        long wait = outcome.nanosToWait(refused);
        boolean never = claim.amount() > bucket.capacity() || wait == Long.MAX_VALUE;
        String message;
        if (never) {
            message = "limit '" + limit.name + "': " + scope + " allows at most " + rate(bucket, tokens)
                      + ", and this request needs " + claim.amount() + " tokens (prompt estimate plus max_tokens):"
                      + " it cannot pass; shorten the prompt or lower max_tokens";
        } else {
            long used = bucket.capacity() - outcome.remaining(refused) + claim.amount();
            message = "limit '" + limit.name + "': " + scope + " exceeded " + rate(bucket, tokens) + " (used "
                      + used + "); resets in " + DurationText.roughly(wait);
        }
        GatewayResponse.Full error = ErrorResponses.of(ErrorKind.RATE_LIMITED, message, "rate_limit_exceeded", null);
        Headers headers = error.headers();
        int requestsAt = tokens ? tightest(admission, BucketKey.Kind.REQUESTS) : refused;
        int tokensAt = tokens ? refused : tightest(admission, BucketKey.Kind.TOKENS);
        headers = rateHeaders(headers, admission, requestsAt, tokensAt);
        if (never) {
            // OpenAI's SDKs honour x-should-retry: retrying the same request cannot help.
            headers = headers.with("x-should-retry", "false");
        } else {
            headers = headers.with("retry-after", Long.toString(DurationText.retryAfterSeconds(wait)))
                    .with("retry-after-ms", Long.toString(DurationText.retryAfterMillis(wait)));
        }
        return new GatewayResponse.Full(error.status(), headers, error.body());
    }

    /** Returns the headers for an admitted request, or {@code null} when there are none. */
    private Headers successHeaders(Admission admission, String shadowNames) {
        int requestsAt = tightest(admission, BucketKey.Kind.REQUESTS);
        int tokensAt = tightest(admission, BucketKey.Kind.TOKENS);
        if (requestsAt < 0 && tokensAt < 0 && shadowNames == null) {
            return null;
        }
        Headers headers = rateHeaders(Headers.empty(), admission, requestsAt, tokensAt);
        return shadowNames == null ? headers : headers.with(SHADOW_HEADER, shadowNames);
    }

    /**
     * Returns the index of the enforcing claim of {@code kind} with the least remaining share of its capacity
     * among those checked, or -1.
     */
    private static int tightest(Admission admission, BucketKey.Kind kind) {
        Outcome outcome = admission.outcome;
        int best = -1;
        double bestShare = Double.MAX_VALUE;
        for (int i = 0; i < admission.count; i++) {
            Claim claim = admission.claims[i];
            if (claim.shadow() || claim.key().kind() != kind || !outcome.checked(i)) {
                continue;
            }
            double share = (double) Math.max(0, outcome.remaining(i)) / claim.key().bucket().capacity();
            if (share < bestShare) {
                bestShare = share;
                best = i;
            }
        }
        return best;
    }

    private static Headers rateHeaders(Headers headers, Admission admission, int requestsAt, int tokensAt) {
        // Detour's limits are the ones this client meets: they replace the provider's, never sit beside them.
        Headers h = requestsAt >= 0 || tokensAt >= 0 ? headers.withoutPrefix("x-ratelimit-") : headers;
        if (requestsAt >= 0) {
            h = h.with("x-ratelimit-limit-requests", Long.toString(admission.claims[requestsAt].key().bucket()
                                                                                     .capacity()))
                    .with("x-ratelimit-remaining-requests", Long.toString(remaining(admission, requestsAt)))
                    .with("x-ratelimit-reset-requests", DurationText.go(admission.outcome.nanosToFull(requestsAt)));
        }
        if (tokensAt >= 0) {
            h = h.with("x-ratelimit-limit-tokens", Long.toString(admission.claims[tokensAt].key().bucket()
                                                                                 .capacity()))
                    .with("x-ratelimit-remaining-tokens", Long.toString(remaining(admission, tokensAt)))
                    .with("x-ratelimit-reset-tokens", DurationText.go(admission.outcome.nanosToFull(tokensAt)));
        }
        return h;
    }

    private static long remaining(Admission admission, int i) {
        return Math.max(0, admission.outcome.remaining(i));
    }

    private static GatewayResponse withHeaders(GatewayResponse response, Headers extra) {
        Headers h = response.headers();
        for (int i = 0; i < extra.size(); i++) {
            h = h.with(extra.name(i), extra.value(i));
        }
        if (response instanceof GatewayResponse.Full full) {
            return new GatewayResponse.Full(full.status(), h, full.body());
        }
        GatewayResponse.Relayed relayed = (GatewayResponse.Relayed) response;
        return new GatewayResponse.Relayed(relayed.status(), h, relayed.body());
    }

    private static String rate(Bucket bucket, boolean tokens) {
        String unit = tokens ? (bucket.capacity() == 1 ? "token" : "tokens")
                : (bucket.capacity() == 1 ? "request" : "requests");
        return bucket.capacity() + " " + unit + DurationText.window(bucket.per());
    }

    private void warnShadow(Admission admission, int i) {
        Claim claim = admission.claims[i];
        if (shadowWarned.asMap().putIfAbsent(claim.key(), Boolean.TRUE) != null) {
            return;
        }
        shadowWarnings.increment();
        Limit limit = admission.limits[i];
        Bucket bucket = claim.key().bucket();
        boolean tokens = claim.key().kind() == BucketKey.Kind.TOKENS;
        long used = bucket.capacity() - admission.outcome.remaining(i) + claim.amount();
        LOG.warn("shadow limit '{}' would have refused a request: {} exceeded {} (used {}); not refused, and not "
                 + "logged again for this scope for {}", limit.name, limit.describeScope(admission.scopeKeys[i]),
                 rate(bucket, tokens), used, DurationText.go(bucket.per().toNanos()));
    }

    private void warnStoreFailure(Throwable error) {
        long now = clock.nanoTime();
        long last = lastStoreWarning.get();
        if (now - last >= STORE_WARNING_INTERVAL_NANOS && lastStoreWarning.compareAndSet(last, now)) {
            LOG.warn("rate limits not enforced: the bucket store failed ({}); letting requests through",
                     error.toString());
        }
    }

    private Limit[] compile(List<LimitConfig> configs) {
        List<Limit> limits = new ArrayList<>(configs.size());
        for (LimitConfig c : configs) {
            limits.add(new Limit(c, stats.counters(c.name())));
        }
        return limits.toArray(NONE);
    }

    /**
     * One request's claims and what became of them; settles its token reservation when run. One per request,
     * confined to the request's executor.
     */
    private final class Admission implements Runnable {
        Limit[] limits = new Limit[4];
        String[] scopeKeys = new String[4];
        BucketKey[] keys = new BucketKey[4];
        /** The claims on {@link #keys}, made by {@link #claim(long)}. */
        Claim[] claims;
        int count;
        /** The request's token estimate, or {@code null} when no token limit applies. */
        TokenEstimate estimate;
        /** The tokens claimed from each token bucket: the cheap or the exact estimate. */
        long reserved;
        Outcome outcome;
        RequestContext ctx;
        /** The response status, or 0 if the chain failed. */
        int status;
        private boolean settled;

        void add(Limit limit, String scopeKey, BucketKey key) {
            if (count == keys.length) {
                limits = Arrays.copyOf(limits, count * 2);
                scopeKeys = Arrays.copyOf(scopeKeys, count * 2);
                keys = Arrays.copyOf(keys, count * 2);
            }
            limits[count] = limit;
            scopeKeys[count] = scopeKey;
            keys[count++] = key;
        }

        /** Makes the claims: one request from each request bucket, {@code tokens} from each token bucket. */
        void claim(long tokens) {
            reserved = tokens;
            Claim[] made = new Claim[count];
            for (int i = 0; i < count; i++) {
                BucketKey key = keys[i];
                made[i] = new Claim(key, key.kind() == BucketKey.Kind.TOKENS ? tokens : 1, limits[i].shadow);
            }
            claims = made;
        }

        List<Claim> claimList() {
            return Arrays.asList(claims);
        }

        boolean tokensTaken() {
            for (int i = 0; i < count; i++) {
                if (claims[i].key().kind() == BucketKey.Kind.TOKENS && outcome.taken(i)) {
                    return true;
                }
            }
            return false;
        }

        /** Settles the token reservation against the usage the response reported. */
        @Override
        public void run() {
            if (settled) {
                return;
            }
            settled = true;
            UsageScanner usage = ctx.usage();
            long actual = usage.found() ? usage.totalTokens() : -1;
            if (actual < 0) {
                if (status >= 200 && status < 300) {
                    return; // served, usage unknown (e.g. a stream without include_usage): the estimate stands
                }
                actual = 0; // nothing served: the reservation goes back
            }
            long delta = reserved - actual;
            if (delta == 0) {
                return;
            }
            for (int i = 0; i < count; i++) {
                if (claims[i].key().kind() == BucketKey.Kind.TOKENS && outcome.taken(i)) {
                    store.adjust(claims[i].key(), delta);
                }
            }
        }
    }
}
