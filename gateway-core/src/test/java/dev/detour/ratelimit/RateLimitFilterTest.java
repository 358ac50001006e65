package dev.detour.ratelimit;

import static dev.detour.ratelimit.RateLimitTesting.caller;
import static dev.detour.ratelimit.RateLimitTesting.chain;
import static dev.detour.ratelimit.RateLimitTesting.chat;
import static dev.detour.ratelimit.RateLimitTesting.hash;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.api.Endpoint;
import dev.detour.config.Bucket;
import dev.detour.config.ChainConfig;
import dev.detour.config.LimitConfig;
import dev.detour.filter.Caller;
import dev.detour.filter.FilterOrder;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import dev.detour.filter.RequestExecutor;
import dev.detour.metrics.GatewayEvents;
import dev.detour.ratelimit.RateLimitTesting.Upstream;
import dev.detour.testing.FakeClock;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class RateLimitFilterTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Caller ACME = caller("acme", "growth", "pro");
    private static final TokenEstimator NEVER = ctx -> fail("the body must not be read without a token limit");

    private final FakeClock clock = new FakeClock();
    private final LocalBucketStore store = new LocalBucketStore(clock, 10_000, Runnable::run);
    private final Upstream upstream = new Upstream();

    @Test
    void passesUntouchedWithoutApplicableLimits() {
        RateLimitFilter filter = filter(chain(""), NEVER);
        RequestContext ctx = chat(ACME);

        GatewayResponse response = call(filter, ctx);

        assertEquals(200, response.status());
        assertNull(response.headers().get("x-ratelimit-limit-requests"));
        assertEquals(1, upstream.calls.get());
        assertEquals(FilterOrder.RATE_LIMIT, filter.order());
        assertEquals("rate-limit", filter.name());
    }

    @Test
    void requestLimitsNeverParseTheBody() {
        RateLimitFilter filter = filter(chain("""
                limits:
                  - name: rpm
                    scope: global
                    requests: {capacity: 10, per: 1m}
                """), NEVER);

        GatewayResponse response = call(filter, chat(ACME));

        assertEquals("10", response.headers().get("x-ratelimit-limit-requests"));
        assertNull(response.headers().get("x-ratelimit-limit-tokens"));
    }

    @Test
    void allowsTheBurstThenRefusesWithHeadersAndRetryAfter() throws Exception {
        RateLimitFilter filter = filter(clientLimit(5, "1m"), NEVER);

        for (int i = 0; i < 5; i++) {
            GatewayResponse ok = call(filter, chat(ACME));
            assertEquals(200, ok.status(), "request " + (i + 1));
            assertEquals("5", ok.headers().get("x-ratelimit-limit-requests"));
            assertEquals(Integer.toString(4 - i), ok.headers().get("x-ratelimit-remaining-requests"));
        }
        GatewayResponse refused = call(filter, chat(ACME));

        assertEquals(429, refused.status());
        assertEquals(5, upstream.calls.get(), "the refused request must not reach the upstream");
        Headers h = refused.headers();
        assertEquals("12", h.get("retry-after"));
        assertEquals("12000", h.get("retry-after-ms"));
        assertEquals("5", h.get("x-ratelimit-limit-requests"));
        assertEquals("0", h.get("x-ratelimit-remaining-requests"));
        assertEquals("1m0s", h.get("x-ratelimit-reset-requests"));
        assertEquals("application/json", h.get("content-type"));
        JsonNode error = JSON.readTree(((GatewayResponse.Full) refused).body()).get("error");
        assertEquals("rate_limit_error", error.get("type").asText());
        assertEquals("rate_limit_exceeded", error.get("code").asText());
        assertEquals("limit 'acme-rpm': client 'acme' exceeded 5 requests/min (used 6); resets in 12s",
                     error.get("message").asText());
        assertEquals(1, filter.stats().refused("acme-rpm"));
    }

    @Test
    void refillsSmoothlyToTheNanosecond() {
        RateLimitFilter filter = filter(clientLimit(5, "1m"), NEVER);
        for (int i = 0; i < 5; i++) {
            call(filter, chat(ACME));
        }

        clock.advanceNanos(TimeUnit.SECONDS.toNanos(12) - 1);
        GatewayResponse early = call(filter, chat(ACME));
        clock.advanceNanos(1);
        GatewayResponse onTime = call(filter, chat(ACME));
        GatewayResponse next = call(filter, chat(ACME));

        assertEquals(429, early.status(), "one token takes 12 s to refill");
        assertEquals("1", early.headers().get("retry-after-ms"), "1 ns to wait, rounded up");
        assertEquals("1", early.headers().get("retry-after"), "Retry-After rounds up to whole seconds");
        assertEquals(200, onTime.status());
        assertEquals(429, next.status());
        assertEquals("12", next.headers().get("retry-after"));
    }

    @Test
    void burstRefillsToCapacityAndNoFurther() {
        RateLimitFilter filter = filter(clientLimit(3, "1s"), NEVER);
        for (int i = 0; i < 3; i++) {
            call(filter, chat(ACME));
        }

        clock.advanceMillis(10_000);
        int admitted = 0;
        for (int i = 0; i < 10; i++) {
            admitted += call(filter, chat(ACME)).status() == 200 ? 1 : 0;
        }

        assertEquals(3, admitted, "an idle bucket holds at most its capacity");
    }

    @Test
    void everyApplicableScopeMustPassAndTheTighterRefuses() {
        ChainConfig chain = chain("""
                limits:
                  - name: team-rpm
                    scope: team
                    requests: {capacity: 4, per: 1m}
                clients:
                  - name: a
                    key-hash: %s
                    team: growth
                    limits:
                      - name: a-rpm
                        requests: {capacity: 3, per: 1m}
                  - name: b
                    key-hash: %s
                    team: growth
                    limits:
                      - name: b-rpm
                        requests: {capacity: 3, per: 1m}
                """.formatted(hash("key-a"), hash("key-b")));
        RateLimitFilter filter = filter(chain, NEVER);
        Caller a = caller("a", "growth", "default");
        Caller b = caller("b", "growth", "default");
        for (int i = 0; i < 3; i++) {
            assertEquals(200, call(filter, chat(a)).status());
        }

        GatewayResponse aFourth = call(filter, chat(a));
        GatewayResponse bFirst = call(filter, chat(b));
        GatewayResponse bSecond = call(filter, chat(b));

        assertEquals(429, aFourth.status());
        assertTrue(message(aFourth).startsWith("limit 'a-rpm': client 'a' exceeded 3 requests/min"), message(aFourth));
        assertEquals(200, bFirst.status(), "the team's fourth request");
        assertEquals(429, bSecond.status());
        assertEquals("limit 'team-rpm': team 'growth' exceeded 4 requests/min (used 5); resets in 15s",
                     message(bSecond));
        BucketKey bBucket = new BucketKey("b-rpm", BucketKey.Kind.REQUESTS,
                                          chain.clients().get(1).limits().get(0).requests().orElseThrow(), "b");
        assertEquals(2, store.available(bBucket), "a refused request takes nothing from the buckets that had room");
    }

    @Test
    void headersReportTheTightestLimitOfEachKind() {
        RateLimitFilter filter = filter(chain("""
                limits:
                  - name: team
                    scope: team
                    requests: {capacity: 100, per: 1m}
                    tokens: {capacity: 1000, per: 1m}
                  - name: client
                    scope: client
                    requests: {capacity: 3, per: 1m}
                    tokens: {capacity: 100000, per: 1m}
                """), fixed(100));

        GatewayResponse response = call(filter, chat(ACME));

        Headers h = response.headers();
        assertEquals("3", h.get("x-ratelimit-limit-requests"));
        assertEquals("2", h.get("x-ratelimit-remaining-requests"));
        assertEquals("20s", h.get("x-ratelimit-reset-requests"));
        assertEquals("1000", h.get("x-ratelimit-limit-tokens"));
        assertEquals("900", h.get("x-ratelimit-remaining-tokens"));
        assertEquals("6s", h.get("x-ratelimit-reset-tokens"));
    }

    @Test
    void aTokenRefusalNamesLimitScopeValueUsageAndReset() {
        RateLimitFilter filter = filter(chain("""
                limits:
                  - name: team-tpm
                    scope: team
                    tokens: {capacity: 100000, per: 1m}
                """), fixed(60_000));
        call(filter, chat(ACME));
        clock.advanceMillis(10_000);

        GatewayResponse refused = call(filter, chat(ACME));

        assertEquals(429, refused.status());
        // 40000 left plus 16666.7 refilled in 10 s; 60000 needed: 3333.3 more at 1666.7/s, 2 s
        assertEquals("limit 'team-tpm': team 'growth' exceeded 100000 tokens/min (used 103334); resets in 2s",
                     message(refused));
        assertEquals("2", refused.headers().get("retry-after"));
        assertEquals("2000", refused.headers().get("retry-after-ms"));
        assertEquals("100000", refused.headers().get("x-ratelimit-limit-tokens"));
        assertEquals("56666", refused.headers().get("x-ratelimit-remaining-tokens"));
        assertNull(refused.headers().get("x-ratelimit-limit-requests"));
    }

    @Test
    void aRequestLargerThanTheBucketCanNeverPass() {
        RateLimitFilter filter = filter(chain("""
                limits:
                  - name: tpm
                    scope: client
                    tokens: {capacity: 1000, per: 1m}
                """), fixed(1500));

        GatewayResponse refused = call(filter, chat(ACME));

        assertEquals(429, refused.status());
        assertEquals("false", refused.headers().get("x-should-retry"));
        assertNull(refused.headers().get("retry-after"));
        assertTrue(message(refused).contains("allows at most 1000 tokens/min, and this request needs 1500 tokens"),
                   message(refused));
        assertEquals(0, upstream.calls.get());
    }

    @Test
    void userScopeSkipsRequestsWithoutAnEndUser() {
        RateLimitFilter filter = filter(chain("""
                limits:
                  - name: per-user
                    scope: user
                    requests: {capacity: 1, per: 1m}
                """), NEVER);
        String anonymous = "{\"model\":\"m\",\"messages\":[]}";
        String u1 = "{\"model\":\"m\",\"user\":\"u1\",\"messages\":[]}";
        String u2 = "{\"model\":\"m\",\"user\":\"u2\",\"messages\":[]}";

        GatewayResponse noUser1 = call(filter, chat(ACME, anonymous));
        GatewayResponse noUser2 = call(filter, chat(ACME, anonymous));
        GatewayResponse first = call(filter, chat(ACME, u1));
        GatewayResponse second = call(filter, chat(ACME, u1));
        RequestContext viaHeader = chat(ACME, anonymous);
        viaHeader.endUser("u1");
        GatewayResponse third = call(filter, viaHeader);
        GatewayResponse other = call(filter, chat(ACME, u2));

        assertEquals(200, noUser1.status());
        assertEquals(200, noUser2.status());
        assertNull(noUser1.headers().get("x-ratelimit-limit-requests"), "no limit applied");
        assertEquals(200, first.status());
        assertEquals(429, second.status());
        assertEquals("limit 'per-user': user 'u1' exceeded 1 request/min (used 2); resets in 1m0s", message(second));
        assertEquals(429, third.status(), "x-detour-user names the same end user");
        assertEquals(200, other.status());
    }

    @Test
    void matchesByTierGlobsAndHonoursTheTierOverride() {
        RateLimitFilter filter = filter(chain("""
                limits:
                  - name: free
                    scope: client
                    requests: {capacity: 1, per: 1m}
                    match: {tiers: [free]}
                  - name: pro
                    scope: client
                    requests: {capacity: 3, per: 1m}
                    match: {tiers: ["pro*"]}
                """), NEVER);
        Caller free = caller("f", "t", "free");
        Caller pro = caller("p", "t", "pro-plus");

        int freeAdmitted = admitted(filter, () -> chat(free), 5);
        int proAdmitted = admitted(filter, () -> chat(pro), 5);
        RequestContext demoted = chat(caller("q", "t", "pro"));
        demoted.tier("free");
        GatewayResponse first = call(filter, demoted);

        assertEquals(1, freeAdmitted);
        assertEquals(3, proAdmitted);
        assertEquals("1", first.headers().get("x-ratelimit-limit-requests"), "the effective tier decides");
    }

    @Test
    void matchesByRouteGlobsPriorityAndMetadata() {
        RateLimitFilter filter = filter(chain("""
                limits:
                  - name: gpt
                    scope: route
                    requests: {capacity: 2, per: 1m}
                    match: {routes: ["gpt-*"]}
                  - name: batch-prod
                    scope: global
                    requests: {capacity: 7, per: 1m}
                    match: {priority: [batch], metadata: {env: "prod*"}}
                """), NEVER);
        String gpt = "{\"model\":\"gpt-4o\",\"messages\":[]}";
        String m = "{\"model\":\"m\",\"messages\":[]}";
        Caller prod = new Caller("c", "t", "default", Map.of("env", "production"), Set.of());
        Caller dev = new Caller("c", "t", "default", Map.of("env", "dev"), Set.of());

        int gptAdmitted = admitted(filter, () -> chat(ACME, gpt), 4);
        int mAdmitted = admitted(filter, () -> chat(ACME, m), 4);
        RequestContext batchProd = chat(prod, m);
        batchProd.priority("batch");
        RequestContext batchDev = chat(dev, m);
        batchDev.priority("batch");
        RequestContext interactiveProd = chat(prod, m);

        assertEquals(2, gptAdmitted);
        assertEquals(4, mAdmitted);
        assertEquals("7", call(filter, batchProd).headers().get("x-ratelimit-limit-requests"));
        assertNull(call(filter, batchDev).headers().get("x-ratelimit-limit-requests"));
        assertNull(call(filter, interactiveProd).headers().get("x-ratelimit-limit-requests"));
    }

    @Test
    void appliesThePolicyLimitsTheAttributeNames() {
        ChainConfig chain = chain("""
                policies:
                  - name: free-tier
                    match: {tiers: [free]}
                    limits:
                      - name: free-rpm
                        scope: client
                        requests: {capacity: 2, per: 1m}
                """);
        RateLimitFilter filter = filter(chain, NEVER);

        int admitted = admitted(filter, () -> {
            RequestContext ctx = chat(ACME);
            ctx.attr(RateLimitFilter.POLICY_LIMITS, chain.policies().get(0).limits());
            return ctx;
        }, 4);
        GatewayResponse withoutPolicy = call(filter, chat(ACME));

        assertEquals(2, admitted);
        assertEquals(2, filter.stats().refused("free-rpm"));
        assertEquals(200, withoutPolicy.status());
        assertTrue(filter.stats().limits().contains("free-rpm"));
    }

    @Test
    void refundsTheUnusedReservationWhenUsageArrives() {
        RateLimitFilter filter = filter(tokenLimit(1000), fixed(600));
        RequestContext ctx = chat(ACME);

        GatewayResponse response = call(filter, ctx);
        usage(ctx, 100);
        ctx.complete();

        assertEquals("400", response.headers().get("x-ratelimit-remaining-tokens"), "the estimate is reserved");
        assertEquals(900, store.available(tokenKey(1000)), "600 reserved, 100 used: 500 given back");
    }

    @Test
    void chargesTheExcessWhenUsageExceedsTheEstimate() {
        RateLimitFilter filter = filter(tokenLimit(1000), fixed(100));
        RequestContext ctx = chat(ACME);

        call(filter, ctx);
        usage(ctx, 1300);
        ctx.complete();
        GatewayResponse next = call(filter, chat(ACME));

        assertEquals(-300, store.available(tokenKey(1000)), "the bucket goes into debt");
        assertEquals(429, next.status());
        assertEquals("24", next.headers().get("retry-after"), "400 tokens at 1000/min");
    }

    @Test
    void keepsTheEstimateWhenAServedResponseReportedNoUsage() {
        RateLimitFilter filter = filter(tokenLimit(1000), fixed(600));
        RequestContext ctx = chat(ACME);

        call(filter, ctx);
        ctx.complete();

        assertEquals(400, store.available(tokenKey(1000)));
    }

    @Test
    void givesTheReservationBackWhenNothingWasServed() {
        RateLimitFilter filter = filter(tokenLimit(1000), fixed(600));
        upstream.status = 502;
        RequestContext ctx = chat(ACME);

        call(filter, ctx);
        ctx.complete();
        ctx.complete();

        assertEquals(1000, store.available(tokenKey(1000)));
    }

    @Test
    void farFromTheLimitClaimsTheCheapEstimateWithoutTokenizing() {
        AtomicInteger tokenized = new AtomicInteger();
        RateLimitFilter filter = filter(tokenLimit(100_000), countingTokenizer(tokenized));
        RequestContext ctx = chat(ACME, "{\"model\":\"m\",\"max_tokens\":50,"
                                        + "\"messages\":[{\"role\":\"user\",\"content\":\"Hello world\"}]}");

        GatewayResponse response = call(filter, ctx);

        // "Hello world" is 11 bytes: 3 tokens at 4 bytes a token (2 exactly); 3 for the message, 3 to prime the
        // reply, 50 allowed for the answer
        assertEquals(Long.toString(100_000 - 59), response.headers().get("x-ratelimit-remaining-tokens"));
        assertEquals(0, tokenized.get(), "the bound (67) fits, so the exact count could not change the decision");
    }

    @Test
    void nearTheLimitClaimsTheExactCountFromTheRealTokenizer() {
        AtomicInteger tokenized = new AtomicInteger();
        RateLimitFilter filter = filter(tokenLimit(60), countingTokenizer(tokenized));
        RequestContext ctx = chat(ACME, "{\"model\":\"m\",\"max_tokens\":50,"
                                        + "\"messages\":[{\"role\":\"user\",\"content\":\"Hello world\"}]}");

        GatewayResponse response = call(filter, ctx);

        // the bound, 11 bytes + 56, exceeds the bucket's 60; the exact count, 2 + 56, fits
        assertEquals(200, response.status());
        assertEquals("2", response.headers().get("x-ratelimit-remaining-tokens"));
        assertTrue(tokenized.get() > 0, "tokenized");
    }

    @Test
    void admitsByTheExactCountWhatFitsThoughItsBoundDoesNot() {
        Estimate estimate = new Estimate(100, 1200, 900);
        RateLimitFilter filter = filter(tokenLimit(1000), ctx -> estimate);

        GatewayResponse response = call(filter, chat(ACME));

        assertEquals(200, response.status());
        assertEquals("100", response.headers().get("x-ratelimit-remaining-tokens"), "the exact 900 is claimed");
        assertEquals(1, estimate.computed);
    }

    @Test
    void refusesByTheExactCountAndQuotesIt() {
        Queue<TokenEstimate> estimates = new ArrayDeque<>(List.of(TokenEstimate.of(400), new Estimate(100, 700, 650),
                                                                  new Estimate(100, 5000, 1500)));
        RateLimitFilter filter = filter(tokenLimit(1000), ctx -> estimates.remove());
        call(filter, chat(ACME));

        GatewayResponse refused = call(filter, chat(ACME));
        GatewayResponse never = call(filter, chat(ACME));

        assertEquals(429, refused.status(), "650 of the 600 left: the cheap 100 would have passed");
        assertEquals("limit 'tpm': client 'acme' exceeded 1000 tokens/min (used 1050); resets in 3s",
                     message(refused));
        assertEquals("600", refused.headers().get("x-ratelimit-remaining-tokens"));
        assertEquals(429, never.status());
        assertTrue(message(never).contains("allows at most 1000 tokens/min, and this request needs 1500 tokens"),
                   message(never));
        assertEquals(1, upstream.calls.get());
    }

    @Test
    void everyTokenBucketMustHoldTheBoundForTheCheapEstimate() {
        ChainConfig chain = chain("""
                limits:
                  - name: global-tpm
                    scope: global
                    tokens: {capacity: 1000000, per: 1m}
                clients:
                  - name: acme
                    key-hash: %s
                    team: growth
                    limits:
                      - name: acme-tpm
                        tokens: {capacity: 1000, per: 1m}
                policies:
                  - name: pro
                    match: {tiers: [pro]}
                    limits:
                      - name: pro-tpm
                        scope: team
                        tokens: {capacity: 1000, per: 1m}
                """.formatted(hash("acme-key")));
        Estimate farFromAll = new Estimate(100, 900, 700);
        Estimate nearTheClient = new Estimate(100, 1000, 950);
        Estimate nearThePolicy = new Estimate(100, 1100, 200);
        Queue<TokenEstimate> estimates = new ArrayDeque<>(List.of(farFromAll, nearTheClient, nearThePolicy));
        RateLimitFilter filter = filter(chain, ctx -> estimates.remove());
        Caller other = caller("other", "growth", "pro");

        GatewayResponse first = call(filter, chat(ACME));
        GatewayResponse second = call(filter, chat(ACME));
        RequestContext viaPolicy = chat(other);
        viaPolicy.attr(RateLimitFilter.POLICY_LIMITS, chain.policies().get(0).limits());
        GatewayResponse third = call(filter, viaPolicy);

        assertEquals(0, farFromAll.computed, "every bucket held 900");
        assertEquals("900", first.headers().get("x-ratelimit-remaining-tokens"));
        assertEquals(1, nearTheClient.computed, "the client's bucket held 900 < 1000");
        assertEquals(429, second.status(), "950 of acme's 900");
        assertEquals(1, nearThePolicy.computed, "the team's policy bucket held 1000 < 1100");
        assertEquals(200, third.status());
        assertEquals("800", third.headers().get("x-ratelimit-remaining-tokens"), "the team's 1000 less the exact 200");
    }

    @Test
    void aShadowTokenBucketNearItsLimitIsJudgedByTheExactCount() {
        Queue<TokenEstimate> estimates = new ArrayDeque<>(List.of(TokenEstimate.of(900), new Estimate(100, 200, 150)));
        RateLimitFilter filter = filter(chain("""
                limits:
                  - name: trial
                    scope: client
                    tokens: {capacity: 1000, per: 1m}
                    shadow: true
                """), ctx -> estimates.remove());
        call(filter, chat(ACME));

        GatewayResponse response = call(filter, chat(ACME));

        assertEquals(200, response.status());
        assertEquals("trial", response.headers().get(RateLimitFilter.SHADOW_HEADER),
                     "150 of the 100 left: the cheap 100 would have fitted");
        assertEquals(1, filter.stats().shadowRefused("trial"));
    }

    @Test
    void aBucketThatDrainsBetweenPeekAndTakeIsClaimedAgainByTheExactCount() {
        BucketStore optimistic = new BucketStore() {
            @Override
            public CompletionStage<Outcome> take(List<Claim> claims) {
                return store.take(claims);
            }

            @Override
            public void adjust(BucketKey key, long delta) {
                store.adjust(key, delta);
            }

            @Override
            public long peek(BucketKey key) {
                return Long.MAX_VALUE; // as if another request took from the bucket right after the look
            }
        };
        Estimate fits = new Estimate(150, 300, 80);
        Estimate doesNot = new Estimate(150, 300, 120);
        Queue<TokenEstimate> estimates = new ArrayDeque<>(List.of(TokenEstimate.of(900), fits, doesNot));
        RateLimitFilter filter = new RateLimitFilter(tokenLimit(1000), optimistic, clock, ctx -> estimates.remove());
        call(filter, chat(ACME));

        GatewayResponse admitted = call(filter, chat(ACME));
        clock.advanceMillis(2_400); // 40 tokens back: 60 left
        GatewayResponse refused = call(filter, chat(ACME));

        assertEquals(200, admitted.status(), "the cheap 150 did not fit in 100, the exact 80 did");
        assertEquals("20", admitted.headers().get("x-ratelimit-remaining-tokens"));
        assertEquals(429, refused.status());
        assertEquals("limit 'tpm': client 'acme' exceeded 1000 tokens/min (used 1060); resets in 4s",
                     message(refused), "the exact 120 is quoted");
        assertEquals(1, doesNot.computed);
    }

    @Test
    void settlesTheCheapEstimateToTheActualUsage() {
        Estimate estimate = new Estimate(100, 200, 150);
        RateLimitFilter filter = filter(tokenLimit(1000), ctx -> estimate);
        RequestContext ctx = chat(ACME);

        GatewayResponse response = call(filter, ctx);
        usage(ctx, 300);
        ctx.complete();

        assertEquals("900", response.headers().get("x-ratelimit-remaining-tokens"), "the cheap 100 is reserved");
        assertEquals(700, store.available(tokenKey(1000)), "100 reserved, 300 used: 200 more charged");
        assertEquals(0, estimate.computed, "settling needs no exact count either");
    }

    @Test
    void settlesTheExactEstimateToTheActualUsage() {
        RateLimitFilter filter = filter(tokenLimit(1000), ctx -> new Estimate(100, 1200, 900));
        RequestContext ctx = chat(ACME);

        call(filter, ctx);
        usage(ctx, 50);
        ctx.complete();

        assertEquals(950, store.available(tokenKey(1000)), "900 reserved, 50 used: 850 given back");
    }

    @Test
    void shadowLimitsCountAndReportWithoutRefusing() {
        RateLimitFilter filter = filter(chain("""
                limits:
                  - name: trial
                    scope: team
                    requests: {capacity: 1, per: 1m}
                    tokens: {capacity: 10, per: 1m}
                    shadow: true
                """), fixed(8));

        GatewayResponse first = call(filter, chat(ACME));
        GatewayResponse second = call(filter, chat(ACME));
        GatewayResponse third = call(filter, chat(ACME));
        long warningsInWindow = filter.shadowWarnings();
        clock.advanceMillis(60_000);
        call(filter, chat(ACME));
        call(filter, chat(ACME));

        assertEquals(200, second.status());
        assertEquals(200, third.status());
        assertNull(first.headers().get(RateLimitFilter.SHADOW_HEADER));
        assertEquals("trial", second.headers().get(RateLimitFilter.SHADOW_HEADER));
        assertNull(second.headers().get("x-ratelimit-limit-requests"), "shadow limits do not drive the headers");
        assertEquals(5, upstream.calls.get());
        assertEquals(3, filter.stats().shadowRefused("trial"), "once per request, though both buckets were short");
        assertEquals(3, filter.stats().shadowRefused());
        assertEquals(0, filter.stats().refused());
        assertEquals(1, warningsInWindow, "one warning per limit, scope and window, not one per request");
        assertEquals(2, filter.shadowWarnings(), "warns again in the next window");
    }

    @Test
    void shadowAndEnforcingLimitsTogether() {
        RateLimitFilter filter = filter(chain("""
                limits:
                  - name: trial
                    scope: client
                    requests: {capacity: 1, per: 1m}
                    shadow: true
                  - name: real
                    scope: client
                    requests: {capacity: 2, per: 1m}
                """), NEVER);

        GatewayResponse first = call(filter, chat(ACME));
        GatewayResponse second = call(filter, chat(ACME));
        GatewayResponse third = call(filter, chat(ACME));

        assertEquals("2", first.headers().get("x-ratelimit-limit-requests"));
        assertEquals("trial", second.headers().get(RateLimitFilter.SHADOW_HEADER));
        assertEquals(429, third.status());
        assertEquals(1, filter.stats().shadowRefused("trial"), "a refused request is not counted again as shadow");
    }

    @Test
    void tellsItsEventsOfEachRefusalWithLimitScopeAndMode() {
        List<String> events = new ArrayList<>();
        GatewayEvents recorder = new GatewayEvents() {
            @Override
            public void rateLimited(String limit, LimitConfig.Scope scope, boolean shadow) {
                events.add(limit + " " + scope + (shadow ? " shadow" : " enforced"));
            }
        };
        RateLimitFilter filter = new RateLimitFilter(chain("""
                limits:
                  - name: trial
                    scope: client
                    requests: {capacity: 1, per: 1m}
                    shadow: true
                  - name: real
                    scope: team
                    requests: {capacity: 2, per: 1m}
                """), store, clock, recorder);

        call(filter, chat(ACME));
        call(filter, chat(ACME));
        call(filter, chat(ACME));

        assertEquals(List.of("trial CLIENT shadow", "real TEAM enforced"), events);
    }

    @Test
    void addsHeadersToRelayedResponses() {
        RateLimitFilter filter = filter(clientLimit(5, "1m"), NEVER);
        GatewayResponse.RelayedBody body = new GatewayResponse.RelayedBody() {
            @Override
            public boolean isEventStream() {
                return true;
            }

            @Override
            public void abort() {
            }
        };

        GatewayResponse response = filter.filter(chat(ACME), ctx -> CompletableFuture.completedFuture(
                new GatewayResponse.Relayed(200, Headers.of("content-type", "text/event-stream"), body)))
                .toCompletableFuture().join();

        GatewayResponse.Relayed relayed = (GatewayResponse.Relayed) response;
        assertSame(body, relayed.body());
        assertEquals("text/event-stream", relayed.headers().get("content-type"));
        assertEquals("4", relayed.headers().get("x-ratelimit-remaining-requests"));
    }

    @Test
    void aStoreThatAnswersLaterContinuesOnTheRequestExecutor() {
        CompletableFuture<BucketStore.Outcome> later = new CompletableFuture<>();
        AtomicReference<List<BucketStore.Claim>> seen = new AtomicReference<>();
        BucketStore slow = new BucketStore() {
            @Override
            public CompletionStage<Outcome> take(List<Claim> claims) {
                seen.set(List.copyOf(claims));
                return later;
            }

            @Override
            public void adjust(BucketKey key, long delta) {
            }
        };
        Queue<Runnable> loop = new ArrayDeque<>();
        RequestExecutor executor = new RequestExecutor() {
            @Override
            public boolean inExecutor() {
                return false;
            }

            @Override
            public void execute(Runnable command) {
                loop.add(command);
            }

            @Override
            public Cancellable schedule(Runnable command, long delayNanos) {
                throw new UnsupportedOperationException();
            }
        };
        RateLimitFilter filter = new RateLimitFilter(clientLimit(5, "1m"), slow, clock, NEVER);
        RequestContext ctx = RateLimitTesting.raw(Endpoint.CHAT_COMPLETIONS, "{}", executor);
        ctx.caller(ACME);

        CompletableFuture<GatewayResponse> result = filter.filter(ctx, upstream).toCompletableFuture();
        later.complete(BucketStore.Outcome.of(new boolean[] {true}, new long[] {4}, new long[] {0},
                                              new long[] {12_000_000_000L}, -1));
        int callsBeforeTheLoopRan = upstream.calls.get();
        loop.remove().run();

        assertEquals(1, seen.get().size());
        assertEquals(0, callsBeforeTheLoopRan, "the chain continues on the request's executor, not the store's");
        assertEquals(1, upstream.calls.get());
        assertEquals("4", result.join().headers().get("x-ratelimit-remaining-requests"));
        assertEquals("12s", result.join().headers().get("x-ratelimit-reset-requests"));
    }

    @Test
    void aFailingStoreFailsOpen() {
        BucketStore broken = new BucketStore() {
            @Override
            public CompletionStage<Outcome> take(List<Claim> claims) {
                return CompletableFuture.failedFuture(new IllegalStateException("store down"));
            }

            @Override
            public void adjust(BucketKey key, long delta) {
            }
        };
        RateLimitFilter filter = new RateLimitFilter(clientLimit(1, "1m"), broken, clock, NEVER);

        GatewayResponse first = call(filter, chat(ACME));
        GatewayResponse second = call(filter, chat(ACME));

        assertEquals(200, first.status());
        assertEquals(200, second.status());
        assertNull(second.headers().get("x-ratelimit-limit-requests"));
    }

    @Test
    void bucketsOfUnchangedLimitsSurviveAReload() {
        RateLimitFilter before = filter(clientLimit(2, "1m"), NEVER);
        call(before, chat(ACME));
        call(before, chat(ACME));

        RateLimitFilter same = filter(clientLimit(2, "1m"), NEVER);
        RateLimitFilter changed = filter(clientLimit(3, "1m"), NEVER);

        assertEquals(429, call(same, chat(ACME)).status());
        assertEquals(200, call(changed, chat(ACME)).status(), "a changed limit starts with a full bucket");
    }

    @Test
    void idleUserBucketsExpire() {
        RateLimitFilter filter = filter(chain("""
                limits:
                  - name: per-user
                    scope: user
                    requests: {capacity: 5, per: 1m}
                """), NEVER);
        for (int i = 0; i < 500; i++) {
            RequestContext ctx = chat(ACME);
            ctx.endUser("user-" + i);
            call(filter, ctx);
        }
        long busy = store.size();

        clock.advanceMillis(60_000);

        assertEquals(500, busy);
        assertEquals(0, store.size(), "a bucket idle for its interval is full again, so it is dropped");
    }

    @Test
    void threadsHammeringTheFilterNeverGetMoreThanTheTightestCapacity() {
        RateLimitFilter filter = new RateLimitFilter(chain("""
                limits:
                  - name: team
                    scope: team
                    requests: {capacity: 500, per: 1h}
                  - name: client
                    scope: client
                    requests: {capacity: 100000, per: 1h}
                """), new LocalBucketStore(clock, 1000, null), clock, NEVER);
        int threads = 8;
        int perThread = 250;

        int admitted = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<Integer>> results = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    results.add(pool.submit(() -> {
                        start.await();
                        int ok = 0;
                        for (int i = 0; i < perThread; i++) {
                            RequestContext ctx = RateLimitTesting.raw(Endpoint.CHAT_COMPLETIONS, "{}",
                                                                      RequestExecutor.DIRECT);
                            ctx.caller(ACME);
                            ok += filter.filter(ctx, new Upstream()).toCompletableFuture().join().status() == 200
                                  ? 1 : 0;
                        }
                        return ok;
                    }));
                }
                start.countDown();
                int sum = 0;
                for (Future<Integer> f : results) {
                    sum += f.get(60, TimeUnit.SECONDS);
                }
                return sum;
            } finally {
                pool.shutdownNow();
            }
        });

        assertEquals(500, admitted, "time stands still, so exactly the team's capacity passes");
        assertEquals(threads * perThread - 500, filter.stats().refused("team"));
    }

    /** Returns the real estimator, its {@code cl100k_base} tokenizer counting its calls in {@code calls}. */
    private static TokenEstimator countingTokenizer(AtomicInteger calls) {
        return new PromptTokenEstimator(PromptTokenEstimator.DEFAULT_COMPLETION_TOKENS,
                                        PromptTokenEstimator.TOKENIZE_BUDGET_CHARS, text -> {
                                            calls.incrementAndGet();
                                            return PromptTokenEstimator.cl100k(text);
                                        });
    }

    /** Returns an estimator whose estimates are exact from the start: {@code tokens} whatever the request. */
    private static TokenEstimator fixed(long tokens) {
        return ctx -> TokenEstimate.of(tokens);
    }

    private RateLimitFilter filter(ChainConfig chain, TokenEstimator estimator) {
        return new RateLimitFilter(chain, store, clock, estimator);
    }

    private GatewayResponse call(RateLimitFilter filter, RequestContext ctx) {
        return filter.filter(ctx, upstream).toCompletableFuture().join();
    }

    private int admitted(RateLimitFilter filter, Supplier<RequestContext> contexts, int n) {
        int admitted = 0;
        for (int i = 0; i < n; i++) {
            admitted += call(filter, contexts.get()).status() == 200 ? 1 : 0;
        }
        return admitted;
    }

    private static ChainConfig clientLimit(int capacity, String per) {
        return chain("""
                clients:
                  - name: acme
                    key-hash: %s
                    team: growth
                    limits:
                      - name: acme-rpm
                        requests: {capacity: %d, per: %s}
                """.formatted(hash("acme-key"), capacity, per));
    }

    private static ChainConfig tokenLimit(int capacity) {
        return chain("""
                limits:
                  - name: tpm
                    scope: client
                    tokens: {capacity: %d, per: 1m}
                """.formatted(capacity));
    }

    private static BucketKey tokenKey(int capacity) {
        return new BucketKey("tpm", BucketKey.Kind.TOKENS,
                             new Bucket(capacity, Duration.ofMinutes(1)), "acme");
    }

    /** An estimate with chosen figures, counting how often its exact figure is computed. */
    private static final class Estimate extends TokenEstimate {
        private final long exact;
        int computed;

        Estimate(long cheap, long bound, long exact) {
            super(cheap, bound);
            this.exact = exact;
        }

        @Override
        protected long computeExact() {
            computed++;
            return exact;
        }
    }

    private static void usage(RequestContext ctx, long total) {
        byte[] body = ("{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":" + (total - 1)
                       + ",\"total_tokens\":" + total + "}}").getBytes(StandardCharsets.UTF_8);
        ctx.usage().scan(body, 0, body.length);
    }

    private static String message(GatewayResponse response) {
        try {
            return JSON.readTree(((GatewayResponse.Full) response).body()).get("error").get("message").asText();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
