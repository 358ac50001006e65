package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.budget.BudgetState;
import dev.detour.config.KeyHash;
import dev.detour.server.testing.Eventually;
import dev.detour.server.testing.TestGateway;
import dev.detour.usage.UsageKind;
import dev.detour.usage.UsageSnapshot;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Usage accounting and budgets through the real server, in front of the mock provider priced through
 * {@code models:} at one dollar per prompt token on {@code gpt-4o} and a thousandth of that on {@code mini}.
 */
class BudgetIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ALICE = "sk-detour-it-alice-000000000000000";
    private static final String BOB = "sk-detour-it-bob-00000000000000000";
    private static final String CAROL = "sk-detour-it-carol-000000000000000";

    @TempDir
    Path dataDir;

    private static String config(String extra) {
        return """
                providers:
                  mock:
                    type: mock
                routes:
                  - model: gpt-4o
                    targets:
                      - provider: mock
                  - model: mini
                    targets:
                      - provider: mock
                        model: gpt-4o-mini
                models:
                  - family: mock
                    id: gpt-4o
                    context-window: 128000
                    input-price: 1000000
                    output-price: 0
                  - family: mock
                    id: gpt-4o-mini
                    context-window: 128000
                    input-price: 1000
                    output-price: 0
                auth:
                  enabled: true
                clients:
                  - name: alice
                    key-hash: %s
                    team: research
                  - name: bob
                    key-hash: %s
                    team: research
                  - name: carol
                    key-hash: %s
                    team: growth
                """.formatted(hash(ALICE), hash(BOB), hash(CAROL)) + extra;
    }

    @Test
    void refusesATeamThatSpentItsMonthlyBudget() throws Exception {
        try (TestGateway gateway = TestGateway.start(config("""
                budgets:
                  - name: team-monthly
                    scope: team
                    match: {teams: [research]}
                    period: month
                    spend: 5.00
                """))) {
            HttpResponse<String> first = chat(gateway, ALICE, "gpt-4o", false);
            assertEquals(200, first.statusCode(), first.body());
            long spent = JSON.readTree(first.body()).get("usage").get("prompt_tokens").asLong();
            assertTrue(spent >= 5, "the first request alone spends the $5: $" + spent);
            awaitCounted(gateway, "alice", 1);

            HttpResponse<String> refused = chat(gateway, BOB, "gpt-4o", false);

            assertEquals(429, refused.statusCode(), refused.body());
            JsonNode error = JSON.readTree(refused.body()).get("error");
            assertEquals("budget_exceeded", error.get("code").asText());
            Instant reset = YearMonth.now(ZoneOffset.UTC).plusMonths(1).atDay(1).atStartOfDay()
                    .toInstant(ZoneOffset.UTC);
            assertEquals("Budget 'team-monthly' of team 'research' is used up: $" + spent + ".00 spent of $5.00 "
                         + "this month (UTC). It resets at " + reset + ". Ask the gateway operator to raise it, or "
                         + "retry after the reset.", error.get("message").asText());
            long retryAfter = Long.parseLong(refused.headers().firstValue("retry-after").orElseThrow());
            long untilReset = Duration.between(Instant.now(), reset).toSeconds();
            assertTrue(Math.abs(retryAfter - untilReset) <= 5, retryAfter + " s, expected about " + untilReset);
            assertEquals(200, chat(gateway, CAROL, "gpt-4o", false).statusCode(), "growth has no budget");

            List<BudgetState> states = gateway.server().budgetStates();
            assertEquals(1, states.size(), states.toString());
            assertEquals("research", states.get(0).scopeValue());
            assertEquals(spent * 1_000_000, states.get(0).spentMicros());
            assertTrue(states.get(0).exhausted());
        }
    }

    @Test
    void servesFromTheCheaperRouteOnceTheBudgetIsUsedUp() throws Exception {
        try (TestGateway gateway = TestGateway.start(config("""
                budgets:
                  - name: research-daily
                    scope: team
                    match: {teams: [research]}
                    period: day
                    spend: 1
                    fallback-route: mini
                """))) {
            assertEquals(200, chat(gateway, ALICE, "gpt-4o", false).statusCode());
            awaitCounted(gateway, "alice", 1);

            HttpResponse<String> fallback = chat(gateway, ALICE, "gpt-4o", true);
            awaitCounted(gateway, "alice", 2);

            assertEquals(200, fallback.statusCode(), fallback.body());
            assertEquals("research-daily", fallback.headers().firstValue("x-detour-budget-fallback").orElse(null));
            assertEquals("mini", fallback.headers().firstValue("x-detour-route").orElse(null));
            assertEquals("gpt-4o-mini", fallback.headers().firstValue("x-detour-model").orElse(null));
            assertTrue(fallback.body().endsWith("data: [DONE]\n\n"), fallback.body());
            assertFalse(fallback.body().contains("\"prompt_tokens\""), "the client did not ask for the usage chunk");
            UsageSnapshot usage = gateway.server().usage().snapshot();
            assertEquals(1, usage.find(UsageKind.ROUTE, "", "mini").orElseThrow().day().requests());
            assertTrue(usage.find(UsageKind.ROUTE, "", "mini").orElseThrow().day().promptTokens() > 0,
                       "a stream's usage is counted although the client did not ask for it");
        }
    }

    @Test
    void keepsABudgetUsedUpAcrossARestart() throws Exception {
        String yaml = config("""
                usage:
                  data-dir: %s
                budgets:
                  - name: growth-daily
                    scope: team
                    period: day
                    tokens: 5
                """.formatted(dataDir));
        try (TestGateway gateway = TestGateway.start(yaml)) {
            assertEquals(200, chat(gateway, CAROL, "gpt-4o", false).statusCode());
            awaitCounted(gateway, "carol", 1);
            assertEquals(429, chat(gateway, CAROL, "gpt-4o", false).statusCode());
        }

        try (TestGateway restarted = TestGateway.start(yaml)) {
            HttpResponse<String> refused = chat(restarted, CAROL, "gpt-4o", false);

            assertEquals(429, refused.statusCode(), refused.body());
            assertTrue(refused.body().contains("Budget 'growth-daily' of team 'growth' is used up"), refused.body());
            assertEquals(1, restarted.server().usage().snapshot().find(UsageKind.CLIENT, "", "carol").orElseThrow()
                    .month().requests(), "the client's usage is back too");
        }
    }

    @Test
    void writesUsageToTheDataDirectoryWhileRunning() throws Exception {
        try (TestGateway gateway = TestGateway.start(config("""
                usage:
                  data-dir: %s
                  flush-interval: 100ms
                """.formatted(dataDir)))) {
            assertEquals(200, chat(gateway, ALICE, "gpt-4o", false).statusCode());

            Path file = dataDir.resolve("usage.json");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            String content = Files.readString(file);
            while (!content.contains("\"name\":\"alice\"") && System.nanoTime() < deadline) {
                Thread.sleep(20);
                content = Files.readString(file);
            }

            assertTrue(content.contains("\"kind\":\"client\",\"group\":\"\",\"name\":\"alice\""),
                       "written within a few intervals, without a stop: " + content);
        }
    }

    @Test
    void refusesToStartOnADamagedUsageFile() throws Exception {
        Files.writeString(dataDir.resolve("usage.json"), "{\"format\":1,");

        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> TestGateway.start(config("usage:\n  data-dir: " + dataDir + "\n")).close());

        assertTrue(e.getMessage().startsWith("the usage file " + dataDir.resolve("usage.json") + " is damaged"),
                   e.getMessage());
    }

    @Test
    void logsTokensAndCostOfEachRequest() throws Exception {
        Logger access = (Logger) LoggerFactory.getLogger("detour.access");
        Level level = access.getLevel();
        access.setLevel(Level.INFO);
        try (TestGateway gateway = TestGateway.start(config(""))) {
            HttpResponse<String> ok = chat(gateway, ALICE, "gpt-4o", false);
            long prompt = JSON.readTree(ok.body()).get("usage").get("prompt_tokens").asLong();
            long completion = JSON.readTree(ok.body()).get("usage").get("completion_tokens").asLong();
            chat(gateway, ALICE, "mini", true);
            gateway.postJson("/v1/chat/completions", "{\"model\":\"gpt-4o\",\"messages\":[]}"); // 401: no key

            List<String> lines = gateway.accessLog().await(3);

            String served = lines.get(0);
            assertTrue(served.contains(" prompt_tokens=" + prompt + " completion_tokens=" + completion
                                       + " cached_tokens=- cost_usd=" + prompt + ".000000 "), served);
            String streamed = lines.get(1);
            assertTrue(streamed.matches(".* prompt_tokens=[1-9][0-9]* completion_tokens=[1-9][0-9]* cached_tokens=- "
                                        + "cost_usd=0\\.0[0-9]{5} cache=- outcome=ok"), streamed);
            String refused = lines.get(2);
            assertTrue(refused.contains(" status=401 ") && refused.contains(
                    " prompt_tokens=- completion_tokens=- cached_tokens=- cost_usd=- "), refused);
        } finally {
            access.setLevel(level);
        }
    }

    /**
     * Waits until {@code client}'s requests are counted: the server counts a request once its last byte is written,
     * which may be just after the client has read it.
     */
    private static void awaitCounted(TestGateway gateway, String client, long requests) {
        // Idle first: a request is counted into its accounts (client, team, route, key) one after the other, and
        // only once the last is done does it leave the in-flight count.
        gateway.awaitIdle();
        Eventually.assertCount(requests, () -> counted(gateway, client), "requests of " + client + " counted");
    }

    private static long counted(TestGateway gateway, String client) {
        return gateway.server().usage().snapshot().find(UsageKind.CLIENT, "", client)
                .map(a -> a.sinceStart().requests()).orElse(0L);
    }

    private static HttpResponse<String> chat(TestGateway gateway, String key, String model, boolean stream)
            throws Exception {
        String body = JSON.writeValueAsString(JSON.createObjectNode()
                .put("model", model)
                .put("stream", stream)
                .put("max_tokens", 5)
                .set("messages", JSON.createArrayNode().add(JSON.createObjectNode()
                        .put("role", "user")
                        .put("content", "hello there, how are you today?"))));
        HttpRequest request = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(20))
                .header("content-type", "application/json")
                .header("authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
        return gateway.http().send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static String hash(String key) {
        return KeyHash.of(key).text();
    }
}
