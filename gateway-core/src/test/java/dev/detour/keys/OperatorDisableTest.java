package dev.detour.keys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.config.ApiKeyConfig;
import dev.detour.config.MockConfig;
import dev.detour.config.PoolConfig;
import dev.detour.config.ProviderConfig;
import dev.detour.config.ProviderType;
import dev.detour.config.Secret;
import dev.detour.provider.UpstreamVerdict;
import dev.detour.testing.FakeClock;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** An operator's disable: only the operator undoes it; no signal, probe or expiry does. */
class OperatorDisableTest {

    private final FakeClock clock = new FakeClock();
    private final KeyPool pool = pool(key("a"), key("b"));

    private static ApiKeyConfig key(String id) {
        return new ApiKeyConfig(id, Secret.of("sk-secret-value-" + id));
    }

    private KeyPool pool(ApiKeyConfig... keys) {
        return KeyPool.of(new ProviderConfig("openai", ProviderType.OPENAI, URI.create("https://x/v1"), List.of(keys),
                                             Map.of(), MockConfig.DEFAULT, Map.of(), PoolConfig.DEFAULT), clock);
    }

    private static UpstreamVerdict verdict(UpstreamVerdict.Kind kind, long hintMillis) {
        return new UpstreamVerdict(kind, hintMillis < 0 ? UpstreamVerdict.NO_HINT : hintMillis * 1_000_000L, "x");
    }

    private String select() {
        PooledKey k = pool.select(null, Set.of());
        return k == null ? null : k.id();
    }

    @Test
    void disabledKeyIsNeverSelected() {
        PooledKey a = pool.key("a");

        assertTrue(pool.disableByOperator(a));

        assertEquals(List.of("b", "b", "b"), List.of(select(), select(), select()));
        assertEquals(KeyState.DISABLED, a.state(clock.nanoTime()));
        assertTrue(a.disabledByOperator());
        assertEquals("operator", pool.snapshot().get(0).disabledBy());
        assertEquals(-1, pool.snapshot().get(0).unavailableNanos(), "only an operator brings it back");
        assertNull(pool.snapshot().get(1).disabledBy());
    }

    @Test
    void disablingTwiceReportsNoChange() {
        PooledKey a = pool.key("a");
        pool.disableByOperator(a);

        assertFalse(pool.disableByOperator(a));
        assertTrue(a.disabledByOperator());
    }

    @Test
    void coolingKeyDisabledByOperatorDoesNotComeBackWhenTheCooldownEnds() {
        PooledKey a = pool.key("a");
        pool.report(a, verdict(UpstreamVerdict.Kind.RATE_LIMITED, 1_000));

        pool.disableByOperator(a);
        clock.advanceMillis(60_000);

        assertEquals(KeyState.DISABLED, a.state(clock.nanoTime()));
        assertEquals("b", select());
        assertEquals("b", select());
    }

    @Test
    void exhaustedKeyDisabledByOperatorIsNotProbed() {
        PooledKey a = pool.key("a");
        pool.report(a, verdict(UpstreamVerdict.Kind.QUOTA_EXHAUSTED, 1_000));
        pool.disableByOperator(a);
        clock.advanceMillis(5_000);

        for (int i = 0; i < 4; i++) {
            assertEquals("b", select(), "an exhausted key's probe time does not reopen a pulled key");
        }
    }

    @Test
    void signalsOfRequestsStillInFlightDoNotUndoTheDisable() {
        PooledKey a = pool.key("a");
        pool.disableByOperator(a);

        pool.report(a, UpstreamVerdict.OK);
        pool.report(a, verdict(UpstreamVerdict.Kind.RATE_LIMITED, 10));
        pool.report(a, verdict(UpstreamVerdict.Kind.QUOTA_EXHAUSTED, 10));
        pool.report(a, verdict(UpstreamVerdict.Kind.KEY_INVALID, -1));
        clock.advanceMillis(1_000);

        assertTrue(a.disabledByOperator());
        assertEquals("operator", pool.snapshot().get(0).disabledBy());
    }

    @Test
    void enableReturnsTheKeyToAvailable() {
        PooledKey a = pool.key("a");
        pool.report(a, verdict(UpstreamVerdict.Kind.RATE_LIMITED, 30_000));
        pool.disableByOperator(a);

        assertTrue(pool.enable(a));

        assertEquals(KeyState.AVAILABLE, a.state(clock.nanoTime()));
        assertFalse(a.disabledByOperator());
        assertEquals(List.of("a", "b"), List.of(select(), select()));
        assertFalse(pool.enable(a), "enabling an available key changes nothing");
    }

    @Test
    void operatorTakesOverAKeyTheProviderRejected() {
        PooledKey a = pool.key("a");
        pool.report(a, verdict(UpstreamVerdict.Kind.KEY_INVALID, -1));
        assertEquals("provider", pool.snapshot().get(0).disabledBy());

        assertTrue(pool.disableByOperator(a));

        assertEquals("operator", pool.snapshot().get(0).disabledBy());
    }

    @Test
    void disableStaysAcrossReloadWhileTheSecretIsConfigured() {
        PooledKey a = pool.key("a");
        pool.disableByOperator(a);

        KeyPool next = pool.next(new ProviderConfig("openai", ProviderType.OPENAI, URI.create("https://x/v1"),
                                                    List.of(key("b"), key("a")), Map.of(), MockConfig.DEFAULT,
                                                    Map.of(), PoolConfig.DEFAULT));

        assertTrue(next.key("a").disabledByOperator());
        assertFalse(next.key("b").disabledByOperator());
    }
}
