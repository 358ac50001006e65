package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.auth.ClientKeys;
import dev.detour.config.KeyHash;
import dev.detour.server.testing.TestGateway;
import java.math.BigDecimal;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The admin views of usage, budgets and the response cache, after real traffic through the server: the mock
 * provider priced at one dollar per million prompt and completion tokens, one client of team {@code research}
 * with a daily budget, and a route with the cache on.
 */
class AdminUsageViewsIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ADMIN_KEY = ClientKeys.newKey();
    private static final String ALICE = ClientKeys.newKey();
    private static final String UPSTREAM_KEY = "sk-usage-views-upstream-secret-0001";
    private static final String BODY = "{\"model\":\"chat\",\"max_tokens\":5,"
                                       + "\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]}";

    private static TestGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        gateway = TestGateway.start("""
                auth:
                  enabled: true
                  admin-keys: [%s]
                clients:
                  - name: alice
                    key-hash: %s
                    team: research
                providers:
                  mock:
                    type: mock
                    keys: [{id: main, value: %s}]
                routes:
                  - model: chat
                    targets: [{provider: mock}]
                    cache: {enabled: true}
                models:
                  - family: mock
                    id: chat
                    context-window: 128000
                    input-price: 1
                    output-price: 1
                budgets:
                  - name: research-daily
                    scope: team
                    period: day
                    spend: 10
                """.formatted(KeyHash.of(ADMIN_KEY).text(), KeyHash.of(ALICE).text(), UPSTREAM_KEY));
        assertEquals("MISS", chat().headers().firstValue("x-detour-cache").orElseThrow());
        assertEquals("HIT", chat().headers().firstValue("x-detour-cache").orElseThrow());
        gateway.awaitIdle();
        MetricsCacheIT.awaitWeighed(gateway);
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void usageViewCountsTheUpstreamCallOncePerAccountAndNotTheCacheHit() throws Exception {
        JsonNode usage = view("/admin/usage");

        for (String[] account : new String[][] {{"clients", "alice"}, {"teams", "research"}, {"routes", "chat"},
                                                {"keys", "main"}}) {
            JsonNode a = find(usage.get(account[0]), account[1]);
            JsonNode day = a.get("day");
            assertEquals(1, day.get("requests").asLong(), account[0] + ": the hit made no upstream call: " + a);
            assertTrue(day.get("prompt_tokens").asLong() > 0, a.toString());
            assertTrue(day.get("completion_tokens").asLong() > 0, a.toString());
            long tokens = day.get("prompt_tokens").asLong() + day.get("completion_tokens").asLong();
            // One dollar per million tokens: the cost is the token count in micro-dollars, exactly.
            assertEquals(BigDecimal.valueOf(tokens, 6), day.get("cost_usd").decimalValue(), a.toString());
            assertEquals(day, a.get("month"));
        }
        assertEquals("mock", find(usage.get("keys"), "main").get("provider").asText());
        assertEquals("research-daily", usage.at("/budgets/0/budget").asText());
    }

    @Test
    void budgetsViewShowsCapUseAndReset() throws Exception {
        JsonNode budget = view("/admin/budgets").at("/budgets/0");

        assertEquals("research-daily", budget.get("name").asText());
        assertEquals("team", budget.get("scope").asText());
        assertEquals("research", budget.get("scope_value").asText());
        assertEquals("day", budget.get("period").asText());
        assertEquals(0, new BigDecimal("10").compareTo(budget.get("spend_cap_usd").decimalValue()));
        assertTrue(budget.get("spent_usd").decimalValue().signum() > 0, budget.toString());
        assertTrue(budget.get("token_cap").isNull());
        assertTrue(budget.get("tokens_used").asLong() > 0);
        assertTrue(budget.get("resets_at").asText().endsWith("T00:00:00Z"), budget.toString());
        assertFalse(budget.get("exhausted").asBoolean());
        assertTrue(budget.get("fallback_route").isNull());
    }

    @Test
    void cacheViewCountsAndClearEmptiesIt() throws Exception {
        JsonNode before = view("/admin/cache");
        assertTrue(before.get("hits").asLong() >= 1, before.toString());
        assertTrue(before.get("misses").asLong() >= 1, before.toString());
        assertTrue(before.get("stores").asLong() >= 1, before.toString());
        assertTrue(before.get("entries").asLong() >= 1, before.toString());
        assertTrue(before.get("bytes").asLong() > 0, before.toString());
        assertEquals(256L * 1024 * 1024, before.get("max_bytes").asLong());

        HttpResponse<String> cleared = admin("POST", "/admin/cache/clear");

        assertEquals(200, cleared.statusCode(), cleared.body());
        assertEquals(0, JSON.readTree(cleared.body()).get("entries").asLong(), cleared.body());
        assertEquals(0, view("/admin/cache").get("bytes").asLong());
    }

    @Test
    void viewsNeedTheAdminKeyAndShowNoSecret() throws Exception {
        for (String path : new String[] {"/admin/usage", "/admin/budgets", "/admin/cache"}) {
            HttpResponse<String> anonymous = gateway.http().send(HttpRequest.newBuilder(gateway.uri(path)).GET()
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, anonymous.statusCode(), path);
            String body = admin("GET", path).body();
            for (String secret : new String[] {ADMIN_KEY, ALICE, UPSTREAM_KEY}) {
                assertFalse(body.contains(secret), path + " shows a secret");
            }
        }
        assertEquals(401, gateway.http().send(HttpRequest.newBuilder(gateway.uri("/admin/cache/clear"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode());
    }

    private static HttpResponse<String> chat() throws Exception {
        HttpResponse<String> r = gateway.http().send(HttpRequest.newBuilder(gateway.uri("/v1/chat/completions"))
                .header("authorization", "Bearer " + ALICE).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(BODY)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r;
    }

    private static JsonNode find(JsonNode accounts, String name) {
        for (JsonNode a : accounts) {
            if (a.path("name").asText().equals(name) || a.path("id").asText().equals(name)) {
                return a;
            }
        }
        throw new AssertionError("no account " + name + " in " + accounts);
    }

    private static JsonNode view(String path) throws Exception {
        HttpResponse<String> r = admin("GET", path);
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private static HttpResponse<String> admin(String method, String path) throws Exception {
        return gateway.http().send(HttpRequest.newBuilder(gateway.uri(path))
                .header("authorization", "Bearer " + ADMIN_KEY)
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }
}
