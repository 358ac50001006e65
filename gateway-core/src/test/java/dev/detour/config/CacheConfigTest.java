package dev.detour.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class CacheConfigTest {

    private static final String BASE = """
            providers:
              mock:
                type: mock
            routes:
              - model: m
                targets: [{provider: mock}]
            """;

    @Test
    void defaultsWhenThereIsNoCacheSection() throws ConfigException {
        GatewayConfig config = parse(BASE);

        assertEquals(CacheConfig.ofDefault(), config.cache());
        assertEquals(RouteCacheConfig.OFF, config.routes().get(0).cache());
        assertEquals(256L * 1024 * 1024, config.cache().maxSize());
        assertEquals(Duration.ofHours(1), config.cache().ttl());
        assertEquals(CacheConfig.Scope.TEAM, config.cache().scope());
        assertTrue(config.cache().countHitsTowardLimits());
    }

    @Test
    void bindsGlobalAndRouteSettings() throws ConfigException {
        GatewayConfig config = parse("""
                providers:
                  mock:
                    type: mock
                cache:
                  max-size: 64MiB
                  ttl: 10m
                  max-ttl: 2h
                  max-entry-size: 512KiB
                  scope: client
                  count-hits-toward-limits: false
                  single-flight-timeout: 5s
                routes:
                  - model: m
                    targets: [{provider: mock}]
                    cache:
                      enabled: true
                      ttl: 30s
                      scope: global
                      max-entry-size: 64KiB
                      stale-if-exhausted: 1h
                filters:
                  - name: cache
                    order: 250
                """);

        assertEquals(new CacheConfig(64L << 20, Duration.ofMinutes(10), Duration.ofHours(2), 512L << 10,
                                     CacheConfig.Scope.CLIENT, false, Duration.ofSeconds(5)), config.cache());
        assertEquals(new RouteCacheConfig(true, Optional.of(Duration.ofSeconds(30)),
                                          Optional.of(CacheConfig.Scope.GLOBAL), OptionalLong.of(64L << 10),
                                          Optional.of(Duration.ofHours(1))),
                     config.routes().get(0).cache());
        assertEquals("cache", config.chain().filters().get(0).name());
    }

    @Test
    void reportsEveryBadCacheValue() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("""
                providers:
                  mock:
                    type: mock
                cache:
                  max-size: 1MiB
                  max-entry-size: 2MiB
                  ttl: 0
                  scope: tenant
                  colour: blue
                routes:
                  - model: m
                    targets: [{provider: mock}]
                    cache: {ttl: 5m}
                  - model: n
                    targets: [{provider: mock}]
                    cache: {enabled: yes, stale-if-exhausted: soon}
                """));

        List<String> problems = e.problems().stream().map(p -> p.path() + ": " + p.message()).toList();
        assertEquals(7, problems.size(), problems.toString());
        assertTrue(has(problems, "cache.colour: unknown field"), problems.toString());
        assertTrue(has(problems, "cache.max-entry-size: expected at most max-size"), problems.toString());
        assertTrue(has(problems, "cache.ttl: expected a duration above 0"), problems.toString());
        assertTrue(has(problems, "cache.scope: expected client, team or global, got 'tenant'"), problems.toString());
        assertTrue(has(problems, "routes[0].cache: cache settings without 'enabled: true' have no effect"),
                   problems.toString());
        assertTrue(has(problems, "routes[1].cache.enabled: expected true or false"), problems.toString());
        assertTrue(has(problems, "routes[1].cache.stale-if-exhausted: expected a duration"), problems.toString());
    }

    @Test
    void refusesACacheFilterBeforeAuthOrPolicy() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(BASE + """
                filters:
                  - name: cache
                    order: 120
                """));

        assertEquals(1, e.problems().size(), e.problems().toString());
        assertEquals("filters[0].order", e.problems().get(0).path());
        assertTrue(e.problems().get(0).message().startsWith("expected above 150"), e.problems().toString());
    }

    @Test
    void refusesImpossibleRecords() {
        assertThrows(IllegalArgumentException.class, () -> new CacheConfig(0, Duration.ofSeconds(1),
                Duration.ofSeconds(1), 1, CacheConfig.Scope.TEAM, true, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> new RouteCacheConfig(true, Optional.of(Duration.ZERO),
                Optional.empty(), OptionalLong.empty(), Optional.empty()));
        assertFalse(RouteCacheConfig.OFF.enabled());
    }

    private static boolean has(List<String> problems, String prefix) {
        return problems.stream().anyMatch(p -> p.startsWith(prefix));
    }

    private static GatewayConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, "test.yaml", Map.of());
    }
}
