package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.auth.ClientKeys;
import dev.detour.config.KeyHash;
import dev.detour.cache.CacheStats;
import dev.detour.server.testing.Scrape;
import dev.detour.server.testing.TestGateway;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code /metrics} after a scripted mix of requests through the real server and the mock provider: a key that
 * answers 429 (retried on the next key), a target whose only key is rate-limited (fallback to another target),
 * a failing target (fallback), a route whose keys are all cooling (429 without an attempt), an upstream error
 * answered to the client, a rate-limit refusal, a malformed request and a stream. The scrape must show exactly
 * these counts, with exactly these label sets.
 *
 * <p>The mix runs once, before the assertions; each test reads one scrape of it.
 */
class MetricsIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CLIENT_KEY = ClientKeys.newKey();
    private static final String ADMIN_KEY = ClientKeys.newKey();
    private static final String CHAT = "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"hello "
                                       + "metrics\"}]}";
    private static final String STREAM = "{\"model\":\"chat\",\"stream\":true,\"stream_options\":{\"include_usage\":"
                                         + "true},\"messages\":[{\"role\":\"user\",\"content\":\"stream me\"}]}";
    /** The one family that appears later: at the first garbage collection after start. */
    private static final String GC_PAUSES = "jvm_gc_pause_seconds";
    private static final double PROMPT_PRICE = 3.0;
    private static final double COMPLETION_PRICE = 15.0;

    private static TestGateway gateway;
    private static Scrape scrape;
    private static long promptTokens;
    private static long completionTokens;
    private static long streamEvents;
    private static HttpResponse<String> scraped;

    @BeforeAll
    static void runMix() throws Exception {
        // Static, so that each test reads the one mix: start from zero when the class runs again in the same JVM.
        promptTokens = 0;
        completionTokens = 0;
        streamEvents = 0;
        gateway = TestGateway.start("""
                auth:
                  enabled: true
                  admin-keys: [%s]
                clients:
                  - name: alpha
                    key-hash: %s
                    team: research
                providers:
                  primary:
                    type: mock
                    pool: {strategy: ordered}
                    keys:
                      - {id: p1, value: mock-p1}
                      - {id: p2, value: mock-p2}
                    mock:
                      failures:
                        - {key: p1, kind: rate-limit, retry-after: 60s, times: 1}
                  backup:
                    type: mock
                    keys: [{id: b1, value: mock-b1}]
                  flaky:
                    type: mock
                    keys: [{id: f1, value: mock-f1}]
                    mock:
                      failures: [{key: f1, kind: server-error}]
                  limited:
                    type: mock
                    keys: [{id: l1, value: mock-l1}]
                    mock:
                      failures: [{key: l1, kind: rate-limit, retry-after: 60s}]
                routes:
                  - model: chat
                    targets: [{provider: primary, model: mock-chat}, {provider: backup, model: mock-chat}]
                  - model: spill
                    targets: [{provider: limited, model: mock-spill}, {provider: backup, model: mock-spill}]
                  - model: broken
                    targets: [{provider: flaky, model: mock-broken}, {provider: backup, model: mock-broken}]
                  - model: exhausted
                    max-wait: 0s
                    targets: [{provider: limited, model: mock-exhausted}]
                  - model: failing
                    targets: [{provider: flaky, model: mock-failing}]
                  - model: tiny
                    targets: [{provider: backup, model: mock-tiny}]
                limits:
                  - name: tiny-rpm
                    scope: route
                    requests: {capacity: 1, per: 1m}
                    match: {routes: [tiny]}
                models:
                  - {family: mock, id: mock-chat, context-window: 8192, input-price: %s, output-price: %s}
                """.formatted(KeyHash.of(ADMIN_KEY).text(), KeyHash.of(CLIENT_KEY).text(), PROMPT_PRICE,
                              COMPLETION_PRICE));

        HttpResponse<String> retried = post(CHAT.formatted("chat"));
        assertEquals(200, retried.statusCode(), retried.body());
        assertEquals("2", retried.headers().firstValue("x-detour-attempts").orElseThrow());
        countUsage(JSON.readTree(retried.body()).get("usage"));
        assertEquals(200, post(CHAT.formatted("spill")).statusCode());
        assertEquals(200, post(CHAT.formatted("broken")).statusCode());
        HttpResponse<String> exhausted = post(CHAT.formatted("exhausted"));
        assertEquals(429, exhausted.statusCode(), exhausted.body());
        assertTrue(exhausted.body().contains("all_keys_exhausted"), exhausted.body());
        int failing = post(CHAT.formatted("failing")).statusCode();
        assertTrue(failing >= 500, "an upstream error answered: " + failing);
        assertEquals(200, post(CHAT.formatted("tiny")).statusCode());
        HttpResponse<String> limited = post(CHAT.formatted("tiny"));
        assertEquals(429, limited.statusCode(), limited.body());
        assertTrue(limited.body().contains("rate_limit_exceeded"), limited.body());
        assertEquals(400, post("{\"model\":").statusCode());
        HttpResponse<String> stream = post(STREAM);
        assertEquals(200, stream.statusCode(), stream.body());
        for (String line : stream.body().split("\n")) {
            if (line.startsWith("data: ")) {
                streamEvents++;
                if (line.contains("\"usage\":{")) {
                    countUsage(JSON.readTree(line.substring(6)).get("usage"));
                }
            }
        }

        // The response cache's seam, with a fake cache: its meters appear and read the source at each scrape.
        gateway.server().metrics().cacheStats(() -> Optional.of(new CacheStats(5, 0, 0, 2, 0, 0, 0, 1, 0, 3, 2048, 1 << 20)));
        gateway.awaitIdle();
        scraped = gateway.get("/metrics");
        scrape = Scrape.parse(scraped.body());
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void servesPrometheusTextFormat() {
        assertEquals(200, scraped.statusCode());
        assertEquals("text/plain; version=0.0.4; charset=utf-8",
                     scraped.headers().firstValue("content-type").orElseThrow());
        assertTrue(scraped.body().contains("# TYPE detour_requests_total counter"), scraped.body());
    }

    @Test
    void countsRequestsByRouteProviderModelStatusClassAndCache() {
        assertRequests(2, "chat", "primary", "mock-chat", "2xx");
        assertRequests(1, "spill", "backup", "mock-spill", "2xx");
        assertRequests(1, "broken", "backup", "mock-broken", "2xx");
        assertRequests(1, "exhausted", "none", "none", "4xx");
        assertRequests(1, "failing", "flaky", "mock-failing", "5xx");
        assertRequests(1, "tiny", "backup", "mock-tiny", "2xx");
        assertRequests(1, "tiny", "none", "none", "4xx");
        assertRequests(1, "none", "none", "none", "4xx");
        assertEquals(9, scrape.sum("detour_requests_total"), "every API request once, nothing else");
        assertEquals(8, scrape.named("detour_requests_total").size(), "no other label set");
    }

    @Test
    void countsAttemptsByOutcome() {
        assertAttempts(1, "chat", "primary", "mock-chat", "rate_limited");
        assertAttempts(2, "chat", "primary", "mock-chat", "success");
        assertAttempts(1, "spill", "limited", "mock-spill", "rate_limited");
        assertAttempts(1, "spill", "backup", "mock-spill", "success");
        assertAttempts(1, "broken", "flaky", "mock-broken", "server_error");
        assertAttempts(1, "broken", "backup", "mock-broken", "success");
        assertAttempts(1, "failing", "flaky", "mock-failing", "server_error");
        assertAttempts(1, "tiny", "backup", "mock-tiny", "success");
        assertEquals(9, scrape.sum("detour_upstream_attempts_total"));
    }

    @Test
    void countsRetriesOnTheSameTargetAndFallbacksToAnotherWithTheirReason() {
        assertEquals(1.0, scrape.value("detour_retries_total", "route", "chat", "provider", "primary",
                                       "model", "mock-chat", "reason", "rate_limit"));
        assertEquals(1, scrape.sum("detour_retries_total"));
        assertEquals(1.0, scrape.value("detour_fallbacks_total", "route", "spill", "provider", "limited",
                                       "model", "mock-spill", "reason", "rate_limit"));
        assertEquals(1.0, scrape.value("detour_fallbacks_total", "route", "broken", "provider", "flaky",
                                       "model", "mock-broken", "reason", "server_error"));
        assertEquals(2, scrape.sum("detour_fallbacks_total"));
    }

    @Test
    void countsRateLimitRefusalsByLimitAndScope() {
        assertEquals(1.0, scrape.value("detour_rate_limited_requests_total", "limit", "tiny-rpm", "scope", "route",
                                       "mode", "enforced"));
        assertEquals(1, scrape.named("detour_rate_limited_requests_total").size());
    }

    @Test
    void countsTokensAndCostByClientTeamRouteAndModel() {
        assertTrue(promptTokens > 0 && completionTokens > 0, "the mock reports usage");
        assertEquals((double) promptTokens, scrape.value("detour_tokens_total", "client", "alpha", "team", "research",
                                                         "route", "chat", "model", "mock-chat", "type", "prompt"));
        assertEquals((double) completionTokens, scrape.value("detour_tokens_total", "client", "alpha", "team",
                "research", "route", "chat", "model", "mock-chat", "type", "completion"));
        double cost = (promptTokens * PROMPT_PRICE + completionTokens * COMPLETION_PRICE) / 1_000_000;
        Double scrapedCost = scrape.value("detour_cost_usd_total", "client", "alpha", "team", "research",
                                          "route", "chat", "model", "mock-chat");
        assertNotNull(scrapedCost, scrape.text());
        assertEquals(cost, scrapedCost, 1e-12);
        // Unpriced models count tokens and no cost; a model with a price counts both.
        assertTrue(scrape.sum("detour_tokens_total", "route", "spill") > 0);
        assertEquals(0, scrape.sum("detour_cost_usd_total", "route", "spill"));
    }

    @Test
    void countsStreamChunksAndTimesTheUpstream() {
        assertEquals((double) streamEvents, scrape.value("detour_stream_chunks_total", "route", "chat",
                                                         "provider", "primary", "model", "mock-chat"));
        assertEquals(2.0, scrape.value("detour_upstream_ttfb_seconds_count", "route", "chat", "provider", "primary",
                                       "model", "mock-chat"));
        assertEquals(2.0, scrape.value("detour_request_duration_seconds_count", "route", "tiny"));
        assertEquals(2.0, scrape.value("detour_overhead_seconds_count", "route", "tiny"));
        assertEquals(2.0, scrape.value("detour_overhead_seconds_bucket", "route", "tiny", "le", "+Inf"));
        assertEquals(0.0, scrape.value("detour_requests_in_flight"));
    }

    @Test
    void showsKeyStatesAndTimeUntilAvailable() {
        assertEquals(1.0, scrape.value("detour_key_state", "provider", "primary", "key", "p1", "state", "cooling"));
        assertEquals(0.0, scrape.value("detour_key_state", "provider", "primary", "key", "p1", "state",
                                       "available"));
        assertEquals(1.0, scrape.value("detour_key_state", "provider", "primary", "key", "p2", "state",
                                       "available"));
        assertEquals(1.0, scrape.value("detour_key_state", "provider", "limited", "key", "l1", "state", "cooling"));
        double wait = scrape.value("detour_key_available_in_seconds", "provider", "limited", "key", "l1");
        assertTrue(wait > 30 && wait <= 60, "cooling for the 60 s Retry-After: " + wait);
        assertEquals(0.0, scrape.value("detour_key_available_in_seconds", "provider", "primary", "key", "p2"));
        assertEquals(4 * 5, scrape.named("detour_key_state").size(), "four states for each of five keys");
    }

    @Test
    void showsCircuitBreakerStatePerTarget() {
        assertEquals(1.0, scrape.value("detour_circuit_breaker_state", "route", "chat", "provider", "backup",
                                       "model", "mock-chat", "state", "closed"));
        assertEquals(3 * 9, scrape.named("detour_circuit_breaker_state").size(), "three states, nine targets");
    }

    @Test
    void publishesJvmNettyConnectionAndReloadMeters() {
        assertFalse(scrape.named("jvm_memory_used_bytes").isEmpty());
        assertFalse(scrape.named("jvm_gc_memory_allocated_bytes_total").isEmpty());
        assertFalse(scrape.named("jvm_threads_live_threads").isEmpty());
        assertFalse(scrape.named("process_uptime_seconds").isEmpty());
        assertFalse(scrape.named("netty_allocator_memory_used_bytes").isEmpty(), scrape.text());
        assertEquals(0.0, scrape.value("detour_config_reloads_total", "result", "success"));
        assertEquals(0.0, scrape.value("detour_config_reloads_total", "result", "failure"));
        assertNotNull(scrape.value("detour_upstream_connections", "state", "idle"));
        assertTrue(scrape.value("detour_config_last_load_timestamp_seconds") > 1.7e9);
    }

    @Test
    void readsTheCacheThroughItsSeam() {
        assertEquals(5.0, scrape.value("detour_cache_hits_total"));
        assertEquals(2.0, scrape.value("detour_cache_misses_total"));
        assertEquals(1.0, scrape.value("detour_cache_evictions_total"));
        assertEquals(3.0, scrape.value("detour_cache_entries"));
        assertEquals(2048.0, scrape.value("detour_cache_size_bytes"));
    }

    @Test
    void documentsEveryDetourMetricItPublishes() throws Exception {
        String doc = Files.readString(Path.of("../docs/metrics.md"));

        for (String family : families()) {
            // Micrometer's _max gauge beside each histogram is documented once, for all of them.
            String documented = family.endsWith("_max") ? family.substring(0, family.length() - 4) : family;
            if (family.startsWith("detour_")) {
                assertTrue(doc.contains("`" + documented + "`"), family + " is not documented in docs/metrics.md");
            }
        }
    }

    @Test
    void dashboardUsesOnlyMetricsThatExist() throws Exception {
        JsonNode dashboard = JSON.readTree(Files.readString(Path.of("../docs/grafana-dashboard.json")));
        Set<String> families = families();
        Pattern name = Pattern.compile("\\b(?:detour|jvm|netty|process|system)_[a-z0-9_]+");
        int checked = 0;

        for (JsonNode panel : dashboard.get("panels")) {
            for (JsonNode target : panel.path("targets")) {
                Matcher m = name.matcher(target.get("expr").asText());
                while (m.find()) {
                    String family = m.group().replaceFirst("_(bucket|sum|count)$", "");
                    assertTrue(families.contains(family) || family.equals(GC_PAUSES),
                               panel.get("title").asText() + ": " + m.group() + " is not in the scrape");
                    checked++;
                }
            }
        }
        assertTrue(checked > 40, "the dashboard queries metrics: " + checked);
    }

    @Test
    void neverShowsKeysOrRequestIds() {
        assertFalse(scraped.body().contains("mock-p1"), "no upstream key value");
        assertFalse(scraped.body().contains(CLIENT_KEY), "no client key");
        assertFalse(scraped.body().contains("hello metrics"), "no prompt");
    }

    @Test
    void servesOpenMetricsWhenAsked() throws Exception {
        HttpRequest request = HttpRequest.newBuilder(gateway.uri("/metrics"))
                .header("accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")
                .timeout(Duration.ofSeconds(10))
                .GET().build();

        HttpResponse<String> r = gateway.http().send(request, HttpResponse.BodyHandlers.ofString());

        assertEquals(200, r.statusCode());
        assertEquals("application/openmetrics-text; version=1.0.0; charset=utf-8",
                     r.headers().firstValue("content-type").orElseThrow());
        assertTrue(r.body().endsWith("# EOF\n"), "OpenMetrics ends with # EOF");
        assertTrue(r.body().contains("# TYPE detour_requests counter"), "OpenMetrics names the counter family");
    }

    @Test
    void refusesOtherMethods() throws Exception {
        HttpRequest request = HttpRequest.newBuilder(gateway.uri("/metrics"))
                .timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.noBody()).build();

        HttpResponse<String> r = gateway.http().send(request, HttpResponse.BodyHandlers.ofString());

        assertEquals(405, r.statusCode());
        assertEquals("method_not_allowed", JSON.readTree(r.body()).at("/error/code").asText());
    }

    /** Returns the metric families of the scrape, as its {@code # TYPE} lines name them. */
    private static Set<String> families() {
        Set<String> families = new HashSet<>();
        for (String line : scrape.text().split("\n")) {
            if (line.startsWith("# TYPE ")) {
                families.add(line.split(" ")[2]);
            }
        }
        return families;
    }

    private static void assertRequests(double expected, String route, String provider, String model,
                                       String statusClass) {
        assertEquals(expected, scrape.value("detour_requests_total", "route", route, "provider", provider, "model",
                                            model, "status_class", statusClass, "cache", "none"),
                     route + "/" + provider + "/" + model + " " + statusClass);
    }

    private static void assertAttempts(double expected, String route, String provider, String model, String outcome) {
        assertEquals(expected, scrape.value("detour_upstream_attempts_total", "route", route, "provider", provider,
                                            "model", model, "outcome", outcome),
                     route + "/" + provider + "/" + model + " " + outcome);
    }

    private static void countUsage(JsonNode usage) {
        promptTokens += usage.get("prompt_tokens").asLong();
        completionTokens += usage.get("completion_tokens").asLong();
    }

    private static HttpResponse<String> post(String body) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(gateway.uri("/v1/chat/completions"))
                .header("content-type", "application/json")
                .header("authorization", "Bearer " + CLIENT_KEY)
                .timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
        return gateway.http().send(request, HttpResponse.BodyHandlers.ofString());
    }
}
