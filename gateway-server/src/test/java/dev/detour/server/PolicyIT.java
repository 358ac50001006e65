package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.config.KeyHash;
import dev.detour.server.testing.TestGateway;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Context-aware policies end to end: tiers get different limits, critical traffic uses its reserved
 * route, and under a drained pool batch traffic is refused while interactive and critical traffic is served.
 */
class PolicyIT {

    private static final String PRO_KEY = "dtr_pro-client-key-for-tests-000000000001";
    private static final String FREE_KEY = "dtr_free-client-key-for-tests-00000000002";
    private static final String CHAT = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    private static TestGateway gateway;

    @BeforeAll
    static void start() {
        // The shared pool has four mock keys; three answer 429 with a long Retry-After, so after one round
        // of requests only a quarter of its capacity is left, below the pro policy's 50% reserve.
        gateway = TestGateway.start("""
                auth:
                  enabled: true
                clients:
                  - name: pro-app
                    key-hash: %s
                    tier: pro
                    can-override: [priority]
                  - name: free-app
                    key-hash: %s
                    tier: free
                providers:
                  shared:
                    type: mock
                    keys: [{id: k1, value: v1}, {id: k2, value: v2}, {id: k3, value: v3}, {id: k4, value: v4}]
                    mock:
                      failures:
                        - {key: k1, kind: rate-limit, retry-after: 60s}
                        - {key: k2, kind: rate-limit, retry-after: 60s}
                        - {key: k3, kind: rate-limit, retry-after: 60s}
                  reserved:
                    type: mock
                    keys: [{id: r1, value: v5}]
                routes:
                  - model: gpt-4o
                    max-wait: 0s
                    targets: [{provider: shared}]
                  - model: gpt-4o-reserved
                    targets: [{provider: reserved}]
                policies:
                  - name: critical
                    match: {priority: [critical]}
                    routes: {gpt-4o: gpt-4o-reserved}
                  - name: free
                    match: {tiers: [free]}
                    limits:
                      - name: free-rpm
                        scope: client
                        requests: {capacity: 2, per: 1m}
                  - name: pro
                    match: {tiers: [pro]}
                    admission: {reserve: 50%%, refuse: [batch]}
                """.formatted(KeyHash.of(PRO_KEY).text(), KeyHash.of(FREE_KEY).text()));
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    private static HttpResponse<String> send(String key, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(gateway.uri("/v1/chat/completions"))
                .timeout(Duration.ofSeconds(10))
                .header("content-type", "application/json")
                .header("authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofString(CHAT));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return gateway.http().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void freeTierGetsItsOwnLimit() throws Exception {
        // The free client's third request in the minute is refused by its policy's limit.
        HttpResponse<String> third = null;
        for (int i = 0; i < 3; i++) {
            third = send(FREE_KEY);
        }

        assertEquals(429, third.statusCode(), third.body());
        assertEquals("free", third.headers().firstValue("x-detour-policy").orElseThrow());
        assertEquals("rate_limit_exceeded",
                     new ObjectMapper().readTree(third.body()).at("/error/code").asText());
        assertTrue(third.headers().firstValue("retry-after").isPresent());
    }

    @Test
    void drainedPoolRefusesBatchFirstWhileInteractiveAndCriticalAreServed() throws Exception {
        // Drain: these requests meet the three failing keys (each then cools for 60 s) and are served by k4.
        for (int i = 0; i < 4; i++) {
            assertEquals(200, send(PRO_KEY).statusCode());
        }

        HttpResponse<String> batch = send(PRO_KEY, "x-detour-priority", "batch");
        HttpResponse<String> interactive = send(PRO_KEY);
        HttpResponse<String> critical = send(PRO_KEY, "x-detour-priority", "critical");

        assertEquals(429, batch.statusCode(), batch.body());
        assertEquals("capacity_reserved", new ObjectMapper().readTree(batch.body()).at("/error/code").asText());
        assertEquals("pro", batch.headers().firstValue("x-detour-policy").orElseThrow());
        assertEquals(200, interactive.statusCode(), interactive.body());
        assertEquals("k4", interactive.headers().firstValue("x-detour-key-id").orElseThrow());
        assertEquals(200, critical.statusCode(), critical.body());
        assertEquals("critical", critical.headers().firstValue("x-detour-policy").orElseThrow());
        assertEquals("reserved", critical.headers().firstValue("x-detour-provider").orElseThrow());
    }
}
