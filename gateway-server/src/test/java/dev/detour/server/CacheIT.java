package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.auth.ClientKeys;
import dev.detour.cache.CacheStats;
import dev.detour.config.KeyHash;
import dev.detour.server.testing.TestGateway;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The response cache through the real server, in front of the mock provider with client keys on: hits and
 * misses with their headers, request controls, team isolation, embeddings, and hits counting toward a
 * client's request limit. The mock numbers its answers ({@code chatcmpl-mock-N}), so a hit shows as an
 * earlier answer's id.
 */
class CacheIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger PROMPTS = new AtomicInteger();
    private static final String ALICE = ClientKeys.newKey();
    private static final String CAROL = ClientKeys.newKey();
    private static final String BOB = ClientKeys.newKey();
    private static final String LIMITED = ClientKeys.newKey();

    private static TestGateway gateway;

    @BeforeAll
    static void start() {
        gateway = TestGateway.start("""
                auth:
                  enabled: true
                providers:
                  mock:
                    type: mock
                routes:
                  - model: cached
                    targets: [{provider: mock}]
                    cache: {enabled: true}
                  - model: shared
                    targets: [{provider: mock}]
                    cache: {enabled: true, scope: global}
                  - model: embed
                    targets: [{provider: mock}]
                    cache: {enabled: true}
                  - model: plain
                    targets: [{provider: mock}]
                clients:
                  - name: alice
                    key-hash: %s
                    team: growth
                  - name: carol
                    key-hash: %s
                    team: growth
                  - name: bob
                    key-hash: %s
                    team: infra
                  - name: limited
                    key-hash: %s
                    team: solo
                    limits:
                      - name: three-a-minute
                        requests: {capacity: 3, per: 1m}
                """.formatted(KeyHash.of(ALICE).text(), KeyHash.of(CAROL).text(), KeyHash.of(BOB).text(),
                              KeyHash.of(LIMITED).text()));
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void answersARepeatFromTheCacheWithItsAge() throws Exception {
        String body = chat("cached", prompt());
        long start = System.nanoTime();

        HttpResponse<String> first = post(ALICE, "/v1/chat/completions", body);
        String sameQuestion = body.replaceFirst("\\{", "{ \"user\": \"u1\", ");
        HttpResponse<String> second = post(ALICE, "/v1/chat/completions", sameQuestion);
        long elapsedSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);

        assertEquals(200, first.statusCode(), first.body());
        assertEquals("MISS", header(first, "x-detour-cache"));
        assertEquals("mock", header(first, "x-detour-provider"));
        assertEquals("HIT", header(second, "x-detour-cache"));
        // Whole seconds since the store: 0 unless the machine took a second or more over the two requests.
        long age = Long.parseLong(header(second, "age"));
        assertTrue(age >= 0 && age <= elapsedSeconds, "age " + age + " after " + elapsedSeconds + " s");
        assertEquals(id(first), id(second));
        assertFalse(second.headers().firstValue("x-detour-key-id").isPresent(), "a hit uses no provider key");
    }

    @Test
    void leavesRoutesWithoutCacheAlone() throws Exception {
        String body = chat("plain", prompt());

        HttpResponse<String> first = post(ALICE, "/v1/chat/completions", body);
        HttpResponse<String> second = post(ALICE, "/v1/chat/completions", body);

        assertFalse(first.headers().firstValue("x-detour-cache").isPresent());
        assertNotEquals(id(first), id(second));
    }

    @Test
    void keepsTeamsApart() throws Exception {
        String body = chat("cached", prompt());

        HttpResponse<String> alice = post(ALICE, "/v1/chat/completions", body);
        HttpResponse<String> bob = post(BOB, "/v1/chat/completions", body);
        HttpResponse<String> carol = post(CAROL, "/v1/chat/completions", body);

        assertEquals("MISS", header(bob, "x-detour-cache"), "another team never reads growth's answer");
        assertNotEquals(id(alice), id(bob));
        assertEquals("HIT", header(carol, "x-detour-cache"), "the same team shares it");
        assertEquals(id(alice), id(carol));
    }

    @Test
    void sharesAcrossTeamsOnAGlobalRoute() throws Exception {
        String body = chat("shared", prompt());

        HttpResponse<String> alice = post(ALICE, "/v1/chat/completions", body);
        HttpResponse<String> bob = post(BOB, "/v1/chat/completions", body);

        assertEquals("HIT", header(bob, "x-detour-cache"));
        assertEquals(id(alice), id(bob));
    }

    @Test
    void honoursNoCacheAndNoStore() throws Exception {
        String body = chat("cached", prompt());

        HttpResponse<String> notKept = post(ALICE, "/v1/chat/completions", body, "cache-control", "no-store");
        HttpResponse<String> first = post(ALICE, "/v1/chat/completions", body);
        HttpResponse<String> refreshed = post(ALICE, "/v1/chat/completions", body, "cache-control", "no-cache");
        HttpResponse<String> after = post(ALICE, "/v1/chat/completions", body);

        assertEquals("MISS", header(first, "x-detour-cache"), "the no-store answer was not kept");
        assertNotEquals(id(notKept), id(first));
        assertEquals("BYPASS", header(refreshed, "x-detour-cache"));
        assertNotEquals(id(first), id(refreshed));
        assertEquals(id(refreshed), id(after), "no-cache stored the fresh answer");
    }

    @Test
    void refusesABadTtlHeader() throws Exception {
        HttpResponse<String> r = post(ALICE, "/v1/chat/completions", chat("cached", prompt()),
                                      "x-detour-cache-ttl", "forever");

        assertEquals(400, r.statusCode());
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertEquals("invalid_request_error", error.get("type").asText());
        assertTrue(error.get("message").asText().contains("x-detour-cache-ttl"), r.body());
    }

    @Test
    void cachesEmbeddings() throws Exception {
        String body = "{\"model\":\"embed\",\"input\":[\"" + prompt() + "\"]}";

        HttpResponse<String> first = post(ALICE, "/v1/embeddings", body);
        HttpResponse<String> second = post(ALICE, "/v1/embeddings", body.replace(":", " : "));

        assertEquals("MISS", header(first, "x-detour-cache"));
        assertEquals("HIT", header(second, "x-detour-cache"));
        assertEquals(JSON.readTree(first.body()), JSON.readTree(second.body()));
    }

    @Test
    void bypassesLegacyCompletions() throws Exception {
        HttpResponse<String> r = post(ALICE, "/v1/completions", "{\"model\":\"cached\",\"prompt\":\"hi\"}");

        assertEquals(200, r.statusCode(), r.body());
        assertEquals("BYPASS", header(r, "x-detour-cache"));
    }

    @Test
    void countsHitsTowardTheClientsRequestLimit() throws Exception {
        String body = chat("cached", prompt());

        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = post(LIMITED, "/v1/chat/completions", body);
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(i == 0 ? "MISS" : "HIT", header(r, "x-detour-cache"));
        }
        HttpResponse<String> fourth = post(LIMITED, "/v1/chat/completions", body);

        assertEquals(429, fourth.statusCode(), fourth.body());
        assertEquals("rate_limit_exceeded", JSON.readTree(fourth.body()).at("/error/code").asText());
    }

    @Test
    void exposesItsCountersAndSize() throws Exception {
        String body = chat("cached", prompt());
        CacheStats before = gateway.server().cache().stats();

        post(ALICE, "/v1/chat/completions", body);
        post(ALICE, "/v1/chat/completions", body);
        gateway.awaitIdle();
        MetricsCacheIT.awaitWeighed(gateway);

        CacheStats after = gateway.server().cache().stats();
        assertTrue(after.hits() > before.hits() && after.misses() > before.misses(), after.toString());
        assertTrue(after.stores() > before.stores(), after.toString());
        assertTrue(after.entries() > 0 && after.bytes() > 0, after.toString());
        assertEquals(256L * 1024 * 1024, after.maxBytes());
    }

    private static String prompt() {
        return "question " + PROMPTS.incrementAndGet();
    }

    private static String chat(String model, String prompt) {
        return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}]}";
    }

    private static String id(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).get("id").asText();
    }

    private static String header(HttpResponse<String> r, String name) {
        return r.headers().firstValue(name).orElse("<none>");
    }

    private static HttpResponse<String> post(String key, String path, String body, String... headers)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(gateway.uri(path))
                .timeout(Duration.ofSeconds(20))
                .header("content-type", "application/json")
                .header("authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return gateway.http().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
