package dev.detour.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The {@code budgets} section, budgets nested in clients, and the {@code usage} section. */
class BudgetsConfigTest {

    private static final String SOURCE = "gateway.yaml";
    private static final String BASE = """
            providers:
              local: {type: mock}
            routes:
              - model: gpt-4o
                targets: [{provider: local}]
              - model: gpt-4o-mini
                targets: [{provider: local}]
            """;
    private static final String HASH = "sha256:" + "a".repeat(64);

    private static GatewayConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(BASE + yaml, SOURCE, Map.of());
    }

    private static List<String> problems(String yaml) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(yaml));
        return e.problems().stream().map(ConfigProblem::toString).toList();
    }

    @Test
    void bindsBudgetsOfTeamsClientsAndEverything() throws ConfigException {
        GatewayConfig config = parse("""
                budgets:
                  - name: team-monthly
                    scope: team
                    match: {teams: [research]}
                    period: month
                    spend: 500.00
                    tokens: 20_000_000
                    fallback-route: gpt-4o-mini
                  - name: org-daily
                    scope: global
                    period: day
                    spend: 0.25
                clients:
                  - name: alice
                    key-hash: %s
                    budgets:
                      - name: alice-daily
                        period: day
                        tokens: 3000000000
                """.formatted(HASH));

        assertEquals(List.of(
                new BudgetConfig("team-monthly", BudgetConfig.Scope.TEAM, BudgetConfig.Period.MONTH,
                                 Optional.of(new BigDecimal("500.00")), OptionalLong.of(20_000_000),
                                 Optional.of("gpt-4o-mini"),
                                 new Match(List.of(), List.of("research"), List.of(), List.of(), List.of(), Map.of())),
                new BudgetConfig("org-daily", BudgetConfig.Scope.GLOBAL, BudgetConfig.Period.DAY,
                                 Optional.of(new BigDecimal("0.25")), OptionalLong.empty(), Optional.empty(),
                                 Match.ANY)), config.chain().budgets());
        assertEquals(500_000_000, config.chain().budgets().get(0).spendMicros());
        assertEquals(250_000, config.chain().budgets().get(1).spendMicros());
        assertEquals(List.of(new BudgetConfig("alice-daily", BudgetConfig.Scope.CLIENT, BudgetConfig.Period.DAY,
                                              Optional.empty(), OptionalLong.of(3_000_000_000L), Optional.empty(),
                                              Match.ANY)),
                     config.chain().clients().get(0).budgets());
        assertTrue(config.chain().hasBudgets());
    }

    @Test
    void hasNoBudgetsAndKeepsUsageInMemoryByDefault() throws ConfigException {
        GatewayConfig config = parse("");

        assertEquals(List.of(), config.chain().budgets());
        assertEquals(false, config.chain().hasBudgets());
        assertEquals(new UsageConfig(Optional.empty(), Duration.ofSeconds(2)), config.usage());
    }

    @Test
    void bindsTheUsageSection() throws ConfigException {
        GatewayConfig config = parse("""
                usage:
                  data-dir: /var/lib/detour
                  flush-interval: 500ms
                """);

        assertEquals(new UsageConfig(Optional.of(Path.of("/var/lib/detour")), Duration.ofMillis(500)),
                     config.usage());
        assertEquals(config.usage(), config.withPort(0).usage());
    }

    @Test
    void reportsEveryProblemOfABudget() {
        List<String> problems = problems("""
                budgets:
                  - name: a
                    scope: route
                    period: week
                    spend: 0
                    fallback-route: gpt-5
                  - name: b
                    scope: team
                    period: day
                    spend: 1.0000001
                    tokens: 1.5
                  - name: c
                    scope: team
                    period: day
                  - name: a
                    scope: team
                    period: day
                    spend: $5
                  - scope: team
                    period: day
                    tokens: 0
                """);

        assertEquals(List.of(
                "gateway.yaml:10:12 budgets[0].scope: expected client, team or global, got 'route'",
                "gateway.yaml:11:13 budgets[0].period: expected day or month, got 'week'",
                "gateway.yaml:12:12 budgets[0].spend: expected an amount of USD above 0 with at most six decimals, "
                + "such as 500 or 12.50, got '0'",
                "gateway.yaml:13:21 budgets[0].fallback-route: unknown route 'gpt-5' (known: gpt-4o, gpt-4o-mini)",
                "gateway.yaml:17:12 budgets[1].spend: expected an amount of USD above 0 with at most six decimals, "
                + "such as 500 or 12.50, got '1.0000001'",
                "gateway.yaml:18:13 budgets[1].tokens: expected a whole number of tokens from 1, such as 20000000 or "
                + "20_000_000, got '1.5'",
                "gateway.yaml:19:5 budgets[2]: expected spend, tokens or both",
                "gateway.yaml:22:11 budgets[3].name: duplicate budget 'a' (first defined at line 9)",
                "gateway.yaml:25:12 budgets[3].spend: expected an amount of USD above 0 with at most six decimals, "
                + "such as 500 or 12.50, got '$5'",
                "gateway.yaml:26:5 budgets[4].name: required field is missing",
                "gateway.yaml:28:13 budgets[4].tokens: expected a whole number of tokens from 1, such as 20000000 or "
                + "20_000_000, got '0'"), problems);
    }

    @Test
    void refusesScopeAndMatchInAClientsOwnBudgetAndNamesShareOneSpace() {
        List<String> problems = problems("""
                budgets:
                  - name: shared
                    scope: team
                    period: day
                    spend: 1
                clients:
                  - name: alice
                    key-hash: %s
                    budgets:
                      - name: shared
                        scope: team
                        match: {teams: [x]}
                        period: day
                        spend: 1
                """.formatted(HASH));

        assertEquals(3, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("gateway.yaml:17:15 clients[0].budgets[0].name: duplicate budget "
                                              + "'shared' (first defined at line 9)"), problems.toString());
        assertTrue(problems.get(1).contains("clients[0].budgets[0].scope: unknown field"), problems.toString());
        assertTrue(problems.get(2).contains("clients[0].budgets[0].match: unknown field"), problems.toString());
    }

    @Test
    void refusesAFlushIntervalBelow100Milliseconds() {
        assertEquals(List.of("gateway.yaml:9:19 usage.flush-interval: expected at least 100ms (a shorter interval "
                             + "mostly wears the disk)"),
                     problems("""
                             usage:
                               flush-interval: 50ms
                             """));
    }

    @Test
    void letsTheBudgetFilterBeDisabledOrMoved() throws ConfigException {
        GatewayConfig config = parse("""
                filters:
                  - name: budget
                    enabled: false
                """);

        assertEquals(List.of(new FilterConfig("budget", false, java.util.OptionalInt.empty())),
                     config.chain().filters());
    }
}
