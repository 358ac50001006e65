package dev.detour.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.api.Endpoint;
import dev.detour.api.RequestSniffer;
import dev.detour.auth.AdminAuth;
import dev.detour.config.ConfigLoader;
import dev.detour.config.GatewayConfig;
import dev.detour.config.LimitConfig;
import dev.detour.config.MetricsConfig;
import dev.detour.config.UpstreamConfig;
import dev.detour.filter.Caller;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.RequestBody;
import dev.detour.filter.RequestContext;
import dev.detour.filter.RequestExecutor;
import dev.detour.cache.CacheFilter;
import dev.detour.cache.CacheOutcome;
import dev.detour.cache.CacheStats;
import dev.detour.time.NanoClock;
import dev.detour.usage.RequestUsage;
import dev.detour.usage.UsageLedger;
import dev.detour.usage.UsageRecorder;
import dev.detour.metrics.CacheStatsSource;
import dev.detour.routing.RouteTable;
import dev.detour.server.Transport;
import dev.detour.server.testing.Scrape;
import dev.detour.server.upstream.UpstreamClient;
import io.micrometer.core.instrument.Gauge;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The meters without a server: what a finished request, an event, a reload or a cache adds to the scrape. */
class GatewayMetricsTest {

    private static final String BODY = "{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    private static final byte[] USAGE = "{\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500}}"
            .getBytes(StandardCharsets.UTF_8);
    private static final long MS = 1_000_000L;

    private final RouteTable routes = routes();
    private final UpstreamClient upstream = new UpstreamClient(Transport.NIO, UpstreamConfig.ofDefault());
    private final AtomicLong wallMillis = new AtomicLong(1_795_000_000_000L);
    private final GatewayMetrics metrics = GatewayMetrics.create(MetricsConfig.ofDefault(), () -> routes, upstream,
                                                                 wallMillis::get);

    @AfterEach
    void close() {
        metrics.close();
    }

    @Test
    void countsAFinishedRequestWithItsLatencyOverheadTokensAndCost() {
        RequestContext ctx = served(new Caller("ci-bot", "platform", "default", Map.of(), Set.of()));
        ctx.addUpstreamTime(5 * MS);
        ctx.addWaitTime(3 * MS);
        ctx.upstreamNanos(4 * MS);

        metrics.requestStarted();
        metrics.requestFinished(ctx, 200, 20 * MS, 10 * MS, 0, accounted(ctx));
        Scrape scrape = scrape();

        assertEquals(1.0, scrape.value("detour_requests_total", "route", "chat", "provider", "openai", "model",
                                       "gpt-4o", "status_class", "2xx", "cache", "none"));
        assertEquals(0.020, scrape.value("detour_request_duration_seconds_sum", "route", "chat"), 1e-9);
        assertEquals(0.002, scrape.value("detour_overhead_seconds_sum", "route", "chat"), 1e-9,
                     "10 ms to the head, less 5 ms upstream and 3 ms waiting");
        assertEquals(0.004, scrape.value("detour_upstream_ttfb_seconds_sum", "route", "chat", "provider", "openai",
                                         "model", "gpt-4o"), 1e-9);
        assertEquals(1000.0, scrape.value("detour_tokens_total", "client", "ci-bot", "team", "platform", "route",
                                          "chat", "model", "gpt-4o", "type", "prompt"));
        assertEquals(500.0, scrape.value("detour_tokens_total", "client", "ci-bot", "team", "platform", "route",
                                         "chat", "model", "gpt-4o", "type", "completion"));
        double listPrice = routes.route("chat").targets().get(0).modelInfo().orElseThrow().cost(1000, 500);
        assertTrue(listPrice > 0, "the built-in catalog prices gpt-4o");
        assertEquals(listPrice, scrape.value("detour_cost_usd_total", "client", "ci-bot", "team", "platform",
                                             "route", "chat", "model", "gpt-4o"), 1e-12);
        assertEquals(0.0, scrape.value("detour_requests_in_flight"));
    }

    @Test
    void aCacheHitCostsNothingAndIsLabelledSo() {
        RequestContext ctx = served(Caller.ANONYMOUS);
        ctx.attr(CacheFilter.OUTCOME, CacheOutcome.HIT);

        metrics.requestStarted();
        metrics.requestFinished(ctx, 200, MS, MS, 0, accounted(ctx));
        Scrape scrape = scrape();

        assertEquals(1.0, scrape.value("detour_requests_total", "route", "chat", "provider", "openai", "model",
                                       "gpt-4o", "status_class", "2xx", "cache", "hit"));
        assertTrue(scrape.named("detour_tokens_total").isEmpty(), "no tokens for a cached answer");
    }

    @Test
    void aRequestRefusedBeforeItHadAContextCountsUnderNone() {
        metrics.requestStarted();
        metrics.requestRefused(400, 2 * MS, MS);

        assertEquals(1.0, scrape().value("detour_requests_total", "route", "none", "provider", "none", "model",
                                         "none", "status_class", "4xx", "cache", "none"));
    }

    @Test
    void countsEventsFromTheChain() {
        metrics.attemptEnded("chat", "openai", "gpt-4o", dev.detour.provider.UpstreamVerdict.Kind.RATE_LIMITED);
        metrics.retried("chat", "openai", "gpt-4o", dev.detour.config.RetryTrigger.RATE_LIMIT);
        metrics.fellBack("chat", "openai", "gpt-4o", dev.detour.config.RetryTrigger.SERVER_ERROR);
        metrics.rateLimited("per-user", LimitConfig.Scope.USER, true);
        metrics.rateLimited("per-user", LimitConfig.Scope.USER, true);
        Scrape scrape = scrape();

        assertEquals(1.0, scrape.value("detour_upstream_attempts_total", "route", "chat", "provider", "openai",
                                       "model", "gpt-4o", "outcome", "rate_limited"));
        assertEquals(1.0, scrape.value("detour_retries_total", "route", "chat", "provider", "openai", "model",
                                       "gpt-4o", "reason", "rate_limit"));
        assertEquals(1.0, scrape.value("detour_fallbacks_total", "route", "chat", "provider", "openai", "model",
                                       "gpt-4o", "reason", "server_error"));
        assertEquals(2.0, scrape.value("detour_rate_limited_requests_total", "limit", "per-user", "scope", "user",
                                       "mode", "shadow"));
    }

    @Test
    void countsConfigReloadsAndWhenTheLastOneWorked() {
        assertEquals(1_795_000_000.0, scrape().value("detour_config_last_load_timestamp_seconds"), "loaded at start");

        wallMillis.addAndGet(1_500);
        metrics.configReloaded(true);
        wallMillis.addAndGet(60_000);
        metrics.configReloaded(false);
        metrics.configReloaded(false);
        Scrape scrape = scrape();

        assertEquals(1.0, scrape.value("detour_config_reloads_total", "result", "success"));
        assertEquals(2.0, scrape.value("detour_config_reloads_total", "result", "failure"));
        assertEquals(1_795_000_001.5, scrape.value("detour_config_last_load_timestamp_seconds"),
                     "the last reload that worked, not the refused ones");
    }

    @Test
    void publishesCacheStatsOnlyWhileThereIsACache() {
        AtomicReference<Optional<CacheStats>> cache = new AtomicReference<>(Optional.empty());
        CacheStatsSource source = cache::get;
        metrics.cacheStats(source);
        Scrape without = scrape();

        cache.set(Optional.of(new CacheStats(7, 0, 0, 3, 0, 0, 0, 2, 0, 5, 4096, 1 << 20)));
        Scrape with = scrape();
        metrics.cacheStats(CacheStatsSource.NONE);
        Scrape removed = scrape();

        assertTrue(without.named("detour_cache_hits_total").isEmpty());
        assertEquals(7.0, with.value("detour_cache_hits_total"));
        assertEquals(3.0, with.value("detour_cache_misses_total"));
        assertEquals(2.0, with.value("detour_cache_evictions_total"));
        assertEquals(5.0, with.value("detour_cache_entries"));
        assertEquals(4096.0, with.value("detour_cache_size_bytes"));
        assertTrue(removed.named("detour_cache_entries").isEmpty());
    }

    @Test
    void rendersOpenMetricsWithItsTerminator() {
        String text = new String(metrics.scrape(true), StandardCharsets.UTF_8);

        assertTrue(text.endsWith("# EOF\n"), text);
    }

    @Test
    void rendersScrapesOffTheCallersThreadAndRefusesWhenTooManyWait() throws Exception {
        CountDownLatch rendering = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Gauge.builder("test.blocker", () -> {
            rendering.countDown();
            try {
                // Released by the test: a render that gave up first would take a waiting scrape off the queue.
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return 1;
        }).register(metrics.registry());
        CompletableFuture<byte[]> first = metrics.scrapeAsync(false);
        List<CompletableFuture<byte[]>> waiting = new ArrayList<>();
        GatewayResponse.Full refused;
        try {
            assertTrue(rendering.await(20, TimeUnit.SECONDS), "the first scrape is rendering");
            for (int i = 0; i < 8; i++) {
                waiting.add(metrics.scrapeAsync(false));
            }

            refused = MetricsEndpoint.respond(metrics, MetricsConfig.ofDefault(), new AdminAuth(List.of()), "GET",
                                              name -> null).toCompletableFuture().get(20, TimeUnit.SECONDS);
        } finally {
            release.countDown();
        }

        assertEquals(503, refused.status());
        assertTrue(new String(refused.body(), StandardCharsets.UTF_8).contains("metrics_busy"));
        assertTrue(new String(first.get(20, TimeUnit.SECONDS), StandardCharsets.UTF_8).contains("test_blocker 1.0"));
        for (CompletableFuture<byte[]> f : waiting) {
            assertTrue(f.get(20, TimeUnit.SECONDS).length > 0, "every waiting scrape is answered");
        }
    }

    @Test
    void aDisabledInstanceRecordsNothing() {
        try (GatewayMetrics off = GatewayMetrics.create(new MetricsConfig(false, "/metrics", 0, Optional.empty(),
                false), () -> routes, upstream)) {
            off.requestStarted();
            RequestContext ctx = served(Caller.ANONYMOUS);
            off.requestFinished(ctx, 200, MS, MS, 3, accounted(ctx));
            off.rateLimited("x", LimitConfig.Scope.GLOBAL, false);

            Scrape scrape = Scrape.parse(new String(off.scrape(false), StandardCharsets.UTF_8));

            assertFalse(off.enabled());
            assertTrue(scrape.named("detour_requests_total").isEmpty());
            assertTrue(scrape.named("detour_rate_limited_requests_total").isEmpty());
            assertTrue(scrape.named("jvm_memory_used_bytes").isEmpty(), "no binders either");
        }
    }

    @Test
    void labelValuesBeyondTheBoundShareOther() {
        MeterCache<String> cache = new MeterCache<>(2, value -> "meters of " + value);

        String a = cache.get("a");
        cache.get("b");
        String c = cache.get("c");
        String d = cache.get("d");

        assertEquals("meters of a", a);
        assertSame(a, cache.get("a"), "built once, then looked up");
        assertEquals("meters of other", c);
        assertSame(c, d);
    }

    private Scrape scrape() {
        return Scrape.parse(new String(metrics.scrape(false), StandardCharsets.UTF_8));
    }

    /** Returns the context of a request to route {@code chat} served by openai/gpt-4o, its usage read. */
    private RequestContext served(Caller caller) {
        byte[] bytes = BODY.getBytes(StandardCharsets.UTF_8);
        RequestContext ctx;
        try {
            ctx = new RequestContext("req_1", Endpoint.CHAT_COMPLETIONS, name -> null, new RequestBody() {
                @Override
                public int length() {
                    return bytes.length;
                }

                @Override
                public InputStream newInputStream() {
                    return new ByteArrayInputStream(bytes);
                }
            }, RequestSniffer.sniff(new ByteArrayInputStream(bytes)), routes.route("chat"), RequestExecutor.DIRECT, 0);
        } catch (dev.detour.api.InvalidRequestException e) {
            throw new AssertionError(e);
        }
        ctx.caller(caller);
        ctx.recordAttempt("openai", "gpt-4o", "k1", routes.route("chat").targets().get(0).price());
        ctx.needsUsage(true);
        ctx.usage().scan(USAGE, 0, USAGE.length);
        return ctx;
    }

    /** Returns the usage accounting counts for {@code ctx}, as the server hands it over. */
    private static RequestUsage accounted(RequestContext ctx) {
        return new UsageRecorder(new UsageLedger(NanoClock.SYSTEM)).record(ctx);
    }

    private static RouteTable routes() {
        try {
            GatewayConfig config = ConfigLoader.parse("""
                    providers:
                      openai:
                        type: openai
                        base-url: https://api.openai.com/v1
                        keys: [{id: k1, value: sk-test-0000000000}]
                    routes:
                      - model: chat
                        targets: [{provider: openai, model: gpt-4o}]
                    """, "test.yaml", Map.of());
            return RouteTable.of(config, 0);
        } catch (dev.detour.config.ConfigException e) {
            throw new AssertionError(e);
        }
    }
}
