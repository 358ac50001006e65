package dev.detour.keys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.config.ApiKeyConfig;
import dev.detour.config.ExhaustionMode;
import dev.detour.config.KeyQuotas;
import dev.detour.config.MockConfig;
import dev.detour.config.PoolConfig;
import dev.detour.config.ProviderConfig;
import dev.detour.config.ProviderType;
import dev.detour.config.Secret;
import dev.detour.provider.UpstreamVerdict;
import dev.detour.testing.FakeClock;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class KeyPoolTest {

    private final FakeClock clock = new FakeClock();

    private static ApiKeyConfig key(String id) {
        return new ApiKeyConfig(id, Secret.of("sk-secret-value-" + id));
    }

    private static ApiKeyConfig key(String id, int weight, String group, KeyQuotas quotas) {
        return new ApiKeyConfig(id, Secret.of("sk-secret-value-" + id), weight, Optional.ofNullable(group), quotas,
                                Optional.empty());
    }

    private KeyPool pool(PoolConfig config, ApiKeyConfig... keys) {
        ProviderConfig provider = new ProviderConfig("openai", ProviderType.OPENAI, URI.create("https://x/v1"),
                                                     List.of(keys), Map.of(), MockConfig.DEFAULT, Map.of(), config);
        return KeyPool.of(provider, clock);
    }

    private KeyPool pool(ApiKeyConfig... keys) {
        return pool(PoolConfig.DEFAULT, keys);
    }

    private static UpstreamVerdict rateLimited(long hintMillis) {
        return new UpstreamVerdict(UpstreamVerdict.Kind.RATE_LIMITED,
                                   hintMillis < 0 ? UpstreamVerdict.NO_HINT : hintMillis * 1_000_000L,
                                   "rate_limit_exceeded");
    }

    private String select(KeyPool pool) {
        PooledKey k = pool.select(null, Set.of());
        return k == null ? null : k.id();
    }

    @Test
    void roundRobinUsesEachKeyInTurn() {
        KeyPool pool = pool(key("a"), key("b"), key("c"));

        List<String> picks = List.of(select(pool), select(pool), select(pool), select(pool));

        assertEquals(List.of("a", "b", "c", "a"), picks);
    }

    @Test
    void rateLimitedKeyCoolsForTheHintThenReturns() {
        KeyPool pool = pool(key("a"), key("b"));
        PooledKey a = pool.key("a");

        pool.report(a, rateLimited(2000));

        assertEquals(KeyState.COOLING, a.state(clock.nanoTime()));
        assertEquals(List.of("b", "b", "b"), List.of(select(pool), select(pool), select(pool)));
        clock.advanceMillis(1999);
        assertEquals("b", select(pool));
        clock.advanceMillis(1);
        assertEquals(KeyState.AVAILABLE, a.state(clock.nanoTime()));
        assertTrue(List.of(select(pool), select(pool)).contains("a"));
    }

    @Test
    void cooldownWithoutHintDoublesOnRepeated429sAndIsCapped() {
        PoolConfig config = new PoolConfig(PoolConfig.Strategy.ROUND_ROBIN, Duration.ofSeconds(1),
                                           Duration.ofSeconds(3), Duration.ofHours(1), ExhaustionMode.COOLDOWN);
        KeyPool pool = pool(config, key("a"));
        PooledKey a = pool.key("a");
        List<Long> cooldowns = new ArrayList<>();

        for (int i = 0; i < 4; i++) {
            pool.report(a, rateLimited(-1));
            cooldowns.add(TimeUnit.NANOSECONDS.toMillis(pool.soonestAvailable() - clock.nanoTime()));
            clock.advanceNanos(pool.soonestAvailable() - clock.nanoTime());
        }

        assertEquals(List.of(1000L, 2000L, 3000L, 3000L), cooldowns);
    }

    @Test
    void successResetsTheBackoff() {
        KeyPool pool = pool(key("a"));
        PooledKey a = pool.key("a");
        pool.report(a, rateLimited(-1));
        clock.advanceMillis(1000);
        pool.report(a, UpstreamVerdict.OK);

        pool.report(a, rateLimited(-1));

        assertEquals(1000, TimeUnit.NANOSECONDS.toMillis(pool.soonestAvailable() - clock.nanoTime()));
    }

    @Test
    void marksKeyOnceWhenManyRequestsSeeTheSame429() {
        KeyPool pool = pool(key("a"), key("b"));
        PooledKey a = pool.key("a");

        for (int i = 0; i < 200; i++) {
            pool.report(a, rateLimited(-1));
        }

        assertEquals(1, a.statusRef().get().strikes(), "one strike for one window, not 200");
        assertEquals(1000, TimeUnit.NANOSECONDS.toMillis(a.statusRef().get().untilNanos() - clock.nanoTime()));
    }

    @Test
    void exhaustedKeyStaysOutThenOneProbeDecides() {
        PoolConfig config = new PoolConfig(PoolConfig.Strategy.ORDERED, Duration.ofSeconds(1), Duration.ofMinutes(5),
                                           Duration.ofMinutes(10), ExhaustionMode.COOLDOWN);
        KeyPool pool = pool(config, key("a"), key("b"));
        PooledKey a = pool.key("a");

        pool.report(a, UpstreamVerdict.of(UpstreamVerdict.Kind.QUOTA_EXHAUSTED, "insufficient_quota"));
        clock.advanceMillis(Duration.ofMinutes(10).toMillis() - 1);
        String beforeReset = select(pool);
        clock.advanceMillis(1);
        String probe = select(pool);
        String whileProbing = select(pool);

        assertEquals("b", beforeReset);
        assertEquals("a", probe);
        assertEquals("b", whileProbing, "only one request probes");
        pool.report(a, UpstreamVerdict.OK);
        assertEquals(KeyState.AVAILABLE, a.state(clock.nanoTime()));
        assertEquals("a", select(pool));
    }

    @Test
    void failedProbeKeepsKeyExhausted() {
        KeyPool pool = pool(key("a"));
        PooledKey a = pool.key("a");
        UpstreamVerdict quota = UpstreamVerdict.of(UpstreamVerdict.Kind.QUOTA_EXHAUSTED, "insufficient_quota");
        pool.report(a, quota);
        clock.advanceMillis(Duration.ofHours(1).toMillis());
        assertEquals("a", select(pool));

        pool.report(a, quota);

        assertNull(select(pool));
        assertEquals(KeyState.EXHAUSTED, a.state(clock.nanoTime()));
        assertEquals(Duration.ofHours(1).toMillis(),
                     TimeUnit.NANOSECONDS.toMillis(pool.soonestAvailable() - clock.nanoTime()));
    }

    @Test
    void probeThatSaysNothingLetsTheNextRequestProbe() {
        KeyPool pool = pool(key("a"));
        PooledKey a = pool.key("a");
        pool.report(a, UpstreamVerdict.of(UpstreamVerdict.Kind.QUOTA_EXHAUSTED, "insufficient_quota"));
        clock.advanceMillis(Duration.ofHours(1).toMillis());
        assertEquals("a", select(pool));

        pool.report(a, UpstreamVerdict.of(UpstreamVerdict.Kind.SERVER_ERROR, "status_500"));

        assertEquals("a", select(pool));
    }

    @Test
    void exhaustionDisablesKeyWhenConfigured() {
        PoolConfig config = new PoolConfig(PoolConfig.Strategy.ROUND_ROBIN, Duration.ofSeconds(1),
                                           Duration.ofMinutes(5), Duration.ofHours(1), ExhaustionMode.DISABLE);
        KeyPool pool = pool(config, key("a"));
        PooledKey a = pool.key("a");

        pool.report(a, UpstreamVerdict.of(UpstreamVerdict.Kind.QUOTA_EXHAUSTED, "insufficient_quota"));
        clock.advanceMillis(Duration.ofDays(2).toMillis());

        assertEquals(KeyState.DISABLED, a.state(clock.nanoTime()));
        assertNull(select(pool));
        assertTrue(pool.allDisabled());
        assertEquals(Long.MAX_VALUE, pool.soonestAvailable());
        pool.enable(a);
        assertEquals("a", select(pool));
    }

    @Test
    void rejectedKeyIsDisabledUntilEnabled() {
        KeyPool pool = pool(key("a"), key("b"));
        PooledKey a = pool.key("a");

        pool.report(a, UpstreamVerdict.of(UpstreamVerdict.Kind.KEY_INVALID, "invalid_api_key"));
        clock.advanceMillis(Duration.ofDays(1).toMillis());

        assertEquals(List.of("b", "b"), List.of(select(pool), select(pool)));
        assertEquals("invalid_api_key", a.lastError());
    }

    @Test
    void quotaGroupCoolsEverySibling() {
        KeyPool pool = pool(key("a", 1, "org", KeyQuotas.NONE), key("b", 1, "org", KeyQuotas.NONE), key("c"));
        PooledKey a = pool.key("a");

        pool.report(a, rateLimited(5000));

        assertEquals(List.of("c", "c", "c"), List.of(select(pool), select(pool), select(pool)));
        assertEquals(KeyState.COOLING, pool.key("b").state(clock.nanoTime()));
        clock.advanceMillis(5000);
        assertEquals(KeyState.AVAILABLE, pool.key("b").state(clock.nanoTime()));
    }

    @Test
    void successAnnouncingNoRemainingRequestsCoolsProactively() {
        KeyPool pool = pool(key("a"), key("b"));
        PooledKey a = pool.key("a");

        pool.report(a, new UpstreamVerdict(UpstreamVerdict.Kind.SUCCESS, 3_000_000_000L, "remaining_0"));

        assertEquals(KeyState.COOLING, a.state(clock.nanoTime()));
        assertEquals(List.of("b", "b"), List.of(select(pool), select(pool)));
    }

    @Test
    void localRequestQuotaRotatesKeyOutUntilTheMinuteRollsOver() {
        KeyPool pool = pool(new PoolConfig(PoolConfig.Strategy.ORDERED, Duration.ofSeconds(1), Duration.ofMinutes(5),
                                           Duration.ofHours(1), ExhaustionMode.COOLDOWN),
                            key("a", 1, null, new KeyQuotas(2, 0, 0, 0)), key("b"));

        List<String> picks = List.of(select(pool), select(pool), select(pool));

        assertEquals(List.of("a", "a", "b"), picks);
        clock.advanceMillis(60_000);
        assertEquals("a", select(pool));
    }

    @Test
    void localTokenQuotaCountsUsageAfterTheFact() {
        KeyPool pool = pool(new PoolConfig(PoolConfig.Strategy.ORDERED, Duration.ofSeconds(1), Duration.ofMinutes(5),
                                           Duration.ofHours(1), ExhaustionMode.COOLDOWN),
                            key("a", 1, null, new KeyQuotas(0, 1000, 0, 0)), key("b"));
        PooledKey a = pool.select(null, Set.of());

        pool.recordTokens(a, 1200);

        assertEquals("b", select(pool));
        assertTrue(pool.snapshot().get(0).tokensThisMinute() >= 1200);
    }

    @Test
    void dailyQuotaAlignsToUtcMidnight() {
        KeyPool pool = pool(key("a", 1, null, new KeyQuotas(0, 0, 1, 0)));
        assertEquals("a", select(pool));
        assertNull(select(pool));

        long untilMidnight = pool.soonestAvailable() - clock.nanoTime();

        // The fake clock starts at 10:00 UTC: 14 hours to the next UTC day.
        assertEquals(Duration.ofHours(14).toMillis(), TimeUnit.NANOSECONDS.toMillis(untilMidnight));
        clock.advanceMillis(Duration.ofHours(14).toMillis());
        assertEquals("a", select(pool));
    }

    @Test
    void unclaimGivesTheQuotaBack() {
        KeyPool pool = pool(key("a", 1, null, new KeyQuotas(1, 0, 0, 0)));
        PooledKey a = pool.select(null, Set.of());

        pool.unclaim(a);

        assertEquals("a", select(pool));
    }

    @Test
    void orderedPrefersThePrimary() {
        KeyPool pool = pool(new PoolConfig(PoolConfig.Strategy.ORDERED, Duration.ofSeconds(1), Duration.ofMinutes(5),
                                           Duration.ofHours(1), ExhaustionMode.COOLDOWN), key("primary"), key("backup"));

        assertEquals(List.of("primary", "primary"), List.of(select(pool), select(pool)));
        pool.report(pool.key("primary"), rateLimited(1000));
        assertEquals("backup", select(pool));
    }

    @Test
    void weightedFollowsTheWeights() {
        KeyPool pool = pool(new PoolConfig(PoolConfig.Strategy.WEIGHTED, Duration.ofSeconds(1), Duration.ofMinutes(5),
                                           Duration.ofHours(1), ExhaustionMode.COOLDOWN),
                            key("heavy", 3, null, KeyQuotas.NONE), key("light", 1, null, KeyQuotas.NONE));
        Map<String, Integer> counts = new HashMap<>();

        for (int i = 0; i < 4000; i++) {
            counts.merge(select(pool), 1, Integer::sum);
        }

        double share = counts.get("heavy") / 4000.0;
        assertTrue(share > 0.70 && share < 0.80, "heavy share " + share);
    }

    @Test
    void leastUsedPrefersTheKeyWithMostQuotaLeft() {
        KeyPool pool = pool(new PoolConfig(PoolConfig.Strategy.LEAST_USED, Duration.ofSeconds(1),
                                           Duration.ofMinutes(5), Duration.ofHours(1), ExhaustionMode.COOLDOWN),
                            key("a", 1, null, new KeyQuotas(10, 0, 0, 0)), key("b", 1, null, new KeyQuotas(10, 0, 0, 0)));
        Map<String, Integer> counts = new HashMap<>();

        for (int i = 0; i < 10; i++) {
            counts.merge(select(pool), 1, Integer::sum);
        }

        assertEquals(5, counts.get("a"));
        assertEquals(5, counts.get("b"));
    }

    @Test
    void skipsKeysTheRequestAlreadyTried() {
        KeyPool pool = pool(key("a"), key("b"));

        PooledKey k = pool.select(null, Set.of("a"));

        assertEquals("b", k.id());
        assertNull(pool.select(null, Set.of("a", "b")));
    }

    @Test
    void prefersTheAffinityKeyWhileItIsUsable() {
        KeyPool pool = pool(key("a"), key("b"), key("c"));

        assertEquals("c", pool.select("c", Set.of()).id());
        pool.report(pool.key("c"), rateLimited(1000));
        assertNotNull(pool.select("c", Set.of()));
        assertTrue(!"c".equals(pool.select("c", Set.of()).id()), "affinity yields when the key cools");
    }

    @Test
    void snapshotNeverShowsTheKey() {
        KeyPool pool = pool(key("a"));

        KeyPool.KeySnapshot s = pool.snapshot().get(0);

        assertEquals("...ue-a", s.masked());
        assertTrue(!s.toString().contains("sk-secret-value-a"), s.toString());
    }

    @Test
    void concurrentSelectionNeverExceedsTheLocalQuota() throws Exception {
        KeyPool pool = pool(key("a", 1, null, new KeyQuotas(50, 0, 0, 0)));
        AtomicInteger admitted = new AtomicInteger();
        ExecutorService threads = Executors.newFixedThreadPool(8);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<java.util.concurrent.Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                done.add(threads.submit(() -> {
                    start.await();
                    for (int i = 0; i < 100; i++) {
                        if (pool.select(null, Set.of()) != null) {
                            admitted.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (java.util.concurrent.Future<?> f : done) {
                f.get(10, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }

        assertEquals(50, admitted.get());
    }

    @Test
    void concurrent429sMarkTheKeyOnce() throws Exception {
        KeyPool pool = pool(key("a"), key("b"));
        PooledKey a = pool.key("a");
        ExecutorService threads = Executors.newFixedThreadPool(8);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<java.util.concurrent.Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                done.add(threads.submit(() -> {
                    start.await();
                    for (int i = 0; i < 25; i++) {
                        pool.report(a, rateLimited(-1));
                    }
                    return null;
                }));
            }
            start.countDown();
            for (java.util.concurrent.Future<?> f : done) {
                f.get(10, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }

        assertEquals(1, a.statusRef().get().strikes());
        assertEquals(KeyState.COOLING, a.state(clock.nanoTime()));
    }
}
