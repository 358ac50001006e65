package dev.detour.budget;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.catalog.ModelInfo;
import dev.detour.catalog.Price;
import dev.detour.config.BudgetConfig;
import dev.detour.config.ConfigException;
import dev.detour.config.ConfigLoader;
import dev.detour.config.GatewayConfig;
import dev.detour.filter.Caller;
import dev.detour.filter.FilterChain;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import dev.detour.filter.RequestExecutor;
import dev.detour.routing.RouteTable;
import dev.detour.testing.FakeClock;
import dev.detour.testing.TestContexts;
import dev.detour.usage.UsageAccount;
import dev.detour.usage.UsageKind;
import dev.detour.usage.UsageLedger;
import dev.detour.usage.UsageRecorder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class BudgetFilterTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** One US dollar per prompt token, to keep the arithmetic readable. */
    private static final Price DOLLAR_A_TOKEN = Price.of(ModelInfo.of("mock", "m", 1_000, 1_000, "1000000", "0",
                                                                      Set.of()));
    private static final String BASE = """
            providers:
              mock:
                type: mock
            routes:
              - model: m
                targets:
                  - provider: mock
              - model: gpt-4o
                targets:
                  - provider: mock
              - model: mini
                targets:
                  - provider: mock
            """;

    private final FakeClock clock = new FakeClock(); // 2026-11-22T10:00:00Z
    private final UsageLedger ledger = new UsageLedger(clock);
    private final UsageRecorder recorder = new UsageRecorder(ledger);
    private final Upstream upstream = new Upstream();

    private BudgetFilter filter(String yaml) {
        try {
            GatewayConfig config = ConfigLoader.parse(BASE + yaml, "test.yaml", Map.of());
            return new BudgetFilter(config.chain(), RouteTable.of(config, 0, clock), ledger, clock);
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    private static RequestContext request(String client, String team, String model) {
        RequestContext ctx = TestContexts.newContext(RequestExecutor.DIRECT,
                                                     "{\"model\":\"" + model + "\",\"messages\":[]}");
        ctx.caller(new Caller(client, team, "default", Map.of(), Set.of()));
        return ctx;
    }

    /** Sends a request through the filter; when it passes, the upstream reports {@code tokens} prompt tokens. */
    private GatewayResponse send(BudgetFilter filter, RequestContext ctx, long tokens) {
        upstream.tokens = tokens;
        GatewayResponse response = filter.filter(ctx, upstream).toCompletableFuture().join();
        recorder.record(ctx); // what the server does once the response is written
        return response;
    }

    private GatewayResponse send(BudgetFilter filter, String client, String team, String model, long tokens) {
        return send(filter, request(client, team, model), tokens);
    }

    private void moveTo(String instant) {
        clock.advanceNanos(Duration.between(clock.instant(), Instant.parse(instant)).toNanos());
    }

    private static JsonNode error(GatewayResponse response) throws IOException {
        return JSON.readTree(((GatewayResponse.Full) response).body()).get("error");
    }

    @Test
    void letsRequestsThroughUntilTheTeamHasSpentItsBudget() throws Exception {
        BudgetFilter filter = filter("""
                budgets:
                  - name: team-monthly
                    scope: team
                    period: month
                    spend: 5.00
                """);

        assertEquals(200, send(filter, "alice", "research", "m", 3).status());
        assertEquals(200, send(filter, "bob", "research", "m", 2).status(), "$3 of $5 spent: still open");
        GatewayResponse refused = send(filter, "alice", "research", "m", 1);

        assertEquals(429, refused.status());
        JsonNode error = error(refused);
        assertEquals("rate_limit_error", error.get("type").asText());
        assertEquals("budget_exceeded", error.get("code").asText());
        assertEquals("Budget 'team-monthly' of team 'research' is used up: $5.00 spent of $5.00 this month (UTC). "
                     + "It resets at 2026-12-01T00:00:00Z. Ask the gateway operator to raise it, or retry after the "
                     + "reset.", error.get("message").asText());
        assertEquals("741600", refused.headers().get("retry-after"), "8 days and 14 hours to the month's end");
        assertEquals("false", refused.headers().get("x-should-retry"));
        assertEquals(2, upstream.calls.size(), "the refused request was not sent");
        assertEquals(200, send(filter, "carol", "growth", "m", 1).status(), "each team has its own budget");
    }

    @Test
    void tripsAtTheTokenCapAndResetsAtUtcMidnight() throws Exception {
        BudgetFilter filter = filter("""
                budgets:
                  - name: daily-tokens
                    scope: client
                    period: day
                    tokens: 100
                """);
        send(filter, "alice", "research", "m", 60);
        send(filter, "alice", "research", "m", 40);

        GatewayResponse refused = send(filter, "alice", "research", "m", 1);

        assertEquals(429, refused.status());
        assertEquals("Budget 'daily-tokens' of client 'alice' is used up: 100 tokens used of 100 today (UTC). "
                     + "It resets at 2026-11-23T00:00:00Z. Ask the gateway operator to raise it, or retry after the "
                     + "reset.", error(refused).get("message").asText());
        assertEquals("50400", refused.headers().get("retry-after"));
        assertEquals(200, send(filter, "bob", "research", "m", 1).status(), "client scope: bob has his own");

        moveTo("2026-11-22T23:59:59.5Z");
        GatewayResponse lastSecond = send(filter, "alice", "research", "m", 1);
        assertEquals(429, lastSecond.status());
        assertEquals("1", lastSecond.headers().get("retry-after"), "rounded up to a whole second");
        assertNull(lastSecond.headers().get("x-should-retry"), "a retry soon can succeed");

        moveTo("2026-11-23T00:00:00Z");
        assertEquals(200, send(filter, "alice", "research", "m", 1).status());
    }

    @Test
    void resetsAMonthlyBudgetOnTheFirstOfTheMonth() {
        BudgetFilter filter = filter("""
                budgets:
                  - name: monthly
                    scope: team
                    period: month
                    spend: 1
                """);
        send(filter, "alice", "research", "m", 1);
        moveTo("2026-11-30T23:59:59Z");
        assertEquals(429, send(filter, "alice", "research", "m", 1).status(), "a new day is not a new month");

        moveTo("2026-12-01T00:00:00Z");

        assertEquals(200, send(filter, "alice", "research", "m", 1).status());
    }

    @Test
    void servesOnTheFallbackRouteOnceUsedUp() {
        BudgetFilter filter = filter("""
                budgets:
                  - name: team-monthly
                    scope: team
                    period: month
                    spend: 2
                    fallback-route: mini
                """);
        send(filter, "alice", "research", "gpt-4o", 2);

        RequestContext ctx = request("alice", "research", "gpt-4o");
        GatewayResponse response = send(filter, ctx, 1);

        assertEquals(200, response.status());
        assertEquals("mini", upstream.calls.get(1), "served by the cheaper route");
        assertEquals("mini", ctx.route().model());
        assertEquals("team-monthly", response.headers().get(BudgetFilter.FALLBACK_HEADER));
        assertEquals(3, ledger.account(UsageKind.BUDGET, "team-monthly", "research")
                .tokens(BudgetConfig.Period.MONTH, ledger.now()), "the fallback's usage still counts");
        assertNull(send(filter, "bob", "growth", "gpt-4o", 1).headers().get(BudgetFilter.FALLBACK_HEADER));
    }

    @Test
    void aBudgetWithoutFallbackWinsOverOneWithAFallback() throws Exception {
        BudgetFilter filter = filter("""
                budgets:
                  - name: soft
                    scope: team
                    period: day
                    tokens: 1
                    fallback-route: mini
                  - name: hard
                    scope: team
                    period: day
                    tokens: 1
                """);
        send(filter, "alice", "research", "m", 1);

        GatewayResponse refused = send(filter, "alice", "research", "m", 1);

        assertEquals(429, refused.status());
        assertTrue(error(refused).get("message").asText().startsWith("Budget 'hard' "));
    }

    @Test
    void reRoutesAtMostOnce() throws Exception {
        BudgetFilter filter = filter("""
                budgets:
                  - name: gpt-4o-budget
                    scope: team
                    period: day
                    tokens: 1
                    fallback-route: mini
                    match: {routes: [gpt-4o]}
                  - name: mini-budget
                    scope: team
                    period: day
                    tokens: 1
                    fallback-route: m
                    match: {routes: [mini]}
                """);
        send(filter, "alice", "research", "gpt-4o", 1);
        send(filter, "alice", "research", "mini", 1);

        GatewayResponse refused = send(filter, "alice", "research", "gpt-4o", 1);

        assertEquals(429, refused.status(), "mini's own budget is used up too: no second hop to m");
        assertTrue(error(refused).get("message").asText().startsWith("Budget 'mini-budget' "));
    }

    @Test
    void aTeamWideBudgetKeepsServingOnItsOwnFallbackRoute() {
        BudgetFilter filter = filter("""
                budgets:
                  - name: team-daily
                    scope: team
                    period: day
                    spend: 1
                    fallback-route: mini
                """);
        send(filter, "alice", "research", "gpt-4o", 5);

        for (int i = 0; i < 3; i++) {
            GatewayResponse response = send(filter, "alice", "research", "gpt-4o", 1);

            assertEquals(200, response.status(), "the budget applies on mini too, and falls back to mini itself");
            assertEquals("team-daily", response.headers().get(BudgetFilter.FALLBACK_HEADER));
        }
        assertEquals(List.of("gpt-4o", "mini", "mini", "mini"), upstream.calls);
    }

    @Test
    void countsOnlyTheRequestsItsMatchSelects() {
        BudgetFilter filter = filter("""
                budgets:
                  - name: research-gpt-4o
                    scope: team
                    period: month
                    tokens: 10
                    match: {teams: [research], routes: [gpt-4o]}
                """);

        send(filter, "alice", "research", "mini", 50);
        send(filter, "carol", "growth", "gpt-4o", 50);
        send(filter, "alice", "research", "gpt-4o", 9);

        assertEquals(200, send(filter, "alice", "research", "gpt-4o", 1).status(), "9 of 10: open");
        assertEquals(429, send(filter, "alice", "research", "gpt-4o", 1).status());
        assertEquals(200, send(filter, "alice", "research", "mini", 1).status(), "not matched: not capped");
        assertEquals(List.of("research"), ledger.accounts(UsageKind.BUDGET, "research-gpt-4o").stream()
                .map(UsageAccount::name).toList(), "growth never matched");
    }

    @Test
    void aGlobalBudgetCountsEveryMatchingRequestTogether() throws Exception {
        BudgetFilter filter = filter("""
                budgets:
                  - name: org-daily
                    scope: global
                    period: day
                    spend: 3
                """);
        send(filter, "alice", "research", "m", 1);
        send(filter, "bob", "growth", "m", 2);

        GatewayResponse refused = send(filter, "carol", "ops", "m", 1);

        assertEquals(429, refused.status());
        assertTrue(error(refused).get("message").asText()
                           .startsWith("Budget 'org-daily' of all matching requests is used up: $3.00 spent of $3.00"));
    }

    @Test
    void aClientsOwnBudgetAppliesToThatClientOnly() {
        BudgetFilter filter = filter("""
                auth:
                  enabled: true
                clients:
                  - name: alice
                    key-hash: sha256:%s
                    budgets:
                      - name: alice-daily
                        period: day
                        spend: 1
                  - name: bob
                    key-hash: sha256:%s
                """.formatted("a".repeat(64), "b".repeat(64)));
        send(filter, "alice", "research", "m", 1);
        send(filter, "bob", "research", "m", 5);

        assertEquals(429, send(filter, "alice", "research", "m", 1).status());
        assertEquals(200, send(filter, "bob", "research", "m", 1).status());
    }

    @Test
    void reportsWhereEachBudgetStands() {
        BudgetFilter filter = filter("""
                budgets:
                  - name: team-monthly
                    scope: team
                    period: month
                    spend: 2.5
                    tokens: 1000
                    fallback-route: mini
                  - name: org-daily
                    scope: global
                    period: day
                    tokens: 1000000
                """);
        send(filter, "alice", "research", "m", 3);
        send(filter, "carol", "growth", "m", 1);

        List<BudgetState> states = filter.states();

        assertEquals(List.of(
                new BudgetState("team-monthly", BudgetConfig.Scope.TEAM, "growth", BudgetConfig.Period.MONTH,
                                2_500_000, 1000, 1_000_000, 1, Instant.parse("2026-12-01T00:00:00Z"), false,
                                Optional.of("mini")),
                new BudgetState("team-monthly", BudgetConfig.Scope.TEAM, "research", BudgetConfig.Period.MONTH,
                                2_500_000, 1000, 3_000_000, 3, Instant.parse("2026-12-01T00:00:00Z"), true,
                                Optional.of("mini")),
                new BudgetState("org-daily", BudgetConfig.Scope.GLOBAL, "*", BudgetConfig.Period.DAY,
                                -1, 1_000_000, 4_000_000, 4, Instant.parse("2026-11-23T00:00:00Z"), false,
                                Optional.empty())), states);
    }

    @Test
    void costsNothingWhereNoBudgetApplies() {
        BudgetFilter filter = filter("""
                budgets:
                  - name: research-only
                    scope: team
                    period: day
                    spend: 1
                    match: {teams: [research]}
                """);
        RequestContext ctx = request("carol", "growth", "m");

        send(filter, ctx, 100);

        assertNull(ctx.attr(UsageRecorder.ALSO_CHARGE));
    }

    @Test
    void writesMicroDollarsAsDollars() {
        assertEquals("500.00", BudgetFilter.usd(500_000_000));
        assertEquals("500.0123", BudgetFilter.usd(500_012_300));
        assertEquals("0.000001", BudgetFilter.usd(1));
        assertEquals("0.00", BudgetFilter.usd(0));
    }

    /** A terminal chain recording the route of each call; the answer reports {@link #tokens} prompt tokens. */
    private static final class Upstream implements FilterChain {
        final List<String> calls = new ArrayList<>();
        long tokens;

        @Override
        public CompletableFuture<GatewayResponse> proceed(RequestContext ctx) {
            calls.add(ctx.route().model());
            ctx.recordAttempt("mock", ctx.route().model(), "k1", DOLLAR_A_TOKEN);
            byte[] body = ("{\"usage\":{\"prompt_tokens\":" + tokens + ",\"completion_tokens\":0}}")
                    .getBytes(StandardCharsets.UTF_8);
            ctx.usage().scan(body, 0, body.length);
            return CompletableFuture.completedFuture(
                    new GatewayResponse.Full(200, Headers.of("content-type", "application/json"), body));
        }
    }
}
