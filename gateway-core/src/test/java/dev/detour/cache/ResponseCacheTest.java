package dev.detour.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.api.Endpoint;
import dev.detour.testing.FakeClock;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class ResponseCacheTest {

    private static final long SECOND = 1_000_000_000L;
    private final FakeClock clock = new FakeClock();

    @Test
    void keepsEntriesWithinItsByteBound() throws IOException {
        int body = 1000;
        long entry = body + CachedAnswer.OVERHEAD;
        ResponseCache cache = ResponseCache.newCache(5 * entry, clock, Runnable::run);

        for (int i = 0; i < 20; i++) {
            cache.put(key(i), answer(body, 60 * SECOND, 0));
        }
        cache.cleanUp();

        CacheStats stats = cache.stats();
        assertTrue(stats.bytes() <= 5 * entry, "bytes " + stats.bytes());
        assertTrue(stats.entries() <= 5, "entries " + stats.entries());
        assertEquals(20, stats.stores());
        assertEquals(20 - stats.entries(), stats.evictions());
        assertEquals(5 * entry, stats.maxBytes());
    }

    @Test
    void expiresAnEntryAfterItsTtlPlusStaleWindow() throws IOException {
        ResponseCache cache = ResponseCache.newCache(1 << 20, clock, Runnable::run);
        cache.put(key(1), answer(10, 10 * SECOND, 0));
        cache.put(key(2), answer(10, 10 * SECOND, 50 * SECOND));

        clock.advanceMillis(11_000);
        cache.cleanUp();

        assertNull(cache.get(key(1)), "past its ttl");
        assertNotNull(cache.get(key(2)), "inside its stale window");
        clock.advanceMillis(50_000);
        cache.cleanUp();
        assertNull(cache.get(key(2)));
        assertEquals(2, cache.stats().expirations());
    }

    @Test
    void readingDoesNotProlongAnEntry() throws IOException {
        ResponseCache cache = ResponseCache.newCache(1 << 20, clock, Runnable::run);
        cache.put(key(1), answer(10, 10 * SECOND, 0));

        clock.advanceMillis(9_000);
        assertNotNull(cache.get(key(1)));
        clock.advanceMillis(2_000);

        assertNull(cache.get(key(1)));
    }

    @Test
    void aRefreshStartsTheEntrysLifeAgain() throws IOException {
        ResponseCache cache = ResponseCache.newCache(1 << 20, clock, Runnable::run);
        cache.put(key(1), answer(10, 10 * SECOND, 0));
        clock.advanceMillis(9_000);

        cache.put(key(1), answer(10, 10 * SECOND, 0));
        clock.advanceMillis(9_000);

        assertNotNull(cache.get(key(1)));
    }

    @Test
    void shrinksOnResize() throws IOException {
        ResponseCache cache = ResponseCache.newCache(1 << 20, clock, Runnable::run);
        for (int i = 0; i < 10; i++) {
            cache.put(key(i), answer(1000, 60 * SECOND, 0));
        }

        cache.resize(3 * (1000 + CachedAnswer.OVERHEAD));
        cache.cleanUp();

        assertTrue(cache.stats().entries() <= 3, "entries " + cache.stats().entries());
        assertEquals(3 * (1000 + CachedAnswer.OVERHEAD), cache.stats().maxBytes());
    }

    @Test
    void clearRemovesEverything() throws IOException {
        ResponseCache cache = ResponseCache.newCache(1 << 20, clock, Runnable::run);
        cache.put(key(1), answer(10, 10 * SECOND, 0));

        cache.clear();

        assertNull(cache.get(key(1)));
        assertEquals(0, cache.stats().bytes());
    }

    static CacheKey key(int i) throws IOException {
        return RequestCanonicalizerTest.key(Endpoint.CHAT_COMPLETIONS, "", "r", "{\"i\":" + i + "}");
    }

    private CachedAnswer answer(int size, long ttl, long stale) {
        return new CachedAnswer(Endpoint.CHAT_COMPLETIONS, new byte[size], true, clock.nanoTime(), ttl, stale);
    }
}
