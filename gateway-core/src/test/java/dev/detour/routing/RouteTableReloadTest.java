package dev.detour.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.config.ConfigLoader;
import dev.detour.config.GatewayConfig;
import dev.detour.keys.KeyPool;
import dev.detour.keys.KeyState;
import dev.detour.keys.PooledKey;
import dev.detour.provider.UpstreamVerdict;
import dev.detour.testing.FakeClock;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Building the route table of a new config version from the previous one keeps what did not change. */
class RouteTableReloadTest {

    private static final String BASE = """
            providers:
              up:
                type: openai
                base-url: https://api.example.com/v1
                keys:
                  - id: k1
                    value: sk-first-secret-value-0001
                  - id: k2
                    value: sk-second-secret-value-0002
            routes:
              - model: chat
                targets:
                  - provider: up
                    model: gpt-4o-mini
                  - provider: up
                    model: gpt-4o
            """;

    private final FakeClock clock = new FakeClock();

    private static GatewayConfig config(String yaml) throws Exception {
        return ConfigLoader.parse(yaml, "test.yaml", Map.of());
    }

    private RouteTable table(String yaml) throws Exception {
        return RouteTable.of(config(yaml), 0, clock);
    }

    private static PooledKey key(RouteTable table, String id) {
        return table.pools().get("up").key(id);
    }

    private static void rateLimit(RouteTable table, String id, long millis) {
        KeyPool pool = table.pools().get("up");
        pool.report(pool.key(id), new UpstreamVerdict(UpstreamVerdict.Kind.RATE_LIMITED, millis * 1_000_000L,
                                                      "rate_limit_exceeded"));
    }

    @Test
    void coolingKeyIsStillCoolingAfterReload() throws Exception {
        RouteTable before = table(BASE);
        rateLimit(before, "k1", 20_000);

        RouteTable after = before.next(config(BASE.replace("model: gpt-4o\n", "model: gpt-4.1\n")), 1);

        assertEquals(KeyState.COOLING, key(after, "k1").state(clock.nanoTime()));
        assertEquals(KeyState.AVAILABLE, key(after, "k2").state(clock.nanoTime()));
        clock.advanceMillis(20_001);
        assertEquals(KeyState.AVAILABLE, key(after, "k1").state(clock.nanoTime()), "the cooldown still ends");
    }

    @Test
    void reportsOfRequestsOnTheOldVersionReachTheNewTable() throws Exception {
        RouteTable before = table(BASE);
        RouteTable after = before.next(config(BASE), 1);

        rateLimit(before, "k2", 5_000);

        assertEquals(KeyState.COOLING, key(after, "k2").state(clock.nanoTime()));
    }

    @Test
    void changedSecretStartsTheKeyAfresh() throws Exception {
        RouteTable before = table(BASE);
        rateLimit(before, "k1", 20_000);
        rateLimit(before, "k2", 20_000);

        RouteTable after = before.next(config(BASE.replace("sk-first-secret-value-0001", "sk-rotated-secret-0003")), 1);

        assertEquals(KeyState.AVAILABLE, key(after, "k1").state(clock.nanoTime()), "a new secret is a new key");
        assertEquals(KeyState.COOLING, key(after, "k2").state(clock.nanoTime()));
    }

    @Test
    void removedKeyIsGone() throws Exception {
        RouteTable before = table(BASE);
        String withoutK2 = BASE.replace("      - id: k2\n        value: sk-second-secret-value-0002\n", "");

        RouteTable after = before.next(config(withoutK2), 1);

        assertNull(key(after, "k2"));
        assertEquals(1, after.pools().get("up").size());
    }

    @Test
    void changedBaseUrlStartsEveryKeyAfresh() throws Exception {
        RouteTable before = table(BASE);
        rateLimit(before, "k1", 20_000);

        RouteTable after = before.next(config(BASE.replace("api.example.com", "eu.example.com")), 1);

        assertEquals(KeyState.AVAILABLE, key(after, "k1").state(clock.nanoTime()),
                     "another upstream's verdict does not hold here");
    }

    @Test
    void openBreakerSurvivesForUnchangedTarget() throws Exception {
        RouteTable before = table(BASE);
        Target mini = before.route("chat").targets().get(0);
        for (int i = 0; i < 5; i++) {
            mini.breaker().onFailure(clock.nanoTime());
        }
        mini.stats().recordLatency(40_000_000L);

        RouteTable after = before.next(config(BASE.replace("model: gpt-4o\n", "model: gpt-4.1\n")), 1);

        Target miniAfter = after.route("chat").targets().get(0);
        assertNotSame(mini, miniAfter);
        assertEquals(CircuitBreaker.State.OPEN, miniAfter.breaker().state(clock.nanoTime()));
        assertEquals(40_000_000.0, miniAfter.stats().latencyNanos());
        Target replaced = after.route("chat").targets().get(1);
        assertEquals("gpt-4.1", replaced.model());
        assertEquals(CircuitBreaker.State.CLOSED, replaced.breaker().state(clock.nanoTime()));
        assertEquals(-1.0, replaced.stats().latencyNanos(), "a new target has no figures yet");
    }

    @Test
    void breakerFollowsItsTargetWhenTargetsAreReordered() throws Exception {
        RouteTable before = table(BASE);
        CircuitBreaker bigBreaker = before.route("chat").targets().get(1).breaker();
        String swapped = BASE.replace("model: gpt-4o-mini\n", "model: SWAP\n")
                             .replace("model: gpt-4o\n", "model: gpt-4o-mini\n")
                             .replace("model: SWAP\n", "model: gpt-4o\n");

        RouteTable after = before.next(config(swapped), 1);

        assertEquals("gpt-4o", after.route("chat").targets().get(0).model());
        assertSame(bigBreaker, after.route("chat").targets().get(0).breaker());
    }

    @Test
    void changedBreakerSettingsStartTheBreakerAfresh() throws Exception {
        RouteTable before = table(BASE);
        Target mini = before.route("chat").targets().get(0);
        for (int i = 0; i < 5; i++) {
            mini.breaker().onFailure(clock.nanoTime());
        }
        String tuned = BASE + """
                    circuit-breaker:
                      failures: 10
                """;

        RouteTable after = before.next(config(tuned), 1);

        assertEquals(CircuitBreaker.State.CLOSED, after.route("chat").targets().get(0).breaker().state(0));
    }

    @Test
    void operatorDisableStaysWithTheSecretAcrossReloads() throws Exception {
        RouteTable before = table(BASE);
        KeyPool pool = before.pools().get("up");
        pool.disableByOperator(pool.key("k1"));
        String renamed = BASE.replace("id: k1", "id: primary")
                             .replace("base-url: https://api.example.com/v1", "base-url: https://eu.example.com/v1");

        RouteTable after = before.next(config(renamed), 1);

        PooledKey primary = key(after, "primary");
        assertEquals(KeyState.DISABLED, primary.state(clock.nanoTime()),
                     "a pulled secret stays pulled under another id and upstream");
        assertTrue(primary.disabledByOperator());
        assertEquals(KeyState.AVAILABLE, key(after, "k2").state(clock.nanoTime()));
    }
}
