package dev.detour.cache;

import static dev.detour.cache.CacheTesting.ANSWER;
import static dev.detour.cache.CacheTesting.CHAT_STREAM;
import static dev.detour.cache.CacheTesting.STREAM;
import static dev.detour.cache.CacheTesting.json;
import static dev.detour.cache.CacheTesting.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.api.Endpoint;
import dev.detour.config.GatewayConfig;
import dev.detour.filter.FilterOrder;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.RequestContext;
import dev.detour.routing.DispatchFilter;
import dev.detour.routing.RouteTable;
import dev.detour.testing.FakeClock;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class CacheFilterTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final FakeClock clock = new FakeClock();
    private final ResponseCache cache = ResponseCache.newCache(1 << 20, clock, Runnable::run);
    private final CacheTesting.Upstream upstream = new CacheTesting.Upstream();
    private GatewayConfig config = CacheTesting.cachingConfig("ttl: 60s", "");
    private RouteTable routes = RouteTable.of(config, 0);
    private CacheFilter filter = CacheFilter.of(config, cache).orElseThrow();

    @Test
    void answersARepeatFromTheCache() throws Exception {
        GatewayResponse first = send(request());
        clock.advanceMillis(2_500);
        GatewayResponse second = send(request());

        assertEquals("MISS", first.headers().get(CacheFilter.HEADER));
        assertEquals("HIT", second.headers().get(CacheFilter.HEADER));
        assertEquals("2", second.headers().get("age"));
        assertEquals("application/json", second.headers().get("content-type"));
        assertEquals(ANSWER, text(second));
        assertEquals(1, upstream.calls);
        CacheStats stats = cache.stats();
        assertEquals(1, stats.hits());
        assertEquals(1, stats.misses());
        assertEquals(1, stats.stores());
    }

    @Test
    void treatsEquivalentBodiesAsTheSameRequest() throws Exception {
        send(request().body("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                            + "\"temperature\":1}"));

        GatewayResponse r = send(request().body("{ \"temperature\": 1.0, \"user\": \"u7\", \"messages\": [ "
                                                + "{\"content\": \"hi\", \"role\": \"user\"} ], \"model\": \"m\" }"));

        assertEquals("HIT", r.headers().get(CacheFilter.HEADER));
    }

    @Test
    void leavesRoutesWithoutCacheAlone() throws Exception {
        GatewayResponse first = send(request().body("{\"model\":\"plain\",\"messages\":[]}"));
        GatewayResponse second = send(request().body("{\"model\":\"plain\",\"messages\":[]}"));

        assertNull(first.headers().get(CacheFilter.HEADER));
        assertNull(second.headers().get(CacheFilter.HEADER));
        assertEquals(2, upstream.calls);
        assertEquals(0, cache.stats().stores());
    }

    @Test
    void bypassesLegacyCompletionsAndBodiesThatAreNotJsonObjects() throws Exception {
        GatewayResponse legacy = send(request().endpoint(Endpoint.COMPLETIONS)
                                               .body("{\"model\":\"m\",\"prompt\":\"hi\"}"));
        GatewayResponse list = send(request().body("{\"model\":\"m\",\"messages\":[]} trailing"));

        assertEquals("BYPASS", legacy.headers().get(CacheFilter.HEADER));
        assertEquals("BYPASS", list.headers().get(CacheFilter.HEADER));
        assertEquals(0, cache.stats().stores());
        assertEquals(2, cache.stats().bypasses());
    }

    @Test
    void bypassesABodyWithANumberNoDecimalCanHold() throws Exception {
        // Valid JSON, but 1e2147483648 has an exponent beyond an int: the key cannot be computed.
        GatewayResponse r = send(request().body("{\"model\":\"m\",\"messages\":[],\"temperature\":1e2147483648}"));

        assertEquals("BYPASS", r.headers().get(CacheFilter.HEADER));
        assertEquals(1, upstream.calls);
    }

    @Test
    void replaysACachedJsonAnswerAsAStream() throws Exception {
        send(request());

        GatewayResponse r = send(request().body(CHAT_STREAM));

        assertEquals("HIT", r.headers().get(CacheFilter.HEADER));
        assertEquals("text/event-stream", r.headers().get("content-type"));
        List<JsonNode> chunks = SseReplayTest.chunks(text(r));
        assertEquals("Hello there", chunks.get(1).at("/choices/0/delta/content").asText());
        assertTrue(text(r).endsWith("data: [DONE]\n\n"));
    }

    @Test
    void capturesAStreamAndServesItAsJsonAndAsAStream() throws Exception {
        CacheTesting.PlayedBody body = new CacheTesting.PlayedBody(true);
        upstream.answering(ctx -> body.response());

        RequestContext ctx = request().body(CHAT_STREAM).build();
        GatewayResponse first = send(ctx);
        assertEquals("MISS", first.headers().get(CacheFilter.HEADER));
        assertTrue(ctx.needsUsage(), "a stored stream should carry usage: ask for it");
        body.play(STREAM, 17);
        ctx.complete();
        GatewayResponse asJson = send(request());
        GatewayResponse asStream = send(request().body(CHAT_STREAM.replace("\"stream\":true",
                "\"stream\":true,\"stream_options\":{\"include_usage\":true}")));

        assertEquals("HIT", asJson.headers().get(CacheFilter.HEADER));
        JsonNode answer = JSON.readTree(text(asJson));
        assertEquals("Hello there", answer.at("/choices/0/message/content").asText());
        assertEquals(7, answer.at("/usage/total_tokens").asInt());
        assertEquals("HIT", asStream.headers().get(CacheFilter.HEADER));
        List<JsonNode> chunks = SseReplayTest.chunks(text(asStream));
        assertEquals(7, chunks.get(chunks.size() - 1).at("/usage/total_tokens").asInt());
        assertEquals(1, upstream.calls);
    }

    @Test
    void capturesARelayedJsonBody() throws Exception {
        CacheTesting.PlayedBody body = new CacheTesting.PlayedBody(false);
        upstream.answering(ctx -> body.response());

        send(request());
        body.play(ANSWER, 64);
        GatewayResponse r = send(request());

        assertEquals("HIT", r.headers().get(CacheFilter.HEADER));
        assertEquals(ANSWER, text(r));
    }

    @Test
    void doesNotStoreAStreamThatBrokeOff() throws Exception {
        CacheTesting.PlayedBody body = new CacheTesting.PlayedBody(true);
        upstream.answering(ctx -> body.response());

        send(request().body(CHAT_STREAM));
        body.observer.onChunk(java.nio.ByteBuffer.wrap(STREAM.substring(0, 200).getBytes()));
        body.abort();
        GatewayResponse r = send(request().body(CHAT_STREAM));

        assertEquals("MISS", r.headers().get(CacheFilter.HEADER));
        assertEquals(0, cache.stats().stores());
    }

    @Test
    void refreshesOnNoCache() throws Exception {
        send(request());
        upstream.answering(ctx -> json(ANSWER.replace("Hello there", "Fresh")));

        GatewayResponse refreshed = send(request().header("cache-control", "no-cache"));
        GatewayResponse after = send(request());

        assertEquals("BYPASS", refreshed.headers().get(CacheFilter.HEADER));
        assertTrue(text(refreshed).contains("Fresh"));
        assertEquals("HIT", after.headers().get(CacheFilter.HEADER));
        assertTrue(text(after).contains("Fresh"), "no-cache stores the fresh answer");
        assertEquals(2, upstream.calls);
    }

    @Test
    void doesNotStoreOnNoStoreButStillServesHits() throws Exception {
        GatewayResponse first = send(request().header("cache-control", "no-store"));
        GatewayResponse second = send(request());
        GatewayResponse third = send(request().header("cache-control", "no-store"));

        assertEquals("MISS", first.headers().get(CacheFilter.HEADER));
        assertEquals("MISS", second.headers().get(CacheFilter.HEADER), "the no-store answer was not kept");
        assertEquals("HIT", third.headers().get(CacheFilter.HEADER));
        assertEquals(2, upstream.calls);
    }

    @Test
    void honoursMaxAge() throws Exception {
        send(request());
        clock.advanceMillis(10_000);

        GatewayResponse tooOld = send(request().header("cache-control", "max-age=5"));
        clock.advanceMillis(1_000);
        GatewayResponse young = send(request().header("cache-control", "max-age=5"));

        assertEquals("MISS", tooOld.headers().get(CacheFilter.HEADER));
        assertEquals("HIT", young.headers().get(CacheFilter.HEADER), "the miss stored a new answer");
        assertEquals("1", young.headers().get("age"));
    }

    @Test
    void expiresEntriesAfterTheRouteTtl() throws Exception {
        send(request());
        clock.advanceMillis(59_000);
        assertEquals("HIT", send(request()).headers().get(CacheFilter.HEADER));

        clock.advanceMillis(2_000);

        assertEquals("MISS", send(request()).headers().get(CacheFilter.HEADER));
    }

    @Test
    void storesWithTheTtlTheRequestAsksForUpToTheMaximum() throws Exception {
        useConfig(CacheTesting.cachingConfig("ttl: 60s", "cache:\n  max-ttl: 2m\n"));

        send(request().header("x-detour-cache-ttl", "5"));
        clock.advanceMillis(6_000);
        assertEquals("MISS", send(request().header("x-detour-cache-ttl", "1h")).headers().get(CacheFilter.HEADER));
        clock.advanceMillis(119_000);
        assertEquals("HIT", send(request()).headers().get(CacheFilter.HEADER), "1h capped to max-ttl 2m");
        clock.advanceMillis(2_000);

        assertEquals("MISS", send(request()).headers().get(CacheFilter.HEADER));
    }

    @Test
    void refusesABadTtlHeader() throws Exception {
        GatewayResponse r = send(request().header("x-detour-cache-ttl", "later"));

        assertEquals(400, r.status());
        JsonNode error = JSON.readTree(text(r)).get("error");
        assertEquals("invalid_request_error", error.get("type").asText());
        assertTrue(error.get("message").asText().contains("x-detour-cache-ttl"), error.toString());
        assertEquals(0, upstream.calls);
    }

    @Test
    void keepsTeamsApart() throws Exception {
        send(request().caller("alice", "growth"));

        GatewayResponse otherTeam = send(request().caller("bob", "infra"));
        GatewayResponse sameTeam = send(request().caller("carol", "growth"));

        assertEquals("MISS", otherTeam.headers().get(CacheFilter.HEADER));
        assertEquals("HIT", sameTeam.headers().get(CacheFilter.HEADER));
    }

    @Test
    void keepsClientsApartWithClientScope() throws Exception {
        useConfig(CacheTesting.cachingConfig("scope: client", ""));
        send(request().caller("alice", "growth"));

        assertEquals("MISS", send(request().caller("carol", "growth")).headers().get(CacheFilter.HEADER));
        assertEquals("HIT", send(request().caller("alice", "growth")).headers().get(CacheFilter.HEADER));
    }

    @Test
    void sharesEntriesWithGlobalScope() throws Exception {
        useConfig(CacheTesting.cachingConfig("", "cache:\n  scope: global\n"));
        send(request().caller("alice", "growth"));

        assertEquals("HIT", send(request().caller("bob", "infra")).headers().get(CacheFilter.HEADER));
    }

    @Test
    void doesNotStoreErrorsOrAnswersLargerThanTheEntryLimit() throws Exception {
        useConfig(CacheTesting.cachingConfig("max-entry-size: 100", ""));
        send(request());
        upstream.answering(ctx -> CacheTesting.error(500));
        send(request().body("{\"model\":\"m\",\"messages\":[],\"seed\":2}"));
        CacheTesting.PlayedBody body = new CacheTesting.PlayedBody(false);
        upstream.answering(ctx -> body.response());
        send(request().body("{\"model\":\"m\",\"messages\":[],\"seed\":3}"));
        body.play(ANSWER, 10);

        CacheStats stats = cache.stats();
        assertEquals(0, stats.stores());
        assertEquals(2, stats.tooLarge());
        assertEquals(0, stats.entries());
    }

    @Test
    void servesJsonOnlyFromAnswersWithUsage() throws Exception {
        String noUsage = ANSWER.substring(0, ANSWER.indexOf(",\"usage\"")) + "}";
        upstream.answering(ctx -> json(noUsage));
        send(request());

        GatewayResponse stream = send(request().body(CHAT_STREAM));
        GatewayResponse plain = send(request());

        assertEquals("HIT", stream.headers().get(CacheFilter.HEADER), "a stream without a usage chunk needs none");
        assertEquals("MISS", plain.headers().get(CacheFilter.HEADER));
    }

    @Test
    void servesAStaleEntryWhenTheRouteGaveUp() throws Exception {
        useConfig(CacheTesting.cachingConfig("ttl: 10s, stale-if-exhausted: 1h", ""));
        send(request());
        clock.advanceMillis(30_000);
        upstream.answering(ctx -> {
            ctx.attr(DispatchFilter.GAVE_UP, Boolean.TRUE);
            return CacheTesting.error(429);
        });

        GatewayResponse r = send(request());

        assertEquals(200, r.status());
        assertEquals("STALE", r.headers().get(CacheFilter.HEADER));
        assertEquals("30", r.headers().get("age"));
        assertEquals(ANSWER, text(r));
        assertEquals(1, cache.stats().staleHits());
    }

    @Test
    void passesTheErrorOnWhenStaleIsNotAllowed() throws Exception {
        useConfig(CacheTesting.cachingConfig("ttl: 10s", ""));
        send(request());
        clock.advanceMillis(30_000);
        upstream.answering(ctx -> {
            ctx.attr(DispatchFilter.GAVE_UP, Boolean.TRUE);
            return CacheTesting.error(429);
        });

        GatewayResponse r = send(request());

        assertEquals(429, r.status());
        assertEquals("MISS", r.headers().get(CacheFilter.HEADER));
    }

    @Test
    void servesNoStaleEntryForAnErrorTheRouteDidNotGiveUpOn() throws Exception {
        useConfig(CacheTesting.cachingConfig("ttl: 10s, stale-if-exhausted: 1h", ""));
        send(request());
        clock.advanceMillis(30_000);
        upstream.answering(ctx -> CacheTesting.error(400));
        assertEquals(400, send(request()).status());
        upstream.answering(ctx -> CacheTesting.error(503));
        assertEquals(503, send(request()).status(), "not given up: the dispatcher answered the error itself");
        clock.advanceMillis(3_600_000);
        upstream.answering(ctx -> {
            ctx.attr(DispatchFilter.GAVE_UP, Boolean.TRUE);
            return CacheTesting.error(503);
        });

        assertEquals(503, send(request()).status(), "older than ttl plus the stale window");
    }

    @Test
    void sendsOneUpstreamRequestForIdenticalConcurrentRequests() throws Exception {
        upstream.holding();
        RequestContext leaderCtx = request().executor(clock.executor()).build();
        CompletableFuture<GatewayResponse> leader = filter.filter(leaderCtx, upstream).toCompletableFuture();
        List<CompletableFuture<GatewayResponse>> followers = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            followers.add(filter.filter(request().executor(clock.executor()).build(), upstream).toCompletableFuture());
        }
        assertEquals(1, upstream.calls);
        assertFalse(followers.get(0).isDone());

        upstream.held.get(0).complete(json(ANSWER));

        assertEquals("MISS", leader.join().headers().get(CacheFilter.HEADER));
        for (CompletableFuture<GatewayResponse> f : followers) {
            assertEquals("HIT", f.join().headers().get(CacheFilter.HEADER));
            assertEquals(ANSWER, text(f.join()));
        }
        assertEquals(1, upstream.calls);
        assertEquals(10, cache.stats().coalesced());
        assertEquals(0, cache.flights().size());
    }

    @Test
    void sendsFollowersUpstreamWhenTheLeaderStoredNothing() throws Exception {
        upstream.holding();
        RequestContext leaderCtx = request().executor(clock.executor()).build();
        filter.filter(leaderCtx, upstream);
        CompletableFuture<GatewayResponse> follower = filter.filter(request().executor(clock.executor()).build(),
                                                                    upstream).toCompletableFuture();

        upstream.held.get(0).complete(CacheTesting.error(500));

        assertEquals(2, upstream.calls, "the follower went upstream itself");
        upstream.held.get(1).complete(json(ANSWER));
        assertEquals("MISS", follower.join().headers().get(CacheFilter.HEADER));
        assertEquals(1, cache.stats().stores());
    }

    @Test
    void releasesFollowersWhenTheLeadersClientLeaves() throws Exception {
        upstream.holding();
        RequestContext leaderCtx = request().executor(clock.executor()).build();
        filter.filter(leaderCtx, upstream);
        filter.filter(request().executor(clock.executor()).build(), upstream);

        leaderCtx.complete(); // the exchange ended without an answer

        assertEquals(2, upstream.calls);
        assertEquals(0, cache.flights().size());
    }

    @Test
    void sendsAFollowerUpstreamAfterTheSingleFlightTimeout() throws Exception {
        useConfig(CacheTesting.cachingConfig("", "cache:\n  single-flight-timeout: 2s\n"));
        upstream.holding();
        filter.filter(request().executor(clock.executor()).build(), upstream);
        filter.filter(request().executor(clock.executor()).build(), upstream);

        clock.advanceMillis(1_999);
        assertEquals(1, upstream.calls);
        clock.advanceMillis(1);

        assertEquals(2, upstream.calls);
    }

    @Test
    void sitsBeforeRateLimitsWhenHitsDoNotCount() {
        assertEquals(FilterOrder.CACHE, filter.order());

        useConfig(CacheTesting.cachingConfig("", "cache:\n  count-hits-toward-limits: false\n"));

        assertEquals(FilterOrder.CACHE_BEFORE_LIMITS, filter.order());
        assertTrue(filter.order() > FilterOrder.POLICY && filter.order() < FilterOrder.RATE_LIMIT);
    }

    @Test
    void isLeftOutOfTheChainWhenNoRouteCaches() {
        GatewayConfig none = CacheTesting.config("  - model: m\n    targets: [{provider: mock}]\n", "");

        assertTrue(CacheFilter.of(none, cache).isEmpty());
    }

    @Test
    void givesTheUsageOfAHitToTokenLimits() throws Exception {
        send(request());
        RequestContext ctx = request().body(CHAT_STREAM).build();
        ctx.needsUsage(true);

        send(ctx);

        assertEquals(7, ctx.usage().totalTokens());
        assertEquals(CacheOutcome.HIT, ctx.attr(CacheFilter.OUTCOME));
    }

    private void useConfig(GatewayConfig newConfig) {
        config = newConfig;
        routes = RouteTable.of(config, 0);
        filter = CacheFilter.of(config, cache).orElseThrow();
    }

    private CacheTesting.Request request() {
        return new CacheTesting.Request(config, routes);
    }

    private GatewayResponse send(CacheTesting.Request request) throws IOException {
        return send(request.build());
    }

    private GatewayResponse send(RequestContext ctx) {
        CompletableFuture<GatewayResponse> f = filter.filter(ctx, upstream).toCompletableFuture();
        assertTrue(f.isDone(), "answered synchronously");
        GatewayResponse r = f.join();
        if (r instanceof GatewayResponse.Full) {
            ctx.complete(); // the server ends the exchange once a body in memory is written
        }
        return r;
    }
}
